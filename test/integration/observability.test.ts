import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_LIMITED_CREDENTIALS, DEMO_VISITORS, FULL_VISITOR_ID, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { DEMO_HEADERS, startTestGateway } from '../helpers/gateway.js';
import { useServers } from '../helpers/servers.js';
import { ensureBuilt, needsRedis, NO_REDIS, spawnGateway, startRedis, waitFor } from '../helpers/process.js';
import { sleep } from '../helpers/promises.js';
import { persisted } from '../helpers/apq.js';
import { metricsOf, sample } from '../helpers/metrics.js';

const ONE = { query: `query One { visitor(id: "${SEED_VISITOR_ID}") { id name } }` };

const servers = useServers();
const demo = servers.demo;
const gatewayFor = (url: string, env: Record<string, string> = {}) => servers.gateway(url, env);
describe('metrics and logs from a real run', () => {
  it('counts operations, upstream calls by status class, batch sizes, breaker state and process metrics', async () => {
    const upstream = await demo();
    const gateway = await gatewayFor(upstream.url);
    await gateway.post(ONE, DEMO_HEADERS);
    await gateway.post(ONE, DEMO_HEADERS);
    await gateway.post(
      { query: 'query Many($ids: [ID!]!) { visitors(ids: $ids) { id } }', variables: { ids: [SEED_VISITOR_ID, FULL_VISITOR_ID, 'unknownVisitor001'] } },
      DEMO_HEADERS,
    );
    const text = await metricsOf(gateway);
    expect(sample(text, 'gateway_operations_total', 'operation="One",outcome="ok"')).toBe(2);
    expect(sample(text, 'gateway_operations_total', 'operation="Many",outcome="error"')).toBe(1);
    expect(sample(text, 'gateway_operations_total', 'operation="One",code="none"')).toBe(2);
    expect(sample(text, 'gateway_operations_total', 'operation="Many",code="NOT_FOUND"')).toBe(1);
    expect(sample(text, 'gateway_upstream_requests_total', 'route="/api/v1/livechat/visitors.info",status_class="2xx"')).toBe(4);
    expect(sample(text, 'gateway_upstream_requests_total', 'status_class="2xx"')).toBe(4);
    expect(sample(text, 'gateway_upstream_requests_total', 'status_class="4xx"')).toBe(1);
    expect(sample(text, 'gateway_upstream_request_duration_seconds_count', 'status_class="2xx"')).toBe(4);
    expect(sample(text, 'gateway_dataloader_batch_size_count')).toBe(3);
    expect(sample(text, 'gateway_dataloader_batch_size_sum')).toBe(5);
    expect(sample(text, 'gateway_breaker_state')).toBe(0);
    expect(text).toContain('process_resident_memory_bytes');
    // No credential, user or visitor id in any label.
    for (const secret of [DEMO_HEADERS['x-auth-token'], DEMO_HEADERS['x-user-id'], SEED_VISITOR_ID, FULL_VISITOR_ID]) {
      expect(text).not.toContain(secret);
    }
  });

  it('counts the persisted-query handshake as one operation and one miss, never as a failure', async () => {
    const upstream = await demo();
    const gateway = await gatewayFor(upstream.url);
    const query = 'query Handshake { __typename }';
    expect(await persisted(gateway, query, false)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await persisted(gateway, query, true)).toBeUndefined();
    expect(await persisted(gateway, query, false)).toBeUndefined();
    const text = await metricsOf(gateway);
    expect(sample(text, 'gateway_persisted_query_misses_total')).toBe(1);
    expect(sample(text, 'gateway_operations_total', 'operation="Handshake",code="none"')).toBe(2);
    expect(sample(text, 'gateway_operations_total', 'outcome="error"')).toBeNaN();
    expect(gateway.logs.filter((l) => l.msg === 'graphql operation').map((l) => l.outcome)).toEqual(['persisted-query-miss', 'ok', 'ok']);
  });

  it('bounds operation-name labels: odd names count as "other"', async () => {
    const upstream = await demo();
    const gateway = await gatewayFor(upstream.url);
    await gateway.post({ query: '{ __typename }' });
    await gateway.post({ query: 'query Ok_1 { __typename }' });
    const text = await metricsOf(gateway);
    expect(sample(text, 'gateway_operations_total', 'operation="anonymous",outcome="ok"')).toBe(1);
    expect(sample(text, 'gateway_operations_total', 'operation="Ok_1",outcome="ok"')).toBe(1);
  });

  it('shows the breaker open in metrics', async () => {
    const upstream = await servers.fake(() => ({ status: 503, body: '' }));
    const gateway = await gatewayFor(upstream.url, { BREAKER_THRESHOLD: '2', UPSTREAM_RETRIES: '0' });
    await gateway.post(ONE, DEMO_HEADERS);
    await gateway.post(ONE, DEMO_HEADERS);
    const text = await metricsOf(gateway);
    expect(sample(text, 'gateway_breaker_state')).toBe(2);
    expect(sample(text, 'gateway_upstream_requests_total', 'status_class="5xx"')).toBe(2);
  });

  it('carries the request id client → gateway → upstream → logs → response', async () => {
    const upstream = await demo();
    const gateway = await gatewayFor(upstream.url);
    const res = await gateway.post(ONE, { ...DEMO_HEADERS, 'x-request-id': 'support-ticket-4711' });
    expect(res.headers.get('x-request-id')).toBe('support-ticket-4711');
    expect(upstream.requests[0]!.headers['x-request-id']).toBe('support-ticket-4711');
    const line = gateway.logs.find((l) => l.msg === 'graphql operation');
    expect(line).toMatchObject({
      requestId: 'support-ticket-4711',
      operationName: 'One',
      upstreamCalls: 1,
      outcome: 'ok',
      codes: [],
      httpStatus: 200,
      service: 'livechat-visitor-gateway',
    });
    expect(line!.durationMs).toBeGreaterThan(0);
  });
});

