import { describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS } from '../../../src/demo/visitors.js';
import { errorFromResponse, GatewayError } from '../../../src/errors.js';
import { CallBudget } from '../../../src/rocketchat/callBudget.js';
import { Cancellation } from '../../../src/rocketchat/cancellation.js';
import type { CallOptions, Credentials, RocketChatClient } from '../../../src/rocketchat/client.js';
import { DepartmentsAPI, type DepartmentsAPIOptions } from '../../../src/rocketchat/DepartmentsAPI.js';
import type { WireDepartment, WireVisitor } from '../../../src/rocketchat/models.js';
import { rejection } from '../../helpers/promises.js';

/** How the fake answers one getDepartments call (its index among the calls, from 0). */
type Answer = { reject?: unknown; reverse?: boolean; omit?: readonly string[] };

/**
 * A RocketChatClient that records each getDepartments call (ids and options) and answers
 * `{ _id, name: 'd-' + id }` for every id asked, unless told to leave some out, to answer in
 * reverse order, or to reject.
 */
class FakeClient implements RocketChatClient {
  readonly departmentCalls: { ids: string[]; options: CallOptions }[] = [];
  readonly visitorCalls: string[] = [];

  constructor(private readonly answer: (call: number, ids: readonly string[]) => Answer = () => ({})) {}

  async getUser(id: string) {
    return { _id: id };
  }

  async getChatHistory() {
    return { history: [], count: 0, offset: 0, total: 0, success: true as const };
  }

  async searchVisitors() {
    return { visitors: [], count: 0, offset: 0, total: 0, success: true as const };
  }

  avatarUrl(username: string): string {
    return `http://rc.invalid/avatar/${username}`;
  }

  async getVisitor(id: string): Promise<WireVisitor> {
    this.visitorCalls.push(id);
    return { _id: id };
  }

  async getDepartments(ids: readonly string[], options: CallOptions): Promise<WireDepartment[]> {
    const call = this.departmentCalls.length;
    this.departmentCalls.push({ ids: [...ids], options });
    await new Promise((resolve) => setTimeout(resolve, 1));
    const { reject, reverse, omit = [] } = this.answer(call, ids);
    if (reject !== undefined) throw reject;
    const found = ids.filter((id) => !omit.includes(id)).map((id) => department(id));
    return reverse ? found.reverse() : found;
  }

  async serverInfo() {
    return { version: '8.4.1', success: true as const };
  }

  async close() {}
}

const department = (id: string): WireDepartment => ({ _id: id, name: `d-${id}` });

const CREDS: Credentials = { ...DEMO_CREDENTIALS };

function api(client: RocketChatClient, extra: Partial<DepartmentsAPIOptions> = {}): DepartmentsAPI {
  return new DepartmentsAPI({
    client,
    credentials: CREDS,
    call: { requestId: 'req-42', clientIp: '198.51.100.7' },
    budget: new CallBudget(50),
    ...extra,
  });
}

/** Every load's outcome, as allSettled gives it. */
const settleAll = (loads: Promise<WireDepartment | null>[]) => Promise.allSettled(loads);

const ids = (n: number, prefix = 'dEpT') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);

describe('DepartmentsAPI batches one tick into one call per 20 ids', () => {
  it('12 loads naming 4 departments cost one call with the 4 ids; the deleted one is null', async () => {
    const client = new FakeClient(() => ({ omit: ['gOnE'] }));
    const departments = api(client);
    const asked = ['sUpPoRt', 'sAlEs', 'gOnE', 'bIlLiNg', 'sAlEs', 'sUpPoRt', 'gOnE', 'bIlLiNg', 'sUpPoRt', 'sAlEs', 'gOnE', 'sUpPoRt'];
    expect(asked).toHaveLength(12);
    const results = await Promise.all(asked.map((id) => departments.load(id)));

    expect(client.departmentCalls).toHaveLength(1);
    expect(client.departmentCalls[0]!.ids).toHaveLength(4);
    expect([...client.departmentCalls[0]!.ids].sort()).toStrictEqual(['bIlLiNg', 'gOnE', 'sAlEs', 'sUpPoRt']);
    results.forEach((result, i) => {
      const id = asked[i]!;
      if (id === 'gOnE') expect(result).toBeNull();
      else expect(result).toStrictEqual(department(id));
    });
    expect(client.visitorCalls).toHaveLength(0);
  });

  it('a department already loaded (or found deleted) in this request costs no second call', async () => {
    const client = new FakeClient(() => ({ omit: ['gOnE'] }));
    const departments = api(client);
    await Promise.all([departments.load('sAlEs'), departments.load('gOnE')]);
    await expect(departments.load('sAlEs')).resolves.toStrictEqual(department('sAlEs'));
    await expect(departments.load('gOnE')).resolves.toBeNull();
    expect(client.departmentCalls).toHaveLength(1);
  });

  it('25 distinct ids in one tick go as two calls, of 20 and 5, each answered to its own keys', async () => {
    const client = new FakeClient();
    const departments = api(client);
    const wanted = ids(25);
    const results = await Promise.all(wanted.map((id) => departments.load(id)));

    expect(client.departmentCalls.map((c) => c.ids.length)).toStrictEqual([20, 5]);
    expect(client.departmentCalls[0]!.ids).toStrictEqual(wanted.slice(0, 20));
    expect(client.departmentCalls[1]!.ids).toStrictEqual(wanted.slice(20));
    expect(results).toStrictEqual(wanted.map(department));
  });

  it('exactly 20 ids cost one call', async () => {
    const client = new FakeClient();
    const departments = api(client);
    await Promise.all(ids(20).map((id) => departments.load(id)));
    expect(client.departmentCalls.map((c) => c.ids.length)).toStrictEqual([20]);
  });

  it('an answer in reverse order is keyed by _id, not by position', async () => {
    const client = new FakeClient(() => ({ reverse: true, omit: ['dEpT02'] }));
    const departments = api(client);
    const wanted = ids(5);
    const results = await Promise.all(wanted.map((id) => departments.load(id)));
    expect(client.departmentCalls).toHaveLength(1);
    expect(results).toStrictEqual([department('dEpT00'), department('dEpT01'), null, department('dEpT03'), department('dEpT04')]);
  });

  it('a department the caller did not ask for is not served as one it did', async () => {
    const client: RocketChatClient = {
      getVisitor: async (id) => ({ _id: id }),
      getDepartments: async () => [department('oThEr')],
      getUser: async (id: string) => ({ _id: id }),
      getChatHistory: async () => ({ history: [], count: 0, offset: 0, total: 0, success: true as const }),
      searchVisitors: async () => ({ visitors: [], count: 0, offset: 0, total: 0, success: true as const }),
      avatarUrl: (username: string) => `http://rc.invalid/avatar/${username}`,
      serverInfo: async () => ({ version: '8.4.1', success: true }),
      close: async () => {},
    };
    await expect(api(client).load('aSkEd')).resolves.toBeNull();
  });
});

