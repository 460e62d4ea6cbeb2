import { LRUCache } from 'lru-cache';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * Where the optional shared cache keeps visitors (and Apollo's persisted queries): process memory by
 * default, Redis when REDIS_URL is set so replicas share it. A failing store is a miss, never an error.
 */
export interface CacheStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Drops every key starting with `prefix` (one caller's entries). */
  deletePrefix(prefix: string): Promise<void>;
  close(): Promise<void>;
}

export class MemoryStore implements CacheStore {
  readonly #lru: LRUCache<string, string>;

  constructor(maxEntries = 10_000) {
    this.#lru = new LRUCache<string, string>({ max: maxEntries, ttlAutopurge: false, allowStale: false });
  }

  async get(key: string) {
    return this.#lru.get(key);
  }

  async set(key: string, value: string, ttlMs: number) {
    this.#lru.set(key, value, { ttl: ttlMs });
  }

  async delete(key: string) {
    this.#lru.delete(key);
  }

  async deletePrefix(prefix: string) {
    for (const key of [...this.#lru.keys()]) if (key.startsWith(prefix)) this.#lru.delete(key);
  }

  async close() {
    this.#lru.clear();
  }
}

export class RedisStore implements CacheStore {
  readonly #redis: Redis;
  readonly #log: Logger;

  constructor(url: string, log: Logger) {
    this.#log = log;
    // Fail fast while disconnected: a cache that queues commands would add its outage to every query.
    this.#redis = new Redis(url, { lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    this.#redis.on('error', (err: Error) => this.#log.warn({ err: { message: err.message } }, 'redis cache error; serving without it'));
  }

  /** Resolves once connected (or rejects after the connect timeout); used by start-up and tests. */
  ready(): Promise<void> {
    if (this.#redis.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#redis.once('ready', () => resolve());
      this.#redis.once('end', () => reject(new Error('redis connection ended')));
    });
  }

  async get(key: string) {
    try {
      return (await this.#redis.get(key)) ?? undefined;
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: string, ttlMs: number) {
    try {
      await this.#redis.set(key, value, 'PX', ttlMs);
    } catch {
      // A cache write that fails only costs a future miss.
    }
  }

  async delete(key: string) {
    try {
      await this.#redis.del(key);
    } catch {
      // As above.
    }
  }

  async deletePrefix(prefix: string) {
    try {
      let cursor = '0';
      do {
        const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length) await this.#redis.unlink(...keys);
      } while (cursor !== '0');
    } catch (err) {
      this.#log.warn({ err: { message: (err as Error).message } }, 'redis cache eviction failed');
    }
  }

  async close() {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
