import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { SlotApqCache } from '../../src/cache/apq.js';
import { RedisStore } from '../../src/cache/redisStore.js';
import { createLogger } from '../../src/logger.js';
import { SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { flood, persisted, sha256 } from '../helpers/apq.js';
import { cacheUpstream } from '../helpers/cacheUpstream.js';
import { DEMO_HEADERS, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { needsRedis, NO_REDIS, startRedis } from '../helpers/process.js';
import { sleep } from '../helpers/promises.js';
import { useServers } from '../helpers/servers.js';

/**
 * The shared cache against a real redis-server of its own, on a free loopback port. A Redis paused
 * with SIGSTOP keeps its connections open and answers nothing: the failure a command deadline is for.
 */
const servers = useServers();
const ONE = { query: `query One { visitor(id: "${SEED_VISITOR_ID}") { id name } }` };
/**
 * The deadline for tests that are not about it: on a busy machine an answer read 50 ms late would
 * be a miss, and a test counting hits, keys or commands would fail for the wrong reason.
 */
const SLOW_MACHINE_MS = '1000';
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

/** A plain client for the test's own look at Redis, closed after the test. */
function inspect(url: string): Redis {
  const redis = new Redis(url, { lazyConnect: false });
  servers.later(async () => {
    redis.disconnect();
  });
  return redis;
}

async function countKeys(redis: Redis, pattern: string): Promise<number> {
  let count = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}

/** Commands Redis has run, by name, from INFO commandstats (the INFO calls themselves left out). */
async function commandCounts(redis: Redis): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const match of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (match[1] !== 'info') counts.set(match[1]!, Number(match[2]));
  }
  return counts;
}