describe('DepartmentsAPI when the call fails', () => {
  it('a rejected call rejects every key of its batch with that same error', async () => {
    const forbidden = errorFromResponse(
      403,
      { success: false, error: 'nope' },
      {},
      { permission: 'view-livechat-departments or view-l-room', callerParams: false },
    );
    const client = new FakeClient(() => ({ reject: forbidden }));
    const departments = api(client);
    const settled = await settleAll(['a1', 'b2', 'c3', 'a1'].map((id) => departments.load(id)));
    expect(client.departmentCalls).toHaveLength(1);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      expect((s as PromiseRejectedResult).reason).toBe(forbidden);
    }
    expect(forbidden.code).toBe('FORBIDDEN');
  });

  it('only the failed batch fails: the other batch of the same tick still resolves', async () => {
    const boom = new Error('socket hang up');
    const client = new FakeClient((call) => (call === 0 ? { reject: boom } : {}));
    const departments = api(client);
    const wanted = ids(23);
    const settled = await settleAll(wanted.map((id) => departments.load(id)));
    expect(client.departmentCalls.map((c) => c.ids.length)).toStrictEqual([20, 3]);
    settled.slice(0, 20).forEach((s) => expect(s).toStrictEqual({ status: 'rejected', reason: boom }));
    settled.slice(20).forEach((s, i) => expect(s).toStrictEqual({ status: 'fulfilled', value: department(wanted[20 + i]!) }));
  });

  it('a non-Error rejection from the client still rejects every key with one Error', async () => {
    const client = new FakeClient(() => ({ reject: 'plain string' }));
    const departments = api(client);
    const settled = await settleAll([departments.load('x1'), departments.load('y2')]);
    const reasons = settled.map((s) => (s as PromiseRejectedResult).reason as unknown);
    expect(settled.map((s) => s.status)).toStrictEqual(['rejected', 'rejected']);
    expect(reasons[0]).toBeInstanceOf(Error);
    expect((reasons[0] as Error).message).toBe('plain string');
    expect(reasons[1]).toBe(reasons[0]);
  });
});

