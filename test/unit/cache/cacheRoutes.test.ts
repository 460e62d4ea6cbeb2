/**
 * CachingRocketChatClient beyond the visitor route: departments (one entry per id, deleted ones
 * cached as absent, a list call only for the ids not cached), users, chat histories and visitor
 * searches, all cached per caller; which successes count as Rocket.Chat accepting the caller
 * (visitors, searches, chat histories) and which do not (departments, users); a 401/403 from any
 * route retiring the caller's entries; one read of the caller's record per operation; errors never
 * cached. The upstream is an in-test fake that counts its calls per route.
 */
import { describe, expect, it } from 'vitest';
import { CachingRocketChatClient, callerKey } from '../../../src/cache/CachingRocketChatClient.js';
import { MemoryStore, type CacheStore } from '../../../src/cache/store.js';
import { GatewayError, type ErrorCode } from '../../../src/errors.js';
import type { CallOptions, Credentials, RocketChatClient } from '../../../src/rocketchat/client.js';
import type { ChatHistoryResponse, VisitorSearchResponse, WireDepartment, WireUser, WireVisitor } from '../../../src/rocketchat/models.js';
import { otherRoutes } from '../../helpers/otherRoutes.js';
import { rejection, sleep } from '../../helpers/promises.js';

/** A store that counts record reads and refusals, over the real in-memory one. */
class CountingStore extends MemoryStore {
  callerReads = 0;
  refusals = 0;
  override async caller(caller: string) {
    this.callerReads++;
    return super.caller(caller);
  }
  override async refuse(caller: string) {
    this.refusals++;
    return super.refuse(caller);
  }
}

type RouteName = 'visitors' | 'departments' | 'users' | 'chats' | 'searches';

/** What Rocket.Chat holds: d3 is not among the departments (deleted). */
const DEPARTMENTS: readonly WireDepartment[] = [
  { _id: 'd1', name: 'Sales', enabled: true },
  { _id: 'd2', name: 'Support', enabled: true },
  { _id: 'd4', name: 'Billing', enabled: false },
];
const USER: WireUser = { _id: 'u1', username: 'agent1', name: 'Agent One' };

interface FakeUpstream extends RocketChatClient {
  /** Calls per route. */
  calls: Record<RouteName, number>;
  /** The ids of each department list call, in order. */
  departmentAsks: string[][];
  /** Routes that throw a GatewayError of this code instead of answering. */
  failing: Partial<Record<RouteName, ErrorCode>>;
}

/** An upstream that counts its calls per route and fails a route with the code the test sets. */
function upstream(): FakeUpstream {
  const fake: FakeUpstream = {
    ...otherRoutes(),
    calls: { visitors: 0, departments: 0, users: 0, chats: 0, searches: 0 },
    departmentAsks: [],
    failing: {},
    async getVisitor(id): Promise<WireVisitor> {
      await answer('visitors');
      return { _id: id, name: `visitor ${id}` };
    },
    async getDepartments(ids) {
      fake.departmentAsks.push([...ids]);
      await answer('departments');
      return DEPARTMENTS.filter((d) => ids.includes(d._id)).map((d) => ({ ...d }));
    },
    async getUser(idOrUsername) {
      await answer('users');
      return { ...USER, _id: idOrUsername };
    },
    async getChatHistory(_roomId, _visitorId, page): Promise<ChatHistoryResponse> {
      await answer('chats');
      return { history: [], count: 0, offset: page.offset, total: 7, success: true };
    },
    async searchVisitors(_term, page): Promise<VisitorSearchResponse> {
      await answer('searches');
      return { visitors: [], count: 0, offset: page.offset, total: 3, success: true };
    },
    async serverInfo() {
      return { version: '7.0.0', success: true };
    },
    async close() {},
  };
  async function answer(route: RouteName) {
    fake.calls[route]++;
    await sleep(1);
    const code = fake.failing[route];
    if (code) throw new GatewayError(`${route} failed`, code);
  }
  return fake;
}

