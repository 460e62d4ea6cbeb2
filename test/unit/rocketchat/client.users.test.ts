import { afterEach, describe, expect, it } from 'vitest';
import { SALES_DEPARTMENT_ID } from '../../../src/demo/departments.js';
import { startDemoUpstream, type DemoUpstream, type DemoUpstreamOptions } from '../../../src/demo/upstream.js';
import { AGENT_SMITH_ID, MANAGER_JONES_ID } from '../../../src/demo/users.js';
import { DEMO_CREDENTIALS, DEMO_LIMITED_CREDENTIALS, SEED_VISITOR_ID } from '../../../src/demo/visitors.js';
import { GatewayError } from '../../../src/errors.js';
import { HttpRocketChatClient, type CallOptions } from '../../../src/rocketchat/client.js';
import { startFakeUpstream, type FakeUpstream } from '../../helpers/fakeUpstream.js';
import { rejection } from '../../helpers/promises.js';

/** The client against the demo upstream's users.info, which answers as Rocket.Chat does. */
const USERS_INFO_PATH = '/api/v1/users.info';
const credentials = { ...DEMO_CREDENTIALS };
const limited = { ...DEMO_LIMITED_CREDENTIALS };

let upstream: DemoUpstream | undefined;
let fake: FakeUpstream | undefined;
const clients: HttpRocketChatClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await upstream?.stop();
  upstream = undefined;
  await fake?.stop();
  fake = undefined;
});

async function start(options: Omit<DemoUpstreamOptions, 'record'> = {}): Promise<DemoUpstream> {
  upstream = await startDemoUpstream({ ...options, record: true });
  return upstream;
}

