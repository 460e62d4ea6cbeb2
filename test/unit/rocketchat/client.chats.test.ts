import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_CHATS, FULL_VISITOR_CHATS, OPEN_CHAT_ID, type DemoChat } from '../../../src/demo/chats.js';
import { startDemoUpstream, type DemoUpstream, type DemoUpstreamOptions } from '../../../src/demo/upstream.js';
import { DEMO_CREDENTIALS, DEMO_LIMITED_CREDENTIALS, FULL_VISITOR_ID, MINIMAL_VISITOR_ID, SEED_VISITOR_ID } from '../../../src/demo/visitors.js';
import { GatewayError } from '../../../src/errors.js';
import { HttpRocketChatClient, type CallOptions } from '../../../src/rocketchat/client.js';
import { parseChatHistory } from '../../../src/rocketchat/validate.js';
import { startFakeUpstream, type FakeUpstream } from '../../helpers/fakeUpstream.js';
import { rejection } from '../../helpers/promises.js';

/** The client against the demo upstream's visitors.chatHistory, which answers as Rocket.Chat does. */
const CHAT_HISTORY_PATH = '/api/v1/livechat/visitors.chatHistory';
const VISITORS_INFO_PATH = '/api/v1/livechat/visitors.info';
const historyPath = (room: string, visitor: string) => `${CHAT_HISTORY_PATH}/room/${room}/visitor/${visitor}`;
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

/** The full visitor's chats, newest first, exactly as the demo serves them. */
const ALL = JSON.parse(JSON.stringify(FULL_VISITOR_CHATS)) as DemoChat[];
const headerNames = (headers: Record<string, unknown>) =>
  Object.keys(headers)
    .filter((name) => name !== 'host' && name !== 'connection')
    .sort();

describe('HttpRocketChatClient.getChatHistory: the request', () => {
  it('GET visitors.chatHistory/room/<room>/visitor/<visitor>?offset=&count=, and the answer as Rocket.Chat sent it', async () => {
    await start();
    const answer = await client().getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 10 }, { credentials });
    expect(answer).toStrictEqual({ history: ALL, count: 3, offset: 0, total: 3, success: true });
    expect(answer.history.map((c) => c._id)).toStrictEqual([OPEN_CHAT_ID, 'cLoSeDcHaT2024May', 'cLoSeDcHaT2024Apr']);
    const [request, ...others] = upstream!.requests;
    expect(others).toHaveLength(0);
    expect(request!.method).toBe('GET');
    expect(request!.path).toBe(historyPath(OPEN_CHAT_ID, FULL_VISITOR_ID));
    expect(request!.search).toBe('offset=0&count=10');
    expect(request!.query).toStrictEqual({ offset: '0', count: '10' });
  });

  it('sends the caller’s own x-auth-token and x-user-id, and nothing else credential-like', async () => {
    await start();
    await client().getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 1 }, { credentials });
    const { headers } = upstream!.requests[0]!;
    expect(headers['x-auth-token']).toBe(DEMO_CREDENTIALS.authToken);
    expect(headers['x-user-id']).toBe(DEMO_CREDENTIALS.userId);
    expect(headers['accept']).toBe('application/json');
    expect(headerNames(headers)).toStrictEqual(['accept', 'x-auth-token', 'x-user-id']);
  });

  it('adds x-request-id and x-real-ip when given, and still no other header', async () => {
    await start();
    await client().getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 1 }, { credentials, requestId: 'req-chat-1', clientIp: '203.0.113.42' });
    const { headers } = upstream!.requests[0]!;
    expect(headers['x-request-id']).toBe('req-chat-1');
    expect(headers['x-real-ip']).toBe('203.0.113.42');
    expect(headerNames(headers)).toStrictEqual(['accept', 'x-auth-token', 'x-real-ip', 'x-request-id', 'x-user-id']);
  });

  it('ids that need it are encoded as path segments: no `/`, `?`, `#` or `&` changes the route or the query', async () => {
    const room = 'rOoM/a b?c#d%e';
    const visitor = 'vIs/x&offset=2?count=0';
    const odd: DemoChat = { _id: room, t: 'l', fname: 'Odd', ts: '2024-01-01T00:00:00.000Z', v: { _id: visitor } };
    await start({ chats: [...DEMO_CHATS, odd] });
    const answer = await client().getChatHistory(room, visitor, { offset: 0, count: 5 }, { credentials });
    // Rocket.Chat read both ids whole: the room passed its check, the visitor's one chat came back.
    expect(answer).toStrictEqual({ history: [odd], count: 1, offset: 0, total: 1, success: true });
    const [request] = upstream!.requests;
    expect(request!.path).toBe(historyPath('rOoM%2Fa%20b%3Fc%23d%25e', 'vIs%2Fx%26offset%3D2%3Fcount%3D0'));
    expect(request!.search).toBe('offset=0&count=5');
    expect(request!.query).toStrictEqual({ offset: '0', count: '5' });
  });

  it('a base URL with a path prefix puts it before /api/v1/livechat/visitors.chatHistory', async () => {
    await start();
    await rejection(client(`${upstream!.url}/chat/`).getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 2 }, { credentials }));
    expect(upstream!.requests[0]!.path).toBe(`/chat${historyPath(OPEN_CHAT_ID, FULL_VISITOR_ID)}`);
    expect(upstream!.requests[0]!.search).toBe('offset=0&count=2');
  });
});

