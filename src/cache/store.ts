import { LRUCache } from 'lru-cache';

/**
 * Where the optional shared cache keeps visitors (and Apollo's persisted queries): process memory by
 * default, Redis when REDIS_URL is set so replicas share it (redisStore.ts). A failing store is a miss,
 * never an error.
 */
export interface CacheStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Drops every key starting with `prefix` (one caller's entries). */
  deletePrefix(prefix: string): Promise<void>;
  /** Whether a remote store answers in time, for /readyz; absent for process memory. */
  health?(): Promise<'ok' | 'degraded'>;
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
