import { afterEach, describe, expect, it } from 'vitest';
import { ARCHIVED_DEPARTMENT_ID, DEMO_DEPARTMENTS, SALES_DEPARTMENT_ID, SUPPORT_DEPARTMENT_ID } from '../../../src/demo/departments.js';
import { startDemoUpstream, type DemoUpstream, type DemoUpstreamOptions } from '../../../src/demo/upstream.js';
import { DEMO_CREDENTIALS, DEMO_LIMITED_CREDENTIALS, SEED_VISITOR_ID } from '../../../src/demo/visitors.js';
import { GatewayError } from '../../../src/errors.js';
import { HttpRocketChatClient, type CallOptions } from '../../../src/rocketchat/client.js';
import { rejection } from '../../helpers/promises.js';

/** The client against the demo upstream's department.listByIds, which answers as Rocket.Chat does. */
const DEPARTMENT_LIST_PATH = '/api/v1/livechat/department.listByIds';
const credentials = { ...DEMO_CREDENTIALS };
const limited = { ...DEMO_LIMITED_CREDENTIALS };

let upstream: DemoUpstream | undefined;
const clients: HttpRocketChatClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await upstream?.stop();
  upstream = undefined;
});

async function start(options: Omit<DemoUpstreamOptions, 'record'> = {}): Promise<DemoUpstream> {
  upstream = await startDemoUpstream({ ...options, record: true });
  return upstream;
}

/** A client pointed at the running demo upstream (another one is another gateway replica). */
function client(): HttpRocketChatClient {
  const c = new HttpRocketChatClient({
    baseUrl: upstream!.url,
    timeoutMs: 2000,
    deadlineMs: 4000,
    retries: 2,
    retryBudget: 1,
    connections: 4,
    queue: 10,
    breakerThreshold: 5,
    breakerHalfOpenMs: 60_000,
    retryBaseDelayMs: 1,
  });
  clients.push(c);
  return c;
}

const byId = (id: string) => DEMO_DEPARTMENTS.find((d) => d._id === id)!;

describe('HttpRocketChatClient.getDepartments: the request', () => {
  it('a lone id goes as ids[]=X, never as a bare ids=X', async () => {
    await start();
    const c = client();
    await expect(c.getDepartments([SALES_DEPARTMENT_ID], { credentials })).resolves.toStrictEqual([byId(SALES_DEPARTMENT_ID)]);
    const [request, ...others] = upstream!.requests;
    expect(others).toHaveLength(0);
    expect(request!.method).toBe('GET');
    expect(request!.path).toBe(DEPARTMENT_LIST_PATH);
    expect(request!.search).toBe(`ids[]=${SALES_DEPARTMENT_ID}`);
    expect(request!.query).toStrictEqual({ 'ids[]': SALES_DEPARTMENT_ID });
  });

  it('several ids go sorted, each as its own ids[]=, and come back in the store’s order', async () => {
    await start();
    const c = client();
    const asked = [SUPPORT_DEPARTMENT_ID, ARCHIVED_DEPARTMENT_ID, SALES_DEPARTMENT_ID];
    const departments = await c.getDepartments(asked, { credentials });
    const sorted = [...asked].sort();
    expect(sorted).toStrictEqual([SALES_DEPARTMENT_ID, SUPPORT_DEPARTMENT_ID, ARCHIVED_DEPARTMENT_ID]);
    expect(upstream!.requests).toHaveLength(1);
    expect(upstream!.requests[0]!.search).toBe(sorted.map((id) => `ids[]=${id}`).join('&'));
    // Everything the demo store holds, in its own order, drifting fields and all.
    expect(departments).toStrictEqual([...DEMO_DEPARTMENTS]);
    // The caller's array is not reordered in place.
    expect(asked).toStrictEqual([SUPPORT_DEPARTMENT_ID, ARCHIVED_DEPARTMENT_ID, SALES_DEPARTMENT_ID]);
  });

  it('sends the caller’s own x-auth-token and x-user-id, and nothing else credential-like', async () => {
    await start();
    const c = client();
    await c.getDepartments([SALES_DEPARTMENT_ID], { credentials });
    const { headers } = upstream!.requests[0]!;
    expect(headers['x-auth-token']).toBe(DEMO_CREDENTIALS.authToken);
    expect(headers['x-user-id']).toBe(DEMO_CREDENTIALS.userId);
    expect(headers['accept']).toBe('application/json');
    expect(headers['x-request-id']).toBeUndefined();
    expect(headers['x-real-ip']).toBeUndefined();
    const names = Object.keys(headers).filter((name) => name !== 'host' && name !== 'connection');
    expect(names.sort()).toStrictEqual(['accept', 'x-auth-token', 'x-user-id']);
  });

  it('adds x-request-id and x-real-ip when given, and still no other header', async () => {
    await start();
    const c = client();
    await c.getDepartments([SALES_DEPARTMENT_ID, SUPPORT_DEPARTMENT_ID], { credentials, requestId: 'req-dept-1', clientIp: '203.0.113.42' });
    const { headers } = upstream!.requests[0]!;
    expect(headers['x-request-id']).toBe('req-dept-1');
    expect(headers['x-real-ip']).toBe('203.0.113.42');
    expect(headers['x-auth-token']).toBe(DEMO_CREDENTIALS.authToken);
    expect(headers['x-user-id']).toBe(DEMO_CREDENTIALS.userId);
    for (const name of Object.keys(headers)) {
      if (name === 'x-auth-token' || name === 'x-user-id') continue;
      expect(name).not.toMatch(/auth|token|cookie|user|session|secret|key|forward/i);
    }
    const names = Object.keys(headers).filter((name) => name !== 'host' && name !== 'connection');
    expect(names.sort()).toStrictEqual(['accept', 'x-auth-token', 'x-real-ip', 'x-request-id', 'x-user-id']);
  });

  it('no ids: no request at all', async () => {
    await start();
    await expect(client().getDepartments([], { credentials })).resolves.toStrictEqual([]);
    expect(upstream!.calls).toBe(0);
  });

  it('more than 20 ids are refused before any request', async () => {
    await start();
    const ids = Array.from({ length: 21 }, (_, i) => `dEpT${i}`);
    await expect(client().getDepartments(ids, { credentials })).rejects.toBeInstanceOf(RangeError);
    expect(upstream!.calls).toBe(0);
  });
});