const ALICE: Credentials = { userId: 'alice', authToken: 'alice-secret-token-1' };
const BOB: Credentials = { userId: 'bob', authToken: 'bob-secret-token-1' };
const PAGE = { offset: 0, count: 10 };

/**
 * One GraphQL operation: each call gets its own options object, as each loader builds its own,
 * and all share `operation`.
 */
function operation(credentials = ALICE): () => CallOptions {
  const op = {};
  return () => ({ credentials, operation: op });
}

function cachingClient(inner: RocketChatClient, store: CacheStore = new MemoryStore(), recheckMs = 60_000) {
  return new CachingRocketChatClient(inner, store, { ttlMs: 60_000, recheckMs });
}

const byId = (list: readonly { _id: string }[]) => [...list].sort((a, b) => a._id.localeCompare(b._id));
const idsOf = (list: readonly { _id: string }[]) => byId(list).map((d) => d._id);

/** Past a small recheckMs: the caller is stale. */
const RECHECK_MS = 50;
const pastRecheck = () => sleep(RECHECK_MS + 20);

describe('CachingRocketChatClient: departments', () => {
  it('asks only for the ids not cached, and caches a deleted department as absent', async () => {
    const inner = upstream();
    const client = cachingClient(inner);
    const first = operation();
    await client.getVisitor('v1', first());
    expect(idsOf(await client.getDepartments(['d1', 'd2', 'd3'], first()))).toEqual(['d1', 'd2']);
    expect(inner.departmentAsks).toEqual([['d1', 'd2', 'd3']]);

    const answer = await client.getDepartments(['d1', 'd3', 'd4'], operation()());
    expect(inner.departmentAsks).toEqual([['d1', 'd2', 'd3'], ['d4']]);
    expect(byId(answer)).toEqual([
      { _id: 'd1', name: 'Sales', enabled: true },
      { _id: 'd4', name: 'Billing', enabled: false },
    ]);
  });

  it('a fresh caller asking only cached departments makes no call', async () => {
    const inner = upstream();
    const client = cachingClient(inner);
    const first = operation();
    await client.getVisitor('v1', first());
    await client.getDepartments(['d1', 'd2', 'd3'], first());
    expect(inner.calls.departments).toBe(1);

    expect(idsOf(await client.getDepartments(['d2', 'd3', 'd1'], operation()()))).toEqual(['d1', 'd2']);
    expect(inner.calls.departments).toBe(1);
  });
});

describe('CachingRocketChatClient: users', () => {
  it('caches a user for an accepted caller', async () => {
    const inner = upstream();
    const client = cachingClient(inner);
    const first = operation();
    await client.getVisitor('v1', first());
    expect(await client.getUser('u1', first())).toEqual(USER);
    expect(inner.calls.users).toBe(1);

    expect(await client.getUser('u1', operation()())).toEqual(USER);
    expect(inner.calls.users).toBe(1);
  });

  it('writes nothing for a caller with no record: users.info is no acceptance', async () => {
    const inner = upstream();
    const store = new MemoryStore();
    const client = cachingClient(inner, store);
    expect(await client.getUser('u1', operation()())).toEqual(USER);
    expect(await client.getUser('u1', operation()())).toEqual(USER);
    expect(inner.calls.users).toBe(2);
    expect((await store.caller(callerKey(ALICE)))?.generation).toBeUndefined();
  });

  it('a users.info success does not refresh the caller: the next visitor lookup still confirms', async () => {
    const inner = upstream();
    const client = cachingClient(inner, new MemoryStore(), RECHECK_MS);
    const first = operation();
    await client.getVisitor('v1', first());
    await client.getUser('u1', first());
    expect(inner.calls).toMatchObject({ visitors: 1, users: 1 });
    await pastRecheck();

    // Stale: the cached user is not served, and Rocket.Chat answering users.info proves too little.
    await client.getUser('u1', operation()());
    expect(inner.calls.users).toBe(2);
    expect(await client.getVisitor('v1', operation()())).toEqual({ _id: 'v1', name: 'visitor v1' });
    expect(inner.calls.visitors).toBe(2);
  });
});