describe('HttpRocketChatClient.getChatHistory: paging', () => {
  it('the 3 chats two at a time: offset 0 count 2, then offset 2 count 2', async () => {
    await start();
    const c = client();
    const first = await c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 2 }, { credentials });
    expect(first).toStrictEqual({ history: ALL.slice(0, 2), count: 2, offset: 0, total: 3, success: true });
    const second = await c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 2, count: 2 }, { credentials });
    expect(second).toStrictEqual({ history: ALL.slice(2), count: 1, offset: 2, total: 3, success: true });
    expect(upstream!.requests.map((r) => r.search)).toStrictEqual(['offset=0&count=2', 'offset=2&count=2']);
    expect([...first.history, ...second.history].map((c) => c._id)).toStrictEqual(ALL.map((c) => c._id));
  });

  it('an offset past the end: no chats, the total still told', async () => {
    await start();
    const answer = await client().getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 3, count: 2 }, { credentials });
    expect(answer).toStrictEqual({ history: [], count: 0, offset: 3, total: 3, success: true });
  });

  it('any livechat room of the demo opens the visitor’s history: the room is an access check only', async () => {
    await start();
    const answer = await client().getChatHistory('cLoSeDcHaT2024Apr', FULL_VISITOR_ID, { offset: 1, count: 1 }, { credentials });
    expect(answer).toStrictEqual({ history: [ALL[1]], count: 1, offset: 1, total: 3, success: true });
  });

  it('an unknown visitor with a valid room → an empty history, total 0', async () => {
    await start();
    const answer = await client().getChatHistory(OPEN_CHAT_ID, 'nOsUcHvIsItOr0001', { offset: 0, count: 10 }, { credentials });
    expect(answer).toStrictEqual({ history: [], count: 0, offset: 0, total: 0, success: true });
    expect(upstream!.calls).toBe(1);
  });
});

describe('HttpRocketChatClient.getChatHistory: refusals', () => {
  it('a room that is not a livechat room → FORBIDDEN with upstream { status: 400, error: "invalid-room" }, not retried', async () => {
    await start();
    const err = await rejection(client().getChatHistory('GENERAL', FULL_VISITOR_ID, { offset: 0, count: 10 }, { credentials }));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.extensions.code).toBe('FORBIDDEN');
    expect(err.extensions.upstream).toStrictEqual({ status: 400, error: 'invalid-room' });
    expect(err.message).toContain('view-l-room');
    expect(upstream!.calls).toBe(1);
  });

  it('a room of another type (not `l`) is invalid-room too', async () => {
    const channel: DemoChat = { _id: 'cHaNnElRoOm00001', t: 'c', v: { _id: FULL_VISITOR_ID } };
    await start({ chats: [...DEMO_CHATS, channel] });
    const err = await rejection(client().getChatHistory(channel._id, FULL_VISITOR_ID, { offset: 0, count: 10 }, { credentials }));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.extensions.upstream).toStrictEqual({ status: 400, error: 'invalid-room' });
  });

  it('DEMO_LIMITED_CREDENTIALS (no view-l-room) → FORBIDDEN with upstream status 403, not retried', async () => {
    await start();
    const err = await rejection(client().getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 10 }, { credentials: limited }));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.extensions.upstream).toMatchObject({ status: 403 });
    expect(err.message).toContain('view-l-room');
    expect(upstream!.calls).toBe(1);
  });

  it('a bad token → UNAUTHENTICATED with upstream status 401, not retried', async () => {
    await start();
    const err = await rejection(
      client().getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 10 }, { credentials: { ...credentials, authToken: 'nOtThEtOkEn' } }),
    );
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(err.extensions.upstream).toStrictEqual({ status: 401, error: 'You must be logged in to do this.' });
    expect(upstream!.calls).toBe(1);
  });

  it('an unknown user id → UNAUTHENTICATED too', async () => {
    await start();
    const err = await rejection(
      client().getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 10 }, { credentials: { ...credentials, userId: 'nOsUcHuSeR000001' } }),
    );
    expect(err.code).toBe('UNAUTHENTICATED');
  });
});

