import { Redis } from 'ioredis';
import { BrokenCircuitError, circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { NO_RECORD, entryKey, entryKeyPrefix, type CacheEntry, type CacheStore, type CallerRecord } from './store.js';

/**
 * Timed-out commands in a row that stop the gateway sending any for a while. One slow answer (a fork
 * for a snapshot, a GC pause) should not cost the cache; a run of them means Redis is stuck.
 */
const TIMEOUTS_TO_PAUSE = 3;
/**
 * How long the gateway stops sending commands after that, before one trial command. A paused Redis
 * reads nothing, so every command sent meanwhile would sit in the socket's buffers (and ioredis's
 * queue) until it resumes; this bounds those to a few per second.
 */
const PAUSE_MS = 1000;
/** At most one warning per this long, whatever the rate of failing commands. */
const WARN_EVERY_MS = 10_000;

/** Each caller's record: a hash of its generation (g) and when Rocket.Chat last accepted it (a, epoch ms). */
const callerRecordKey = (caller: string) => `lvg:v2:caller:${caller}`;
/** Generations come from one counter, so a record made again never reuses one (and its entries). */
const GENERATION_COUNTER = 'lvg:v2:generation';

/**
 * The caller's generation and how long ago it was accepted, measured on Redis's clock (TIME) so that
 * replicas with skewed clocks agree. Nil without a record.
 */
const CALLER_SCRIPT = `
local record = redis.call('HMGET', KEYS[1], 'g', 'a')
if not record[1] then return false end
local now = redis.call('TIME')
return {record[1], now[1] * 1000 + math.floor(now[2] / 1000) - tonumber(record[2] or 0)}
`;

/**
 * An acceptance, and the entry with it, in one step, so that nothing is written under a generation a
 * refusal has just retired. The time recorded is when the call was sent: Redis's clock less the
 * call's duration, but never later than the gateway's own clock says, so a command that sat in a
 * buffer while Redis was stuck cannot pass for a recent acceptance.
 * KEYS: record, counter. ARGV: expected generation ('' none), sent at, elapsed ms, TTL ms, key prefix, id ('' none), value.
 */
const ACCEPT_SCRIPT = `
local generation = redis.call('HGET', KEYS[1], 'g')
if ARGV[1] ~= '' and generation ~= ARGV[1] then return false end
if not generation then generation = tostring(redis.call('INCR', KEYS[2])) end
local now = redis.call('TIME')
local sent = math.min(now[1] * 1000 + math.floor(now[2] / 1000) - tonumber(ARGV[3]), tonumber(ARGV[2]))
local previous = tonumber(redis.call('HGET', KEYS[1], 'a') or 0)
redis.call('HSET', KEYS[1], 'g', generation, 'a', math.max(sent, previous))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if ARGV[6] ~= '' then redis.call('SET', ARGV[5] .. generation .. ':' .. ARGV[6], ARGV[7], 'PX', ARGV[4]) end
return generation
`;

/**
 * Entries written under a generation only while it is still the caller's, in one step for the same
 * reason as ACCEPT_SCRIPT; the record itself is left as it is.
 * KEYS: record. ARGV: generation, TTL ms, key prefix, then id and value of each entry.
 */
const PUT_SCRIPT = `
if redis.call('HGET', KEYS[1], 'g') ~= ARGV[1] then return 0 end
for i = 4, #ARGV, 2 do redis.call('SET', ARGV[3] .. ARGV[1] .. ':' .. ARGV[i], ARGV[i + 1], 'PX', ARGV[2]) end
return 1
`;

interface ScriptedRedis extends Redis {
  lvgCaller(record: string): Promise<[string, number] | null>;
  lvgAccept(record: string, counter: string, ...args: Array<string | number>): Promise<string | null>;
  lvgPut(record: string, ...args: Array<string | number>): Promise<number>;
}

const BREAKER_VALUE = { [CircuitState.Closed]: 0, [CircuitState.HalfOpen]: 1, [CircuitState.Open]: 2, [CircuitState.Isolated]: 2 };

export interface RedisStoreOptions {
  url: string;
  /** Deadline of every command (REDIS_TIMEOUT_MS); past it the command counts as failed. */
  timeoutMs: number;
  log: Logger;
  /** Where the Redis metrics go (the gateway's registry); none in unit tests. */
  registry?: Registry;
}

function isTimeout(err: Error): boolean {
  // ioredis's commandTimeout rejects with a plain Error carrying this message.
  return err.message === 'Command timed out';
}

/**
 * The shared cache in Redis, so replicas share it. Imported only when REDIS_URL is set (server.ts),
 * so a gateway without Redis never loads the driver.
 *
 * Redis is never on a query's critical path: every command has a deadline, and a command that fails
 * or passes it is a miss (a read) or dropped (a write). A run of timeouts stops commands being sent
 * for a moment (a circuit breaker), so a stuck Redis costs a lookup nothing rather than the deadline.
 */
export class RedisStore implements CacheStore {
  readonly #redis: Redis;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #breaker: CircuitBreakerPolicy;
  readonly #errors: Counter<'reason'>;
  #lastWarnAt = -Infinity;
  #unreported = 0;

  constructor(options: RedisStoreOptions) {
    this.#log = options.log;
    this.#timeoutMs = options.timeoutMs;
    this.#redis = new Redis(options.url, {
      lazyConnect: false,
      connectTimeout: 2000,
      // Past its deadline a command is worth nothing: the deadline (commandTimeout) rejects it; while
      // disconnected it fails at once instead of queueing (enableOfflineQueue); a connection lost with
      // commands in flight fails them rather than sending them again after the reconnect
      // (maxRetriesPerRequest: 0, autoResendUnfulfilledCommands) — a late write could be a stale one.
      commandTimeout: options.timeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
    });
    this.#redis.defineCommand('lvgCaller', { numberOfKeys: 1, lua: CALLER_SCRIPT });
    this.#redis.defineCommand('lvgAccept', { numberOfKeys: 2, lua: ACCEPT_SCRIPT });
    this.#redis.defineCommand('lvgPut', { numberOfKeys: 1, lua: PUT_SCRIPT });
    this.#redis.on('error', (err: Error) => this.#warn(err.message));
    this.#breaker = circuitBreaker(handleWhen(isTimeout), {
      halfOpenAfter: PAUSE_MS,
      breaker: new ConsecutiveBreaker(TIMEOUTS_TO_PAUSE),
    });
    this.#breaker.onStateChange((state) => {
      if (state === CircuitState.Closed) this.#log.info('redis cache answers again');
    });
    const registers = options.registry ? [options.registry] : [];
    this.#errors = new Counter({
      name: 'gateway_cache_redis_errors_total',
      help: 'Redis commands of the cache that failed: timeout (past REDIS_TIMEOUT_MS), disconnected (not sent), error.',
      labelNames: ['reason'],
      registers,
    });
    const breaker = this.#breaker;
    new Gauge({
      name: 'gateway_cache_redis_breaker_state',
      help: 'Commands to Redis: 0 sent, 1 one trial command, 2 paused after timeouts (lookups are misses).',
      registers,
      collect() {
        this.set(BREAKER_VALUE[breaker.state]);
      },
    });
  }

  /** Resolves once connected (or rejects after the connect timeout); used by tests. */
  ready(): Promise<void> {
    if (this.#redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#redis.once('ready', () => resolve());
      this.#redis.once('end', () => reject(new Error('redis connection ended')));
    });
  }

  /**
   * Runs one command within its deadline; undefined when it failed, passed the deadline, or was not
   * sent because Redis is paused. Never rejects.
   */
  async run<T>(command: (redis: Redis) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.#breaker.execute(() => command(this.#redis));
    } catch (err) {
      if (err instanceof BrokenCircuitError) return undefined;
      if (isTimeout(err as Error)) {
        this.#errors.inc({ reason: 'timeout' });
        this.#warn(`a command took over ${this.#timeoutMs} ms`);
      } else if (this.#redis.status !== 'ready') {
        // Refused at once for want of a connection (still connecting, or reconnecting): the
        // connection's own 'error' events are what the warning reports.
        this.#errors.inc({ reason: 'disconnected' });
      } else {
        this.#errors.inc({ reason: 'error' });
        this.#warn((err as Error).message);
      }
      return undefined;
    }
  }

  /** 'ok' when Redis answers a PING within the deadline, 'degraded' otherwise (for /readyz). */
  async health(): Promise<'ok' | 'degraded'> {
    return (await this.run((redis) => redis.ping())) === 'PONG' ? 'ok' : 'degraded';
  }

  async caller(caller: string): Promise<CallerRecord | undefined> {
    const answer = await this.run((redis) => (redis as ScriptedRedis).lvgCaller(callerRecordKey(caller)));
    if (answer === undefined) return undefined;
    if (answer === null) return NO_RECORD;
    return { generation: answer[0], acceptedAgoMs: answer[1] };
  }

  async get(caller: string, generation: string, id: string) {
    return (await this.run((redis) => redis.get(entryKey(caller, generation, id)))) ?? undefined;
  }

  async accept(caller: string, generation: string | undefined, sentAt: number, ttlMs: number, entry?: CacheEntry) {
    const answer = await this.run((redis) =>
      (redis as ScriptedRedis).lvgAccept(
        callerRecordKey(caller),
        GENERATION_COUNTER,
        generation ?? '',
        sentAt,
        Date.now() - sentAt,
        ttlMs,
        entryKeyPrefix(caller),
        entry?.id ?? '',
        entry?.value ?? '',
      ),
    );
    return answer ?? undefined;
  }

  async put(caller: string, generation: string, entries: readonly CacheEntry[], ttlMs: number) {
    if (entries.length === 0) return;
    const args = entries.flatMap((entry) => [entry.id, entry.value]);
    await this.run((redis) => (redis as ScriptedRedis).lvgPut(callerRecordKey(caller), generation, ttlMs, entryKeyPrefix(caller), ...args));
  }

  async refuse(caller: string) {
    await this.run((redis) => redis.del(callerRecordKey(caller)));
  }

  /**
   * QUIT waits for Redis to answer, which a stuck Redis never does: the command deadline bounds the
   * wait, and the socket is closed either way.
   */
  async close() {
    await this.#redis.quit().catch(() => undefined);
    this.#redis.disconnect();
  }

  /** One warning per WARN_EVERY_MS, counting the failures it stands for: never one per command. */
  #warn(message: string): void {
    this.#unreported++;
    const now = performance.now();
    if (now - this.#lastWarnAt < WARN_EVERY_MS) return;
    this.#log.warn(
      { err: { message }, failures: this.#unreported, timeoutMs: this.#timeoutMs },
      'redis cache degraded: lookups are misses and writes are dropped until it answers',
    );
    this.#lastWarnAt = now;
    this.#unreported = 0;
  }
}
