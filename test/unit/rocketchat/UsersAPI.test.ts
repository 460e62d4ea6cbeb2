import { describe, expect, it } from 'vitest';
import { AGENT_SMITH_ID, MANAGER_JONES_ID } from '../../../src/demo/users.js';
import { DEMO_CREDENTIALS } from '../../../src/demo/visitors.js';
import { errorFromResponse, GatewayError } from '../../../src/errors.js';
import { CallBudget } from '../../../src/rocketchat/callBudget.js';
import { Cancellation } from '../../../src/rocketchat/cancellation.js';
import type { CallOptions, Credentials, RocketChatClient } from '../../../src/rocketchat/client.js';
import type { WireDepartment, WireUser, WireVisitor } from '../../../src/rocketchat/models.js';
import { UsersAPI, type AgentModel, type UsersAPIOptions } from '../../../src/rocketchat/UsersAPI.js';
import { deferred, rejection, sleep } from '../../helpers/promises.js';

/** How the fake answers one getUser call: a user, a promise of one, or a rejection. */
type Answer = WireUser | Promise<WireUser> | { reject: unknown };

/**
 * A RocketChatClient that records each getUser call (key and options) and each avatarUrl call, and
 * answers `{ _id: key, username: 'u-' + key }` unless told otherwise.
 */
class FakeClient implements RocketChatClient {
  readonly userCalls: { key: string; options: CallOptions }[] = [];
  readonly avatarCalls: [string, string | undefined][] = [];
  readonly visitorCalls: string[] = [];
  readonly departmentCalls: string[][] = [];

  constructor(private readonly answer: (key: string, call: number) => Answer = (key) => user(key)) {}

  async getUser(key: string, options: CallOptions): Promise<WireUser> {
    const call = this.userCalls.length;
    this.userCalls.push({ key, options });
    await sleep(1);
    const answer = this.answer(key, call);
    if (answer && typeof answer === 'object' && 'reject' in answer) throw answer.reject;
    return answer;
  }

  async getChatHistory() {
    return { history: [], count: 0, offset: 0, total: 0, success: true as const };
  }

  async searchVisitors() {
    return { visitors: [], count: 0, offset: 0, total: 0, success: true as const };
  }

  avatarUrl(username: string, etag: string | undefined): string {
    this.avatarCalls.push([username, etag]);
    return `http://rc.invalid/avatar/${username}${etag ? `?etag=${etag}` : ''}`;
  }

  async getVisitor(id: string): Promise<WireVisitor> {
    this.visitorCalls.push(id);
    return { _id: id };
  }

  async getDepartments(ids: readonly string[]): Promise<WireDepartment[]> {
    this.departmentCalls.push([...ids]);
    return [];
  }

  async serverInfo() {
    return { version: '8.4.1', success: true as const };
  }

  async close() {}
}

const user = (key: string): WireUser => ({ _id: key, username: `u-${key}` });

const CREDS: Credentials = { ...DEMO_CREDENTIALS };

function api(client: RocketChatClient, extra: Partial<UsersAPIOptions> = {}): UsersAPI {
  return new UsersAPI({
    client,
    credentials: CREDS,
    call: { requestId: 'req-42', clientIp: '198.51.100.7' },
    budget: new CallBudget(50),
    ...extra,
  });
}

const settleAll = (loads: Promise<AgentModel>[]) => Promise.allSettled(loads);
const reasonOf = (s: PromiseSettledResult<unknown>) => (s as PromiseRejectedResult).reason as GatewayError;

/** users.info's refusal of an unknown user, as the client raises it. */
const userNotFound = () =>
  errorFromResponse(
    400,
    { success: false, error: 'User not found.' },
    {},
    {
      permission: undefined,
      callerParams: false,
      notFound: { error: 'User not found.', message: 'User not found.' },
    },
  );