describe('HttpRocketChatClient.getDepartments: the answer', () => {
  it('an unknown id is simply absent from the result', async () => {
    await start();
    const departments = await client().getDepartments(['nOsUcHdEpArTmEnT1', SALES_DEPARTMENT_ID], { credentials });
    expect(departments).toStrictEqual([byId(SALES_DEPARTMENT_ID)]);
    await expect(client().getDepartments(['nOsUcHdEpArTmEnT1'], { credentials })).resolves.toStrictEqual([]);
  });

  it('403 for a caller without the permission → FORBIDDEN naming view-livechat-departments', async () => {
    await start();
    const err = await rejection(client().getDepartments([SALES_DEPARTMENT_ID], { credentials: limited }));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toContain('view-livechat-departments');
    expect(err.message).toContain('view-l-room');
    expect(err.extensions.upstream).toMatchObject({ status: 403 });
    // A refusal is not retried.
    expect(upstream!.calls).toBe(1);
  });

  it('a bad token → UNAUTHENTICATED, not retried', async () => {
    await start();
    const err = await rejection(client().getDepartments([SALES_DEPARTMENT_ID], { credentials: { ...credentials, authToken: 'nOtThEtOkEn' } }));
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(err.extensions.upstream).toMatchObject({ status: 401 });
    expect(upstream!.calls).toBe(1);
  });
});

describe('HttpRocketChatClient.getDepartments: rate limits', () => {
  const RATE_LIMIT = { limit: 2, windowMs: 60_000 };
  const caller: CallOptions = { credentials, clientIp: '198.51.100.23' };

  it('once Rocket.Chat says the window is spent, further calls are refused locally', async () => {
    await start({ rateLimit: RATE_LIMIT });
    const c = client();
    await expect(c.getDepartments([SALES_DEPARTMENT_ID], caller)).resolves.toHaveLength(1);
    await expect(c.getDepartments([SUPPORT_DEPARTMENT_ID], caller)).resolves.toHaveLength(1);
    expect(upstream!.calls).toBe(2);
    // The second answer said X-RateLimit-Remaining: 0, so the third never needs to go.
    for (const ids of [[ARCHIVED_DEPARTMENT_ID], [SALES_DEPARTMENT_ID]]) {
      const err = await rejection(c.getDepartments(ids, caller));
      expect(err.code).toBe('RATE_LIMITED');
      expect(err.retryAfter).toBeGreaterThan(0);
      expect(err.retryAfter).toBeLessThanOrEqual(60);
    }
    expect(upstream!.calls).toBe(2);
  });

  it('a 429 is RATE_LIMITED with a retryAfter and remembered: the next call stays local; visitors.info is another bucket', async () => {
    await start({ rateLimit: RATE_LIMIT });
    // Another replica spends the route's window for this client IP, so this one hears nothing of it.
    const other = client();
    await other.getDepartments([SALES_DEPARTMENT_ID], caller);
    await other.getDepartments([SALES_DEPARTMENT_ID], caller);
    expect(upstream!.calls).toBe(2);

    const c = client();
    const third = await rejection(c.getDepartments([SALES_DEPARTMENT_ID], caller));
    expect(third.code).toBe('RATE_LIMITED');
    expect(third.extensions.upstream).toMatchObject({ status: 429 });
    expect(third.retryAfter).toBeGreaterThanOrEqual(59);
    expect(third.retryAfter).toBeLessThanOrEqual(60);
    expect(third.extensions.retryAfter).toBe(third.retryAfter);
    // Not retried against a closed window.
    expect(upstream!.calls).toBe(3);

    const fourth = await rejection(c.getDepartments([SUPPORT_DEPARTMENT_ID, ARCHIVED_DEPARTMENT_ID], caller));
    expect(fourth.code).toBe('RATE_LIMITED');
    expect(fourth.retryAfter).toBeGreaterThan(0);
    expect(upstream!.calls).toBe(3);

    // Rocket.Chat counts each route on its own: the same caller's visitor call still goes.
    await expect(c.getVisitor(SEED_VISITOR_ID, caller)).resolves.toMatchObject({ _id: SEED_VISITOR_ID });
    expect(upstream!.calls).toBe(4);
    expect(upstream!.requests.at(-1)!.path).toBe('/api/v1/livechat/visitors.info');
    // And the operation-level admission (visitors' bucket) is untouched by the departments' one.
    expect(c.admit(1, caller)).toBeUndefined();
  });

  it('a spent window for one caller leaves another client IP alone', async () => {
    await start({ rateLimit: RATE_LIMIT });
    const c = client();
    await c.getDepartments([SALES_DEPARTMENT_ID], caller);
    await c.getDepartments([SALES_DEPARTMENT_ID], caller);
    expect((await rejection(c.getDepartments([SALES_DEPARTMENT_ID], caller))).code).toBe('RATE_LIMITED');
    await expect(c.getDepartments([SALES_DEPARTMENT_ID], { credentials, clientIp: '198.51.100.99' })).resolves.toHaveLength(1);
    expect(upstream!.calls).toBe(3);
  });
});

