import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import { LRUCache } from 'lru-cache';

/** What the gateway keeps outside its requests: Rocket.Chat's answers (when CACHE_TTL_MS > 0) and persisted queries. */
export interface CacheStores {
  /** Cached answers of Rocket.Chat; none when the cache is off. */
  visitors: CacheStore | undefined;
  /** Apollo's automatic persisted queries, apart from the visitors (apq.ts); false: off. */
  apq: KeyValueCache<string> | false;
  /** Whether Redis answers in time, for /readyz; absent without Redis. */
  health?(): Promise<'ok' | 'degraded'>;
  close(): Promise<void>;
}

/**
 * What the store knows of one caller (user id + token hash, see callerKey): a generation that is
 * part of the key of every entry cached for it, and when Rocket.Chat last accepted it.
 */
export interface CallerRecord {
  /** Undefined: no record (never accepted, refused since, or expired). */
  generation: string | undefined;
  /** How long ago Rocket.Chat last accepted a call with these credentials; Infinity without a record. */
  acceptedAgoMs: number;
}

export const NO_RECORD: CallerRecord = Object.freeze({ generation: undefined, acceptedAgoMs: Infinity });

/** One cached answer: a visitor under its id, another route's answer under `<route>:<key>`. */
export interface CacheEntry {
  id: string;
  /** The answer as JSON. */
  value: string;
}

/**
 * Where the optional shared cache keeps Rocket.Chat's answers: process memory by default, Redis when
 * REDIS_URL is set so replicas share it (redisStore.ts). A failing store is a miss, never an error.
 *
 * Invalidation is O(1): a refusal drops the caller's record, and the next acceptance starts a
 * generation never used before, so the old entries are unreachable and expire by their TTL; nothing
 * looks for them.
 */
export interface CacheStore {
  /** The caller's record; undefined when the store cannot answer (no cache for this lookup). */
  caller(caller: string): Promise<CallerRecord | undefined>;
  get(caller: string, generation: string, id: string): Promise<string | undefined>;
  /**
   * Rocket.Chat accepted a call with the caller's credentials, sent at `sentAt` (epoch ms): record
   * that, and cache `entry`, provided the caller's generation is still `generation` (undefined: if it
   * had no record then, take whatever record it has now, or start one). Resolves with the generation
   * now current; undefined when it moved on meanwhile (a refusal came in between) or the store
   * failed, and then nothing was written. The record and the entry live `ttlMs`.
   */
  accept(caller: string, generation: string | undefined, sentAt: number, ttlMs: number, entry?: CacheEntry): Promise<string | undefined>;
  /**
   * Caches `entries`, each for `ttlMs`, provided the caller's generation is still `generation`,
   * without recording an acceptance: for answers of routes that prove less than a cached entry
   * needs (see CachingRocketChatClient). A generation that moved on, or a failing store, writes nothing.
   */
  put(caller: string, generation: string, entries: readonly CacheEntry[], ttlMs: number): Promise<void>;
  /** Rocket.Chat refused the caller (401, 403): drop its record. */
  refuse(caller: string): Promise<void>;
  close(): Promise<void>;
}

/** Where a caller's entries are kept: `lvg:v2:entry:<caller>:<generation>:<id>`, in both stores. */
export const entryKeyPrefix = (caller: string) => `lvg:v2:entry:${caller}:`;

export function entryKey(caller: string, generation: string, id: string): string {
  return `${entryKeyPrefix(caller)}${generation}:${id}`;
}

/** Entries the in-process cache keeps at most. */
export const MEMORY_CACHE_ENTRIES = 10_000;
/**
 * Bytes of cached entries the in-process cache keeps at most. A visitor or a department is a few
 * KiB, so 10,000 of them fit well under this and the entry count is the bound that binds; but
 * Rocket.Chat may answer up to 1 MiB per call (free-form livechatData), and 10,000 of those would be
 * about 20 GiB of strings. 64 MiB keeps the worst case a small share of a replica's heap.
 */
export const MEMORY_CACHE_BYTES = 64 * 1024 * 1024;

/** What a string costs V8 at most: two bytes per UTF-16 code unit (one-byte strings cost half). */
const stringBytes = (text: string) => 2 * text.length;

interface MemoryRecord {
  generation: string;
  acceptedAt: number;
}

export class MemoryStore implements CacheStore {
  readonly #entries: LRUCache<string, string>;
  /** One small record per caller; losing one (LRU) only costs that caller's cached entries. */
  readonly #callers: LRUCache<string, MemoryRecord>;
  /**
   * Generations are never reused within the process, so a record made again after a refusal or an
   * eviction never reaches the old entries.
   */
  #lastGeneration = 0;

  constructor({ maxEntries = MEMORY_CACHE_ENTRIES, maxBytes = MEMORY_CACHE_BYTES } = {}) {
    this.#entries = new LRUCache<string, string>({
      max: maxEntries,
      maxSize: maxBytes,
      sizeCalculation: (value, key) => stringBytes(key) + stringBytes(value),
      ttlAutopurge: false,
      allowStale: false,
    });
    this.#callers = new LRUCache<string, MemoryRecord>({ max: maxEntries, ttlAutopurge: false, allowStale: false });
  }

  async caller(caller: string): Promise<CallerRecord | undefined> {
    const record = this.#callers.get(caller);
    return record ? { generation: record.generation, acceptedAgoMs: Date.now() - record.acceptedAt } : NO_RECORD;
  }

  async get(caller: string, generation: string, id: string) {
    return this.#entries.get(entryKey(caller, generation, id));
  }

  async accept(caller: string, generation: string | undefined, sentAt: number, ttlMs: number, entry?: CacheEntry) {
    let record = this.#callers.get(caller);
    if (generation !== undefined && record?.generation !== generation) return undefined;
    if (record) record.acceptedAt = Math.max(record.acceptedAt, sentAt);
    else record = { generation: String(++this.#lastGeneration), acceptedAt: sentAt };
    this.#callers.set(caller, record, { ttl: ttlMs });
    if (entry) this.#entries.set(entryKey(caller, record.generation, entry.id), entry.value, { ttl: ttlMs });
    return record.generation;
  }

  async put(caller: string, generation: string, entries: readonly CacheEntry[], ttlMs: number) {
    if (this.#callers.get(caller)?.generation !== generation) return;
    for (const entry of entries) this.#entries.set(entryKey(caller, generation, entry.id), entry.value, { ttl: ttlMs });
  }

  async refuse(caller: string) {
    this.#callers.delete(caller);
  }

  async close() {
    this.#entries.clear();
    this.#callers.clear();
  }
}