describe('UsersAPI: one call per distinct user per operation', () => {
  it('the same user as lastAgent of three visitors and a chat’s servedBy in one tick costs one getUser call', async () => {
    const client = new FakeClient();
    const users = api(client);
    // visitor 1..3 lastAgent.agentId, and a chat's servedBy._id, all the same agent.
    const results = await Promise.all([users.load(AGENT_SMITH_ID), users.load(AGENT_SMITH_ID), users.load(AGENT_SMITH_ID), users.load(AGENT_SMITH_ID)]);
    expect(client.userCalls.map((c) => c.key)).toStrictEqual([AGENT_SMITH_ID]);
    const expected = { ...user(AGENT_SMITH_ID), avatarUrl: `http://rc.invalid/avatar/u-${AGENT_SMITH_ID}` };
    for (const result of results) expect(result).toStrictEqual(expected);
    // The four loads share one answer.
    expect(results[1]).toBe(results[0]);
    expect(client.visitorCalls).toHaveLength(0);
    expect(client.departmentCalls).toHaveLength(0);
  });

  it('a user already loaded in this operation costs no second call later on', async () => {
    const client = new FakeClient();
    const users = api(client);
    const first = await users.load(MANAGER_JONES_ID);
    await expect(users.load(MANAGER_JONES_ID)).resolves.toBe(first);
    expect(client.userCalls).toHaveLength(1);
  });

  it('distinct users go as parallel calls, one each, before any answers', async () => {
    const pending = new Map<string, ReturnType<typeof deferred<WireUser>>>();
    const client = new FakeClient((key) => {
      const d = deferred<WireUser>();
      pending.set(key, d);
      return d.promise;
    });
    const users = api(client);
    const keys = [AGENT_SMITH_ID, MANAGER_JONES_ID, 'agent.smith', AGENT_SMITH_ID, 'manager.jones'];
    const loads = keys.map((k) => users.load(k));
    // Let the batch start and every fake call get past its own sleep.
    await sleep(20);
    expect(client.userCalls.map((c) => c.key)).toStrictEqual([AGENT_SMITH_ID, MANAGER_JONES_ID, 'agent.smith', 'manager.jones']);
    expect(pending.size).toBe(4);
    // Answered in reverse order: each load still gets its own key's user.
    for (const key of [...pending.keys()].reverse()) pending.get(key)!.resolve(user(key));
    const results = await Promise.all(loads);
    expect(results.map((r) => r._id)).toStrictEqual(keys);
    expect(client.userCalls).toHaveLength(4);
  });
});

describe('UsersAPI: the avatar', () => {
  it('avatarUrl comes from the client’s avatarUrl, with the username and avatarETag', async () => {
    const wire: WireUser = {
      _id: AGENT_SMITH_ID,
      username: 'agent.smith',
      name: 'Alex Smith',
      status: 'online',
      statusText: 'On the support rota until 18:00',
      utcOffset: 1,
      statusLivechat: 'available',
      avatarETag: 'x8Kq2Lw',
    };
    const client = new FakeClient(() => wire);
    const agent = await api(client).load(AGENT_SMITH_ID);
    expect(client.avatarCalls).toStrictEqual([['agent.smith', 'x8Kq2Lw']]);
    expect(agent).toStrictEqual({ ...wire, avatarUrl: 'http://rc.invalid/avatar/agent.smith?etag=x8Kq2Lw' });
  });

  it('without an avatarETag the client is asked with undefined', async () => {
    const client = new FakeClient(() => ({ _id: MANAGER_JONES_ID, username: 'manager.jones' }));
    const agent = await api(client).load(MANAGER_JONES_ID);
    expect(client.avatarCalls).toStrictEqual([['manager.jones', undefined]]);
    expect(agent.avatarUrl).toBe('http://rc.invalid/avatar/manager.jones');
  });

  it.each<[string, WireUser]>([
    ['no username', { _id: 'nOuSeRnAmE1', name: 'No Name', avatarETag: 'eTaG' }],
    ['an empty username', { _id: 'eMpTyNaMe01', username: '' }],
  ])('%s → avatarUrl null, the client never asked', async (_label, wire) => {
    const client = new FakeClient(() => wire);
    const agent = await api(client).load(wire._id);
    expect(agent).toStrictEqual({ ...wire, avatarUrl: null });
    expect(client.avatarCalls).toHaveLength(0);
  });

  it('the wire user is not changed in place', async () => {
    const wire: WireUser = { _id: AGENT_SMITH_ID, username: 'agent.smith' };
    const agent = await api(new FakeClient(() => wire)).load(AGENT_SMITH_ID);
    expect(agent).not.toBe(wire);
    expect(wire).toStrictEqual({ _id: AGENT_SMITH_ID, username: 'agent.smith' });
  });
});