describe('shared cache (in memory)', () => {
  it('hits for the same caller, misses for another, expires, and never caches errors', async () => {
    const upstream = await demo();
    const gateway = await gatewayFor(upstream.url, { CACHE_TTL_MS: '300' });
    await gateway.post(ONE, DEMO_HEADERS);
    await gateway.post(ONE, DEMO_HEADERS);
    expect(upstream.calls).toBe(1);
    // Another caller (same user, other token) never sees the first caller's entry.
    await gateway.post(ONE, { ...DEMO_HEADERS, 'x-auth-token': 'otherTokenOtherTokenOtherToken000' });
    expect(upstream.calls).toBe(2);
    // Errors are not cached.
    const missing = { query: '{ visitor(id: "unknownVisitor001") { id } }' };
    await gateway.post(missing, DEMO_HEADERS);
    await gateway.post(missing, DEMO_HEADERS);
    expect(upstream.calls).toBe(4);
    await sleep(350);
    await gateway.post(ONE, DEMO_HEADERS);
    expect(upstream.calls).toBe(5);
    const text = await metricsOf(gateway);
    expect(sample(text, 'gateway_cache_lookups_total', 'result="hit"')).toBe(1);
    expect(sample(text, 'gateway_cache_lookups_total', 'result="miss"')).toBe(5);
  });

  it.each([
    [403, 'FORBIDDEN', { success: false, error: 'User does not have the permissions required for this action [error-unauthorized]' }],
    [401, 'UNAUTHENTICATED', { status: 'error', message: 'You must be logged in to do this.' }],
  ])("evicts a caller's entries when Rocket.Chat answers %i for that caller", async (status, code, body) => {
    let refused = false;
    const seed = DEMO_VISITORS.find((v) => v._id === SEED_VISITOR_ID)!;
    const full = DEMO_VISITORS.find((v) => v._id === FULL_VISITOR_ID)!;
    const upstream = await servers.fake((req) =>
      refused ? { status, body } : { status: 200, body: { visitor: req.query.visitorId === SEED_VISITOR_ID ? seed : full, success: true } },
    );
    const gateway = await gatewayFor(upstream.url, { CACHE_TTL_MS: '60000' });
    await gateway.post(ONE, DEMO_HEADERS);
    await gateway.post({ query: `{ visitor(id: "${FULL_VISITOR_ID}") { id } }` }, DEMO_HEADERS);
    expect(upstream.calls).toBe(2);
    refused = true; // the caller lost view-l-room, or its token was revoked
    const denied = await gateway.post({ query: '{ visitor(id: "someOtherVisitor1") { id } }' }, DEMO_HEADERS);
    expect(denied.body.errors![0]!.extensions!.code).toBe(code);
    // The cached seed visitor is gone too: the next ask goes upstream and is refused.
    const after = await gateway.post(ONE, DEMO_HEADERS);
    expect(after.body.errors![0]!.extensions!.code).toBe(code);
    expect(upstream.calls).toBe(4);
  });

  it('serves automatic persisted queries with the visitor cache on (kept in their own store)', async () => {
    const upstream = await demo();
    const gateway = await gatewayFor(upstream.url, { CACHE_TTL_MS: '60000' });
    const { createHash } = await import('node:crypto');
    const sha256Hash = createHash('sha256').update(ONE.query).digest('hex');
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const miss = await gateway.post({ extensions }, DEMO_HEADERS);
    expect(miss.body.errors![0]!.extensions!.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    await gateway.post({ query: ONE.query, extensions }, DEMO_HEADERS);
    const hit = await gateway.post({ extensions }, DEMO_HEADERS);
    expect(hit.body).toEqual({ data: { visitor: { id: SEED_VISITOR_ID, name: 'Livechat Visitor' } } });
  });
});

describe('shared cache (Redis down)', () => {
  it('answers every query from Rocket.Chat when Redis cannot be reached: lookups are misses, nothing fails', async () => {
    const upstream = await demo();
    const gateway = await gatewayFor(upstream.url, { CACHE_TTL_MS: '60000', REDIS_URL: 'redis://127.0.0.1:1' });
    for (let i = 0; i < 3; i++) {
      const res = await gateway.post(ONE, DEMO_HEADERS);
      expect(res.body).toEqual({ data: { visitor: { id: SEED_VISITOR_ID, name: 'Livechat Visitor' } } });
    }
    expect(upstream.calls).toBe(3);
    expect(sample(await metricsOf(gateway), 'gateway_cache_lookups_total', 'result="miss"')).toBe(3);
    expect(gateway.logs.some((l) => l.level === 40 && String(l.msg).includes('redis'))).toBe(true);
  });
});

describe('processes', () => {
  beforeAll(() => ensureBuilt(), 60_000);

  it.skipIf(!!NO_REDIS)(
    needsRedis('two gateway processes share a real Redis: the second serves the first one’s cached visitor without an upstream call'),
    async () => {
      const redis = await startRedis();
      servers.later(() => redis.stop());
      const upstream = await demo();
      const env = {
        ROCKETCHAT_URL: upstream.url,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        CACHE_TTL_MS: '60000',
        REDIS_URL: redis.url,
      };
      const urls: string[] = [];
      for (let i = 0; i < 2; i++) {
        const proc = spawnGateway(env);
        servers.later(async () => {
          proc.child.kill('SIGTERM');
          await proc.exited;
        });
        urls.push((await waitFor(proc.stdout, /GraphQL at (\S+)/))[1]!);
      }
      const ask = (url: string) =>
        fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...DEMO_HEADERS }, body: JSON.stringify(ONE) }).then((r) => r.json());
      // Redis connects asynchronously; a miss before it is ready is fine, so warm until the entry is written.
      expect(await ask(urls[0]!)).toEqual({ data: { visitor: { id: SEED_VISITOR_ID, name: 'Livechat Visitor' } } });
      const firstCalls = upstream.calls;
      expect(firstCalls).toBe(1);
      expect(await ask(urls[1]!)).toEqual({ data: { visitor: { id: SEED_VISITOR_ID, name: 'Livechat Visitor' } } });
      expect(upstream.calls).toBe(1);
      // A different caller on the second process still goes upstream (and is refused).
      const limited = await fetch(urls[1]!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-auth-token': DEMO_LIMITED_CREDENTIALS.authToken, 'x-user-id': DEMO_LIMITED_CREDENTIALS.userId },
        body: JSON.stringify(ONE),
      }).then((r) => r.json() as Promise<{ errors: Array<{ extensions: { code: string } }> }>);
      expect(limited.errors[0]!.extensions.code).toBe('FORBIDDEN');
      expect(upstream.calls).toBe(2);
    },
  );

  it('on SIGTERM finishes the in-flight operation, refuses new connections and exits 0', async () => {
    const seed = DEMO_VISITORS.find((v) => v._id === SEED_VISITOR_ID)!;
    const upstream = await servers.fake(() => ({ status: 200, delayMs: 800, body: { visitor: seed, success: true } }));
    const proc = spawnGateway({ ROCKETCHAT_URL: upstream.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '5000' });
    const url = (await waitFor(proc.stdout, /GraphQL at (\S+)/))[1]!;
    const slow = fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close', ...DEMO_HEADERS },
      body: JSON.stringify(ONE),
    }).then((r) => r.json());
    await waitFor(() => String(upstream.calls), /^1$/);
    proc.child.kill('SIGTERM');
    await waitFor(proc.stderr, /SIGTERM/);
    await expect(fetch(url.replace('/graphql', '/healthz'))).rejects.toThrow();
    expect(await slow).toEqual({ data: { visitor: { id: SEED_VISITOR_ID, name: 'Livechat Visitor' } } });
    expect(await proc.exited).toBe(0);
  });

  it('a second signal during the drain exits at once, with code 1', async () => {
    const seed = DEMO_VISITORS.find((v) => v._id === SEED_VISITOR_ID)!;
    const upstream = await servers.fake(() => ({ status: 200, delayMs: 3000, body: { visitor: seed, success: true } }));
    const proc = spawnGateway({ ROCKETCHAT_URL: upstream.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_GRACE_MS: '10000' });
    const url = (await waitFor(proc.stdout, /GraphQL at (\S+)/))[1]!;
    const slow = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...DEMO_HEADERS }, body: JSON.stringify(ONE) }).catch(
      () => 'cut off',
    );
    await waitFor(() => String(upstream.calls), /^1$/);
    const started = Date.now();
    proc.child.kill('SIGTERM');
    await waitFor(proc.stderr, /SIGTERM/);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await slow).toBe('cut off');
  });
});

describe('graceful stop', () => {
  it('waits for in-flight operations only up to the grace period, then closes their connections', async () => {
    const upstream = await servers.fake(() => ({ hang: true }));
    const gateway = await startTestGateway(upstream.url, { UPSTREAM_TIMEOUT_MS: '30000', UPSTREAM_DEADLINE_MS: '30000' });
    const stuck = gateway.post(ONE, DEMO_HEADERS).then(
      () => 'answered',
      () => 'cut off',
    );
    await waitFor(() => String(upstream.calls), /^1$/);
    const started = Date.now();
    await gateway.stop(300);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2000);
    expect(await stuck).toBe('cut off');
  });
});
