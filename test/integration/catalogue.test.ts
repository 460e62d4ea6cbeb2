import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_VISITORS, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { startFakeUpstream, type FakeReply, type FakeUpstream } from '../helpers/fakeUpstream.js';
import { DEMO_HEADERS, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Every row of the error catalogue, end to end: a scripted upstream answers, the gateway must answer
 * HTTP 200 with a null visitor, the row's code, the upstream details, and the expected number of calls.
 */
const RETRIES = 2;
const TIMEOUT_MS = 300;
const SEED_REPLY: FakeReply = { status: 200, body: { visitor: DEMO_VISITORS.find((v) => v._id === SEED_VISITOR_ID), success: true } };

describe('error catalogue over real HTTP', () => {
  let upstream: FakeUpstream;
  let gateway: TestGateway;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
  });
  afterAll(async () => {
    await upstream.stop();
  });
  // A fresh gateway per row, so that one row's failures (breaker, retry budget) never shape the next.
  beforeEach(async () => {
    upstream.reset();
    gateway = await startTestGateway(upstream.url, {
      UPSTREAM_RETRIES: String(RETRIES),
      UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS),
    });
  });
  afterEach(async () => {
    await gateway.stop();
  });

  async function ask(reply: FakeReply) {
    upstream.setScript(() => reply);
    const res = await gateway.post({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { id name } }` }, DEMO_HEADERS);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ visitor: null });
    expect(res.body.errors).toHaveLength(1);
    return res.body.errors![0]!;
  }

  const rows: Array<[string, FakeReply, Record<string, unknown>, number]> = [
    [
      '400 visitor-not-found',
      { status: 400, body: { success: false, error: 'visitor-not-found' } },
      { code: 'NOT_FOUND', upstream: { status: 400, error: 'visitor-not-found' } },
      1,
    ],
    [
      '400 invalid-params',
      { status: 400, body: { success: false, error: "must have required property 'visitorId' [invalid-params]", errorType: 'invalid-params' } },
      { code: 'BAD_USER_INPUT', upstream: { status: 400, error: "must have required property 'visitorId' [invalid-params]" } },
      1,
    ],
    [
      '400 error-not-authorized (older servers)',
      { status: 400, body: { success: false, error: 'error-not-authorized' } },
      { code: 'FORBIDDEN', upstream: { status: 400, error: 'error-not-authorized' } },
      1,
    ],
    [
      '403',
      { status: 403, body: { success: false, error: 'User does not have the permissions required for this action [error-unauthorized]' } },
      { code: 'FORBIDDEN', upstream: { status: 403, error: 'User does not have the permissions required for this action [error-unauthorized]' } },
      1,
    ],
    [
      '401',
      { status: 401, body: { status: 'error', message: 'You must be logged in to do this.' } },
      { code: 'UNAUTHENTICATED', upstream: { status: 401, error: 'You must be logged in to do this.' } },
      1,
    ],
    [
      '500',
      { status: 500, body: { success: false, error: 'Internal error' } },
      { code: 'UPSTREAM_UNAVAILABLE', upstream: { status: 500, error: 'Internal error' } },
      1 + RETRIES,
    ],
    [
      '502 with an HTML page',
      { status: 502, headers: { 'content-type': 'text/html' }, body: '<html>Bad gateway</html>' },
      { code: 'UPSTREAM_UNAVAILABLE', upstream: { status: 502, error: null } },
      1 + RETRIES,
    ],
    ['503', { status: 503, body: '' }, { code: 'UPSTREAM_UNAVAILABLE', upstream: { status: 503 } }, 1 + RETRIES],
    ['504', { status: 504, body: '' }, { code: 'UPSTREAM_UNAVAILABLE', upstream: { status: 504 } }, 1 + RETRIES],
    ['connection reset before headers', { resetBeforeHeaders: true }, { code: 'UPSTREAM_UNAVAILABLE', upstream: { status: null } }, 1 + RETRIES],
    [
      '404 (wrong URL or route)',
      { status: 404, body: { success: false, error: 'Not found' } },
      { code: 'UPSTREAM_ERROR', upstream: { status: 404, error: 'Not found' } },
      1,
    ],
    ['302 redirect (never followed)', { redirect: 'http://127.0.0.1:1/elsewhere' }, { code: 'UPSTREAM_ERROR', upstream: { status: 302 } }, 1],
    ['200 not JSON', { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>login</html>' }, { code: 'UPSTREAM_BAD_RESPONSE' }, 1],
    ['200 truncated JSON', { status: 200, truncated: true, body: { visitor: { _id: SEED_VISITOR_ID }, success: true } }, { code: 'UPSTREAM_BAD_RESPONSE' }, 1],
    [
      '200 reset mid-body',
      { status: 200, resetMidBody: true, body: { visitor: { _id: SEED_VISITOR_ID }, success: true } },
      { code: 'UPSTREAM_BAD_RESPONSE', upstream: { status: 200 } },
      1,
    ],
    ['200 wrong shape', { status: 200, body: { visitor: { _id: 42 }, success: true } }, { code: 'UPSTREAM_BAD_RESPONSE' }, 1],
    [
      '200 with success: false',
      { status: 200, body: { success: false, error: 'something odd' } },
      { code: 'UPSTREAM_BAD_RESPONSE', upstream: { status: 200, error: 'something odd' } },
      1,
    ],
    ['200 over the 1 MiB size cap', { status: 200, hugeBytes: 2 * 1024 * 1024 }, { code: 'UPSTREAM_BAD_RESPONSE' }, 1],
  ];

  it.each(rows)('%s', async (_name, reply, extensions, calls) => {
    const error = await ask(reply);
    expect(error.extensions).toMatchObject(extensions);
    expect(upstream.calls).toBe(calls);
    // And the gateway still serves once the upstream behaves.
    upstream.setScript(() => SEED_REPLY);
    const after = await gateway.post({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` }, DEMO_HEADERS);
    expect(after.body).toEqual({ data: { visitor: { id: SEED_VISITOR_ID } } });
  });

  it('429: RATE_LIMITED with retryAfter from X-RateLimit-Reset (epoch ms), never retried', async () => {
    const reset = Date.now() + 52_000;
    const error = await ask({
      status: 429,
      headers: { 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      body: {
        success: false,
        error: 'Error, too many requests. Please slow down. You must wait 52 seconds before trying this endpoint again. [error-too-many-requests]',
      },
    });
    expect(error.extensions!.code).toBe('RATE_LIMITED');
    expect(error.extensions!.retryAfter).toBeGreaterThanOrEqual(51);
    expect(error.extensions!.retryAfter).toBeLessThanOrEqual(52);
    expect(error.extensions!.upstream.status).toBe(429);
    expect(upstream.calls).toBe(1);
  });

  it('no answer in time: UPSTREAM_TIMEOUT after one retry, within the deadline', async () => {
    const started = Date.now();
    const error = await ask({ hang: true });
    const took = Date.now() - started;
    expect(error.extensions).toMatchObject({ code: 'UPSTREAM_TIMEOUT', upstream: { status: null } });
    expect(upstream.calls).toBe(2);
    expect(took).toBeLessThan(TIMEOUT_MS * 2 + 1500);
  });

  it('a trickling body counts against the same deadline', async () => {
    const error = await ask({
      status: 200,
      body: { visitor: { _id: SEED_VISITOR_ID }, success: true, pad: 'x'.repeat(400) },
      trickle: { chunkBytes: 10, intervalMs: 50 },
    });
    expect(error.extensions!.code).toBe('UPSTREAM_TIMEOUT');
  });

  it('a 500 then a 200 recovers within the retries', async () => {
    upstream.setScript((_req, i) => (i === 0 ? { status: 500, body: '' } : SEED_REPLY));
    const res = await gateway.post({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` }, DEMO_HEADERS);
    expect(res.body).toEqual({ data: { visitor: { id: SEED_VISITOR_ID } } });
    expect(upstream.calls).toBe(2);
  });

  it('never leaks a token, a header or the raw body in an error', async () => {
    const error = await ask({ status: 500, body: { success: false, error: 'boom', secret: 'RAW-BODY-SECRET' } });
    const text = JSON.stringify(error);
    expect(text).not.toContain(DEMO_HEADERS['x-auth-token']);
    expect(text).not.toContain(DEMO_HEADERS['x-user-id']);
    expect(text).not.toContain('RAW-BODY-SECRET');
  });
});

describe('connection refused', () => {
  it('answers UPSTREAM_UNAVAILABLE after bounded retries', async () => {
    const gone = await startFakeUpstream();
    const url = gone.url;
    await gone.stop();
    const gateway = await startTestGateway(url, { UPSTREAM_RETRIES: '1' });
    try {
      const res = await gateway.post({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` }, DEMO_HEADERS);
      expect(res.status).toBe(200);
      expect(res.body.errors![0]!.extensions).toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        upstream: { status: null, error: 'ECONNREFUSED' },
      });
    } finally {
      await gateway.stop();
    }
  });
});