describe('HttpRocketChatClient.getDepartments: coalescing', () => {
  it('two concurrent identical calls by the same caller cost one request', async () => {
    await start();
    const c = client();
    const [a, b] = await Promise.all([
      c.getDepartments([SALES_DEPARTMENT_ID, SUPPORT_DEPARTMENT_ID], { credentials }),
      c.getDepartments([SALES_DEPARTMENT_ID, SUPPORT_DEPARTMENT_ID], { credentials }),
    ]);
    expect(upstream!.calls).toBe(1);
    expect(a).toStrictEqual([byId(SUPPORT_DEPARTMENT_ID), byId(SALES_DEPARTMENT_ID)]);
    expect(b).toStrictEqual(a);
  });

  it('the same ids in another order are the same call', async () => {
    await start();
    const c = client();
    await Promise.all([
      c.getDepartments([SALES_DEPARTMENT_ID, SUPPORT_DEPARTMENT_ID], { credentials }),
      c.getDepartments([SUPPORT_DEPARTMENT_ID, SALES_DEPARTMENT_ID], { credentials }),
    ]);
    expect(upstream!.calls).toBe(1);
  });

  it('calls one after the other are not shared: each costs a request', async () => {
    await start();
    const c = client();
    await c.getDepartments([SALES_DEPARTMENT_ID], { credentials });
    await c.getDepartments([SALES_DEPARTMENT_ID], { credentials });
    expect(upstream!.calls).toBe(2);
  });

  it('the same ids by two different callers cost two requests, each with its own credentials and answer', async () => {
    await start();
    const c = client();
    const [mine, theirs] = await Promise.allSettled([
      c.getDepartments([SALES_DEPARTMENT_ID], { credentials }),
      c.getDepartments([SALES_DEPARTMENT_ID], { credentials: limited }),
    ]);
    expect(upstream!.calls).toBe(2);
    expect(upstream!.requests.map((r) => r.headers['x-user-id']).sort()).toStrictEqual([DEMO_CREDENTIALS.userId, DEMO_LIMITED_CREDENTIALS.userId].sort());
    expect(mine).toStrictEqual({ status: 'fulfilled', value: [byId(SALES_DEPARTMENT_ID)] });
    expect(theirs.status).toBe('rejected');
    expect(((theirs as PromiseRejectedResult).reason as GatewayError).code).toBe('FORBIDDEN');
  });

  it('the same user with another token is another caller', async () => {
    await start();
    const c = client();
    const [good, bad] = await Promise.allSettled([
      c.getDepartments([SALES_DEPARTMENT_ID], { credentials }),
      c.getDepartments([SALES_DEPARTMENT_ID], { credentials: { ...credentials, authToken: 'aNoThErToKeN' } }),
    ]);
    expect(upstream!.calls).toBe(2);
    expect(good.status).toBe('fulfilled');
    expect(((bad as PromiseRejectedResult).reason as GatewayError).code).toBe('UNAUTHENTICATED');
  });
});