describe('DepartmentsAPI spends the operation’s shared call budget', () => {
  it('CallBudget(0): every key rejects UPSTREAM_BUDGET_EXCEEDED and no call is made', async () => {
    const client = new FakeClient();
    const departments = api(client, { budget: new CallBudget(0) });
    const settled = await settleAll(['a1', 'b2', 'c3'].map((id) => departments.load(id)));
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      const reason = (s as PromiseRejectedResult).reason as GatewayError;
      expect(reason).toBeInstanceOf(GatewayError);
      expect(reason.code).toBe('UPSTREAM_BUDGET_EXCEEDED');
      expect(reason.extensions.code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    }
    expect(client.departmentCalls).toHaveLength(0);
  });

  it('a budget other loaders already used up: rejected, no call, budget unchanged', async () => {
    const client = new FakeClient();
    const budget = new CallBudget(3);
    expect(budget.take(3)).toBe(3);
    const err = await rejection(api(client, { budget }).load('a1'));
    expect(err.code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    expect(err.message).toContain('3');
    expect(client.departmentCalls).toHaveLength(0);
    expect(budget.used).toBe(3);
  });

  it('one call per batch comes off the budget; the batch past it is refused', async () => {
    const client = new FakeClient();
    const budget = new CallBudget(1);
    const departments = api(client, { budget });
    const wanted = ids(25);
    const settled = await settleAll(wanted.map((id) => departments.load(id)));
    expect(client.departmentCalls).toHaveLength(1);
    expect(budget.used).toBe(1);
    const fulfilled = settled.filter((s) => s.status === 'fulfilled');
    const rejected = settled.filter((s) => s.status === 'rejected') as PromiseRejectedResult[];
    expect(fulfilled).toHaveLength(20);
    expect(rejected).toHaveLength(5);
    for (const r of rejected) expect((r.reason as GatewayError).code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    // The ids that made it are those of the call, and each got its own department.
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') expect(s.value).toStrictEqual(department(wanted[i]!));
    });
    expect(new Set(client.departmentCalls[0]!.ids)).toStrictEqual(new Set(wanted.filter((_, i) => settled[i]!.status === 'fulfilled')));
  });

  it('a batch takes exactly one call from a budget with room', async () => {
    const budget = new CallBudget(10);
    const departments = api(new FakeClient(), { budget });
    await Promise.all(ids(7).map((id) => departments.load(id)));
    expect(budget.used).toBe(1);
  });
});

describe('DepartmentsAPI refuses before calling Rocket.Chat', () => {
  it('refused credentials → UNAUTHENTICATED naming the reason, no call', async () => {
    const client = new FakeClient();
    const budget = new CallBudget(5);
    const departments = api(client, { credentials: { refused: 'missing X-Auth-Token or X-User-Id' }, budget });
    const settled = await settleAll([departments.load('a1'), departments.load('b2')]);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      const reason = (s as PromiseRejectedResult).reason as GatewayError;
      expect(reason).toBeInstanceOf(GatewayError);
      expect(reason.code).toBe('UNAUTHENTICATED');
      expect(reason.message).toContain('missing X-Auth-Token or X-User-Id');
    }
    expect(client.departmentCalls).toHaveLength(0);
    expect(budget.used).toBe(0);
  });

  it.each([
    ['a space', 'a b'],
    ['65 characters', 'x'.repeat(65)],
    ['nothing', ''],
    ['a comma', 'a,b'],
    ['a query', 'a&ids[]=b'],
    ['non-ASCII', 'dépt'],
  ])('an id with %s → BAD_USER_INPUT, no call', async (_label, id) => {
    const client = new FakeClient();
    const err = await rejection(api(client).load(id));
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(client.departmentCalls).toHaveLength(0);
  });

  it('64 characters of the allowed alphabet are accepted', async () => {
    const client = new FakeClient();
    const id = 'aZ09_-'.repeat(10) + 'abcd';
    expect(id).toHaveLength(64);
    await expect(api(client).load(id)).resolves.toStrictEqual(department(id));
    expect(client.departmentCalls.map((c) => c.ids)).toStrictEqual([[id]]);
  });

  it('a malformed id in the same tick as good ones is left out of the call', async () => {
    const client = new FakeClient();
    const departments = api(client);
    const settled = await settleAll([departments.load('gOoD1'), departments.load('a b'), departments.load('gOoD2')]);
    expect(settled.map((s) => s.status)).toStrictEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((settled[1] as PromiseRejectedResult).reason as GatewayError).code).toBe('BAD_USER_INPUT');
    expect(client.departmentCalls.map((c) => c.ids)).toStrictEqual([['gOoD1', 'gOoD2']]);
  });
});

describe('DepartmentsAPI calls as the caller', () => {
  it('passes the caller’s credentials, requestId, clientIp and cancellation to the client', async () => {
    const client = new FakeClient();
    const credentials = { authToken: 'tOkEn-For-This-Caller', userId: 'uSeRfOrThIsCaLl1' };
    const cancellation = new Cancellation();
    const departments = api(client, { credentials, call: { requestId: 'req-xyz', clientIp: '203.0.113.9', cancellation } });
    await Promise.all(ids(22).map((id) => departments.load(id)));
    expect(client.departmentCalls).toHaveLength(2);
    for (const { options } of client.departmentCalls) {
      expect(options.credentials).toStrictEqual(credentials);
      expect(options.requestId).toBe('req-xyz');
      expect(options.clientIp).toBe('203.0.113.9');
      expect(options.cancellation).toBe(cancellation);
    }
  });

  it('without a requestId or clientIp the options carry only the credentials', async () => {
    const client = new FakeClient();
    await api(client, { call: {} }).load('a1');
    expect(client.departmentCalls[0]!.options).toStrictEqual({ credentials: CREDS });
  });

  it('two DepartmentsAPIs (two requests) never share an answer', async () => {
    const client = new FakeClient();
    const first = api(client, { credentials: { authToken: 'tOkEnA', userId: 'uSeRa' } });
    const second = api(client, { credentials: { authToken: 'tOkEnB', userId: 'uSeRb' } });
    await Promise.all([first.load('sAlEs'), second.load('sAlEs')]);
    expect(client.departmentCalls.map((c) => c.options.credentials.userId).sort()).toStrictEqual(['uSeRa', 'uSeRb']);
  });
});
