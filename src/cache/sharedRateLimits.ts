import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { RateLimitMemory, RateWindow } from '../rocketchat/rateLimits.js';

/** One channel for every replica of one deployment (one Redis database). */
const CHANNEL = 'lvg:v1:ratelimits';
/** A bucket key is a client address and a Rocket.Chat user id; anything longer was not sent by a replica. */
const MAX_BUCKET_LENGTH = 1100;

interface Message {
  /** The sending replica, so it ignores its own messages. */
  from: string;
  bucket: string;
  resetAt: number;
  remaining: number;
}

export interface SharedRateLimitsOptions {
  url: string;
  memory: RateLimitMemory;
  log: Logger;
  /** Deadline of a publish; past it the news is dropped, never waited for. */
  timeoutMs: number;
  /**
   * A window is worth telling the other replicas only once it is low enough to refuse something:
   * at or below this many calls left (the most one operation may spend), or spent (a 429).
   */
  lowWater: number;
}

/**
 * Shares what replicas learn of Rocket.Chat's rate-limit windows through Redis pub/sub, so a
 * replica does not spend calls another one already knows will be refused. Publish and subscribe
 * rather than a key read before each call: the news travels once per change, and no query ever
 * waits on Redis for it. A replica that misses a message (Redis away, a restart) only falls back
 * to learning the window itself, from Rocket.Chat's own answers.
 *
 * Imported only when REDIS_URL is set (server.ts), as the Redis cache store is.
 */
export class SharedRateLimits {
  readonly #id = randomUUID();
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #memory: RateLimitMemory;
  readonly #log: Logger;
  readonly #lowWater: number;
  #warnedAt = 0;

  constructor({ url, memory, log, timeoutMs, lowWater }: SharedRateLimitsOptions) {
    this.#memory = memory;
    this.#log = log;
    this.#lowWater = lowWater;
    const options = { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: timeoutMs };
    this.#publisher = new Redis(url, options);
    // A subscriber connection runs no other command; it queues its SUBSCRIBE until connected and
    // subscribes again after every reconnect (ioredis does both by itself).
    this.#subscriber = new Redis(url, { ...options, enableOfflineQueue: true, commandTimeout: undefined });
    for (const redis of [this.#publisher, this.#subscriber]) redis.on('error', (err: Error) => this.#warn(err));
    this.#subscriber.subscribe(CHANNEL).catch((err: Error) => this.#warn(err));
    this.#subscriber.on('message', (_channel: string, text: string) => this.#receive(text));
    memory.onLearn = (bucket, window) => this.#publish(bucket, window);
  }

  async close(): Promise<void> {
    this.#memory.onLearn = undefined;
    for (const redis of [this.#publisher, this.#subscriber]) redis.disconnect();
  }

  #publish(bucket: string, window: RateWindow): void {
    if (window.remaining > this.#lowWater || this.#publisher.status !== 'ready') return;
    const message: Message = { from: this.#id, bucket, resetAt: window.resetAt, remaining: window.remaining };
    this.#publisher.publish(CHANNEL, JSON.stringify(message)).catch((err: Error) => this.#warn(err));
  }

  #receive(text: string): void {
    let message: Partial<Message>;
    try {
      message = JSON.parse(text) as Partial<Message>;
    } catch {
      return;
    }
    // Whatever else shares the channel, only a well-formed window from another replica is taken.
    if (
      !message ||
      message.from === this.#id ||
      typeof message.bucket !== 'string' ||
      message.bucket.length > MAX_BUCKET_LENGTH ||
      typeof message.resetAt !== 'number' ||
      typeof message.remaining !== 'number'
    ) {
      return;
    }
    this.#memory.learn(message.bucket, { resetAt: message.resetAt, remaining: message.remaining });
  }

  /** At most one line a minute: a Redis outage must not flood the logs. */
  #warn(err: Error): void {
    const now = Date.now();
    if (now - this.#warnedAt < 60_000) return;
    this.#warnedAt = now;
    this.#log.warn({ err: { message: err.message } }, 'redis rate-limit sharing unavailable; each replica learns windows on its own');
  }
}
