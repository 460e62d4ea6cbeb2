/**
 * The shared cache never serves one caller's answer to another, in memory and through Redis alike:
 * a caller without `view-l-room`, the same user with another token, and callers asking at the same
 * time each get what Rocket.Chat answers them, never what it answered someone else; a refusal
 * retires every route's entries of the caller; and routes that prove less than `view-l-room`
 * (users.info, department.listByIds) never keep a caller's cached visitors servable.
 */
import { describe, expect, it } from 'vitest';
import { SALES_DEPARTMENT_ID, SUPPORT_DEPARTMENT_ID, DEMO_DEPARTMENTS } from '../../src/demo/departments.js';
import { AGENT_SMITH_ID, DEMO_USER_RECORDS, MANAGER_JONES_ID, userAsSeenBy } from '../../src/demo/users.js';
import type { RecordedRequest } from '../../src/demo/upstream.js';
import { DEMO_CREDENTIALS, DEMO_LIMITED_CREDENTIALS, DEMO_VISITORS, FULL_VISITOR_ID } from '../../src/demo/visitors.js';
import { globalId } from '../../src/nodes.js';
import type { FakeReply, FakeRequest } from '../helpers/fakeUpstream.js';
import { DEMO_HEADERS, type GraphQLBody, type TestGateway } from '../helpers/gateway.js';
import { needsRedis, NO_REDIS } from '../helpers/process.js';
import { sharedCacheEnv, untilCacheReady } from '../helpers/sharedCache.js';
import { CONSOLE_QUERY } from '../helpers/console.js';
import { sleep } from '../helpers/promises.js';
import { useServers } from '../helpers/servers.js';

const servers = useServers();

const LIMITED_HEADERS = {
  'x-auth-token': DEMO_LIMITED_CREDENTIALS.authToken,
  'x-user-id': DEMO_LIMITED_CREDENTIALS.userId,
} as const;
/** The full caller's user id with a token Rocket.Chat does not know (the demo accepts only its own). */
const WRONG_TOKEN = 'WrOnGtOkEnWrOnGtOkEnWrOnGtOkEnWrOnGtOkEnXyZ';
const WRONG_TOKEN_HEADERS = { 'x-auth-token': WRONG_TOKEN, 'x-user-id': DEMO_CREDENTIALS.userId } as const;

const CONSOLE = CONSOLE_QUERY;
const CONSOLE_OP = { query: CONSOLE, variables: { id: FULL_VISITOR_ID } };

/**
 * The routes that need no visitor, asked directly: a department (cached by the console query) and
 * two users: the full caller itself, whose e-mails Rocket.Chat shows only to that caller, and the
 * visitor's last agent (cached by the console query).
 */
const DIRECT_OP = {
  query: `query Direct($department: ID!, $self: ID!, $agent: ID!) {
    department(id: $department) { id name }
    self: node(id: $self) { ... on Agent { id name emails { address } } }
    agent: node(id: $agent) { ... on Agent { id name } }
  }`,
  variables: { department: SUPPORT_DEPARTMENT_ID, self: globalId('Agent', DEMO_CREDENTIALS.userId), agent: globalId('Agent', AGENT_SMITH_ID) },
};

/** What of the full caller's answers must never reach another caller through the console query. */
const FULL_CALLER_DATA = ['Ada Lovelace', 'Lovelace', 'ada@example.org', 'guest-4711', 'Support', 'Alex Smith', 'Morgan Jones', 'demo.agent@example.org'];
/** Of the direct operation: the department (refused to the limited caller) and the full caller's own e-mail. */
const FULL_CALLER_DIRECT_DATA = ['Support', 'demo.agent@example.org'];

const codes = (body: GraphQLBody) => (body.errors ?? []).map((e) => [e.path?.join('.'), e.extensions?.code]);

/** The body without what differs between any two requests (the request id). */
function answer(body: GraphQLBody): GraphQLBody {
  const errors = body.errors?.map(({ extensions, ...rest }) => {
    const { requestId, ...others } = extensions ?? {};
    expect(typeof requestId).toBe('string');
    return { ...rest, extensions: others };
  });
  return errors ? { ...body, errors } : body;
}

function leaked(body: GraphQLBody, texts: readonly string[]): string[] {
  const json = JSON.stringify(body);
  return texts.filter((text) => json.includes(text));
}

/** `users.info`, `visitors.info`, …, of the requests a demo received with this user id (and token, if given). */
function routesOf(requests: readonly RecordedRequest[], userId: string, authToken?: string): string[] {
  return requests
    .filter((r) => r.headers['x-user-id'] === userId && (authToken === undefined || r.headers['x-auth-token'] === authToken))
    .map((r) =>
      r.path
        .replace(/\/room\/.*$/, '')
        .split('/')
        .pop()!,
    )
    .sort();
}

