import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { DEMO_LIMITED_CREDENTIALS, DEMO_VISITORS, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { startFakeUpstream, type FakeReply } from '../helpers/fakeUpstream.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { useServers } from '../helpers/servers.js';
import { sleep } from '../helpers/promises.js';

const SEED_REPLY: FakeReply = { status: 200, body: { visitor: DEMO_VISITORS.find((v) => v._id === SEED_VISITOR_ID), success: true } };
const ONE = { query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` };
const many = (ids: string[]) => ({ query: `query($ids: [ID!]!) { visitors(ids: $ids) { id } }`, variables: { ids } });

const servers = useServers();
const fake = servers.fake;
const demo = servers.demo;
const gatewayFor = (url: string, env: Record<string, string> = {}) => servers.gateway(url, env);
const codeOf = (res: { body: { errors?: Array<{ extensions?: Record<string, any> }> } }) => res.body.errors?.[0]?.extensions?.code;

describe('circuit breaker', () => {
  it('opens after consecutive upstream faults, fails fast without traffic, reports not ready, and recovers', async () => {
    const upstream = await fake(() => ({ status: 503, body: '' }));
    const gateway = await gatewayFor(upstream.url, { BREAKER_THRESHOLD: '3', BREAKER_HALF_OPEN_MS: '400', UPSTREAM_RETRIES: '0' });
    for (let i = 0; i < 3; i++) expect(codeOf(await gateway.post(ONE, DEMO_HEADERS))).toBe('UPSTREAM_UNAVAILABLE');
    expect(upstream.calls).toBe(3);

    // Open: a hanging upstream would take the whole timeout; the open breaker answers at once.
    upstream.setScript(() => ({ hang: true }));
    const started = performance.now();
    const open = await gateway.post(ONE, DEMO_HEADERS);
    expect(performance.now() - started).toBeLessThan(500);
    expect(open.body.errors![0]!.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', upstream: { error: 'circuit-open' } });
    // The time until the trial call (400 ms, in whole seconds), in the error and as Retry-After.
    expect(open.body.errors![0]!.extensions!.retryAfter).toBe(1);
    expect(open.headers.get('retry-after')).toBe('1');
    expect(upstream.calls).toBe(3);
    const ready = await fetch(gateway.url.replace('/graphql', '/readyz'));
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'unavailable', reason: 'circuit-open' });
    expect(upstream.calls).toBe(3);

    // Half-open after the pause: one trial call; its success closes the breaker.
    upstream.setScript(() => SEED_REPLY);
    await sleep(450);
    expect((await gateway.post(ONE, DEMO_HEADERS)).body).toEqual({ data: { visitor: { id: SEED_VISITOR_ID } } });
    expect(upstream.calls).toBe(4);
    expect((await gateway.post(ONE, DEMO_HEADERS)).body.errors).toBeUndefined();
    expect(gateway.client.breakerState).toBe('closed');
  });

  it('does not count 4xx answers: refusals mean Rocket.Chat is alive', async () => {
    const upstream = await fake(() => ({ status: 400, body: { success: false, error: 'visitor-not-found' } }));
    const gateway = await gatewayFor(upstream.url, { BREAKER_THRESHOLD: '2' });
    for (let i = 0; i < 5; i++) expect(codeOf(await gateway.post(ONE, DEMO_HEADERS))).toBe('NOT_FOUND');
    expect(upstream.calls).toBe(5);
    expect(gateway.client.breakerState).toBe('closed');
  });

  it('a failed half-open trial opens the breaker again', async () => {
    const upstream = await fake(() => ({ resetBeforeHeaders: true }));
    const gateway = await gatewayFor(upstream.url, { BREAKER_THRESHOLD: '2', BREAKER_HALF_OPEN_MS: '200', UPSTREAM_RETRIES: '0' });
    await gateway.post(ONE, DEMO_HEADERS);
    await gateway.post(ONE, DEMO_HEADERS);
    expect(gateway.client.breakerState).toBe('open');
    await sleep(250);
    expect(codeOf(await gateway.post(ONE, DEMO_HEADERS))).toBe('UPSTREAM_UNAVAILABLE');
    expect(upstream.calls).toBe(3);
    expect(gateway.client.breakerState).toBe('open');
  });
});

describe('readiness', () => {
  it('/readyz answers 503 when Rocket.Chat does not answer /api/info', async () => {
    const gone = await startFakeUpstream();
    const url = gone.url;
    await gone.stop();
    const gateway = await gatewayFor(url);
    const ready = await fetch(gateway.url.replace('/graphql', '/readyz'));
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'unavailable' });
    expect((await fetch(gateway.url.replace('/graphql', '/healthz'))).status).toBe(200);
  });

  it('/readyz names a timeout when /api/info hangs', async () => {
    const upstream = await fake(() => ({ hang: true }));
    const gateway = await gatewayFor(upstream.url, { UPSTREAM_TIMEOUT_MS: '200' });
    const ready = await fetch(gateway.url.replace('/graphql', '/readyz'));
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', reason: 'timeout' });
  });
});

describe('retries', () => {
  it('keeps retry amplification at or below 1.2x under a fully failing upstream (retry budget)', async () => {
    const upstream = await fake(() => ({ status: 503, body: '' }));
    const gateway = await gatewayFor(upstream.url, {
      BREAKER_THRESHOLD: '10000',
      UPSTREAM_RETRIES: '2',
      UPSTREAM_CONCURRENCY_PER_REQUEST: '50',
    });
    let asked = 0;
    for (let op = 0; op < 8; op++) {
      const ids = Array.from({ length: 50 }, (_, i) => `op${op}visitor${i}`);
      asked += ids.length;
      const res = await gateway.post(many(ids), DEMO_HEADERS);
      expect(res.body.errors!.every((e) => e.extensions!.code === 'UPSTREAM_UNAVAILABLE')).toBe(true);
    }
    expect(asked).toBe(400);
    expect(upstream.calls).toBeGreaterThan(asked); // some retries did happen
    expect(upstream.calls / asked).toBeLessThanOrEqual(1.2);
  });

  it('never retries 4xx or 429', async () => {
    for (const reply of [
      { status: 403, body: { success: false, error: 'unauthorized' } },
      { status: 429, body: { success: false, error: 'too many' }, headers: { 'x-ratelimit-reset': String(Date.now() + 5000) } },
      { status: 401, body: { status: 'error', message: 'You must be logged in to do this.' } },
    ] satisfies FakeReply[]) {
      const upstream = await fake(() => reply);
      const gateway = await gatewayFor(upstream.url, { UPSTREAM_RETRIES: '3' });
      await gateway.post(ONE, DEMO_HEADERS);
      expect(upstream.calls).toBe(1);
    }
  });

  it('answers UPSTREAM_TIMEOUT within the overall deadline, however many retries are allowed', async () => {
    const upstream = await fake(() => ({ hang: true }));
    const gateway = await gatewayFor(upstream.url, {
      UPSTREAM_TIMEOUT_MS: '400',
      UPSTREAM_DEADLINE_MS: '500',
      UPSTREAM_RETRIES: '5',
    });
    const started = performance.now();
    const res = await gateway.post(ONE, DEMO_HEADERS);
    const took = performance.now() - started;
    expect(codeOf(res)).toBe('UPSTREAM_TIMEOUT');
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(1500);
    expect(upstream.calls).toBeLessThanOrEqual(2);
  });
});

describe('rate limits', () => {
  it('answers RATE_LIMITED from 429 and then fails fast without spending upstream quota', async () => {
    // Rocket.Chat's 429 carries X-RateLimit-Reset (epoch ms) and no Retry-After; the 200s before it
    // say nothing of the bucket here, so the 429 is the first the gateway learns of it.
    const upstream = await fake((_req, n) =>
      n < 3
        ? SEED_REPLY
        : {
            status: 429,
            headers: { 'x-ratelimit-limit': '3', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Date.now() + 60_000) },
            body: { success: false, error: 'error-too-many-requests' },
          },
    );
    const gateway = await gatewayFor(upstream.url);
    expect((await gateway.post(ONE, DEMO_HEADERS)).body.errors).toBeUndefined();
    expect((await gateway.post(many([SEED_VISITOR_ID, 'x1']), DEMO_HEADERS)).body.data!.visitors[0]).toEqual({ id: SEED_VISITOR_ID });
    const limited = await gateway.post(ONE, DEMO_HEADERS);
    expect(limited.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', upstream: { status: 429 } });
    expect(limited.body.errors![0]!.extensions!.retryAfter).toBeGreaterThan(55);
    // Every error of the answer is RATE_LIMITED: an HTTP client sees when to come back without the body.
    expect(limited.status).toBe(200);
    expect(Number(limited.headers.get('retry-after'))).toBe(limited.body.errors![0]!.extensions!.retryAfter);
    expect(upstream.calls).toBe(4);
    for (let i = 0; i < 5; i++) {
      const again = await gateway.post(ONE, DEMO_HEADERS);
      expect(again.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      expect(again.body.errors![0]!.extensions!.retryAfter).toBeGreaterThan(55);
    }
    expect(upstream.calls).toBe(4);
  });

  it('refuses up front an operation that needs more calls than the bucket has left, and spends none of it', async () => {
    const upstream = await demo({ record: true, rateLimit: { limit: 3, windowMs: 60_000 } });
    const gateway = await gatewayFor(upstream.url);
    expect((await gateway.post(ONE, DEMO_HEADERS)).body.errors).toBeUndefined();
    expect(upstream.calls).toBe(1);

    // Two left; three distinct ids cannot fit: refused whole, before any call, as HTTP 429.
    const refused = await gateway.post(many([SEED_VISITOR_ID, 'x1', 'x2']), DEMO_HEADERS);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(55);
    expect(refused.body.data).toBeUndefined();
    expect(refused.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(refused.body.errors![0]!.extensions!.retryAfter).toBeGreaterThan(55);
    expect(upstream.calls).toBe(1);

    // What does fit still runs and spends the rest; after that nothing reaches Rocket.Chat.
    const fits = await gateway.post(many([SEED_VISITOR_ID, 'x1']), DEMO_HEADERS);
    expect(fits.status).toBe(200);
    expect(fits.body.data!.visitors[0]).toEqual({ id: SEED_VISITOR_ID });
    expect(upstream.calls).toBe(3);
    const spent = await gateway.post(ONE, DEMO_HEADERS);
    expect(spent.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(upstream.calls).toBe(3);
  });

  it('sends the socket address as X-Real-IP and never a caller-sent one', async () => {
    const upstream = await demo({ record: true });
    const gateway = await gatewayFor(upstream.url);
    await gateway.post(ONE, { ...DEMO_HEADERS, 'x-real-ip': '203.0.113.7', 'x-forwarded-for': '198.51.100.1' });
    expect(upstream.requests[0]!.headers['x-real-ip']).toBe('127.0.0.1');
    expect(upstream.requests[0]!.headers['x-forwarded-for']).toBeUndefined();
  });

  it('behind a trusted proxy, sends the address the proxy reports, so callers get separate buckets', async () => {
    const upstream = await demo({ record: true, rateLimit: { limit: 1, windowMs: 60_000 } });
    const gateway = await gatewayFor(upstream.url, { TRUST_PROXY: 'true' });
    const a = await gateway.post(ONE, { ...DEMO_HEADERS, 'x-forwarded-for': '198.51.100.1, 203.0.113.10' });
    const b = await gateway.post(ONE, { ...DEMO_HEADERS, 'x-forwarded-for': '203.0.113.11' });
    expect(a.body.errors).toBeUndefined();
    expect(b.body.errors).toBeUndefined();
    expect(upstream.requests.map((r) => r.headers['x-real-ip'])).toEqual(['203.0.113.10', '203.0.113.11']);
    expect(codeOf(await gateway.post(ONE, { ...DEMO_HEADERS, 'x-forwarded-for': '203.0.113.10' }))).toBe('RATE_LIMITED');
  });
});

describe('bulkhead', () => {
  it('admits UPSTREAM_CONNECTIONS calls plus the queue and refuses the rest at once', async () => {
    const upstream = await fake(() => ({ ...SEED_REPLY, delayMs: 300 }));
    const gateway = await gatewayFor(upstream.url, {
      UPSTREAM_CONNECTIONS: '2',
      UPSTREAM_QUEUE: '1',
      UPSTREAM_CONCURRENCY_PER_REQUEST: '10',
    });
    const ids = Array.from({ length: 8 }, (_, i) => `bulk${i}`);
    const res = await gateway.post(many(ids), DEMO_HEADERS);
    const refused = res.body.errors!.filter((e) => e.extensions!.upstream?.error === 'bulkhead-full');
    expect(refused).toHaveLength(5);
    expect(refused.every((e) => e.extensions!.code === 'UPSTREAM_UNAVAILABLE')).toBe(true);
    expect(upstream.calls).toBe(3);
  });
});

describe('in-flight coalescing', () => {
  it('shares one upstream call among concurrent operations of the same caller', async () => {
    const upstream = await fake(() => ({ ...SEED_REPLY, delayMs: 150 }));
    const gateway = await gatewayFor(upstream.url);
    const results = await Promise.all(Array.from({ length: 5 }, () => gateway.post(ONE, DEMO_HEADERS)));
    for (const r of results) expect(r.body).toEqual({ data: { visitor: { id: SEED_VISITOR_ID } } });
    expect(upstream.calls).toBe(1);
  });

  it('never shares across callers, even for the same id at the same moment', async () => {
    const upstream = await fake((req) =>
      req.headers['x-user-id'] === DEMO_LIMITED_CREDENTIALS.userId
        ? { status: 403, body: { success: false, error: 'forbidden' }, delayMs: 150 }
        : { ...SEED_REPLY, delayMs: 150 },
    );
    const gateway = await gatewayFor(upstream.url);
    const limited = { 'x-auth-token': DEMO_LIMITED_CREDENTIALS.authToken, 'x-user-id': DEMO_LIMITED_CREDENTIALS.userId };
    const sameUserOtherToken = { ...DEMO_HEADERS, 'x-auth-token': 'anotherTokenForTheSameUser000000000000000' };
    const [a, b, c] = await Promise.all([gateway.post(ONE, DEMO_HEADERS), gateway.post(ONE, limited), gateway.post(ONE, sameUserOtherToken)]);
    expect(a.body.data).toEqual({ visitor: { id: SEED_VISITOR_ID } });
    expect(codeOf(b)).toBe('FORBIDDEN');
    expect(c.body.data).toEqual({ visitor: { id: SEED_VISITOR_ID } });
    expect(upstream.calls).toBe(3);
  });
});

describe('aborted callers', () => {
  it('a caller that disconnects aborts its upstream call', async () => {
    const upstream = await fake(() => ({ hang: true }));
    const gateway = await gatewayFor(upstream.url, { UPSTREAM_TIMEOUT_MS: '10000', UPSTREAM_DEADLINE_MS: '20000' });
    const controller = new AbortController();
    const pending = request(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
      body: JSON.stringify(ONE),
      signal: controller.signal,
    }).catch(() => 'aborted');
    await sleep(150);
    expect(upstream.calls).toBe(1);
    controller.abort();
    expect(await pending).toBe('aborted');
    await sleep(150);
    expect(upstream.abandoned).toBe(1);
    // The gateway keeps serving, and the abort did not count against the breaker.
    upstream.setScript(() => SEED_REPLY);
    expect((await gateway.post(ONE, DEMO_HEADERS)).body.errors).toBeUndefined();
  });

  it('a shared call survives while another caller still waits for it', async () => {
    const upstream = await fake(() => ({ ...SEED_REPLY, delayMs: 400 }));
    const gateway = await gatewayFor(upstream.url);
    const controller = new AbortController();
    const leaving = request(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
      body: JSON.stringify(ONE),
      signal: controller.signal,
    }).catch(() => 'aborted');
    await sleep(50);
    const staying = gateway.post(ONE, DEMO_HEADERS);
    await sleep(50);
    controller.abort();
    expect(await leaving).toBe('aborted');
    expect((await staying).body).toEqual({ data: { visitor: { id: SEED_VISITOR_ID } } });
    expect(upstream.calls).toBe(1);
    expect(upstream.abandoned).toBe(0);
  });
});
