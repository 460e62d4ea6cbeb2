import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { memoryApqCache, SlotApqCache, type RedisCommands } from '../../../src/cache/apq.js';

const key = (document: string) => `apq:${createHash('sha256').update(document).digest('hex')}`;

/** Just enough of Redis for the slot table: GET, SET (EX ignored) and DEL over a Map. */
function fakeRedis(): RedisCommands & { keys: Map<string, string> } {
  const keys = new Map<string, string>();
  const redis = {
    async get(k: string) {
      return keys.get(k) ?? null;
    },
    async set(k: string, v: string) {
      keys.set(k, v);
      return 'OK';
    },
    async del(k: string) {
      return keys.delete(k) ? 1 : 0;
    },
  };
  return { keys, run: (command) => command(redis as unknown as Redis) };
}

describe('persisted queries in memory', () => {
  it('are bounded in bytes (key + document): old documents go first', async () => {
    const cache = memoryApqCache(10_000);
    if (!cache) throw new Error('expected a cache');
    const documents = Array.from({ length: 100 }, (_, i) => `query Q${i} { __typename } # ${'x'.repeat(400)}`);
    for (const document of documents) await cache.set(key(document), document);
    expect(await cache.get(key(documents[0]!))).toBeUndefined();
    expect(await cache.get(key(documents[99]!))).toBe(documents[99]);
    let kept = 0;
    for (const document of documents) if ((await cache.get(key(document))) !== undefined) kept += Buffer.byteLength(key(document) + document);
    expect(kept).toBeLessThanOrEqual(10_000);
    expect(kept).toBeGreaterThan(5_000);
  });

  it('are off with 0 bytes', () => {
    expect(memoryApqCache(0)).toBe(false);
  });
});

describe('persisted queries in Redis (a fixed table of slots)', () => {
  it('never holds more keys than slots, however many documents are registered', async () => {
    const redis = fakeRedis();
    const cache = new SlotApqCache(redis, 16, 3600);
    for (let i = 0; i < 3000; i++) await cache.set(key(`query Q${i} { __typename }`), `query Q${i} { __typename }`);
    expect(redis.keys.size).toBeLessThanOrEqual(16);
    expect([...redis.keys.keys()].every((k) => /^lvg:apq:slot:\d+$/.test(k))).toBe(true);
  });

  it('answers a miss, never another document, when another hash took the slot', async () => {
    const redis = fakeRedis();
    const cache = new SlotApqCache(redis, 1, 3600);
    await cache.set(key('query A { __typename }'), 'query A { __typename }');
    expect(await cache.get(key('query A { __typename }'))).toBe('query A { __typename }');
    await cache.set(key('query B { __typename }'), 'query B { __typename }');
    expect(await cache.get(key('query A { __typename }'))).toBeUndefined();
    expect(await cache.get(key('query B { __typename }'))).toBe('query B { __typename }');
    // A delete of the evicted document leaves the slot's owner alone.
    expect(await cache.delete(key('query A { __typename }'))).toBe(false);
    expect(await cache.get(key('query B { __typename }'))).toBe('query B { __typename }');
    expect(await cache.delete(key('query B { __typename }'))).toBe(true);
    expect(redis.keys.size).toBe(0);
  });

  it('is a miss when Redis does not answer', async () => {
    const cache = new SlotApqCache({ run: async () => undefined }, 8, 3600);
    await cache.set(key('{ __typename }'), '{ __typename }');
    expect(await cache.get(key('{ __typename }'))).toBeUndefined();
  });
});
