/**
 * The agents around a visitor (`lastAgent.agent`, `contactManager.user`) through the whole gateway,
 * against the demo Rocket.Chat's users.info: the mapping, what Rocket.Chat hides from ordinary
 * callers, one call per distinct user per operation, and a deleted user.
 */
import { describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../../src/demo/upstream.js';
import { AGENT_SMITH_ID, MANAGER_JONES_ID } from '../../src/demo/users.js';
import { DEMO_CREDENTIALS, DEMO_VISITORS, FULL_VISITOR_ID } from '../../src/demo/visitors.js';
import type { WireVisitor } from '../../src/rocketchat/models.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { useServers } from '../helpers/servers.js';

const servers = useServers();
const USERS_INFO = '/api/v1/users.info';
const AGENT_FIELDS = 'id username name status livechatStatus statusText utcOffset avatarUrl emails { address verified }';

/** Visitors served by the same agent, one served by the caller themself, one by a deleted user. */
const SHARED_AGENT: WireVisitor[] = Array.from({ length: 6 }, (_, i) => ({
  _id: `sHaReDaGeNt${String(i).padStart(6, '0')}`,
  lastAgent: { username: 'agent.smith', agentId: AGENT_SMITH_ID, ts: '2024-06-12T14:30:59.004Z' },
  contactManager: { _id: i % 2 ? MANAGER_JONES_ID : AGENT_SMITH_ID, username: i % 2 ? 'manager.jones' : 'agent.smith' },
}));
const SELF_SERVED: WireVisitor = {
  _id: 'sElFsErVeDvIsIt01',
  lastAgent: { username: 'demo.agent', agentId: DEMO_CREDENTIALS.userId, ts: '2024-06-12T14:30:59.004Z' },
};
const GONE_AGENT: WireVisitor = {
  _id: 'gOnEaGeNtViSiT001',
  lastAgent: { username: 'left.company', agentId: 'lEfTcOmPaNy12345a', ts: '2024-01-02T03:04:05.006Z' },
};
const BY_USERNAME: WireVisitor = { _id: 'bYuSeRnAmEvIsIt01', contactManager: { username: 'manager.jones', name: 'Morgan Jones' } };

const usersCalls = (requests: RecordedRequest[]) => requests.filter((r) => r.path === USERS_INFO);

async function start() {
  const upstream = await servers.demo({ record: true, visitors: [...DEMO_VISITORS, ...SHARED_AGENT, SELF_SERVED, GONE_AGENT, BY_USERNAME] });
  const gateway = await servers.gateway(upstream.url);
  return { upstream, gateway };
}

describe('agents', () => {
  it("maps the full visitor's last agent and contact manager, as Rocket.Chat shows them to an ordinary caller", async () => {
    const { upstream, gateway } = await start();
    const res = await gateway.post(
      { query: `{ visitor(id: "${FULL_VISITOR_ID}") { lastAgent { agent { ${AGENT_FIELDS} } } contactManager { user { ${AGENT_FIELDS} } } } }` },
      DEMO_HEADERS,
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.visitor).toEqual({
      lastAgent: {
        agent: {
          id: AGENT_SMITH_ID,
          username: 'agent.smith',
          name: 'Alex Smith',
          status: 'ONLINE',
          livechatStatus: 'AVAILABLE',
          statusText: 'On the support rota until 18:00',
          utcOffset: 1,
          avatarUrl: `${upstream.url}/avatar/agent.smith?etag=x8Kq2Lw`,
          // Rocket.Chat shows another user's e-mails only with view-full-other-user-info.
          emails: null,
        },
      },
      contactManager: {
        user: {
          id: MANAGER_JONES_ID,
          username: 'manager.jones',
          name: 'Morgan Jones',
          status: 'AWAY',
          livechatStatus: 'NOT_AVAILABLE',
          statusText: null,
          utcOffset: -3,
          avatarUrl: `${upstream.url}/avatar/manager.jones`,
          emails: null,
        },
      },
    });
    const calls = usersCalls(upstream.requests);
    expect(calls.map((c) => c.search).sort()).toEqual([`userId=${AGENT_SMITH_ID}`, `userId=${MANAGER_JONES_ID}`]);
    for (const call of calls) {
      expect(call.headers['x-auth-token']).toBe(DEMO_CREDENTIALS.authToken);
      expect(call.headers['x-user-id']).toBe(DEMO_CREDENTIALS.userId);
    }
  });

  it('6 visitors sharing one agent, and a contact manager who is that agent too, cost one users.info call per distinct user', async () => {
    const { upstream, gateway } = await start();
    const res = await gateway.post(
      {
        query: 'query($ids: [ID!]!) { visitors(ids: $ids) { lastAgent { agent { name } } contactManager { user { name } } } }',
        variables: { ids: SHARED_AGENT.map((v) => v._id) },
      },
      DEMO_HEADERS,
    );
    expect(res.body.errors).toBeUndefined();
    const visitors = res.body.data!.visitors as Array<{ lastAgent: { agent: { name: string } }; contactManager: { user: { name: string } } }>;
    expect(visitors.map((v) => v.lastAgent.agent.name)).toEqual(Array(6).fill('Alex Smith'));
    expect(visitors.map((v) => v.contactManager.user.name)).toEqual(['Alex Smith', 'Morgan Jones', 'Alex Smith', 'Morgan Jones', 'Alex Smith', 'Morgan Jones']);
    expect(usersCalls(upstream.requests)).toHaveLength(2);
  });

  it("shows the caller's own e-mails, which Rocket.Chat gives to the user themself", async () => {
    const { gateway } = await start();
    const res = await gateway.post(
      { query: `{ visitor(id: "${SELF_SERVED._id}") { lastAgent { agent { username emails { address verified } } } } }` },
      DEMO_HEADERS,
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.visitor.lastAgent.agent).toEqual({ username: 'demo.agent', emails: [{ address: 'demo.agent@example.org', verified: true }] });
  });

  it('a user Rocket.Chat no longer has is NOT_FOUND on the agent field only', async () => {
    const { gateway } = await start();
    const res = await gateway.post({ query: `{ visitor(id: "${GONE_AGENT._id}") { id lastAgent { agentId agent { name } } } }` }, DEMO_HEADERS);
    expect(res.status).toBe(200);
    expect(res.body.data!.visitor).toEqual({ id: GONE_AGENT._id, lastAgent: { agentId: 'lEfTcOmPaNy12345a', agent: null } });
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors![0]).toMatchObject({
      path: ['visitor', 'lastAgent', 'agent'],
      extensions: { code: 'NOT_FOUND', upstream: { status: 400, error: 'User not found.' } },
    });
  });

  it('a contact manager naming no user at all has no user, without a call or an error', async () => {
    const upstream = await servers.demo({
      record: true,
      visitors: [...DEMO_VISITORS, { _id: 'nOmAnAgErNaMe0001', contactManager: { name: 'Someone' } as WireVisitor['contactManager'] }],
    });
    const gateway = await servers.gateway(upstream.url);
    const res = await gateway.post({ query: '{ visitor(id: "nOmAnAgErNaMe0001") { contactManager { name user { name } } } }' }, DEMO_HEADERS);
    expect(res.body).toEqual({ data: { visitor: { contactManager: { name: 'Someone', user: null } } } });
    expect(usersCalls(upstream.requests)).toHaveLength(0);
  });

  it('a contact manager without an id is looked up by username', async () => {
    const { upstream, gateway } = await start();
    const res = await gateway.post({ query: `{ visitor(id: "${BY_USERNAME._id}") { contactManager { id user { id name } } } }` }, DEMO_HEADERS);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.visitor.contactManager).toEqual({ id: null, user: { id: MANAGER_JONES_ID, name: 'Morgan Jones' } });
    expect(usersCalls(upstream.requests).map((c) => c.search)).toEqual(['userId=manager.jones']);
  });

  it('counts users.info calls in the operation log', async () => {
    const { gateway } = await start();
    await gateway.post(
      { query: `{ visitor(id: "${FULL_VISITOR_ID}") { lastAgent { agent { name } } contactManager { user { name } } department { name } } }` },
      DEMO_HEADERS,
    );
    const line = gateway.logs.filter((l) => l.msg === 'graphql operation').at(-1);
    expect(line).toMatchObject({ upstreamCalls: 4, outcome: 'ok' });
  });
});
