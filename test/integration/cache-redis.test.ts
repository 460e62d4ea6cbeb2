import { describe, expect, it } from 'vitest';
import { SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { DEMO_HEADERS, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedis } from '../helpers/process.js';
import { sleep } from '../helpers/promises.js';
import { useServers } from '../helpers/servers.js';

/**
 * The shared cache against a real redis-server of its own, on a free loopback port. A Redis paused
 * with SIGSTOP keeps its connections open and answers nothing: the failure a command deadline is for.
 */
const servers = useServers();
const ONE = { query: `query One { visitor(id: "${SEED_VISITOR_ID}") { id name } }` };
const SEED_ANSWER = { data: { visitor: { id: SEED_VISITOR_ID, name: 'Livechat Visitor' } } };

async function redisServer() {
  const redis = await startRedis();
  servers.later(() => redis.stop());
  return {
    ...redis,
    pause: () => process.kill(redis.pid, 'SIGSTOP'),
    resume: () => process.kill(redis.pid, 'SIGCONT'),
  };
}

async function readyz(gateway: TestGateway): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = performance.now();
  const res = await fetch(gateway.url.replace('/graphql', '/readyz'));
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, ms: performance.now() - started };
}

/** ioredis connects in the background; a test starts once /readyz has seen Redis answer. */
async function untilRedisAnswers(gateway: TestGateway): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await readyz(gateway)).body.cache === 'ok') return;
    await sleep(20);
  }
  throw new Error('Redis never answered the gateway');
}

async function metric(gateway: TestGateway, line: string): Promise<number> {
  const text = await (await fetch(gateway.url.replace('/graphql', '/metrics'))).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.split(' ').pop()) : 0;
}

/** Calls for visitors, not /api/info (which /readyz asks). */
function visitorCalls(upstream: { requests: ReadonlyArray<{ path: string }> }): number {
  return upstream.requests.filter((r) => r.path.endsWith('/visitors.info')).length;
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

describe('Redis stuck (SIGSTOP)', () => {
  it('keeps every query off Redis: answers from Rocket.Chat within bounds, reports it on /readyz, warns once, and stops promptly', async () => {
    const redis = await redisServer();
    const upstream = await servers.demo();
    const gateway = await startTestGateway(upstream.url, { CACHE_TTL_MS: '60000', REDIS_URL: redis.url });
    let stopped = false;
    servers.later(async () => {
      if (!stopped) await gateway.stop(0);
    });
    await untilRedisAnswers(gateway);
    expect((await gateway.post(ONE, DEMO_HEADERS)).body).toEqual(SEED_ANSWER);
    expect((await gateway.post(ONE, DEMO_HEADERS)).body).toEqual(SEED_ANSWER);
    expect(visitorCalls(upstream)).toBe(1);

    redis.pause();
    for (let i = 0; i < 6; i++) {
      const { value, ms } = await timed(gateway.post(ONE, DEMO_HEADERS));
      expect(value.body).toEqual(SEED_ANSWER);
      expect(ms).toBeLessThan(500);
    }
    // Every one of them was a miss answered by Rocket.Chat.
    expect(visitorCalls(upstream)).toBe(7);

    const ready = await readyz(gateway);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', cache: 'degraded' });
    expect(ready.ms).toBeLessThan(500);

    // Several commands failed, one warning says so.
    expect(await metric(gateway, 'gateway_cache_redis_errors_total{reason="timeout"}')).toBeGreaterThanOrEqual(3);
    expect(await metric(gateway, 'gateway_cache_redis_breaker_state')).toBe(2);
    const warnings = gateway.logs.filter((l) => l.level === 40 && String(l.msg).includes('redis'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ timeoutMs: 50 });

    const { ms } = await timed(gateway.stop(1000));
    stopped = true;
    expect(ms).toBeLessThan(1000);
  });

  it('serves cache hits again once Redis resumes', async () => {
    const redis = await redisServer();
    const upstream = await servers.demo();
    const gateway = await servers.gateway(upstream.url, { CACHE_TTL_MS: '60000', REDIS_URL: redis.url });
    await untilRedisAnswers(gateway);
    await gateway.post(ONE, DEMO_HEADERS);
    expect(visitorCalls(upstream)).toBe(1);

    redis.pause();
    for (let i = 0; i < 4; i++) expect((await gateway.post(ONE, DEMO_HEADERS)).body).toEqual(SEED_ANSWER);
    expect(visitorCalls(upstream)).toBe(5);
    redis.resume();

    // Within a few breaker pauses, a query is a hit again: it costs Rocket.Chat nothing.
    let hitAfter: number | undefined;
    for (let i = 0; i < 40 && hitAfter === undefined; i++) {
      const before = visitorCalls(upstream);
      expect((await gateway.post(ONE, DEMO_HEADERS)).body).toEqual(SEED_ANSWER);
      if (visitorCalls(upstream) === before) hitAfter = i;
      else await sleep(100);
    }
    expect(hitAfter).toBeDefined();
    expect((await readyz(gateway)).body.cache).toBe('ok');
    expect(await metric(gateway, 'gateway_cache_redis_breaker_state')).toBe(0);
  });
});