describe('HttpRocketChatClient.getChatHistory: coalescing', () => {
  it('two concurrent identical calls by the same caller cost one request', async () => {
    await start();
    const c = client();
    const page = { offset: 0, count: 2 };
    const [a, b] = await Promise.all([
      c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, page, { credentials }),
      c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { ...page }, { credentials }),
    ]);
    expect(upstream!.calls).toBe(1);
    expect(a).toStrictEqual({ history: ALL.slice(0, 2), count: 2, offset: 0, total: 3, success: true });
    expect(b).toStrictEqual(a);
  });

  it('calls one after the other are not shared', async () => {
    await start();
    const c = client();
    await c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 2 }, { credentials });
    await c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 2 }, { credentials });
    expect(upstream!.calls).toBe(2);
  });

  it('concurrent calls differing in room, visitor, offset or count are not shared, each gets its own answer', async () => {
    await start();
    const c = client();
    const [base, room, visitor, offset, count] = await Promise.all([
      c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 2 }, { credentials }),
      c.getChatHistory('cLoSeDcHaT2024May', FULL_VISITOR_ID, { offset: 0, count: 2 }, { credentials }),
      c.getChatHistory(OPEN_CHAT_ID, MINIMAL_VISITOR_ID, { offset: 0, count: 2 }, { credentials }),
      c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 1, count: 2 }, { credentials }),
      c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 3 }, { credentials }),
    ]);
    expect(upstream!.calls).toBe(5);
    expect(base.history.map((h) => h._id)).toStrictEqual([ALL[0]!._id, ALL[1]!._id]);
    expect(room.history).toStrictEqual(base.history);
    expect(visitor).toStrictEqual({ history: [], count: 0, offset: 0, total: 0, success: true });
    expect(offset.history.map((h) => h._id)).toStrictEqual([ALL[1]!._id, ALL[2]!._id]);
    expect(count.history).toHaveLength(3);
  });

  it('the same page by two different callers costs two requests, each with its own credentials and answer', async () => {
    await start();
    const c = client();
    const [mine, theirs] = await Promise.allSettled([
      c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 2 }, { credentials }),
      c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 2 }, { credentials: limited }),
    ]);
    expect(upstream!.calls).toBe(2);
    expect(upstream!.requests.map((r) => r.headers['x-user-id']).sort()).toStrictEqual([DEMO_CREDENTIALS.userId, DEMO_LIMITED_CREDENTIALS.userId].sort());
    expect(mine.status).toBe('fulfilled');
    expect(((theirs as PromiseRejectedResult).reason as GatewayError).code).toBe('FORBIDDEN');
  });

  it('the same page with another token is another caller', async () => {
    await start();
    const c = client();
    const [good, bad] = await Promise.allSettled([
      c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 2 }, { credentials }),
      c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 0, count: 2 }, { credentials: { ...credentials, authToken: 'aNoThErToKeN' } }),
    ]);
    expect(upstream!.calls).toBe(2);
    expect(good.status).toBe('fulfilled');
    expect(((bad as PromiseRejectedResult).reason as GatewayError).code).toBe('UNAUTHENTICATED');
  });
});

