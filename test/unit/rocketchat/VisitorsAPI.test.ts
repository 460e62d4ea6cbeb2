import { describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS } from '../../../src/demo/visitors.js';
import { errorFromResponse, GatewayError } from '../../../src/errors.js';
import type { CallOptions, Credentials, RocketChatClient } from '../../../src/rocketchat/client.js';
import type { WireVisitor } from '../../../src/rocketchat/models.js';
import { VisitorsAPI, type VisitorsAPIOptions } from '../../../src/rocketchat/VisitorsAPI.js';
import { Cancellation } from '../../../src/rocketchat/cancellation.js';
import { rejection } from '../../helpers/promises.js';
import { otherRoutes } from '../../helpers/otherRoutes.js';
import { CallBudget } from '../../../src/rocketchat/callBudget.js';

type Behaviour = { fail?: Error; delayMs?: number };

/**
 * A RocketChatClient that records each call, answers `{ _id: id, name: 'v-' + id }` unless told
 * to fail, can delay per id, and counts how many calls are in flight at once.
 */
class FakeClient implements RocketChatClient {
  readonly calls: { id: string; options: CallOptions }[] = [];
  readonly finished: string[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly behaviour: (id: string) => Behaviour = () => ({})) {}

  readonly #other = otherRoutes();
  getDepartments = this.#other.getDepartments;
  getUser = this.#other.getUser;
  getChatHistory = this.#other.getChatHistory;
  searchVisitors = this.#other.searchVisitors;
  avatarUrl = this.#other.avatarUrl;

  async getVisitor(id: string, options: CallOptions): Promise<WireVisitor> {
    this.calls.push({ id, options });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const { fail, delayMs } = this.behaviour(id);
      await new Promise((resolve) => setTimeout(resolve, delayMs ?? 0));
      if (fail) throw fail;
      return { _id: id, name: `v-${id}` };
    } finally {
      this.inFlight--;
      this.finished.push(id);
    }
  }

  async serverInfo() {
    return { version: '8.4.1', success: true as const };
  }

  async close() {}
}

const CREDS: Credentials = { ...DEMO_CREDENTIALS };

/** `maxUpstreamCalls` and `maxResponseBytes` size the operation's budget. */
function api(client: RocketChatClient, extra: Partial<VisitorsAPIOptions> & { maxUpstreamCalls?: number; maxResponseBytes?: number } = {}): VisitorsAPI {
  const { maxUpstreamCalls = 1000, maxResponseBytes = 4 * 1024 * 1024, ...rest } = extra;
  return new VisitorsAPI({
    client,
    credentials: CREDS,
    requestId: 'req-42',
    concurrency: 10,
    maxIds: 100,
    budget: new CallBudget(maxUpstreamCalls, maxResponseBytes),
    ...rest,
  });
}

describe('VisitorsAPI.load', () => {
  it('returns what the client answers', async () => {
    const client = new FakeClient();
    await expect(api(client).load('abc')).resolves.toStrictEqual({ _id: 'abc', name: 'v-abc' });
    expect(client.calls.map((c) => c.id)).toStrictEqual(['abc']);
  });

  it('the same id 5× in one tick costs one call', async () => {
    const client = new FakeClient();
    const visitors = api(client);
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => visitors.load('dup')));
    expect(client.calls).toHaveLength(1);
    for (const r of results) expect(r).toStrictEqual({ _id: 'dup', name: 'v-dup' });
  });

  it('a later load of an id already fetched is served from the per-request cache', async () => {
    const client = new FakeClient();
    const visitors = api(client);
    await visitors.load('once');
    await visitors.load('once');
    expect(client.calls).toHaveLength(1);
  });

  it('distinct ids in one tick go out in parallel, one call each', async () => {
    const client = new FakeClient(() => ({ delayMs: 20 }));
    const visitors = api(client);
    await Promise.all(['a', 'b', 'c'].map((id) => visitors.load(id)));
    expect(client.calls.map((c) => c.id).sort()).toStrictEqual(['a', 'b', 'c']);
    expect(client.maxInFlight).toBe(3);
  });

  it('passes the given credentials, requestId and cancellation to the client', async () => {
    const client = new FakeClient();
    const cancellation = new Cancellation();
    const credentials = { authToken: 'tOkEn-For-This-Caller', userId: 'uSeRfOrThIsCaLl1' };
    const visitors = api(client, { credentials, requestId: 'req-xyz', cancellation });
    await Promise.all([visitors.load('one'), visitors.load('two')]);
    expect(client.calls).toHaveLength(2);
    for (const call of client.calls) {
      expect(call.options.credentials).toStrictEqual(credentials);
      expect(call.options.requestId).toBe('req-xyz');
      expect(call.options.cancellation).toBe(cancellation);
    }
  });

  it("passes a client's catalogue error through as the rejection", async () => {
    const notFound = errorFromResponse(400, { success: false, error: 'visitor-not-found' });
    const client = new FakeClient(() => ({ fail: notFound }));
    const err = await rejection(api(client).load('missing'));
    expect(err).toBe(notFound);
    expect(err.extensions.code).toBe('NOT_FOUND');
  });
});

