import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { CacheStore } from './store.js';

/**
 * The shared cache in Redis, so replicas share it. Imported only when REDIS_URL is set (server.ts),
 * so a gateway without Redis never loads the driver.
 */
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