function commandsBetween(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const ran: Record<string, number> = {};
  for (const [name, calls] of after) if (calls > (before.get(name) ?? 0)) ran[name] = calls - (before.get(name) ?? 0);
  return ran;
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

describe.skipIf(!!NO_REDIS)(needsRedis('Redis stuck (SIGSTOP)'), () => {
  it('keeps every query off Redis: answers from Rocket.Chat within bounds, reports it on /readyz, warns once, and stops promptly', async () => {
    const redis = await redisServer();
    const upstream = await servers.demo();
    // 150 ms rather than the default 50: a busy test machine must not time out the warm-up's commands.
    const gateway = await startTestGateway(upstream.url, { CACHE_TTL_MS: '60000', REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '150' });
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
    expect(warnings[0]).toMatchObject({ timeoutMs: 150, err: { message: 'a command took over 150 ms' } });

    const { ms } = await timed(gateway.stop(1000));
    stopped = true;
    expect(ms).toBeLessThan(1000);
  });

  it('serves cache hits again once Redis resumes', async () => {
    const redis = await redisServer();
    const upstream = await servers.demo();
    const gateway = await servers.gateway(upstream.url, { CACHE_TTL_MS: '60000', REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '150' });
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

describe.skipIf(!!NO_REDIS)(needsRedis('persisted queries in Redis'), () => {
  it('a flood through the gateway leaves at most APQ_REDIS_SLOTS keys, and a real client still round-trips', async () => {
    const redis = await redisServer();
    const gateway = await servers.gateway((await servers.demo()).url, { REDIS_URL: redis.url, REDIS_TIMEOUT_MS: SLOW_MACHINE_MS, APQ_REDIS_SLOTS: '32' });
    await untilRedisAnswers(gateway);
    await flood(gateway, 1000, 10);
    const look = inspect(redis.url);
    // Apollo does not wait for a registration's write: let the last ones land before counting.
    for (let i = 0; i < 20 && (await countKeys(look, 'lvg:apq:*')) < 32; i++) await sleep(25);
    await sleep(50);
    // 1,000 documents over 32 slots leave none empty (the odds are 1 in 10^13).
    expect(await countKeys(look, 'lvg:apq:*')).toBe(32);
    expect(await look.dbsize()).toBe(32);

    // Hash only: unknown; then registered; then served by hash.
    const query = 'query AfterTheFlood { __typename }';
    expect(await persisted(gateway, query, false)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await persisted(gateway, query, true)).toBeUndefined();
    let code: string | undefined = 'PERSISTED_QUERY_NOT_FOUND';
    for (let i = 0; i < 20 && code !== undefined; i++) {
      code = await persisted(gateway, query, false);
      if (code !== undefined) await sleep(25);
    }
    expect(code).toBeUndefined();
  });

  it('a collision is a miss, and the client’s resend registers the document again', async () => {
    const redis = await redisServer();
    const gateway = await servers.gateway((await servers.demo()).url, { REDIS_URL: redis.url, REDIS_TIMEOUT_MS: SLOW_MACHINE_MS, APQ_REDIS_SLOTS: '1' });
    await untilRedisAnswers(gateway);
    const look = inspect(redis.url);
    const a = 'query A { __typename }';
    const b = 'query B { __typename }';
    const holds = async (query: string) => ((await look.get('lvg:apq:slot:0')) ?? '').includes(sha256(query));
    expect(await persisted(gateway, a, true)).toBeUndefined();
    for (let i = 0; i < 20 && !(await holds(a)); i++) await sleep(25);
    expect(await persisted(gateway, a, false)).toBeUndefined();
    expect(await persisted(gateway, b, true)).toBeUndefined();
    for (let i = 0; i < 20 && !(await holds(b)); i++) await sleep(25);
    expect(await persisted(gateway, a, false)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await persisted(gateway, a, true)).toBeUndefined();
    for (let i = 0; i < 20 && !(await holds(a)); i++) await sleep(25);
    expect(await persisted(gateway, a, false)).toBeUndefined();
    expect(await look.dbsize()).toBe(1);
  });

  it('3,000 documents written straight to the slot table leave exactly the slots, each with its TTL', async () => {
    const redis = await redisServer();
    const store = new RedisStore({ url: redis.url, timeoutMs: 1000, log: createLogger('silent') });
    servers.later(() => store.close());
    await store.ready();
    const cache = new SlotApqCache(store, 64, 3600);
    for (let i = 0; i < 3000; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => `query Q${i + j} { __typename }`).map((d) => cache.set(`apq:${sha256(d)}`, d)));
    }
    const look = inspect(redis.url);
    expect(await countKeys(look, 'lvg:apq:slot:*')).toBe(64);
    expect(await look.dbsize()).toBe(64);
    const ttl = await look.ttl('lvg:apq:slot:0');
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
    // The last write to each slot is the one served; the others are misses.
    const last = 'query Q2999 { __typename }';
    expect(await cache.get(`apq:${sha256(last)}`)).toBe(last);
  });
});

describe.skipIf(!!NO_REDIS)(needsRedis('invalidation in Redis'), () => {
  it('a 401 among 50,000 keys costs a few commands and no SCAN, and the caller’s old entries are never served again', async () => {
    const redis = await redisServer();
    const look = inspect(redis.url);
    // Other callers' entries: 50,000 keys, written 5,000 to a pipeline.
    for (let i = 0; i < 50_000; i += 5000) {
      const pipeline = look.pipeline();
      for (let j = i; j < i + 5000; j++) pipeline.set(`lvg:v2:visitor:someone${j % 100}:x:1:vIsItOr${j}`, '{}', 'PX', 600_000);
      await pipeline.exec();
    }
    const upstream = cacheUpstream();
    const gateway = await servers.gateway((await servers.fake(upstream.script)).url, {
      CACHE_TTL_MS: '60000',
      REDIS_URL: redis.url,
      REDIS_TIMEOUT_MS: SLOW_MACHINE_MS,
    });
    await untilRedisAnswers(gateway);
    const two = { query: '{ a: visitor(id: "vIsItOrAAAA") { name } b: visitor(id: "vIsItOrBBBB") { name } }' };
    expect((await gateway.post(two, DEMO_HEADERS)).body.data).toEqual({ a: { name: 'v1' }, b: { name: 'v1' } });
    expect((await gateway.post(two, DEMO_HEADERS)).body.data).toEqual({ a: { name: 'v1' }, b: { name: 'v1' } });
    expect(upstream.visitorCalls).toBe(2);
    expect(await look.dbsize()).toBeGreaterThan(50_000);

    upstream.revoked = true;
    const before = await commandCounts(look);
    const { value: denied, ms } = await timed(gateway.post({ query: '{ visitor(id: "vIsItOrCCCC") { name } }' }, DEMO_HEADERS));
    const ran = commandsBetween(before, await commandCounts(look));
    expect(denied.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(ms).toBeLessThan(500);
    // The caller's record (one script: HMGET, TIME), the visitor (GET), the refusal (DEL).
    expect(ran.scan).toBeUndefined();
    expect(ran.del).toBe(1);
    expect(Object.values(ran).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(6);

    // Rights back and the data changed upstream: nothing cached before the 401 is served.
    upstream.revoked = false;
    upstream.version = 2;
    expect((await gateway.post(two, DEMO_HEADERS)).body.data).toEqual({ a: { name: 'v2' }, b: { name: 'v2' } });
    expect(upstream.visitorCalls).toBe(5);
    expect((await gateway.post(two, DEMO_HEADERS)).body.data).toEqual({ a: { name: 'v2' }, b: { name: 'v2' } });
    expect(upstream.visitorCalls).toBe(5);
  });
});

describe.skipIf(!!NO_REDIS)(needsRedis('acceptances that reach Redis late'), () => {
  it('a command that waited in a buffer while Redis was stuck records when the call was sent, not when it ran', async () => {
    const redis = await redisServer();
    const store = new RedisStore({ url: redis.url, timeoutMs: 50, log: createLogger('silent') });
    servers.later(() => store.close());
    await store.ready();
    redis.pause();
    const sentAt = Date.now();
    // Past its deadline for the gateway, but written to the socket: Redis runs it once resumed.
    expect(await store.accept('caller', undefined, sentAt, 60_000, { id: 'v1', value: '{}' })).toBeUndefined();
    await sleep(600);
    redis.resume();
    let record = await store.caller('caller');
    for (let i = 0; i < 40 && record?.generation === undefined; i++) {
      await sleep(25);
      record = await store.caller('caller');
    }
    expect(record?.generation).toBeDefined();
    expect(record!.acceptedAgoMs).toBeGreaterThanOrEqual(Date.now() - sentAt - 50);
  });
});

describe.skipIf(!!NO_REDIS)(needsRedis('entries written without an acceptance'), () => {
  it('put writes under the caller’s current generation only, leaves the record as it was, and gives each entry its TTL', async () => {
    const redis = await redisServer();
    const store = new RedisStore({ url: redis.url, timeoutMs: Number(SLOW_MACHINE_MS), log: createLogger('silent') });
    servers.later(() => store.close());
    await store.ready();
    const look = inspect(redis.url);

    // No record yet: nothing to write under.
    await store.put('carol', '1', [{ id: 'department:d1', value: '{"_id":"d1"}' }], 60_000);
    expect(await countKeys(look, 'lvg:v2:entry:carol:*')).toBe(0);

    const generation = (await store.accept('carol', undefined, Date.now(), 60_000))!;
    const before = await store.caller('carol');
    await store.put(
      'carol',
      generation,
      [
        { id: 'department:d1', value: '{"_id":"d1"}' },
        { id: 'department:d2', value: 'null' },
      ],
      30_000,
    );
    expect(await store.get('carol', generation, 'department:d1')).toBe('{"_id":"d1"}');
    expect(await store.get('carol', generation, 'department:d2')).toBe('null');
    const ttl = await look.pttl(`lvg:v2:entry:carol:${generation}:department:d1`);
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    // The acceptance time did not move: a put is not an acceptance.
    const after = await store.caller('carol');
    expect(after!.generation).toBe(generation);
    expect(after!.acceptedAgoMs).toBeGreaterThanOrEqual(before!.acceptedAgoMs);

    // A refusal retires the generation: a late put under it writes nothing.
    await store.refuse('carol');
    await store.put('carol', generation, [{ id: 'user:x', value: '{}' }], 60_000);
    expect(await store.get('carol', generation, 'user:x')).toBeUndefined();
  });
});