/** loadMany's answer as allSettled would give it: an Error item is a rejection at that index. */
async function settle(list: Promise<(WireVisitor | Error)[]>) {
  return (await list).map((v) =>
    v instanceof Error
      ? ({ status: 'rejected', reason: v } as PromiseRejectedResult)
      : ({ status: 'fulfilled', value: v } as PromiseFulfilledResult<WireVisitor>),
  );
}

/** loadMany's answer when every id must succeed. */
async function ok(list: Promise<(WireVisitor | Error)[]>): Promise<WireVisitor[]> {
  const values = await list;
  for (const v of values) if (v instanceof Error) throw v;
  return values as WireVisitor[];
}

describe('VisitorsAPI.loadMany', () => {
  it('answers in key order even when calls finish out of order', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    // The first id is the slowest, the last the fastest.
    const client = new FakeClient((id) => ({ delayMs: (ids.length - ids.indexOf(id)) * 15 }));
    const results = await ok(api(client).loadMany(ids));
    expect(client.finished).toStrictEqual([...ids].reverse());
    expect(results.map((v) => v._id)).toStrictEqual(ids);
  });

  it('one Error per failed key; the others still resolve', async () => {
    const forbidden = errorFromResponse(403, { success: false, error: 'nope' });
    const client = new FakeClient((id) =>
      id === 'bad1' ? { fail: forbidden, delayMs: 5 } : id === 'bad2' ? { fail: new Error('socket hang up') } : { delayMs: 10 },
    );
    const settled = await settle(api(client).loadMany(['ok1', 'bad1', 'ok2', 'bad2', 'ok3']));
    expect(settled.map((s) => s.status)).toStrictEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect((settled[0] as PromiseFulfilledResult<WireVisitor>).value._id).toBe('ok1');
    expect((settled[2] as PromiseFulfilledResult<WireVisitor>).value._id).toBe('ok2');
    expect((settled[4] as PromiseFulfilledResult<WireVisitor>).value._id).toBe('ok3');
    expect((settled[1] as PromiseRejectedResult).reason).toBe(forbidden);
    expect((settled[3] as PromiseRejectedResult).reason).toBeInstanceOf(Error);
    expect((settled[3] as PromiseRejectedResult).reason.message).toBe('socket hang up');
    expect(client.calls).toHaveLength(5);
  });

  it('a non-Error rejection from the client still becomes an Error', async () => {
    const client: RocketChatClient = {
      ...otherRoutes(),
      getVisitor: (id) => (id === 'x' ? Promise.reject('plain string') : Promise.resolve({ _id: id })),
      serverInfo: async () => ({ version: '8.4.1', success: true }),
      close: async () => {},
    };
    const settled = await settle(api(client).loadMany(['x', 'y']));
    expect(settled[0]?.status).toBe('rejected');
    expect((settled[0] as PromiseRejectedResult).reason).toBeInstanceOf(Error);
    expect(settled[1]?.status).toBe('fulfilled');
  });

  it('repeated ids in one list cost one call each and fill every position', async () => {
    const client = new FakeClient();
    const results = await ok(api(client).loadMany(['a', 'b', 'a', 'a', 'b']));
    expect(results.map((v) => v._id)).toStrictEqual(['a', 'b', 'a', 'a', 'b']);
    expect(client.calls.map((c) => c.id).sort()).toStrictEqual(['a', 'b']);
  });

  it.each([1, 3, 4])('never has more than concurrency=%i calls in flight', async (concurrency) => {
    const client = new FakeClient(() => ({ delayMs: 10 }));
    const ids = Array.from({ length: 12 }, (_, i) => `id${i}`);
    const results = await ok(api(client, { concurrency }).loadMany(ids));
    expect(results.map((v) => v._id)).toStrictEqual(ids);
    expect(client.calls).toHaveLength(12);
    expect(client.maxInFlight).toBe(concurrency);
  });

  it('the bound holds across loads issued in the same tick through load()', async () => {
    const client = new FakeClient(() => ({ delayMs: 10 }));
    const visitors = api(client, { concurrency: 2 });
    await Promise.all(Array.from({ length: 7 }, (_, i) => visitors.load(`k${i}`)));
    expect(client.calls).toHaveLength(7);
    expect(client.maxInFlight).toBe(2);
  });

  it('over maxIds rejects with BAD_USER_INPUT and zero calls', async () => {
    const client = new FakeClient();
    const visitors = api(client, { maxIds: 3 });
    const thrown = await visitors.loadMany(['a', 'b', 'c', 'd']).catch((err: unknown) => err);
    expect(thrown).toBeInstanceOf(GatewayError);
    expect((thrown as GatewayError).extensions.code).toBe('BAD_USER_INPUT');
    expect((thrown as GatewayError).message).toContain('3');
    expect(client.calls).toHaveLength(0);
  });

  it('exactly maxIds ids are accepted', async () => {
    const client = new FakeClient();
    const results = await ok(api(client, { maxIds: 3 }).loadMany(['a', 'b', 'c']));
    expect(results).toHaveLength(3);
    expect(client.calls).toHaveLength(3);
  });

  it('an empty list answers an empty list with zero calls', async () => {
    const client = new FakeClient();
    expect(await api(client).loadMany([])).toStrictEqual([]);
    expect(client.calls).toHaveLength(0);
  });
});

