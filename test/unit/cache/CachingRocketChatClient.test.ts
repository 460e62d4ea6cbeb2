import { describe, expect, it } from 'vitest';
import { CachingRocketChatClient, callerKey } from '../../../src/cache/CachingRocketChatClient.js';
import { MemoryStore } from '../../../src/cache/store.js';
import type { CallOptions, RocketChatClient } from '../../../src/rocketchat/client.js';
import type { WireVisitor } from '../../../src/rocketchat/models.js';

/** A store that remembers every key it was asked to write. */
class RecordingStore extends MemoryStore {
  readonly written: string[] = [];
  override async set(key: string, value: string, ttlMs: number) {
    this.written.push(key);
    await super.set(key, value, ttlMs);
  }
}

function upstream(): RocketChatClient & { calls: number } {
  return {
    calls: 0,
    async getVisitor(id: string): Promise<WireVisitor> {
      this.calls++;
      return { _id: id, name: `visitor ${id}` };
    },
    async serverInfo() {
      return { version: '7.0.0', success: true };
    },
    async close() {},
  };
}

const alice: CallOptions = { credentials: { userId: 'alice', authToken: 'alice-secret-token-1' } };
const aliceOtherToken: CallOptions = { credentials: { userId: 'alice', authToken: 'alice-secret-token-2' } };

describe('CachingRocketChatClient', () => {
  it('keys entries by user id and a token hash, never by the token itself', async () => {
    const store = new RecordingStore();
    const client = new CachingRocketChatClient(upstream(), store, 60_000);
    await client.getVisitor('v1', alice);
    expect(store.written).toHaveLength(1);
    expect(store.written[0]).toContain('alice');
    expect(store.written[0]).not.toContain('alice-secret-token-1');
    expect(store.written[0]).toContain(callerKey(alice.credentials));
  });

  it('does not serve one token’s entry to another token of the same user', async () => {
    const inner = upstream();
    const client = new CachingRocketChatClient(inner, new MemoryStore(), 60_000);
    await client.getVisitor('v1', alice);
    await client.getVisitor('v1', alice);
    expect(inner.calls).toBe(1);
    await client.getVisitor('v1', aliceOtherToken);
    expect(inner.calls).toBe(2);
    expect(callerKey(alice.credentials)).not.toBe(callerKey(aliceOtherToken.credentials));
  });
});

describe('MemoryStore', () => {
  it('is bounded in bytes as well as in entries: large visitors push out the oldest', async () => {
    const store = new MemoryStore({ maxEntries: 10_000, maxBytes: 10 * 1024 * 1024 });
    const large = 'x'.repeat(1024 * 1024); // 2 MiB as V8 may store it
    for (let i = 0; i < 8; i++) await store.set(`k${i}`, large, 60_000);
    expect(await store.get('k0')).toBeUndefined();
    expect(await store.get('k7')).toBe(large);
    let kept = 0;
    for (let i = 0; i < 8; i++) if ((await store.get(`k${i}`)) !== undefined) kept++;
    expect(kept).toBe(4);
  });

  it('is bounded in entries for small visitors', async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    for (let i = 0; i < 5; i++) await store.set(`k${i}`, '{}', 60_000);
    expect(await store.get('k1')).toBeUndefined();
    expect(await store.get('k4')).toBe('{}');
  });
});
