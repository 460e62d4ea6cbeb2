import { describe, expect, it } from 'vitest';
import { CachingRocketChatClient, callerKey } from '../../../src/cache/CachingRocketChatClient.js';
import { MemoryStore, type CacheEntry } from '../../../src/cache/store.js';
import { GatewayError } from '../../../src/errors.js';
import type { CallOptions, RocketChatClient } from '../../../src/rocketchat/client.js';
import type { WireVisitor } from '../../../src/rocketchat/models.js';
import { rejection, sleep } from '../../helpers/promises.js';
import { otherRoutes } from '../../helpers/otherRoutes.js';

/** A store that counts what it is asked, over the real in-memory one. */
class CountingStore extends MemoryStore {
  readonly written: string[] = [];
  callerReads = 0;
  refusals = 0;
  override async caller(caller: string) {
    this.callerReads++;
    return super.caller(caller);
  }
  override async accept(caller: string, generation: string | undefined, sentAt: number, ttlMs: number, entry?: CacheEntry) {
    if (entry) this.written.push(`${caller}:${entry.id}`);
    return super.accept(caller, generation, sentAt, ttlMs, entry);
  }
  override async refuse(caller: string) {
    this.refusals++;
    return super.refuse(caller);
  }
}

type Answer = 'ok' | 'unauthenticated' | 'forbidden' | 'not-found';

/** An upstream whose answer the test switches; visitors carry a version so a stale one is visible. */
function upstream(): RocketChatClient & { calls: number; answer: Answer; version: number } {
  return {
    calls: 0,
    answer: 'ok',
    version: 1,
    ...otherRoutes(),
    async getVisitor(id: string): Promise<WireVisitor> {
      this.calls++;
      await sleep(1);
      if (this.answer === 'unauthenticated') throw new GatewayError('You must be logged in to do this.', 'UNAUTHENTICATED');
      if (this.answer === 'forbidden') throw new GatewayError('not allowed', 'FORBIDDEN');
      if (this.answer === 'not-found') throw new GatewayError('visitor-not-found', 'NOT_FOUND');
      return { _id: id, name: `visitor ${id} v${this.version}` };
    },
    async serverInfo() {
      return { version: '7.0.0', success: true };
    },
    async close() {},
  };
}

const ALICE = { userId: 'alice', authToken: 'alice-secret-token-1' };
/** As VisitorsAPI does: one options object per DataLoader batch. */
const batch = (credentials = ALICE): CallOptions => ({ credentials });
const OPTIONS = { ttlMs: 60_000, recheckMs: 60_000 };

function ids(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `v${i}`);
}

/** Every id of one batch at once, as VisitorsAPI's #fetchAll does. */
function all(client: RocketChatClient, list: string[], options = batch()) {
  return Promise.allSettled(list.map((id) => client.getVisitor(id, options)));
}