async function cachedGateway(store: 'memory' | 'redis', upstreamUrl: string, recheckMs = 60_000): Promise<TestGateway> {
  const gateway = await servers.gateway(upstreamUrl, await sharedCacheEnv(servers, store, recheckMs));
  if (store === 'redis') await untilCacheReady(gateway);
  return gateway;
}

/**
 * A scripted Rocket.Chat for what the demo's fixed users cannot do: revoke a token or a permission
 * while users.info and department.listByIds go on answering. Names carry `version`, so an answer
 * cached before a change shows.
 */
function scriptedUpstream() {
  const visitor = DEMO_VISITORS.find((v) => v._id === FULL_VISITOR_ID)!;
  const state = {
    version: 1,
    /** The next call of this path answers this status (401: token revoked; 403: permission withdrawn), once. */
    refuseNext: undefined as { path: string; status: 401 | 403 } | undefined,
    /** The caller lost `view-l-room`: visitors.info, visitors.search and chat history answer 403. */
    withoutViewLRoom: false,
    /** Paths asked, /api/info left out. */
    paths: [] as string[],
    script: (req: FakeRequest): FakeReply => {
      if (req.path === '/api/info') return { status: 200, body: { version: '8.4.1', success: true } };
      const route = req.path
        .replace(/\/room\/.*$/, '')
        .split('/')
        .pop()!;
      state.paths.push(route);
      if (state.refuseNext?.path === route) {
        const { status } = state.refuseNext;
        state.refuseNext = undefined;
        return status === 401 ? UNAUTHORIZED : FORBIDDEN;
      }
      const v = state.version;
      switch (route) {
        case 'visitors.info':
          if (state.withoutViewLRoom) return FORBIDDEN;
          return { body: { visitor: { ...visitor, _id: req.query.visitorId, name: `Ada v${v}` }, success: true } };
        case 'department.listByIds': {
          const department = DEMO_DEPARTMENTS.find((d) => d._id === req.query['ids[]']);
          return { body: { departments: department ? [{ ...department, name: `${department.name} v${v}` }] : [], success: true } };
        }
        case 'users.info': {
          const user = DEMO_USER_RECORDS.find((u) => u._id === req.query.userId);
          if (!user) return { status: 400, body: { success: false, error: 'User not found.' } };
          return { body: { user: { ...userAsSeenBy(user, String(req.headers['x-user-id']), new Set()), name: `${user.name} v${v}` }, success: true } };
        }
        default:
          return FORBIDDEN;
      }
    },
  };
  return state;
}
const UNAUTHORIZED: FakeReply = { status: 401, body: { status: 'error', message: 'You must be logged in to do this.' } };
const FORBIDDEN: FakeReply = {
  status: 403,
  body: { success: false, error: 'User does not have the permissions required for this action [error-unauthorized]' },
};

/** A department and an agent, the routes that never count as an acceptance. */
const DEPARTMENT_AND_AGENT = {
  query: `query($agent: ID!) { department(id: "${SUPPORT_DEPARTMENT_ID}") { name } node(id: $agent) { ... on Agent { name } } }`,
  variables: { agent: globalId('Agent', AGENT_SMITH_ID) },
};
const departmentAndAgent = (v: number) => ({ department: { name: `Support v${v}` }, node: { name: `Alex Smith v${v}` } });