describe('HttpRocketChatClient.getChatHistory: rate limits', () => {
  const RATE_LIMIT = { limit: 1, windowMs: 60_000 };
  const caller: CallOptions = { credentials, clientIp: '198.51.100.23' };
  const page = { offset: 0, count: 2 };

  it('a spent chatHistory window is refused locally, for any room or visitor; visitors.info for the same caller still goes', async () => {
    await start({ rateLimit: RATE_LIMIT });
    const c = client();
    await expect(c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, page, caller)).resolves.toMatchObject({ total: 3 });
    expect(upstream!.calls).toBe(1);
    // The answer said X-RateLimit-Remaining: 0; Rocket.Chat counts the route pattern, not each room.
    for (const [room, visitor] of [
      [OPEN_CHAT_ID, FULL_VISITOR_ID],
      ['cLoSeDcHaT2024May', SEED_VISITOR_ID],
    ] as const) {
      const err = await rejection(c.getChatHistory(room, visitor, page, caller));
      expect(err.code).toBe('RATE_LIMITED');
      expect(err.retryAfter).toBeGreaterThan(0);
      expect(err.retryAfter).toBeLessThanOrEqual(60);
    }
    expect(upstream!.calls).toBe(1);
    // The operation-level admission (visitors' bucket) is untouched by the chats' one.
    expect(c.admit(1, caller)).toBeUndefined();
    await expect(c.getVisitor(SEED_VISITOR_ID, caller)).resolves.toMatchObject({ _id: SEED_VISITOR_ID });
    expect(upstream!.requests.map((r) => r.path)).toStrictEqual([historyPath(OPEN_CHAT_ID, FULL_VISITOR_ID), VISITORS_INFO_PATH]);
  });

  it('a spent visitors.info window leaves chatHistory alone', async () => {
    await start({ rateLimit: RATE_LIMIT });
    const c = client();
    await c.getVisitor(SEED_VISITOR_ID, caller);
    expect((await rejection(c.getVisitor(SEED_VISITOR_ID, caller))).code).toBe('RATE_LIMITED');
    expect(upstream!.calls).toBe(1);
    await expect(c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, page, caller)).resolves.toMatchObject({ total: 3 });
    expect(upstream!.calls).toBe(2);
  });

  it('a 429 from Rocket.Chat is RATE_LIMITED with a retryAfter, not retried, and remembered', async () => {
    await start({ rateLimit: RATE_LIMIT });
    // Another replica spends the window, so this one hears of it only from the 429.
    await client().getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, page, caller);
    const c = client();
    const refused = await rejection(c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, page, caller));
    expect(refused.code).toBe('RATE_LIMITED');
    expect(refused.extensions.upstream).toMatchObject({ status: 429 });
    expect(refused.retryAfter).toBeGreaterThanOrEqual(59);
    expect(refused.retryAfter).toBeLessThanOrEqual(60);
    expect(upstream!.calls).toBe(2);
    expect((await rejection(c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, { offset: 2, count: 2 }, caller))).code).toBe('RATE_LIMITED');
    expect(upstream!.calls).toBe(2);
    // visitors.info is another bucket for this replica too.
    await expect(c.getVisitor(SEED_VISITOR_ID, caller)).resolves.toMatchObject({ _id: SEED_VISITOR_ID });
    expect(upstream!.calls).toBe(3);
  });

  it('a spent window for one client IP leaves another alone', async () => {
    await start({ rateLimit: RATE_LIMIT });
    const c = client();
    await c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, page, caller);
    expect((await rejection(c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, page, caller))).code).toBe('RATE_LIMITED');
    await expect(c.getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, page, { credentials, clientIp: '198.51.100.99' })).resolves.toMatchObject({ total: 3 });
    expect(upstream!.calls).toBe(2);
  });
});