describe('UsersAPI when a call fails', () => {
  it('a NOT_FOUND rejects only its own key; the others of the tick resolve', async () => {
    const notFound = userNotFound();
    expect(notFound.code).toBe('NOT_FOUND');
    const client = new FakeClient((key) => (key === 'gOnEuSeR' ? { reject: notFound } : user(key)));
    const users = api(client);
    const settled = await settleAll([users.load(AGENT_SMITH_ID), users.load('gOnEuSeR'), users.load(MANAGER_JONES_ID), users.load('gOnEuSeR')]);
    expect(settled.map((s) => s.status)).toStrictEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect(reasonOf(settled[1]!)).toBe(notFound);
    expect(reasonOf(settled[3]!)).toBe(notFound);
    expect((settled[0] as PromiseFulfilledResult<AgentModel>).value._id).toBe(AGENT_SMITH_ID);
    expect((settled[2] as PromiseFulfilledResult<AgentModel>).value._id).toBe(MANAGER_JONES_ID);
    expect(client.userCalls).toHaveLength(3);
    expect(notFound.extensions.upstream).toStrictEqual({ status: 400, error: 'User not found.' });
  });

  it('a non-Error rejection becomes an Error for its key alone', async () => {
    const client = new FakeClient((key) => (key === 'bAd' ? { reject: 'plain string' } : user(key)));
    const users = api(client);
    const settled = await settleAll([users.load('bAd'), users.load('gOoD')]);
    expect(settled.map((s) => s.status)).toStrictEqual(['rejected', 'fulfilled']);
    const reason = (settled[0] as PromiseRejectedResult).reason as unknown;
    expect(reason).toBeInstanceOf(Error);
    expect((reason as Error).message).toBe('plain string');
  });
});