/** A client pointed at `baseUrl` (the running demo upstream by default; another one is another replica). */
function client(baseUrl = upstream!.url): HttpRocketChatClient {
  const c = new HttpRocketChatClient({
    baseUrl,
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

/** Agent Smith as users.info shows him to anyone without view-full-other-user-info: no e-mails, no roles. */
const SMITH_AS_OTHERS_SEE_HIM = {
  type: 'user',
  active: true,
  canViewAllInfo: false,
  _id: AGENT_SMITH_ID,
  username: 'agent.smith',
  name: 'Alex Smith',
  status: 'online',
  statusText: 'On the support rota until 18:00',
  utcOffset: 1,
  statusLivechat: 'available',
  avatarETag: 'x8Kq2Lw',
};

const headerNames = (headers: Record<string, unknown>) =>
  Object.keys(headers)
    .filter((name) => name !== 'host' && name !== 'connection')
    .sort();

describe('HttpRocketChatClient.getUser: the request', () => {
  it('GET users.info?userId=<id>, and the answer as Rocket.Chat sent it', async () => {
    await start();
    const user = await client().getUser(AGENT_SMITH_ID, { credentials });
    expect(user).toStrictEqual(SMITH_AS_OTHERS_SEE_HIM);
    const [request, ...others] = upstream!.requests;
    expect(others).toHaveLength(0);
    expect(request!.method).toBe('GET');
    expect(request!.path).toBe(USERS_INFO_PATH);
    expect(request!.search).toBe(`userId=${AGENT_SMITH_ID}`);
    expect(request!.query).toStrictEqual({ userId: AGENT_SMITH_ID });
  });

  it('sends the caller’s own x-auth-token and x-user-id, and nothing else credential-like', async () => {
    await start();
    await client().getUser(AGENT_SMITH_ID, { credentials });
    const { headers } = upstream!.requests[0]!;
    expect(headers['x-auth-token']).toBe(DEMO_CREDENTIALS.authToken);
    expect(headers['x-user-id']).toBe(DEMO_CREDENTIALS.userId);
    expect(headers['accept']).toBe('application/json');
    expect(headerNames(headers)).toStrictEqual(['accept', 'x-auth-token', 'x-user-id']);
  });

  it('adds x-request-id and x-real-ip when given, and still no other header', async () => {
    await start();
    await client().getUser(MANAGER_JONES_ID, { credentials, requestId: 'req-user-1', clientIp: '203.0.113.42' });
    const { headers } = upstream!.requests[0]!;
    expect(headers['x-request-id']).toBe('req-user-1');
    expect(headers['x-real-ip']).toBe('203.0.113.42');
    for (const name of Object.keys(headers)) {
      if (name === 'x-auth-token' || name === 'x-user-id') continue;
      expect(name).not.toMatch(/auth|token|cookie|user|session|secret|key|forward/i);
    }
    expect(headerNames(headers)).toStrictEqual(['accept', 'x-auth-token', 'x-real-ip', 'x-request-id', 'x-user-id']);
  });

  it('a username works as the key too, still as userId=', async () => {
    await start();
    const user = await client().getUser('agent.smith', { credentials });
    expect(user).toStrictEqual(SMITH_AS_OTHERS_SEE_HIM);
    expect(upstream!.requests[0]!.search).toBe('userId=agent.smith');
    expect(upstream!.requests[0]!.query).toStrictEqual({ userId: 'agent.smith' });
  });

  it('the key is encoded: `@` and `&` cannot add a parameter', async () => {
    await start();
    const c = client();
    const err = await rejection(c.getUser('x@y.example&username=agent.smith', { credentials }));
    // One parameter reached Rocket.Chat (two would be invalid-params), naming no user it has.
    expect(err.code).toBe('NOT_FOUND');
    expect(upstream!.requests[0]!.search).toBe('userId=x%40y.example%26username%3Dagent.smith');
    expect(upstream!.requests[0]!.query).toStrictEqual({ userId: 'x@y.example&username=agent.smith' });
  });

  it('a base URL with a path prefix puts it before /api/v1/users.info', async () => {
    await start();
    await rejection(client(`${upstream!.url}/chat/`).getUser(AGENT_SMITH_ID, { credentials }));
    expect(upstream!.requests[0]!.path).toBe(`/chat${USERS_INFO_PATH}`);
    expect(upstream!.requests[0]!.search).toBe(`userId=${AGENT_SMITH_ID}`);
  });
});

describe('HttpRocketChatClient.getUser: the answer', () => {
  it('an unknown user → NOT_FOUND with upstream { status: 400, error: "User not found." }, not retried', async () => {
    await start();
    const err = await rejection(client().getUser('nOsUcHuSeR00001', { credentials }));
    expect(err.code).toBe('NOT_FOUND');
    expect(err.message).toBe('User not found.');
    expect(err.extensions.upstream).toStrictEqual({ status: 400, error: 'User not found.' });
    expect(upstream!.calls).toBe(1);
  });

  it('a bad token → UNAUTHENTICATED, not retried', async () => {
    await start();
    const err = await rejection(client().getUser(AGENT_SMITH_ID, { credentials: { ...credentials, authToken: 'nOtThEtOkEn' } }));
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(err.extensions.upstream).toMatchObject({ status: 401 });
    expect(upstream!.calls).toBe(1);
  });

  it('another user’s e-mails are not in the answer for DEMO_CREDENTIALS; the caller’s own are', async () => {
    await start();
    const c = client();
    for (const key of [AGENT_SMITH_ID, MANAGER_JONES_ID, DEMO_LIMITED_CREDENTIALS.userId]) {
      const other = await c.getUser(key, { credentials });
      expect(other._id).toBe(key);
      expect(other).not.toHaveProperty('emails');
      expect(other).not.toHaveProperty('roles');
      expect(other).toMatchObject({ canViewAllInfo: false });
    }
    const self = await c.getUser(DEMO_CREDENTIALS.userId, { credentials });
    expect(self).toMatchObject({ _id: DEMO_CREDENTIALS.userId, username: 'demo.agent', canViewAllInfo: true });
    expect(self.emails).toStrictEqual([{ address: 'demo.agent@example.org', verified: true }]);
  });

  it('the limited caller sees its own e-mails by username, and nobody else’s', async () => {
    await start();
    const c = client();
    const self = await c.getUser('demo.viewer', { credentials: limited });
    expect(self._id).toBe(DEMO_LIMITED_CREDENTIALS.userId);
    expect(self.emails).toStrictEqual([{ address: 'demo.viewer@example.org', verified: true }]);
    const other = await c.getUser(DEMO_CREDENTIALS.userId, { credentials: limited });
    expect(other).not.toHaveProperty('emails');
  });

  it('a user matching neither the _id nor the username asked → UPSTREAM_BAD_RESPONSE not naming the other', async () => {
    fake = await startFakeUpstream(() => ({
      body: { user: { _id: 'sOmEoNeElSe0001', username: 'someone.else' }, success: true },
    }));
    const c = client(fake.url);
    for (const key of [AGENT_SMITH_ID, 'agent.smith']) {
      const err = await rejection(c.getUser(key, { credentials }));
      expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
      expect(err.message).not.toContain('sOmEoNeElSe0001');
      expect(err.message).not.toContain('someone.else');
    }
  });

  it('a user matching the username asked though the key is not its _id is accepted, and vice versa', async () => {
    fake = await startFakeUpstream(() => ({
      body: { user: { _id: AGENT_SMITH_ID, username: 'agent.smith' }, success: true },
    }));
    const c = client(fake.url);
    await expect(c.getUser('agent.smith', { credentials })).resolves.toStrictEqual({ _id: AGENT_SMITH_ID, username: 'agent.smith' });
    await expect(c.getUser(AGENT_SMITH_ID, { credentials })).resolves.toStrictEqual({ _id: AGENT_SMITH_ID, username: 'agent.smith' });
  });

  it('a wrong shape (utcOffset as a string) → UPSTREAM_BAD_RESPONSE', async () => {
    fake = await startFakeUpstream(() => ({
      body: { user: { _id: AGENT_SMITH_ID, username: 'agent.smith', utcOffset: '1' }, success: true },
    }));
    const err = await rejection(client(fake.url).getUser(AGENT_SMITH_ID, { credentials }));
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.message).toContain('user.utcOffset');
  });
});

describe('HttpRocketChatClient.getUser: rate limits', () => {
  const RATE_LIMIT = { limit: 1, windowMs: 60_000 };
  const caller: CallOptions = { credentials, clientIp: '198.51.100.23' };

  it('a spent users.info window is refused locally; visitors.info and department.listByIds for the same caller still go', async () => {
    await start({ rateLimit: RATE_LIMIT });
    const c = client();
    await expect(c.getUser(AGENT_SMITH_ID, caller)).resolves.toMatchObject({ _id: AGENT_SMITH_ID });
    expect(upstream!.calls).toBe(1);
    // The answer said X-RateLimit-Remaining: 0, so no further users.info needs to go.
    for (const key of [MANAGER_JONES_ID, AGENT_SMITH_ID]) {
      const err = await rejection(c.getUser(key, caller));
      expect(err.code).toBe('RATE_LIMITED');
      expect(err.retryAfter).toBeGreaterThan(0);
      expect(err.retryAfter).toBeLessThanOrEqual(60);
    }
    expect(upstream!.calls).toBe(1);
    // The operation-level admission (visitors' bucket) is untouched by the users' one.
    expect(c.admit(1, caller)).toBeUndefined();

    // Rocket.Chat counts each route on its own, and so does the client.
    await expect(c.getVisitor(SEED_VISITOR_ID, caller)).resolves.toMatchObject({ _id: SEED_VISITOR_ID });
    await expect(c.getDepartments([SALES_DEPARTMENT_ID], caller)).resolves.toHaveLength(1);
    expect(upstream!.requests.map((r) => r.path)).toStrictEqual([USERS_INFO_PATH, '/api/v1/livechat/visitors.info', '/api/v1/livechat/department.listByIds']);
  });

  it('spent visitors.info and department.listByIds windows leave users.info alone', async () => {
    await start({ rateLimit: RATE_LIMIT });
    const c = client();
    await c.getVisitor(SEED_VISITOR_ID, caller);
    await c.getDepartments([SALES_DEPARTMENT_ID], caller);
    expect((await rejection(c.getVisitor(SEED_VISITOR_ID, caller))).code).toBe('RATE_LIMITED');
    expect((await rejection(c.getDepartments([SALES_DEPARTMENT_ID], caller))).code).toBe('RATE_LIMITED');
    expect(upstream!.calls).toBe(2);
    await expect(c.getUser(AGENT_SMITH_ID, caller)).resolves.toMatchObject({ _id: AGENT_SMITH_ID });
    expect(upstream!.calls).toBe(3);
  });

  it('a 429 from Rocket.Chat is RATE_LIMITED with a retryAfter, not retried, and remembered', async () => {
    await start({ rateLimit: RATE_LIMIT });
    // Another replica spends the window, so this one hears of it only from the 429.
    await client().getUser(AGENT_SMITH_ID, caller);
    const c = client();
    const refused = await rejection(c.getUser(AGENT_SMITH_ID, caller));
    expect(refused.code).toBe('RATE_LIMITED');
    expect(refused.extensions.upstream).toMatchObject({ status: 429 });
    expect(refused.retryAfter).toBeGreaterThanOrEqual(59);
    expect(refused.retryAfter).toBeLessThanOrEqual(60);
    expect(upstream!.calls).toBe(2);
    expect((await rejection(c.getUser(MANAGER_JONES_ID, caller))).code).toBe('RATE_LIMITED');
    expect(upstream!.calls).toBe(2);
  });

  it('a 429 with only Retry-After (a proxy in front) is remembered too: the next users.info stays local', async () => {
    fake = await startFakeUpstream(() => ({ status: 429, headers: { 'retry-after': '30' }, body: { success: false, error: 'slow down' } }));
    const c = client(fake.url);
    const first = await rejection(c.getUser(AGENT_SMITH_ID, caller));
    expect(first.code).toBe('RATE_LIMITED');
    expect(first.retryAfter).toBe(30);
    expect(fake.calls).toBe(1);
    const second = await rejection(c.getUser(MANAGER_JONES_ID, caller));
    expect(second.code).toBe('RATE_LIMITED');
    expect(second.retryAfter).toBeGreaterThan(0);
    expect(second.retryAfter).toBeLessThanOrEqual(30);
    expect(fake.calls).toBe(1);
  });

  it('a spent window for one client IP leaves another alone', async () => {
    await start({ rateLimit: RATE_LIMIT });
    const c = client();
    await c.getUser(AGENT_SMITH_ID, caller);
    expect((await rejection(c.getUser(AGENT_SMITH_ID, caller))).code).toBe('RATE_LIMITED');
    await expect(c.getUser(AGENT_SMITH_ID, { credentials, clientIp: '198.51.100.99' })).resolves.toMatchObject({ _id: AGENT_SMITH_ID });
    expect(upstream!.calls).toBe(2);
  });
});

describe('HttpRocketChatClient.getUser: coalescing', () => {
  it('two concurrent identical calls by the same caller cost one request', async () => {
    await start();
    const c = client();
    const [a, b] = await Promise.all([c.getUser(AGENT_SMITH_ID, { credentials }), c.getUser(AGENT_SMITH_ID, { credentials })]);
    expect(upstream!.calls).toBe(1);
    expect(a).toStrictEqual(SMITH_AS_OTHERS_SEE_HIM);
    expect(b).toStrictEqual(a);
  });

  it('calls one after the other, or for different keys, are not shared', async () => {
    await start();
    const c = client();
    await c.getUser(AGENT_SMITH_ID, { credentials });
    await c.getUser(AGENT_SMITH_ID, { credentials });
    expect(upstream!.calls).toBe(2);
    // The id and the username of one user are two keys.
    await Promise.all([c.getUser(AGENT_SMITH_ID, { credentials }), c.getUser('agent.smith', { credentials })]);
    expect(upstream!.calls).toBe(4);
  });

  it('the same user by two different callers costs two requests, each with its own credentials and answer', async () => {
    await start();
    const c = client();
    const [mine, theirs] = await Promise.all([
      c.getUser(DEMO_CREDENTIALS.userId, { credentials }),
      c.getUser(DEMO_CREDENTIALS.userId, { credentials: limited }),
    ]);
    expect(upstream!.calls).toBe(2);
    expect(upstream!.requests.map((r) => r.headers['x-user-id']).sort()).toStrictEqual([DEMO_CREDENTIALS.userId, DEMO_LIMITED_CREDENTIALS.userId].sort());
    // The caller sees its own e-mails; the other caller does not see them.
    expect(mine.emails).toStrictEqual([{ address: 'demo.agent@example.org', verified: true }]);
    expect(theirs).not.toHaveProperty('emails');
  });

  it('the same user with another token is another caller', async () => {
    await start();
    const c = client();
    const [good, bad] = await Promise.allSettled([
      c.getUser(AGENT_SMITH_ID, { credentials }),
      c.getUser(AGENT_SMITH_ID, { credentials: { ...credentials, authToken: 'aNoThErToKeN' } }),
    ]);
    expect(upstream!.calls).toBe(2);
    expect(good.status).toBe('fulfilled');
    expect(((bad as PromiseRejectedResult).reason as GatewayError).code).toBe('UNAUTHENTICATED');
  });
});

describe('HttpRocketChatClient.avatarUrl', () => {
  it('the demo upstream’s origin, /avatar/ and the username; ?etag= when given', async () => {
    await start();
    const c = client();
    expect(c.avatarUrl('agent.smith', undefined)).toBe(`${upstream!.url}/avatar/agent.smith`);
    expect(c.avatarUrl('agent.smith', 'x8Kq2Lw')).toBe(`${upstream!.url}/avatar/agent.smith?etag=x8Kq2Lw`);
    expect(c.avatarUrl('agent.smith', '')).toBe(`${upstream!.url}/avatar/agent.smith`);
    // Building it costs no request.
    expect(upstream!.calls).toBe(0);
  });

  it.each([
    ['http://rc.example:3000/chat', 'http://rc.example:3000/chat/avatar/agent.smith'],
    ['http://rc.example:3000/chat/', 'http://rc.example:3000/chat/avatar/agent.smith'],
    ['https://example.org/tools/rocket', 'https://example.org/tools/rocket/avatar/agent.smith'],
    ['https://rc.example', 'https://rc.example/avatar/agent.smith'],
    ['https://rc.example/', 'https://rc.example/avatar/agent.smith'],
  ])('base URL %s → %s', (baseUrl, expected) => {
    const c = client(baseUrl);
    expect(c.avatarUrl('agent.smith', undefined)).toBe(expected);
    expect(c.avatarUrl('agent.smith', 'eTaG1')).toBe(`${expected}?etag=eTaG1`);
  });

  it('a username and an etag that need it are encoded', () => {
    const c = client('http://rc.example/chat');
    expect(c.avatarUrl('@alex.smith@matrix.example.org', undefined)).toBe('http://rc.example/chat/avatar/%40alex.smith%40matrix.example.org');
    expect(c.avatarUrl('a b/../c?d#e', 'x y&z=1')).toBe('http://rc.example/chat/avatar/a%20b%2F..%2Fc%3Fd%23e?etag=x%20y%26z%3D1');
    expect(c.avatarUrl('jöhn', undefined)).toBe('http://rc.example/chat/avatar/j%C3%B6hn');
  });
});