describe('HttpRocketChatClient.getChatHistory against a misbehaving upstream', () => {
  const page = { offset: 0, count: 2 };

  it('400 error-not-allowed → FORBIDDEN, not retried', async () => {
    fake = await startFakeUpstream(() => ({ status: 400, body: { success: false, error: 'error-not-allowed' } }));
    const err = await rejection(client(fake.url).getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, page, { credentials }));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.extensions.upstream).toStrictEqual({ status: 400, error: 'error-not-allowed' });
    expect(fake.calls).toBe(1);
    expect(fake.requests[0]!.path).toBe(historyPath(OPEN_CHAT_ID, FULL_VISITOR_ID));
    expect(fake.requests[0]!.query).toStrictEqual({ offset: '0', count: '2' });
  });

  it('a wrong shape (msgs as a string) → UPSTREAM_BAD_RESPONSE naming the field, not the value', async () => {
    fake = await startFakeUpstream(() => ({
      body: { history: [{ ...ALL[0], msgs: 'sEvEnMeSsAgEs' }], count: 1, offset: 0, total: 1, success: true },
    }));
    const err = await rejection(client(fake.url).getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, page, { credentials }));
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.message).toContain('history.0.msgs');
    expect(err.message).not.toContain('sEvEnMeSsAgEs');
  });

  it('a body that is not JSON → UPSTREAM_BAD_RESPONSE', async () => {
    fake = await startFakeUpstream(() => ({ body: '<html>gateway</html>' }));
    const err = await rejection(client(fake.url).getChatHistory(OPEN_CHAT_ID, FULL_VISITOR_ID, page, { credentials }));
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
  });
});

function thrown(fn: () => unknown): GatewayError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GatewayError);
  return caught as GatewayError;
}

/** A valid answer with the first chat patched. */
const body = (patch: Record<string, unknown> = {}, top: Record<string, unknown> = {}) => ({
  history: [{ ...structuredClone(ALL[0]!), ...patch }, ...structuredClone(ALL.slice(1))],
  count: 3,
  offset: 0,
  total: 3,
  success: true,
  ...top,
});

describe('parseChatHistory: valid answers', () => {
  it('the demo’s answer passes and comes back as sent, unknown fields (v) included', () => {
    const answer = body();
    const parsed = parseChatHistory(200, {}, answer);
    expect(parsed).toStrictEqual({ history: ALL, count: 3, offset: 0, total: 3, success: true });
    expect(parsed.history[0]).toHaveProperty('v', ALL[0]!.v);
  });

  it('an empty history with total 0, and a chat with only its _id, pass', () => {
    expect(parseChatHistory(200, {}, { history: [], count: 0, offset: 0, total: 0, success: true }).total).toBe(0);
    expect(parseChatHistory(200, {}, { history: [{ _id: 'oNlYiD' }], total: 1, success: true }).history).toStrictEqual([{ _id: 'oNlYiD' }]);
  });

  it('count and offset may be absent; total may not', () => {
    expect(() => parseChatHistory(200, {}, { history: [], total: 0, success: true })).not.toThrow();
  });
});