describe('UsersAPI spends the operation’s shared call budget', () => {
  it('CallBudget(2) with 3 distinct users: two calls, the third UPSTREAM_BUDGET_EXCEEDED', async () => {
    const client = new FakeClient();
    const budget = new CallBudget(2);
    const users = api(client, { budget });
    const settled = await settleAll([users.load('uSeR1'), users.load('uSeR2'), users.load('uSeR1'), users.load('uSeR3')]);
    expect(client.userCalls.map((c) => c.key)).toStrictEqual(['uSeR1', 'uSeR2']);
    expect(settled.map((s) => s.status)).toStrictEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    const over = reasonOf(settled[3]!);
    expect(over).toBeInstanceOf(GatewayError);
    expect(over.code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    expect(over.extensions.code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    expect(over.message).toContain('2');
    // Raised per field during execution, not as a refusal of the whole request.
    expect(over.http).toBeUndefined();
    expect(budget.used).toBe(2);
  });

  it('a budget other loaders already used up: rejected, no call, budget unchanged', async () => {
    const client = new FakeClient();
    const budget = new CallBudget(3);
    expect(budget.take(3)).toBe(3);
    const err = await rejection(api(client, { budget }).load(AGENT_SMITH_ID));
    expect(err.code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    expect(client.userCalls).toHaveLength(0);
    expect(budget.used).toBe(3);
  });

  it('repeated loads of one user take one call off the budget', async () => {
    const budget = new CallBudget(10);
    const users = api(new FakeClient(), { budget });
    await Promise.all([users.load('a1'), users.load('a1'), users.load('b2'), users.load('a1')]);
    expect(budget.used).toBe(2);
  });
});

describe('UsersAPI refuses before calling Rocket.Chat', () => {
  it('refused credentials → UNAUTHENTICATED naming the reason, no call, no budget spent', async () => {
    const client = new FakeClient();
    const budget = new CallBudget(5);
    const users = api(client, { credentials: { refused: 'missing X-Auth-Token or X-User-Id' }, budget });
    const settled = await settleAll([users.load(AGENT_SMITH_ID), users.load('agent.smith')]);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      const reason = reasonOf(s);
      expect(reason).toBeInstanceOf(GatewayError);
      expect(reason.code).toBe('UNAUTHENTICATED');
      expect(reason.message).toContain('missing X-Auth-Token or X-User-Id');
    }
    expect(client.userCalls).toHaveLength(0);
    expect(budget.used).toBe(0);
  });

  it.each([
    ['a space', 'a b'],
    ['markup', '<script>'],
    ['nothing', ''],
    ['a slash', 'a/b'],
    ['a query', 'a&username=b'],
    ['a percent sign', 'a%20b'],
    ['non-ASCII', 'dépt'],
    ['a newline', 'agent\nsmith'],
    ['121 characters', 'a.'.repeat(60) + 'a'],
  ])('a key with %s → UPSTREAM_BAD_RESPONSE, no call, the key not echoed', async (_label, key) => {
    const client = new FakeClient();
    const err = await rejection(api(client).load(key));
    expect(err.code).toBe('UPSTREAM_BAD_RESPONSE');
    if (key.length > 2) expect(err.message).not.toContain(key);
    expect(client.userCalls).toHaveLength(0);
  });

  it('a malformed key in the same tick as good ones rejects alone; the good ones are called', async () => {
    const client = new FakeClient();
    const users = api(client);
    const settled = await settleAll([users.load('gOoD1'), users.load('<script>'), users.load('gOoD2')]);
    expect(settled.map((s) => s.status)).toStrictEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(reasonOf(settled[1]!).code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(client.userCalls.map((c) => c.key)).toStrictEqual(['gOoD1', 'gOoD2']);
  });

  it.each([
    ['a Meteor id', AGENT_SMITH_ID],
    ['an ObjectId', '642fc15452492a08c3a756de'],
    ['a dotted username', 'agent.smith'],
    ['a federated username', '@alex.smith@matrix.example.org'],
    ['an e-mail-like username', 'first.last@example.org'],
    ['hyphens and underscores', 'a-b_c'],
    ['120 characters', 'a.'.repeat(60)],
  ])('%s is accepted and goes to the client unchanged', async (_label, key) => {
    const client = new FakeClient();
    await expect(api(client).load(key)).resolves.toMatchObject({ _id: key });
    expect(client.userCalls.map((c) => c.key)).toStrictEqual([key]);
  });
});

describe('UsersAPI calls as the caller', () => {
  it('passes the caller’s credentials, requestId, clientIp and cancellation to every call', async () => {
    const client = new FakeClient();
    const credentials = { authToken: 'tOkEn-For-This-Caller', userId: 'uSeRfOrThIsCaLl1' };
    const cancellation = new Cancellation();
    const users = api(client, { credentials, call: { requestId: 'req-xyz', clientIp: '203.0.113.9', cancellation } });
    await Promise.all([users.load(AGENT_SMITH_ID), users.load(MANAGER_JONES_ID)]);
    expect(client.userCalls).toHaveLength(2);
    for (const { options } of client.userCalls) {
      expect(options.credentials).toStrictEqual(credentials);
      expect(options.requestId).toBe('req-xyz');
      expect(options.clientIp).toBe('203.0.113.9');
      expect(options.cancellation).toBe(cancellation);
    }
  });

  it('without a requestId or clientIp the options carry only the credentials', async () => {
    const client = new FakeClient();
    await api(client, { call: {} }).load(AGENT_SMITH_ID);
    expect(client.userCalls[0]!.options).toStrictEqual({ credentials: CREDS });
  });

  it('two UsersAPIs (two requests) never share an answer', async () => {
    const client = new FakeClient();
    const first = api(client, { credentials: { authToken: 'tOkEnA', userId: 'uSeRa' } });
    const second = api(client, { credentials: { authToken: 'tOkEnB', userId: 'uSeRb' } });
    await Promise.all([first.load(AGENT_SMITH_ID), second.load(AGENT_SMITH_ID)]);
    expect(client.userCalls.map((c) => c.options.credentials.userId).sort()).toStrictEqual(['uSeRa', 'uSeRb']);
  });
});

describe('UsersAPI: keys that name no user, or not a user', () => {
  it('a malformed key costs none of the budget: with room for one call, the good key beside it is still called', async () => {
    const client = new FakeClient();
    const budget = new CallBudget(1);
    const users = api(client, { budget });
    const [bad, good] = await settleAll([users.load('a b'), users.load('gOoD')]);
    expect(reasonOf(bad!).code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(good!.status).toBe('fulfilled');
    expect(client.userCalls.map((c) => c.key)).toEqual(['gOoD']);
    expect(budget.used).toBe(1);
  });

  it('loadIfNamed: no key is no user, without a call', async () => {
    const client = new FakeClient();
    const users = api(client);
    await expect(users.loadIfNamed(undefined)).resolves.toBeNull();
    await expect(users.loadIfNamed('')).resolves.toBeNull();
    expect(client.userCalls).toHaveLength(0);
    await expect(users.loadIfNamed(AGENT_SMITH_ID)).resolves.toMatchObject({ _id: AGENT_SMITH_ID });
  });
});
