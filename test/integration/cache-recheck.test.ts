import { describe, expect, it } from 'vitest';
import { cacheUpstream } from '../helpers/cacheUpstream.js';
import { DEMO_HEADERS, type TestGateway } from '../helpers/gateway.js';
import { needsRedis, NO_REDIS } from '../helpers/process.js';
import { sharedCacheEnv, untilCacheReady } from '../helpers/sharedCache.js';
import { sleep } from '../helpers/promises.js';
import { useServers } from '../helpers/servers.js';

/**
 * A cached visitor is served only to a caller Rocket.Chat accepted at most CACHE_RECHECK_MS ago, in
 * memory and through Redis alike.
 */
const servers = useServers();
const RECHECK_MS = 200;
const ONE = { query: '{ visitor(id: "vIsItOr0001") { id name } }' };
const MANY = (n: number) => ({
  query: 'query Many($ids: [ID!]!) { visitors(ids: $ids) { id name } }',
  variables: { ids: Array.from({ length: n }, (_, i) => `vIsItOr${String(i).padStart(4, '0')}`) },
});

async function setUp(store: 'memory' | 'redis'): Promise<{ gateway: TestGateway; upstream: ReturnType<typeof cacheUpstream> }> {
  const env = await sharedCacheEnv(servers, store, RECHECK_MS);
  const upstream = cacheUpstream();
  const fake = await servers.fake(upstream.script);
  const gateway = await servers.gateway(fake.url, env);
  if (store === 'redis') await untilCacheReady(gateway);
  return { gateway, upstream };
}

describe.each(['memory', 'redis'] as const)('cache recheck (%s)', (store) => {
  const test = it.skipIf(store === 'redis' && !!NO_REDIS);
  const named = (name: string) => (store === 'redis' ? needsRedis(name) : name);
  test(named('a revoked token reads the cache no longer than CACHE_RECHECK_MS after Rocket.Chat last accepted it'), async () => {
    const { gateway, upstream } = await setUp(store);
    expect((await gateway.post(ONE, DEMO_HEADERS)).body.data).toEqual({ visitor: { id: 'vIsItOr0001', name: 'v1' } });
    const acceptedBy = performance.now();
    expect((await gateway.post(ONE, DEMO_HEADERS)).body.data).toEqual({ visitor: { id: 'vIsItOr0001', name: 'v1' } });
    expect(upstream.visitorCalls).toBe(1);

    upstream.revoked = true;
    const answers: Array<{ sentAfterMs: number; code: string | undefined }> = [];
    for (let i = 0; i < 60; i++) {
      const sentAfterMs = performance.now() - acceptedBy;
      const res = await gateway.post(ONE, DEMO_HEADERS);
      answers.push({ sentAfterMs, code: res.body.errors?.[0]?.extensions?.code });
      if (sentAfterMs > RECHECK_MS + 300) break;
      await sleep(10);
    }
    const firstRefusal = answers.find((a) => a.code === 'UNAUTHENTICATED');
    expect(firstRefusal).toBeDefined();
    expect(firstRefusal!.sentAfterMs).toBeLessThan(RECHECK_MS + 100);
    // Nothing served from the cache after the window; every answer after the first refusal is one.
    for (const a of answers) if (a.code === undefined) expect(a.sentAfterMs).toBeLessThan(RECHECK_MS);
    expect(answers.slice(answers.indexOf(firstRefusal!)).every((a) => a.code === 'UNAUTHENTICATED')).toBe(true);
  });

  test(named('a stale caller’s 100-id operation costs one confirming call, not 100'), async () => {
    const { gateway, upstream } = await setUp(store);
    const first = await gateway.post(MANY(100), DEMO_HEADERS);
    expect(first.body.errors).toBeUndefined();
    expect(upstream.visitorCalls).toBe(100);
    await gateway.post(MANY(100), DEMO_HEADERS);
    expect(upstream.visitorCalls).toBe(100);
    await sleep(RECHECK_MS + 50);
    const stale = await gateway.post(MANY(100), DEMO_HEADERS);
    expect(stale.body.errors).toBeUndefined();
    expect(stale.body.data!.visitors).toHaveLength(100);
    expect(upstream.visitorCalls).toBe(101);
  });
});
