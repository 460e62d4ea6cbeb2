/**
 * Visitor.department and department(id) through the whole gateway, against the demo Rocket.Chat
 * (a real HTTP server answering department.listByIds as NEIGHBOURS.md says): the batching figure,
 * the wire form of the ids, deleted departments, refusals on the field only, and callers kept apart.
 */
import { describe, expect, it } from 'vitest';
import { ARCHIVED_DEPARTMENT_ID, DEMO_DEPARTMENTS, SALES_DEPARTMENT_ID, SUPPORT_DEPARTMENT_ID } from '../../src/demo/departments.js';
import type { RecordedRequest } from '../../src/demo/upstream.js';
import { DEMO_LIMITED_CREDENTIALS, DEMO_VISITORS, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import type { WireDepartment, WireVisitor } from '../../src/rocketchat/models.js';
import { DEMO_HEADERS } from '../helpers/gateway.js';
import { useServers } from '../helpers/servers.js';

const servers = useServers();
const LIST_PATH = '/api/v1/livechat/department.listByIds';
const DELETED_DEPARTMENT_ID = 'dElEtEdDePaRtMeNt';
const FOURTH_DEPARTMENT: WireDepartment = { _id: 'fOuRtHdEpArTmEnT1', name: 'Night shift', enabled: true, numAgents: 1 };
const LIMITED_HEADERS = { 'x-auth-token': DEMO_LIMITED_CREDENTIALS.authToken, 'x-user-id': DEMO_LIMITED_CREDENTIALS.userId };

/** 12 visitors over 4 departments, one of which Rocket.Chat no longer has. */
const DEPARTMENT_OF = [SUPPORT_DEPARTMENT_ID, SALES_DEPARTMENT_ID, FOURTH_DEPARTMENT._id, DELETED_DEPARTMENT_ID];
const VISITORS: WireVisitor[] = Array.from({ length: 12 }, (_, i) => ({
  _id: `bAtChViSiToR${String(i).padStart(5, '0')}`,
  name: `Visitor ${i}`,
  department: DEPARTMENT_OF[i % 4],
}));

const listCalls = (requests: RecordedRequest[]) => requests.filter((r) => r.path === LIST_PATH);
const idsOf = (request: RecordedRequest) => new URLSearchParams(request.search).getAll('ids[]');

async function start() {
  const upstream = await servers.demo({ record: true, visitors: [...DEMO_VISITORS, ...VISITORS], departments: [...DEMO_DEPARTMENTS, FOURTH_DEPARTMENT] });
  const gateway = await servers.gateway(upstream.url);
  return { upstream, gateway };
}

describe('departments', () => {
  it('12 visitors over 4 departments, one deleted: one department.listByIds call with the 4 distinct ids; the deleted one is null without an error', async () => {
    const { upstream, gateway } = await start();
    const res = await gateway.post(
      { query: 'query($ids: [ID!]!) { visitors(ids: $ids) { id department { id name } } }', variables: { ids: VISITORS.map((v) => v._id) } },
      DEMO_HEADERS,
    );
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const calls = listCalls(upstream.requests);
    expect(calls).toHaveLength(1);
    expect(idsOf(calls[0]!).sort()).toEqual([...DEPARTMENT_OF].sort());
    expect(upstream.requests.filter((r) => r.path.endsWith('visitors.info'))).toHaveLength(12);
    const answered = res.body.data!.visitors as Array<{ id: string; department: { id: string; name: string } | null }>;
    answered.forEach((visitor, i) => {
      const expected = DEPARTMENT_OF[i % 4];
      if (expected === DELETED_DEPARTMENT_ID) expect(visitor.department).toBeNull();
      else expect(visitor.department?.id).toBe(expected);
    });
    expect(answered[0]!.department?.name).toBe('Support');
    expect(answered[2]!.department?.name).toBe('Night shift');
  });

  it('12 aliases of single visitors share one department call, as visitors(ids) does', async () => {
    const { upstream, gateway } = await start();
    const aliases = VISITORS.map((v, i) => `v${i}: visitor(id: "${v._id}") { department { id } }`).join(' ');
    const res = await gateway.post({ query: `{ ${aliases} }` }, DEMO_HEADERS);
    expect(res.body.errors).toBeUndefined();
    const calls = listCalls(upstream.requests);
    expect(calls).toHaveLength(1);
    expect(idsOf(calls[0]!).sort()).toEqual([...DEPARTMENT_OF].sort());
  });

  it('sends a lone department as an array (ids[]=X), and aliases of visitors with one department share one call', async () => {
    const { upstream, gateway } = await start();
    const res = await gateway.post(
      { query: `{ a: visitor(id: "${SEED_VISITOR_ID}") { department { name } } b: visitor(id: "${VISITORS[0]!._id}") { department { name enabled } } }` },
      DEMO_HEADERS,
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ a: { department: { name: 'Support' } }, b: { department: { name: 'Support', enabled: true } } });
    const calls = listCalls(upstream.requests);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.search).toBe(`ids[]=${SUPPORT_DEPARTMENT_ID}`);
  });

  it('maps every field of a department, the archived one included', async () => {
    const { gateway } = await start();
    const fields =
      'id name enabled archived description email agentCount showOnRegistration showOnOfflineForm requestTagBeforeClosingChat chatClosingTags updatedAt';
    const res = await gateway.post(
      { query: `{ s: department(id: "${SUPPORT_DEPARTMENT_ID}") { ${fields} } a: department(id: "${ARCHIVED_DEPARTMENT_ID}") { ${fields} } }` },
      DEMO_HEADERS,
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({
      s: {
        id: SUPPORT_DEPARTMENT_ID,
        name: 'Support',
        enabled: true,
        archived: false,
        description: 'First-line support for the web widget',
        email: 'support@example.org',
        agentCount: 3,
        showOnRegistration: true,
        showOnOfflineForm: true,
        requestTagBeforeClosingChat: true,
        chatClosingTags: ['resolved', 'follow-up'],
        updatedAt: '2024-02-19T10:04:51.220Z',
      },
      a: {
        id: ARCHIVED_DEPARTMENT_ID,
        name: 'Legacy Billing',
        enabled: false,
        archived: true,
        description: 'Moved to the billing portal',
        email: 'billing@example.org',
        agentCount: 0,
        showOnRegistration: false,
        showOnOfflineForm: false,
        requestTagBeforeClosingChat: null,
        chatClosingTags: [],
        updatedAt: '2023-09-01T08:00:00.000Z',
      },
    });
  });

  it('a caller without the permission gets FORBIDDEN on the department field only; the rest of the answer stands', async () => {
    const { gateway } = await start();
    const res = await gateway.post({ query: `{ __typename department(id: "${SUPPORT_DEPARTMENT_ID}") { name } }` }, LIMITED_HEADERS);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ __typename: 'Query', department: null });
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors![0]).toMatchObject({ path: ['department'], extensions: { code: 'FORBIDDEN', upstream: { status: 403 } } });
    expect(res.body.errors![0]!.message).toContain('view-livechat-departments');
  });

  it('an unknown department is null without an error; a malformed id is BAD_USER_INPUT and costs no call', async () => {
    const { upstream, gateway } = await start();
    const unknown = await gateway.post({ query: '{ department(id: "nOsUcHdEpArTmEnT") { name } }' }, DEMO_HEADERS);
    expect(unknown.body).toEqual({ data: { department: null } });
    upstream.reset();
    const bad = await gateway.post({ query: '{ department(id: "not an id") { name } }' }, DEMO_HEADERS);
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(upstream.calls).toBe(0);
  });

  it('two callers with different permissions asking for the same department in the same tick see only their own answers', async () => {
    const { upstream, gateway } = await start();
    const query = { query: `{ department(id: "${SUPPORT_DEPARTMENT_ID}") { name } }` };
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? gateway.post(query, LIMITED_HEADERS) : gateway.post(query, DEMO_HEADERS)).then((res) => ({ i, res }))),
    );
    for (const { i, res } of answers) {
      if (i % 2) {
        expect(res.body.data?.department).toBeNull();
        expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      } else {
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data?.department).toEqual({ name: 'Support' });
      }
    }
    // Each caller's calls carry their own credentials only.
    for (const request of listCalls(upstream.requests)) {
      expect([DEMO_HEADERS['x-user-id'], LIMITED_HEADERS['x-user-id']]).toContain(request.headers['x-user-id']);
      const token = request.headers['x-user-id'] === DEMO_HEADERS['x-user-id'] ? DEMO_HEADERS['x-auth-token'] : LIMITED_HEADERS['x-auth-token'];
      expect(request.headers['x-auth-token']).toBe(token);
    }
  });

  it('counts department calls in the operation log and against the upstream-call budget', async () => {
    const upstream = await servers.demo({ record: true, visitors: [...DEMO_VISITORS, ...VISITORS] });
    const gateway = await servers.gateway(upstream.url, { MAX_UPSTREAM_CALLS: '12' });
    const ids = VISITORS.map((v) => v._id);
    // 12 visitors alone fit; with their departments (one more call) the operation is refused up front.
    const plain = await gateway.post({ query: 'query($ids: [ID!]!) { visitors(ids: $ids) { id } }', variables: { ids } }, DEMO_HEADERS);
    expect(plain.body.errors).toBeUndefined();
    upstream.reset();
    const withDepartments = await gateway.post(
      { query: 'query($ids: [ID!]!) { visitors(ids: $ids) { id department { name } } }', variables: { ids } },
      DEMO_HEADERS,
    );
    expect(withDepartments.status).toBe(400);
    expect(withDepartments.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_BUDGET_EXCEEDED');
    expect(upstream.calls).toBe(0);
    const one = await gateway.post({ query: `{ visitor(id: "${SEED_VISITOR_ID}") { department { name } } }` }, DEMO_HEADERS);
    expect(one.body.errors).toBeUndefined();
    const line = gateway.logs.filter((l) => l.msg === 'graphql operation').at(-1);
    expect(line).toMatchObject({ upstreamCalls: 2 });
  });
});