describe('CachingRocketChatClient: routes that confirm the caller', () => {
  const confirming: [string, (client: RocketChatClient, options: CallOptions) => Promise<unknown>, RouteName][] = [
    ['visitors.search', (client, options) => client.searchVisitors('ann', PAGE, options), 'searches'],
    ['visitors.chatHistory', (client, options) => client.getChatHistory('r1', 'v1', PAGE, options), 'chats'],
  ];

  it.each(confirming)('a %s success refreshes the caller: a cached visitor is served again', async (_name, call, route) => {
    const inner = upstream();
    const client = cachingClient(inner, new MemoryStore(), RECHECK_MS);
    await client.getVisitor('v1', operation()());
    expect(inner.calls.visitors).toBe(1);
    await pastRecheck();

    await call(client, operation()());
    expect(inner.calls[route]).toBe(1);
    expect(await client.getVisitor('v1', operation()())).toEqual({ _id: 'v1', name: 'visitor v1' });
    expect(inner.calls.visitors).toBe(1);
  });

  it('a stale caller’s user lookup waits for the visitor lookup confirming it, then reads the cache', async () => {
    const inner = upstream();
    const client = cachingClient(inner, new MemoryStore(), RECHECK_MS);
    const first = operation();
    await client.getVisitor('v1', first());
    await client.getUser('u1', first());
    expect(inner.calls).toMatchObject({ visitors: 1, users: 1 });
    await pastRecheck();

    const op = operation();
    const [visitor, user] = await Promise.all([client.getVisitor('v1', op()), client.getUser('u1', op())]);
    expect(visitor).toEqual({ _id: 'v1', name: 'visitor v1' });
    expect(user).toEqual(USER);
    expect(inner.calls).toMatchObject({ visitors: 2, users: 1 });
  });
});

describe('CachingRocketChatClient: refusals, callers, operations, errors', () => {
  it.each(['UNAUTHENTICATED', 'FORBIDDEN'] as const)('a %s from users.info retires the caller’s generation', async (code) => {
    const inner = upstream();
    const store = new CountingStore();
    const client = cachingClient(inner, store);
    await client.getVisitor('v1', operation()());
    await client.getVisitor('v1', operation()());
    expect(inner.calls.visitors).toBe(1);

    inner.failing.users = code;
    expect((await rejection(client.getUser('u1', operation()()))).code).toBe(code);
    expect(store.refusals).toBe(1);

    inner.failing = {};
    expect(await client.getVisitor('v1', operation()())).toEqual({ _id: 'v1', name: 'visitor v1' });
    expect(inner.calls.visitors).toBe(2);
    expect(store.refusals).toBe(1);
  });

  it('keeps entries per caller: Bob does not read the department Alice cached', async () => {
    const inner = upstream();
    const client = cachingClient(inner);
    const alice = operation(ALICE);
    await client.getVisitor('v1', alice());
    await client.getDepartments(['d1'], alice());
    await client.getDepartments(['d1'], operation(ALICE)());
    expect(inner.calls.departments).toBe(1);

    await client.getVisitor('v1', operation(BOB)());
    expect(idsOf(await client.getDepartments(['d1'], operation(BOB)()))).toEqual(['d1']);
    expect(inner.departmentAsks).toEqual([['d1'], ['d1']]);
  });

  it('reads the caller’s record once per operation, whichever routes it calls', async () => {
    const store = new CountingStore();
    const client = cachingClient(upstream(), store);
    const runOperation = async () => {
      const op = operation();
      await client.getVisitor('v1', op());
      await Promise.all([client.getDepartments(['d1', 'd2'], op()), client.getUser('u1', op()), client.searchVisitors('ann', PAGE, op())]);
    };
    await runOperation();
    expect(store.callerReads).toBe(1);
    await runOperation();
    expect(store.callerReads).toBe(2);
  });

  it('does not cache an error: a failed chat history is asked again, then cached', async () => {
    const inner = upstream();
    const client = cachingClient(inner);
    await client.getVisitor('v1', operation()());

    inner.failing.chats = 'UPSTREAM_UNAVAILABLE';
    expect((await rejection(client.getChatHistory('r1', 'v1', PAGE, operation()()))).code).toBe('UPSTREAM_UNAVAILABLE');
    inner.failing = {};
    expect((await client.getChatHistory('r1', 'v1', PAGE, operation()())).total).toBe(7);
    expect(inner.calls.chats).toBe(2);
    // The success is what is cached.
    expect((await client.getChatHistory('r1', 'v1', PAGE, operation()())).total).toBe(7);
    expect(inner.calls.chats).toBe(2);
  });
});