describe('VisitorsAPI refuses before calling Rocket.Chat', () => {
  it.each([
    ['a space', 'a b'],
    ['empty', ''],
    ['65 chars', 'a'.repeat(65)],
    ['a path', '../x'],
    ['a query', 'x?visitorId=y'],
    ['an ampersand', 'x&y=1'],
    ['a newline', 'abc\n'],
    ['non-ASCII', 'visitör'],
  ])('an id with %s → BAD_USER_INPUT, zero calls', async (_label, id) => {
    const client = new FakeClient();
    const err = await rejection(api(client).load(id));
    expect(err.extensions.code).toBe('BAD_USER_INPUT');
    expect(client.calls).toHaveLength(0);
  });

  it('64 characters of the allowed alphabet are accepted', async () => {
    const client = new FakeClient();
    const id = 'aZ09_-'.repeat(10) + 'abcd';
    expect(id).toHaveLength(64);
    await expect(api(client).load(id)).resolves.toMatchObject({ _id: id });
    expect(client.calls).toHaveLength(1);
  });

  it('in a list, only the bad ids fail; the good ones are fetched', async () => {
    const client = new FakeClient();
    const settled = await settle(api(client).loadMany(['good', '../x', 'fine']));
    expect(settled.map((s) => s.status)).toStrictEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((settled[1] as PromiseRejectedResult).reason as GatewayError).extensions.code).toBe('BAD_USER_INPUT');
    expect(client.calls.map((c) => c.id).sort()).toStrictEqual(['fine', 'good']);
  });

  it('refused credentials → UNAUTHENTICATED with the reason, zero calls', async () => {
    const client = new FakeClient();
    const visitors = api(client, { credentials: { refused: 'missing X-Auth-Token or X-User-Id' } });
    const err = await rejection(visitors.load('642fc15452492a08c3a756de'));
    expect(err.extensions.code).toBe('UNAUTHENTICATED');
    expect(err.message).toContain('missing X-Auth-Token or X-User-Id');
    const settled = await settle(visitors.loadMany(['a', 'b']));
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      expect(((s as PromiseRejectedResult).reason as GatewayError).extensions.code).toBe('UNAUTHENTICATED');
    }
    expect(client.calls).toHaveLength(0);
  });
});

describe('VisitorsAPI keeps an operation within its budgets', () => {
  it('never hands the client more ids than maxUpstreamCalls, whatever the estimate said', async () => {
    const client = new FakeClient();
    const visitors = api(client, { maxUpstreamCalls: 3 });
    const first = await visitors.loadMany(['a', 'b']);
    const second = await visitors.loadMany(['c', 'd', 'a']);
    expect(first.every((v) => !(v instanceof Error))).toBe(true);
    expect(client.calls.map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(second[0]).toMatchObject({ _id: 'c' });
    expect(second[1]).toBeInstanceOf(GatewayError);
    expect((second[1] as GatewayError).code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    // An id already loaded costs nothing more and is still served.
    expect(second[2]).toMatchObject({ _id: 'a' });
    expect(visitors.upstreamCalls).toBe(3);
  });

  it('counts a visitor into the response each time it is served, and refuses past maxResponseBytes', async () => {
    const client = new FakeClient();
    const size = JSON.stringify({ _id: 'a', name: 'v-a' }).length;
    const visitors = api(client, { maxResponseBytes: size * 3 });
    const served = await visitors.loadMany(['a', 'a', 'a', 'a', 'a']);
    expect(client.calls).toHaveLength(1);
    expect(served.slice(0, 3).every((v) => !(v instanceof Error))).toBe(true);
    expect(served.slice(3).map((v) => (v as GatewayError).code)).toEqual(['RESPONSE_TOO_LARGE', 'RESPONSE_TOO_LARGE']);
  });

  it('admits an operation through the client, and a caller without credentials without asking it', () => {
    const asked: number[] = [];
    const client = Object.assign(new FakeClient(), {
      admit: (calls: number) => (asked.push(calls), calls > 5 ? new GatewayError('no', 'RATE_LIMITED') : undefined),
    });
    expect(api(client).admit(5)).toBeUndefined();
    expect(api(client).admit(6)?.code).toBe('RATE_LIMITED');
    expect(api(client).admit(0)).toBeUndefined();
    expect(api(client, { credentials: { refused: 'missing' } }).admit(50)).toBeUndefined();
    expect(asked).toEqual([5, 6]);
  });
});
