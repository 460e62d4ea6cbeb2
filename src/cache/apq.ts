import { createHash } from 'node:crypto';
import { InMemoryLRUCache, type KeyValueCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { Redis } from 'ioredis';

/**
 * Where Apollo keeps automatic persisted queries: never with the cached visitors, so registering
 * documents (which needs no credentials) can never push a visitor out, and always bounded, since
 * anyone can register as many distinct documents as they like.
 */

/**
 * Process memory, bounded in bytes (APQ_MEMORY_BYTES): an LRU of its own, sized by the key and the
 * document. `false` (0 bytes): persisted queries are off, and clients send the whole query.
 */
export function memoryApqCache(maxBytes: number): KeyValueCache<string> | false {
  if (maxBytes <= 0) return false;
  return new InMemoryLRUCache<string>({
    maxSize: maxBytes,
    sizeCalculation: (document, key) => Buffer.byteLength(key) + Buffer.byteLength(document),
  });
}

/** What the slot table needs of the Redis store: one command within its deadline, undefined on failure. */
export interface RedisCommands {
  run<T>(command: (redis: Redis) => Promise<T>): Promise<T | undefined>;
}

/**
 * Redis, as a fixed table of `slots` keys (APQ_REDIS_SLOTS): a document goes to the slot its hash
 * names, so a flood of documents overwrites slots and never adds keys; Redis holds at most
 * slots × MAX_QUERY_BYTES for persisted queries. A slot remembers whose document it holds, so a
 * lookup finding another hash's document is a miss: Apollo answers PERSISTED_QUERY_NOT_FOUND and the
 * client sends the query again, which registers it.
 */
export class SlotApqCache implements KeyValueCache<string> {
  readonly #redis: RedisCommands;
  readonly #slots: number;
  readonly #ttlSeconds: number;

  constructor(redis: RedisCommands, slots: number, ttlSeconds: number) {
    this.#redis = redis;
    this.#slots = slots;
    this.#ttlSeconds = ttlSeconds;
  }

  /** The slot's key. Hashed again because the asked key is the client's, not necessarily a hash. */
  slotOf(key: string): string {
    const n = createHash('sha256').update(key).digest().readUInt32BE(0) % this.#slots;
    return `lvg:apq:slot:${n}`;
  }

  async get(key: string): Promise<string | undefined> {
    const stored = await this.#redis.run((redis) => redis.get(this.slotOf(key)));
    // The stored key never holds a newline (Apollo registers only under a sha256 in hex).
    return stored?.startsWith(`${key}\n`) ? stored.slice(key.length + 1) : undefined;
  }

  async set(key: string, document: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ttl = options?.ttl || this.#ttlSeconds;
    await this.#redis.run((redis) => redis.set(this.slotOf(key), `${key}\n${document}`, 'EX', ttl));
  }

  async delete(key: string): Promise<boolean> {
    // Only this key's document: a slot another hash took since is not ours to clear.
    if ((await this.get(key)) === undefined) return false;
    return (await this.#redis.run((redis) => redis.del(this.slotOf(key)))) === 1;
  }
}