describe.each(['memory', 'redis'] as const)('cache isolation between callers (%s)', (store) => {
  const test = it.skipIf(store === 'redis' && !!NO_REDIS);
  const named = (name: string) => (store === 'redis' ? needsRedis(name) : name);

  test(named('a caller without view-l-room, asking what the full caller has cached, gets FORBIDDEN from its own calls, never the cached answers'), async () => {
    const demo = await servers.demo({ record: true });
    // What Rocket.Chat answers each caller without any cache: the cached gateway must answer the same.
    const plain = await servers.gateway(demo.url);
    const limitedPlain = await plain.post(CONSOLE_OP, LIMITED_HEADERS);
    const limitedDirectPlain = await plain.post(DIRECT_OP, LIMITED_HEADERS);

    const gateway = await cachedGateway(store, demo.url);
    const full = await gateway.post(CONSOLE_OP, DEMO_HEADERS);
    expect(full.body.errors).toBeUndefined();
    expect(full.body.data!.visitor).toMatchObject({ name: 'Ada Lovelace', department: { name: 'Support' }, lastAgent: { agent: { name: 'Alex Smith' } } });
    const fullDirect = await gateway.post(DIRECT_OP, DEMO_HEADERS);
    expect(fullDirect.body.errors).toBeUndefined();
    expect(fullDirect.body.data!.self.emails).toEqual([{ address: 'demo.agent@example.org' }]);
    // Every route's answers are cached for the full caller now: asking again costs nothing.
    demo.reset();
    expect((await gateway.post(CONSOLE_OP, DEMO_HEADERS)).body).toEqual(full.body);
    expect((await gateway.post(DIRECT_OP, DEMO_HEADERS)).body).toEqual(fullDirect.body);
    expect(demo.requests).toEqual([]);

    const limited = await gateway.post(CONSOLE_OP, LIMITED_HEADERS);
    expect(codes(limited.body)).toEqual([
      ['visitor', 'FORBIDDEN'],
      ['searchVisitors', 'FORBIDDEN'],
    ]);
    expect(limited.body.data ?? null).toBeNull();
    expect(leaked(limited.body, FULL_CALLER_DATA)).toEqual([]);
    expect(answer(limited.body)).toEqual(answer(limitedPlain.body));
    expect(routesOf(demo.requests, DEMO_LIMITED_CREDENTIALS.userId, DEMO_LIMITED_CREDENTIALS.authToken)).toEqual(['visitors.info', 'visitors.search']);

    demo.reset();
    const limitedDirect = await gateway.post(DIRECT_OP, LIMITED_HEADERS);
    expect(codes(limitedDirect.body)).toEqual([['department', 'FORBIDDEN']]);
    expect(limitedDirect.body.data).toEqual({
      department: null,
      // users.info is open to any logged-in user, but shows the full caller's e-mails only to it.
      self: { id: DEMO_CREDENTIALS.userId, name: 'Demo Agent', emails: null },
      agent: { id: AGENT_SMITH_ID, name: 'Alex Smith' },
    });
    expect(leaked(limitedDirect.body, FULL_CALLER_DIRECT_DATA)).toEqual([]);
    expect(answer(limitedDirect.body)).toEqual(answer(limitedDirectPlain.body));
    expect(routesOf(demo.requests, DEMO_LIMITED_CREDENTIALS.userId, DEMO_LIMITED_CREDENTIALS.authToken)).toEqual([
      'department.listByIds',
      'users.info',
      'users.info',
    ]);
    expect(routesOf(demo.requests, DEMO_CREDENTIALS.userId)).toEqual([]);

    // The limited caller's refusals are its own: the full caller's cache is untouched.
    demo.reset();
    expect((await gateway.post(CONSOLE_OP, DEMO_HEADERS)).body).toEqual(full.body);
    expect(demo.requests).toEqual([]);
  });

  test(named('both callers at once on a cold cache: each gets only its own answers'), async () => {
    const demo = await servers.demo({ record: true });
    const plain = await servers.gateway(demo.url);
    const [fullPlain, fullDirectPlain, limitedPlain, limitedDirectPlain] = await Promise.all([
      plain.post(CONSOLE_OP, DEMO_HEADERS),
      plain.post(DIRECT_OP, DEMO_HEADERS),
      plain.post(CONSOLE_OP, LIMITED_HEADERS),
      plain.post(DIRECT_OP, LIMITED_HEADERS),
    ]);
    expect(fullPlain.body.errors).toBeUndefined();
    expect(fullDirectPlain.body.errors).toBeUndefined();

    const gateway = await cachedGateway(store, demo.url);
    for (let round = 1; round <= 3; round++) {
      demo.reset();
      const [full, fullDirect, limited, limitedDirect] = await Promise.all([
        gateway.post(CONSOLE_OP, DEMO_HEADERS),
        gateway.post(DIRECT_OP, DEMO_HEADERS),
        gateway.post(CONSOLE_OP, LIMITED_HEADERS),
        gateway.post(DIRECT_OP, LIMITED_HEADERS),
      ]);
      expect(answer(full.body), `round ${round}`).toEqual(answer(fullPlain.body));
      expect(answer(fullDirect.body), `round ${round}`).toEqual(answer(fullDirectPlain.body));
      expect(answer(limited.body), `round ${round}`).toEqual(answer(limitedPlain.body));
      expect(answer(limitedDirect.body), `round ${round}`).toEqual(answer(limitedDirectPlain.body));
      expect(codes(limited.body)).toEqual([
        ['visitor', 'FORBIDDEN'],
        ['searchVisitors', 'FORBIDDEN'],
      ]);
      expect(codes(limitedDirect.body)).toEqual([['department', 'FORBIDDEN']]);
      expect(leaked(limited.body, FULL_CALLER_DATA)).toEqual([]);
      expect(leaked(limitedDirect.body, FULL_CALLER_DIRECT_DATA)).toEqual([]);
      // Rocket.Chat refuses the limited caller every time, so it asks every time; the full caller
      // asks on the cold round only.
      expect(routesOf(demo.requests, DEMO_LIMITED_CREDENTIALS.userId, DEMO_LIMITED_CREDENTIALS.authToken)).toEqual([
        'department.listByIds',
        'users.info',
        'users.info',
        'visitors.info',
        'visitors.search',
      ]);
      if (round > 1) expect(routesOf(demo.requests, DEMO_CREDENTIALS.userId)).toEqual([]);
    }
  });

  test(named('the same user with a token Rocket.Chat refuses gets UNAUTHENTICATED everywhere, and the real token keeps its cache'), async () => {
    const demo = await servers.demo({ record: true });
    const gateway = await cachedGateway(store, demo.url);
    const full = await gateway.post(CONSOLE_OP, DEMO_HEADERS);
    expect(full.body.errors).toBeUndefined();
    const fullDirect = await gateway.post(DIRECT_OP, DEMO_HEADERS);
    expect(fullDirect.body.errors).toBeUndefined();

    demo.reset();
    const wrong = await gateway.post(CONSOLE_OP, WRONG_TOKEN_HEADERS);
    expect(codes(wrong.body)).toEqual([
      ['visitor', 'UNAUTHENTICATED'],
      ['searchVisitors', 'UNAUTHENTICATED'],
    ]);
    expect(wrong.body.data ?? null).toBeNull();
    expect(leaked(wrong.body, FULL_CALLER_DATA)).toEqual([]);
    // Its own visitors.info was refused; the search met the operation's 401 without asking again.
    expect(routesOf(demo.requests, DEMO_CREDENTIALS.userId, WRONG_TOKEN)).toContain('visitors.info');

    demo.reset();
    const wrongDirect = await gateway.post(DIRECT_OP, WRONG_TOKEN_HEADERS);
    expect(wrongDirect.body.data).toEqual({ department: null, self: null, agent: null });
    expect(codes(wrongDirect.body).map(([, code]) => code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
    expect(leaked(wrongDirect.body, [...FULL_CALLER_DATA, 'Demo Agent'])).toEqual([]);
    expect(routesOf(demo.requests, DEMO_CREDENTIALS.userId, WRONG_TOKEN).length).toBeGreaterThan(0);
    expect(routesOf(demo.requests, DEMO_CREDENTIALS.userId, DEMO_CREDENTIALS.authToken)).toEqual([]);

    // Another token's refusal does not retire the real token's entries.
    demo.reset();
    expect((await gateway.post(CONSOLE_OP, DEMO_HEADERS)).body).toEqual(full.body);
    expect((await gateway.post(DIRECT_OP, DEMO_HEADERS)).body).toEqual(fullDirect.body);
    expect(demo.requests).toEqual([]);
  });

  const REFUSALS = [
    { route: 'visitors.info', status: 401, code: 'UNAUTHENTICATED', op: { query: '{ visitor(id: "oThErViSiToR00001") { id } }' } },
    { route: 'department.listByIds', status: 403, code: 'FORBIDDEN', op: { query: `{ department(id: "${SALES_DEPARTMENT_ID}") { id } }` } },
    {
      route: 'users.info',
      status: 401,
      code: 'UNAUTHENTICATED',
      op: { query: 'query($id: ID!) { node(id: $id) { nodeId } }', variables: { id: globalId('Agent', MANAGER_JONES_ID) } },
    },
  ] as const;
  for (const refusal of REFUSALS) {
    test(named(`after one ${refusal.status} on ${refusal.route}, the caller's cached department and agent are no longer served`), async () => {
      const upstream = scriptedUpstream();
      const fake = await servers.fake(upstream.script);
      // A long recheck window: only the refusal can stop the cached entries being served.
      const gateway = await cachedGateway(store, fake.url);
      const warm = await gateway.post(
        { query: `{ visitor(id: "${FULL_VISITOR_ID}") { name department { name } lastAgent { agent { name } } } }` },
        DEMO_HEADERS,
      );
      expect(warm.body).toEqual({ data: { visitor: { name: 'Ada v1', department: { name: 'Support v1' }, lastAgent: { agent: { name: 'Alex Smith v1' } } } } });

      // Rocket.Chat's answers change; the cached ones are still served, without asking.
      upstream.version = 2;
      upstream.paths.length = 0;
      expect((await gateway.post(DEPARTMENT_AND_AGENT, DEMO_HEADERS)).body).toEqual({ data: departmentAndAgent(1) });
      expect(upstream.paths).toEqual([]);

      upstream.refuseNext = { path: refusal.route, status: refusal.status };
      const refused = await gateway.post(refusal.op, DEMO_HEADERS);
      expect(codes(refused.body).map(([, code]) => code)).toEqual([refusal.code]);
      expect(upstream.paths).toEqual([refusal.route]);

      // No record now: both are asked, and nothing is served from before the refusal.
      upstream.paths.length = 0;
      expect((await gateway.post(DEPARTMENT_AND_AGENT, DEMO_HEADERS)).body).toEqual({ data: departmentAndAgent(2) });
      expect(upstream.paths.sort()).toEqual(['department.listByIds', 'users.info']);

      // Accepted again: a new generation, which never reaches the entries from before the refusal.
      upstream.paths.length = 0;
      expect((await gateway.post({ query: `{ visitor(id: "${FULL_VISITOR_ID}") { name } }` }, DEMO_HEADERS)).body).toEqual({
        data: { visitor: { name: 'Ada v2' } },
      });
      expect((await gateway.post(DEPARTMENT_AND_AGENT, DEMO_HEADERS)).body).toEqual({ data: departmentAndAgent(2) });
      expect(upstream.paths.sort()).toEqual(['department.listByIds', 'users.info', 'visitors.info']);

      // And the new generation caches as the old one did.
      upstream.version = 3;
      upstream.paths.length = 0;
      expect((await gateway.post(DEPARTMENT_AND_AGENT, DEMO_HEADERS)).body).toEqual({ data: departmentAndAgent(2) });
      expect(upstream.paths).toEqual([]);
    });
  }

  test(
    named('once stale, agents and departments Rocket.Chat still answers do not make the visitors of a caller who lost view-l-room servable again'),
    async () => {
      const RECHECK_MS = 500;
      const upstream = scriptedUpstream();
      const fake = await servers.fake(upstream.script);
      const gateway = await cachedGateway(store, fake.url, RECHECK_MS);
      const VISITOR = { query: `{ visitor(id: "${FULL_VISITOR_ID}") { name lastAgent { agent { name } } } }` };
      const warm = await gateway.post(VISITOR, DEMO_HEADERS);
      expect(warm.body).toEqual({ data: { visitor: { name: 'Ada v1', lastAgent: { agent: { name: 'Alex Smith v1' } } } } });

      // The permission goes. Within the window the cached visitor is still served (README: it stops
      // within CACHE_RECHECK_MS), without asking.
      upstream.withoutViewLRoom = true;
      upstream.paths.length = 0;
      expect((await gateway.post(VISITOR, DEMO_HEADERS)).body).toEqual(warm.body);
      expect(upstream.paths).toEqual([]);

      await sleep(RECHECK_MS + 100);
      // Stale: agents and a department go to Rocket.Chat, which still answers them, and that does not
      // count as an acceptance, however many there are.
      const AGENTS_ONLY = {
        query: `query($ids: [ID!]!) { department(id: "${SUPPORT_DEPARTMENT_ID}") { name } nodes(ids: $ids) { ... on Agent { name } } }`,
        variables: { ids: [globalId('Agent', AGENT_SMITH_ID), globalId('Agent', MANAGER_JONES_ID)] },
      };
      const askedByRound: string[][] = [];
      for (let i = 0; i < 3; i++) {
        upstream.paths.length = 0;
        const agents = await gateway.post(AGENTS_ONLY, DEMO_HEADERS);
        expect(agents.body).toEqual({ data: { department: { name: 'Support v1' }, nodes: [{ name: 'Alex Smith v1' }, { name: 'Morgan Jones v1' }] } });
        askedByRound.push(upstream.paths.splice(0).sort());
      }

      const visitor = await gateway.post(VISITOR, DEMO_HEADERS);
      expect(codes(visitor.body)).toEqual([['visitor', 'FORBIDDEN']]);
      expect(visitor.body.data).toEqual({ visitor: null });
      expect(leaked(visitor.body, ['Ada'])).toEqual([]);
      expect(upstream.paths).toEqual(['visitors.info']);
      // Stale, so no agent or department was served from the cache either: each round asked them all.
      expect(askedByRound).toEqual(Array.from({ length: 3 }, () => ['department.listByIds', 'users.info', 'users.info']));

      // The 403 retired the generation: the visitor is asked (and refused) again, never served.
      upstream.paths.length = 0;
      expect(codes((await gateway.post(VISITOR, DEMO_HEADERS)).body)).toEqual([['visitor', 'FORBIDDEN']]);
      expect(upstream.paths).toEqual(['visitors.info']);
    },
  );
});