describe('parseChatHistory: wrong shapes → UPSTREAM_BAD_RESPONSE', () => {
  it.each<[string, unknown, string]>([
    ['msgs as a string', body({ msgs: '7' }), 'history.0.msgs'],
    ['ts not a date', body({ ts: 'yesterday' }), 'history.0.ts is not a valid date-time'],
    ['ts a date that does not exist', body({ ts: '2024-02-30T10:00:00.000Z' }), 'history.0.ts is not a valid date-time'],
    ['ts without an offset', body({ ts: '2024-06-12T14:30:59' }), 'history.0.ts is not a valid date-time'],
    ['lm not a date', body({ lm: 1718203272117 }), 'history.0.lm'],
    ['closedAt not a date', body({ closedAt: 'soon' }), 'history.0.closedAt is not a valid date-time'],
    ['history not an array (an object)', body({}, { history: { 0: ALL[0] } }), 'history'],
    ['history null', body({}, { history: null }), 'history'],
    ['history missing', { count: 0, offset: 0, total: 0, success: true }, 'history'],
    ['total missing', { history: [], count: 0, offset: 0, success: true }, 'total'],
    ['total as a string', body({}, { total: '3' }), 'total'],
    ['total negative', body({}, { total: -1 }), 'total'],
    ['total not an integer', body({}, { total: 2.5 }), 'total'],
    ['count not an integer', body({}, { count: 1.5 }), 'count'],
    ['a chat without _id', { history: [{ t: 'l' }], total: 1, success: true }, 'history.0._id'],
    ['a chat with an empty _id', { history: [{ _id: '' }], total: 1, success: true }, 'history.0._id'],
    ['a chat that is a string', { history: ['rMz7kQp2WnXs4TfYd'], total: 1, success: true }, 'history.0'],
    ['tags not strings', body({ tags: [1, 2] }), 'history.0.tags.0'],
    ['open as a string', body({ open: 'true' }), 'history.0.open'],
    ['servedBy without _id', body({ servedBy: { username: 'agent.smith' } }), 'history.0.servedBy._id'],
    ['source as a string', body({ source: 'widget' }), 'history.0.source'],
    ['success missing', { history: [], total: 0 }, 'success'],
    ['success as a string', body({}, { success: 'true' }), 'success'],
    ['no body', undefined, 'body'],
    ['an array body', [], 'body'],
  ])('%s', (_label, answer, where) => {
    const err = thrown(() => parseChatHistory(200, {}, answer));
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.message).toContain(where);
    expect(err.extensions.upstream).toStrictEqual({ status: 200, error: null });
  });

  it('the offending value is not echoed', () => {
    const err = thrown(() => parseChatHistory(200, {}, body({ ts: 'sEcReT-nOt-A-dAtE' })));
    expect(err.message).not.toContain('sEcReT');
  });

  it('200 with success: false → UPSTREAM_BAD_RESPONSE carrying Rocket.Chat’s error', () => {
    const err = thrown(() => parseChatHistory(200, {}, { success: false, error: 'something-odd' }));
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.extensions.upstream).toStrictEqual({ status: 200, error: 'something-odd' });
  });
});

describe('parseChatHistory: refusals', () => {
  it.each([
    ['invalid-room', 'invalid-room'],
    ['error-not-allowed', 'error-not-allowed'],
    ['error-not-authorized', 'error-not-authorized'],
    ['the typed routes’ permission sentence', 'User does not have the permissions required for this action [error-unauthorized]'],
  ])('400 %s → FORBIDDEN naming view-l-room', (_label, error) => {
    const err = thrown(() => parseChatHistory(400, {}, { success: false, error }));
    expect(err.code).toBe('FORBIDDEN');
    expect(err.message).toContain('view-l-room');
    expect(err.extensions.upstream).toStrictEqual({ status: 400, error });
  });

  it('403 → FORBIDDEN', () => {
    const err = thrown(() =>
      parseChatHistory(403, {}, { success: false, error: 'User does not have the permissions required for this action [error-unauthorized]' }),
    );
    expect(err.code).toBe('FORBIDDEN');
    expect(err.extensions.upstream).toMatchObject({ status: 403 });
  });

  it('401 → UNAUTHENTICATED with Rocket.Chat’s message', () => {
    const err = thrown(() => parseChatHistory(401, {}, { status: 'error', message: 'You must be logged in to do this.' }));
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(err.extensions.upstream).toStrictEqual({ status: 401, error: 'You must be logged in to do this.' });
  });

  it('400 invalid-params is the gateway’s own request: UPSTREAM_ERROR, not the caller’s BAD_USER_INPUT', () => {
    const err = thrown(() =>
      parseChatHistory(400, {}, { success: false, error: 'must NOT have additional properties [invalid-params]', errorType: 'invalid-params' }),
    );
    expect(err.code).toBe('UPSTREAM_ERROR');
  });

  it('another 400 is neither FORBIDDEN nor NOT_FOUND', () => {
    for (const error of ['visitor-not-found', 'error-invalid-room-type', 'room-not-found']) {
      const err = thrown(() => parseChatHistory(400, {}, { success: false, error }));
      expect(err.code).toBe('UPSTREAM_ERROR');
    }
  });

  it('429 → RATE_LIMITED with a retryAfter from Retry-After', () => {
    const err = thrown(() => parseChatHistory(429, { 'retry-after': '12' }, { success: false, error: 'error-too-many-requests' }));
    expect(err.code).toBe('RATE_LIMITED');
    expect(err.retryAfter).toBe(12);
  });

  it('503 → UPSTREAM_UNAVAILABLE, retryable', () => {
    const err = thrown(() => parseChatHistory(503, {}, undefined));
    expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.retryable).toBe(true);
  });
});
