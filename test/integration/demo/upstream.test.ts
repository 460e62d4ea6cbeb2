import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../../../src/demo/upstream.js';
import { DEMO_CREDENTIALS, DEMO_LIMITED_CREDENTIALS, DEMO_VISITORS, FULL_VISITOR_ID, SEED_VISITOR_ID } from '../../../src/demo/visitors.js';
import { BEHAVIOR_SEED_BODY } from '../../helpers/behavior.js';

const AUTH = { 'X-Auth-Token': DEMO_CREDENTIALS.authToken, 'X-User-Id': DEMO_CREDENTIALS.userId };
const LIMITED_AUTH = {
  'X-Auth-Token': DEMO_LIMITED_CREDENTIALS.authToken,
  'X-User-Id': DEMO_LIMITED_CREDENTIALS.userId,
};

function visitorsInfo(base: string, visitorId: string | undefined, headers: Record<string, string> = AUTH) {
  const url = new URL('/api/v1/livechat/visitors.info', base);
  if (visitorId !== undefined) url.searchParams.set('visitorId', visitorId);
  return fetch(url, { headers });
}

describe('demo upstream: BEHAVIOR.md responses', () => {
  let upstream: DemoUpstream;

  beforeAll(async () => {
    upstream = await startDemoUpstream({ record: true });
  });
  afterAll(async () => {
    await upstream.stop();
  });
  beforeEach(() => upstream.reset());

  it('listens on a loopback URL without a trailing slash', () => {
    expect(upstream.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('200: serves the seed visitor exactly as documented', async () => {
    const res = await visitorsInfo(upstream.url, SEED_VISITOR_ID);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const text = await res.text();
    expect(JSON.parse(text)).toStrictEqual(BEHAVIOR_SEED_BODY);
    expect(text).toBe(JSON.stringify(BEHAVIOR_SEED_BODY));
  });

  it('200: serves every fixture visitor under its own id', async () => {
    for (const visitor of DEMO_VISITORS) {
      const res = await visitorsInfo(upstream.url, visitor._id);
      expect(res.status).toBe(200);
      expect(await res.json()).toStrictEqual({ visitor, success: true });
    }
  });

  it('sends no rate-limit headers while the limiter is off', async () => {
    const res = await visitorsInfo(upstream.url, SEED_VISITOR_ID);
    await res.arrayBuffer();
    expect(res.headers.get('x-ratelimit-limit')).toBeNull();
  });

  const UNAUTHORIZED = { status: 'error', message: 'You must be logged in to do this.' };

  it('401: no credentials', async () => {
    const res = await visitorsInfo(upstream.url, SEED_VISITOR_ID, {});
    expect(res.status).toBe(401);
    expect(await res.text()).toBe(JSON.stringify(UNAUTHORIZED));
  });

  it('401: only one of the two headers', async () => {
    const tokenOnly = await visitorsInfo(upstream.url, SEED_VISITOR_ID, { 'X-Auth-Token': DEMO_CREDENTIALS.authToken });
    expect(tokenOnly.status).toBe(401);
    expect(await tokenOnly.json()).toStrictEqual(UNAUTHORIZED);
    const userOnly = await visitorsInfo(upstream.url, SEED_VISITOR_ID, { 'X-User-Id': DEMO_CREDENTIALS.userId });
    expect(userOnly.status).toBe(401);
    expect(await userOnly.json()).toStrictEqual(UNAUTHORIZED);
  });

  it('401: wrong token, unknown user, and a token belonging to another user', async () => {
    const cases = [
      { 'X-Auth-Token': 'wrong-token', 'X-User-Id': DEMO_CREDENTIALS.userId },
      { 'X-Auth-Token': DEMO_CREDENTIALS.authToken, 'X-User-Id': 'nOsUcHuSeR0000000' },
      { 'X-Auth-Token': DEMO_LIMITED_CREDENTIALS.authToken, 'X-User-Id': DEMO_CREDENTIALS.userId },
    ];
    for (const headers of cases) {
      const res = await visitorsInfo(upstream.url, SEED_VISITOR_ID, headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toStrictEqual(UNAUTHORIZED);
    }
  });

  it('401 comes before the missing-visitorId 400', async () => {
    const res = await visitorsInfo(upstream.url, undefined, {});
    expect(res.status).toBe(401);
    await res.arrayBuffer();
  });

  it('403: authenticated user without view-l-room', async () => {
    const res = await visitorsInfo(upstream.url, SEED_VISITOR_ID, LIMITED_AUTH);
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}');
  });

  it('403 applies even to unknown visitors (no existence leak)', async () => {
    const res = await visitorsInfo(upstream.url, 'doesNotExist00000', LIMITED_AUTH);
    expect(res.status).toBe(403);
    await res.arrayBuffer();
  });

  it('400 invalid-params: visitorId missing', async () => {
    const res = await visitorsInfo(upstream.url, undefined);
    expect(res.status).toBe(400);
    expect(await res.json()).toStrictEqual({
      success: false,
      error: "must have required property 'visitorId' [invalid-params]",
      errorType: 'invalid-params',
    });
  });

  it('400 visitor-not-found (not 404) for an unknown id', async () => {
    const res = await visitorsInfo(upstream.url, 'zZzZzZzZzZzZzZzZz');
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('{"success":false,"error":"visitor-not-found"}');
  });

  it('GET /api/info answers without credentials', async () => {
    const res = await fetch(new URL('/api/info', upstream.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe('{"version":"8.4.1","success":true}');
  });

  it('other methods on the route are refused with JSON', async () => {
    const res = await fetch(new URL(`/api/v1/livechat/visitors.info?visitorId=${SEED_VISITOR_ID}`, upstream.url), {
      method: 'POST',
      headers: AUTH,
    });
    expect([404, 405]).toContain(res.status);
    const body = (await res.json()) as { success: boolean };
    expect(body.success).toBe(false);
  });

  it('unknown paths answer 404 JSON', async () => {
    const res = await fetch(new URL('/api/v1/livechat/visitor.info?visitorId=x', upstream.url), { headers: AUTH });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toStrictEqual({ success: false, error: 'Not found' });
  });

  it('records method, path, query and headers of every request; reset() clears them', async () => {
    await (await visitorsInfo(upstream.url, FULL_VISITOR_ID)).arrayBuffer();
    await (await fetch(new URL('/api/info', upstream.url))).arrayBuffer();
    expect(upstream.calls).toBe(2);
    expect(upstream.requests).toHaveLength(2);
    const [first, second] = upstream.requests;
    expect(first).toMatchObject({
      method: 'GET',
      path: '/api/v1/livechat/visitors.info',
      query: { visitorId: FULL_VISITOR_ID },
    });
    expect(first?.headers['x-auth-token']).toBe(DEMO_CREDENTIALS.authToken);
    expect(first?.headers['x-user-id']).toBe(DEMO_CREDENTIALS.userId);
    expect(second).toMatchObject({ method: 'GET', path: '/api/info', query: {} });

    upstream.reset();
    expect(upstream.calls).toBe(0);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('demo upstream: recording off (the default)', () => {
  let upstream: DemoUpstream;
  beforeAll(async () => {
    upstream = await startDemoUpstream();
  });
  afterAll(async () => {
    await upstream.stop();
  });

  it('counts calls but keeps no requests', async () => {
    for (let i = 0; i < 3; i += 1) await (await visitorsInfo(upstream.url, SEED_VISITOR_ID)).arrayBuffer();
    expect(upstream.calls).toBe(3);
    expect(upstream.requests).toHaveLength(0);
    upstream.reset();
    expect(upstream.calls).toBe(0);
  });
});

describe('demo upstream: custom visitors and latency', () => {
  let upstream: DemoUpstream;
  beforeAll(async () => {
    upstream = await startDemoUpstream({ visitors: [{ _id: 'oNlYoNeViSiToR123', name: 'Only' }], latencyMs: 80 });
  });
  afterAll(async () => {
    await upstream.stop();
  });

  it('serves only the given visitors, after the configured latency', async () => {
    const started = performance.now();
    const res = await visitorsInfo(upstream.url, 'oNlYoNeViSiToR123');
    expect(await res.json()).toStrictEqual({ visitor: { _id: 'oNlYoNeViSiToR123', name: 'Only' }, success: true });
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);

    const seed = await visitorsInfo(upstream.url, SEED_VISITOR_ID);
    expect(seed.status).toBe(400);
    await seed.arrayBuffer();
  });
});

describe('demo upstream: rate limiter', () => {
  let upstream: DemoUpstream;
  beforeAll(async () => {
    upstream = await startDemoUpstream({ rateLimit: { limit: 2, windowMs: 60_000 } });
  });
  afterAll(async () => {
    await upstream.stop();
  });
  beforeEach(() => upstream.reset());

  it('counts down X-RateLimit-Remaining, then answers 429 with the documented headers', async () => {
    const before = Date.now();
    const first = await visitorsInfo(upstream.url, SEED_VISITOR_ID);
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    expect(first.headers.get('x-ratelimit-limit')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('1');
    const reset = Number(first.headers.get('x-ratelimit-reset'));
    // Milliseconds, not seconds: a seconds value would be ~1000x smaller.
    expect(reset).toBeGreaterThanOrEqual(before + 60_000);
    expect(reset).toBeLessThanOrEqual(Date.now() + 60_000);

    const second = await visitorsInfo(upstream.url, SEED_VISITOR_ID);
    expect(second.status).toBe(200);
    await second.arrayBuffer();
    expect(second.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(second.headers.get('x-ratelimit-reset')).toBe(String(reset));

    const third = await visitorsInfo(upstream.url, SEED_VISITOR_ID);
    expect(third.status).toBe(429);
    expect(third.headers.get('content-type')).toBe('application/json');
    expect(third.headers.get('x-ratelimit-limit')).toBe('2');
    expect(third.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(third.headers.get('x-ratelimit-reset')).toBe(String(reset));
    expect(third.headers.get('retry-after')).toBeNull();
    const body = (await third.json()) as { success: boolean; error: string };
    expect(body.success).toBe(false);
    const match =
      /^Error, too many requests\. Please slow down\. You must wait (\d+) seconds before trying this endpoint again\. \[error-too-many-requests\]$/.exec(
        body.error,
      );
    expect(match).not.toBeNull();
    const wait = Number(match?.[1]);
    expect(wait).toBeGreaterThanOrEqual(59);
    expect(wait).toBeLessThanOrEqual(60);
  });

  it('limits before checking credentials', async () => {
    for (let i = 0; i < 2; i += 1) await (await visitorsInfo(upstream.url, SEED_VISITOR_ID)).arrayBuffer();
    const res = await visitorsInfo(upstream.url, SEED_VISITOR_ID, {});
    expect(res.status).toBe(429);
    await res.arrayBuffer();
  });

  it('keeps a separate bucket per X-Real-IP, and one for callers without it', async () => {
    const asIp = (ip: string) => ({ ...AUTH, 'X-Real-IP': ip });
    for (let i = 0; i < 2; i += 1) {
      const res = await visitorsInfo(upstream.url, SEED_VISITOR_ID, asIp('198.51.100.7'));
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const limited = await visitorsInfo(upstream.url, SEED_VISITOR_ID, asIp('198.51.100.7'));
    expect(limited.status).toBe(429);
    await limited.arrayBuffer();

    const otherIp = await visitorsInfo(upstream.url, SEED_VISITOR_ID, asIp('198.51.100.8'));
    expect(otherIp.status).toBe(200);
    expect(otherIp.headers.get('x-ratelimit-remaining')).toBe('1');
    await otherIp.arrayBuffer();

    const socketIp = await visitorsInfo(upstream.url, SEED_VISITOR_ID);
    expect(socketIp.status).toBe(200);
    expect(socketIp.headers.get('x-ratelimit-remaining')).toBe('1');
    await socketIp.arrayBuffer();
  });

  it('does not limit /api/info', async () => {
    for (let i = 0; i < 4; i += 1) {
      const res = await fetch(new URL('/api/info', upstream.url));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
      await res.arrayBuffer();
    }
  });

  it('reset() clears the limiter windows', async () => {
    for (let i = 0; i < 2; i += 1) await (await visitorsInfo(upstream.url, SEED_VISITOR_ID)).arrayBuffer();
    const limited = await visitorsInfo(upstream.url, SEED_VISITOR_ID);
    expect(limited.status).toBe(429);
    await limited.arrayBuffer();
    upstream.reset();
    const after = await visitorsInfo(upstream.url, SEED_VISITOR_ID);
    expect(after.status).toBe(200);
    expect(after.headers.get('x-ratelimit-remaining')).toBe('1');
    await after.arrayBuffer();
  });
});

describe('demo upstream: short windows', () => {
  let upstream: DemoUpstream;
  beforeAll(async () => {
    upstream = await startDemoUpstream({ rateLimit: { limit: 1, windowMs: 300 } });
  });
  afterAll(async () => {
    await upstream.stop();
  });

  it('opens a fresh window once the old one has expired', async () => {
    await (await visitorsInfo(upstream.url, SEED_VISITOR_ID)).arrayBuffer();
    const limited = await visitorsInfo(upstream.url, SEED_VISITOR_ID);
    expect(limited.status).toBe(429);
    const body = (await limited.json()) as { error: string };
    // A sub-second remainder still rounds up to a whole second.
    expect(body.error).toContain('You must wait 1 seconds');
    await new Promise((resolve) => setTimeout(resolve, 350));
    const again = await visitorsInfo(upstream.url, SEED_VISITOR_ID);
    expect(again.status).toBe(200);
    await again.arrayBuffer();
  });
});

describe('demo upstream: stop()', () => {
  it('closes promptly despite an idle keep-alive connection', async () => {
    const upstream = await startDemoUpstream();
    await (await visitorsInfo(upstream.url, SEED_VISITOR_ID)).arrayBuffer();
    const started = performance.now();
    await upstream.stop();
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(fetch(new URL('/api/info', upstream.url))).rejects.toThrow();
  });
});