describe('CachingRocketChatClient', () => {
  it('keys entries by user id and a token hash, never by the token itself', async () => {
    const store = new CountingStore();
    const client = new CachingRocketChatClient(upstream(), store, OPTIONS);
    await client.getVisitor('v1', batch());
    expect(store.written).toEqual([`${callerKey(ALICE)}:v1`]);
    expect(store.written[0]).toContain('alice');
    expect(store.written[0]).not.toContain('alice-secret-token-1');
  });

  it('does not serve one token’s entry to another token of the same user', async () => {
    const inner = upstream();
    const client = new CachingRocketChatClient(inner, new MemoryStore(), OPTIONS);
    await client.getVisitor('v1', batch());
    await client.getVisitor('v1', batch());
    expect(inner.calls).toBe(1);
    const other = { userId: 'alice', authToken: 'alice-secret-token-2' };
    await client.getVisitor('v1', batch(other));
    expect(inner.calls).toBe(2);
    expect(callerKey(ALICE)).not.toBe(callerKey(other));
  });

  it('reads the caller’s record once per batch, not once per id', async () => {
    const store = new CountingStore();
    const client = new CachingRocketChatClient(upstream(), store, OPTIONS);
    await all(client, ids(20));
    expect(store.callerReads).toBe(1);
    await all(client, ids(20));
    expect(store.callerReads).toBe(2);
  });

  it('a stale caller’s batch costs one confirming call; the other ids wait for it and read the cache', async () => {
    const inner = upstream();
    const client = new CachingRocketChatClient(inner, new MemoryStore(), { ttlMs: 60_000, recheckMs: 30 });
    // Cold: the first id confirms, the others wait for it, then miss and ask for themselves.
    await all(client, ids(50));
    expect(inner.calls).toBe(50);
    // Fresh: all hits.
    await all(client, ids(50));
    expect(inner.calls).toBe(50);
    await sleep(40);
    // Stale: one call confirms the caller; 49 hits.
    const answers = await all(client, ids(50));
    expect(inner.calls).toBe(51);
    expect(answers.every((a) => a.status === 'fulfilled')).toBe(true);
  });

  it('stops serving a revoked caller the cache within recheckMs', async () => {
    const inner = upstream();
    const client = new CachingRocketChatClient(inner, new MemoryStore(), { ttlMs: 60_000, recheckMs: 50 });
    await client.getVisitor('v1', batch());
    inner.answer = 'unauthenticated'; // revoked in Rocket.Chat
    const revokedAt = performance.now();
    // Inside the window the cache may still answer; past it, never.
    let refusedAfter: number | undefined;
    for (let i = 0; i < 50 && refusedAfter === undefined; i++) {
      try {
        await client.getVisitor('v1', batch());
        await sleep(5);
      } catch (err) {
        expect((err as GatewayError).code).toBe('UNAUTHENTICATED');
        refusedAfter = performance.now() - revokedAt;
      }
    }
    expect(refusedAfter).toBeDefined();
    expect(refusedAfter!).toBeLessThan(50 + 40);
    for (let i = 0; i < 5; i++) expect((await rejection(client.getVisitor('v1', batch()))).code).toBe('UNAUTHENTICATED');
  });

  it.each(['unauthenticated', 'forbidden'] as const)('a %s answer retires the caller’s generation: old entries are never served again', async (answer) => {
    const inner = upstream();
    const store = new CountingStore();
    const client = new CachingRocketChatClient(inner, store, OPTIONS);
    await all(client, ['v1', 'v2']);
    expect(inner.calls).toBe(2);
    inner.answer = answer;
    await rejection(client.getVisitor('v3', batch()));
    expect(store.refusals).toBe(1);
    // Rights back, data changed upstream: the next lookups go upstream, none is the cached v1 copy.
    inner.answer = 'ok';
    inner.version = 2;
    expect((await client.getVisitor('v1', batch())).name).toBe('visitor v1 v2');
    expect((await client.getVisitor('v2', batch())).name).toBe('visitor v2 v2');
    expect(inner.calls).toBe(5);
  });

  it('a stale caller’s refused batch costs one call and one refusal: the other ids answer the same', async () => {
    const inner = upstream();
    const store = new CountingStore();
    const client = new CachingRocketChatClient(inner, store, OPTIONS);
    inner.answer = 'unauthenticated';
    const answers = await all(client, ids(20));
    expect(inner.calls).toBe(1);
    expect(store.refusals).toBe(1);
    for (const a of answers) {
      expect(a.status).toBe('rejected');
      expect(((a as PromiseRejectedResult).reason as GatewayError).code).toBe('UNAUTHENTICATED');
    }
  });

  it('a visitor-not-found confirms the caller (Rocket.Chat checked the credentials first)', async () => {
    const inner = upstream();
    const client = new CachingRocketChatClient(inner, new MemoryStore(), { ttlMs: 60_000, recheckMs: 30 });
    await client.getVisitor('v1', batch());
    await sleep(40);
    inner.answer = 'not-found';
    expect((await rejection(client.getVisitor('gone', batch()))).code).toBe('NOT_FOUND');
    expect(inner.calls).toBe(2);
    expect((await client.getVisitor('v1', batch())).name).toBe('visitor v1 v1');
    expect(inner.calls).toBe(2);
  });

  it('without an answer from the store, asks Rocket.Chat and fails nothing', async () => {
    const inner = upstream();
    const store = new MemoryStore();
    store.caller = async () => undefined;
    const client = new CachingRocketChatClient(inner, store, OPTIONS);
    expect((await client.getVisitor('v1', batch())).name).toBe('visitor v1 v1');
    expect((await client.getVisitor('v1', batch())).name).toBe('visitor v1 v1');
    expect(inner.calls).toBe(2);
  });
});

describe('MemoryStore', () => {
  it('writes nothing under a generation a refusal retired, and never reuses a generation', async () => {
    const store = new MemoryStore();
    const first = await store.accept('c', undefined, Date.now(), 60_000, { id: 'v1', value: '{"v":1}' });
    expect(first).toBeDefined();
    expect(await store.get('c', first!, 'v1')).toBe('{"v":1}');
    await store.refuse('c');
    expect(await store.caller('c')).toEqual({ generation: undefined, acceptedAgoMs: Infinity });
    // An answer that started before the refusal lands after it: dropped.
    expect(await store.accept('c', first, Date.now(), 60_000, { id: 'v2', value: '{"v":2}' })).toBeUndefined();
    expect(await store.get('c', first!, 'v2')).toBeUndefined();
    const second = await store.accept('c', undefined, Date.now(), 60_000);
    expect(second).not.toBe(first);
    expect(await store.get('c', second!, 'v1')).toBeUndefined();
  });

  it('records when the caller was last accepted, never moving it back', async () => {
    const store = new MemoryStore();
    const g = await store.accept('c', undefined, Date.now() - 1000, 60_000);
    expect((await store.caller('c'))!.acceptedAgoMs).toBeGreaterThanOrEqual(1000);
    await store.accept('c', g, Date.now(), 60_000);
    expect((await store.caller('c'))!.acceptedAgoMs).toBeLessThan(100);
    await store.accept('c', g, Date.now() - 5000, 60_000);
    expect((await store.caller('c'))!.acceptedAgoMs).toBeLessThan(100);
  });

  it('is bounded in bytes as well as in entries: large visitors push out the oldest', async () => {
    const store = new MemoryStore({ maxEntries: 10_000, maxBytes: 10 * 1024 * 1024 });
    const large = 'x'.repeat(1024 * 1024); // 2 MiB as V8 may store it
    const g = (await store.accept('c', undefined, Date.now(), 60_000))!;
    for (let i = 0; i < 8; i++) await store.accept('c', g, Date.now(), 60_000, { id: `k${i}`, value: large });
    expect(await store.get('c', g, 'k0')).toBeUndefined();
    expect(await store.get('c', g, 'k7')).toBe(large);
    let kept = 0;
    for (let i = 0; i < 8; i++) if ((await store.get('c', g, `k${i}`)) !== undefined) kept++;
    expect(kept).toBe(4);
  });

  it('is bounded in entries for small visitors', async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    const g = (await store.accept('c', undefined, Date.now(), 60_000))!;
    for (let i = 0; i < 5; i++) await store.accept('c', g, Date.now(), 60_000, { id: `k${i}`, value: '{}' });
    expect(await store.get('c', g, 'k1')).toBeUndefined();
    expect(await store.get('c', g, 'k4')).toBe('{}');
  });
});
