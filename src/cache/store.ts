import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { LRUCache } from 'lru-cache';

/** What the gateway keeps outside its requests: visitors (when CACHE_TTL_MS > 0) and persisted queries. */
export interface CacheStores {
  /** Cached visitors; none when the visitor cache is off. */
  visitors: CacheStore | undefined;
  /** Apollo's automatic persisted queries, apart from the visitors (apq.ts); false: off. */
  apq: KeyValueCache<string> | false;
  /** Whether Redis answers in time, for /readyz; absent without Redis. */
  health?(): Promise<'ok' | 'degraded'>;
  close(): Promise<void>;
}

/**
 * Where the optional shared cache keeps visitors: process memory by default, Redis when REDIS_URL is
 * set so replicas share it (redisStore.ts). A failing store is a miss, never an error.
 */
export interface CacheStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Drops every key starting with `prefix` (one caller's entries). */
  deletePrefix(prefix: string): Promise<void>;
  close(): Promise<void>;
}

/** Visitors the in-process cache keeps at most. */
export const MEMORY_CACHE_ENTRIES = 10_000;
/**
 * Bytes of cached visitors the in-process cache keeps at most. A visitor is a few KiB, so 10,000 of
 * them fit well under this and the entry count is the bound that binds; but Rocket.Chat may answer
 * up to 1 MiB per visitor (free-form livechatData), and 10,000 of those would be about 20 GiB of
 * strings. 64 MiB keeps the worst case a small share of a replica's heap.
 */
export const MEMORY_CACHE_BYTES = 64 * 1024 * 1024;

/** What a string costs V8 at most: two bytes per UTF-16 code unit (one-byte strings cost half). */
const stringBytes = (text: string) => 2 * text.length;

export class MemoryStore implements CacheStore {
  readonly #lru: LRUCache<string, string>;

  constructor({ maxEntries = MEMORY_CACHE_ENTRIES, maxBytes = MEMORY_CACHE_BYTES } = {}) {
    this.#lru = new LRUCache<string, string>({
      max: maxEntries,
      maxSize: maxBytes,
      sizeCalculation: (value, key) => stringBytes(key) + stringBytes(value),
      ttlAutopurge: false,
      allowStale: false,
    });
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