describe('CachingRocketChatClient: a refusal within one operation', () => {
  it('a visitor answer that lands after a 401 on another route records no acceptance and caches nothing', async () => {
    const inner = upstream();
    const store = new CountingStore();
    const client = cachingClient(inner, store);
    // users.info answers (401) before visitors.info does.
    const slowVisitor = inner.getVisitor.bind(inner);
    inner.getVisitor = async (id, options) => {
      await sleep(20);
      return slowVisitor(id, options);
    };
    inner.failing.users = 'UNAUTHENTICATED';
    const first = operation();
    const [visitor, user] = await Promise.allSettled([client.getVisitor('v1', first()), client.getUser('u1', first())]);
    expect(visitor.status).toBe('fulfilled');
    expect(user.status).toBe('rejected');
    expect(store.refusals).toBe(1);
    expect((await store.caller(callerKey(ALICE)))!.generation).toBeUndefined();

    // So the next operation is not fresh: the visitor goes to Rocket.Chat again.
    inner.getVisitor = slowVisitor;
    await client.getVisitor('v1', operation()());
    expect(inner.calls.visitors).toBe(2);
  });

  it('a 403 on one route answers that route’s other lookups the same, and lets the other routes ask Rocket.Chat', async () => {
    const inner = upstream();
    const client = cachingClient(inner);
    const op = operation();
    await client.getVisitor('v1', op());
    inner.failing.chats = 'FORBIDDEN';
    expect(await rejection(client.getChatHistory('room1', 'v1', PAGE, op()))).toMatchObject({ code: 'FORBIDDEN' });
    const callsBefore = inner.calls.chats;
    // The same route: the operation's refusal, no second call.
    expect(await rejection(client.getChatHistory('room2', 'v2', PAGE, op()))).toMatchObject({ code: 'FORBIDDEN' });
    expect(inner.calls.chats).toBe(callsBefore);
    // Another route: answered, from Rocket.Chat (the operation no longer reads the cache).
    expect(byId(await client.getDepartments(['d1'], op()))).toEqual([DEPARTMENTS[0]]);
    expect(await client.getVisitor('v1', op())).toMatchObject({ _id: 'v1' });
    expect(inner.calls.visitors).toBe(2);
  });
});

describe('CachingRocketChatClient: repeated department ids', () => {
  it('answers a repeated id once, as Rocket.Chat does, from the cache and from a call alike', async () => {
    const inner = upstream();
    const client = cachingClient(inner);
    const op = operation();
    await client.getVisitor('v1', op());
    expect(byId(await client.getDepartments(['d1', 'd1', 'd2'], op()))).toEqual([DEPARTMENTS[0], DEPARTMENTS[1]]);
    expect(inner.departmentAsks).toEqual([['d1', 'd2']]);
    expect(byId(await client.getDepartments(['d2', 'd2'], op()))).toEqual([DEPARTMENTS[1]]);
    expect(inner.departmentAsks).toHaveLength(1);
  });
});
