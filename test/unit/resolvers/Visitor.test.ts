import { graphql, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GatewayContext } from '../../../src/context.js';
import {
  CUSTOM_FIELDS_VISITOR_ID,
  DEMO_VISITORS,
  DISABLED_VISITOR_ID,
  FULL_VISITOR_ID,
  MINIMAL_VISITOR_ID,
  SEED_VISITOR_ID,
  UNKNOWN_STATUS_VISITOR_ID,
  V85_VISITOR_ID,
} from '../../../src/demo/visitors.js';
import { createLogger } from '../../../src/logger.js';
import type { WireVisitor } from '../../../src/rocketchat/models.js';
import { buildSchema } from '../../../src/schema.js';

const ALL_FIELDS = /* GraphQL */ `
  query ($id: ID!) {
    visitor(id: $id) {
      id
      username
      name
      status
      createdAt
      updatedAt
      token
      departmentId
      phones {
        phoneNumber
      }
      emails {
        address
      }
      lastChat {
        id
        startedAt
      }
      lastAgent {
        agentId
        username
        assignedAt
      }
      contactManager {
        id
        username
        name
        emails {
          address
        }
      }
      customFields
      externalIds {
        appId
        entityId
        metadata
      }
      userAgent
      ip
      host
      activity
      disabled
    }
  }
`;

function fixture(id: string): WireVisitor {
  const v = DEMO_VISITORS.find((x) => x._id === id);
  if (!v) throw new Error(`fixture ${id} missing`);
  return v;
}

let schema: GraphQLSchema;
beforeAll(() => {
  schema = buildSchema();
});

/**
 * What a client receives: Apollo Server JSON-encodes the result. (In process, graphql-scalars'
 * DateTime serializes to a Date, which JSON turns into its ISO-8601 string.)
 */
function asSentOverHttp(result: ExecutionResult): ExecutionResult {
  return JSON.parse(JSON.stringify(result)) as ExecutionResult;
}

interface Run {
  result: ExecutionResult;
  logs: Record<string, unknown>[];
}

async function run(id: string, source = ALL_FIELDS, wire?: WireVisitor): Promise<Run & { loggerUsed: boolean }> {
  const logs: Record<string, unknown>[] = [];
  const log = createLogger('info', { write: (line: string) => void logs.push(JSON.parse(line)) });
  let loggerUsed = false;
  const contextValue = {
    visitors: {
      load: async (vid: string) => structuredClone(wire ?? fixture(vid)),
      loadMany: (ids: readonly string[]) => ids.map(async (vid) => structuredClone(fixture(vid))),
    },
    requestId: 'r1',
    // A getter, as in context.ts, where the per-request logger is made on first use.
    get log() {
      loggerUsed = true;
      return log;
    },
  } as unknown as GatewayContext;
  const executed = await graphql({ schema, source, contextValue, variableValues: { id } });
  return { result: asSentOverHttp(executed), logs, loggerUsed };
}

function visitorOf(r: Run): Record<string, unknown> {
  expect(r.result.errors).toBeUndefined();
  const data = r.result.data as { visitor: Record<string, unknown> | null };
  expect(data.visitor).not.toBeNull();
  return data.visitor as Record<string, unknown>;
}

describe('Visitor mapping: full visitor (every field set)', () => {
  it('maps every schema field from its wire field', async () => {
    const wire = fixture(FULL_VISITOR_ID);
    const v = visitorOf(await run(FULL_VISITOR_ID));
    expect(v).toStrictEqual({
      id: wire._id,
      username: 'guest-4711',
      name: 'Ada Lovelace',
      status: 'AWAY',
      createdAt: '2024-05-30T09:15:42.120Z',
      updatedAt: '2024-06-12T14:31:07.912Z',
      token: 'tKn3Wq8ZpR5sLmYhA',
      departmentId: '64181a0728384134ed600dcc',
      phones: [{ phoneNumber: '+44 20 7946 0018' }, { phoneNumber: '+44 7700 900461' }],
      emails: [{ address: 'ada@example.org' }, { address: 'ada.lovelace@example.net' }],
      lastChat: { id: 'rMz7kQp2WnXs4TfYd', startedAt: '2024-06-12T14:30:59.004Z' },
      lastAgent: { agentId: 'aGtSm1thK9Lp2QwEr', username: 'agent.smith', assignedAt: '2024-06-12T14:30:59.004Z' },
      contactManager: {
        id: 'cMgR4nAg3rXy7ZqWe',
        username: 'manager.jones',
        name: 'Morgan Jones',
        emails: [{ address: 'morgan.jones@example.org' }],
      },
      customFields: { plan: 'enterprise', accountNumber: 'ACC-00918' },
      externalIds: [
        {
          appId: 'b2f1c1a4-6d2e-4f0a-9a7e-3c5d8e1f2a90',
          entityId: '447700900461',
          metadata: { channel: 'whatsapp', verified: true, optInAt: '2024-05-30T09:16:00.000Z' },
        },
      ],
      userAgent: wire.userAgent,
      ip: '203.0.113.42',
      host: 'support.example.org',
      activity: ['2024-06', '2024-05'],
      disabled: false,
    });
  });

  it('takes each value from the wire record, field by field', async () => {
    const wire = fixture(FULL_VISITOR_ID);
    const v = visitorOf(await run(FULL_VISITOR_ID));
    expect(v.id).toBe(wire._id);
    expect(v.createdAt).toBe(wire.ts);
    expect(v.updatedAt).toBe(wire._updatedAt);
    expect(v.departmentId).toBe(wire.department);
    expect(v.phones).toStrictEqual(wire.phone);
    expect(v.emails).toStrictEqual(wire.visitorEmails);
    expect(v.customFields).toStrictEqual(wire.livechatData);
    expect(v.lastChat).toStrictEqual({ id: wire.lastChat?._id, startedAt: wire.lastChat?.ts });
    expect(v.lastAgent).toStrictEqual({
      agentId: wire.lastAgent?.agentId,
      username: wire.lastAgent?.username,
      assignedAt: wire.lastAgent?.ts,
    });
    expect(v.contactManager).toStrictEqual({
      id: wire.contactManager?._id,
      username: wire.contactManager?.username,
      name: wire.contactManager?.name,
      emails: wire.contactManager?.emails,
    });
    expect(v.externalIds).toStrictEqual(wire.externalIds);
    expect(v.token).toBe(wire.token);
    expect(v.userAgent).toBe(wire.userAgent);
    expect(v.ip).toBe(wire.ip);
    expect(v.host).toBe(wire.host);
    expect(v.activity).toStrictEqual(wire.activity);
    expect(v.disabled).toBe(wire.disabled);
  });

  it('exposes no wire names (_id, ts, phone, livechatData) on Visitor; `department` is the Department, the wire id is `departmentId`', () => {
    const fields = Object.keys((schema.getType('Visitor') as unknown as { getFields(): object }).getFields());
    for (const wireName of ['_id', '_updatedAt', 'ts', 'phone', 'visitorEmails', 'livechatData', 'lastActivity']) {
      expect(fields).not.toContain(wireName);
    }
    expect(String((schema.getType('Visitor') as unknown as { getFields(): Record<string, { type: unknown }> }).getFields().department!.type)).toBe(
      'Department',
    );
    expect(fields.sort()).toStrictEqual(
      [
        'id',
        'nodeId',
        'username',
        'name',
        'status',
        'createdAt',
        'updatedAt',
        'token',
        'departmentId',
        'department',
        'chats',
        'phones',
        'emails',
        'lastChat',
        'lastAgent',
        'contactManager',
        'customFields',
        'externalIds',
        'userAgent',
        'ip',
        'host',
        'activity',
        'disabled',
      ].sort(),
    );
  });
});

describe('Visitor mapping: the seed record', () => {
  it("maps BEHAVIOR.md's example (with the demo's lastChat)", async () => {
    const v = visitorOf(await run(SEED_VISITOR_ID));
    expect(v).toMatchObject({
      id: '642fc15452492a08c3a756de',
      username: 'guest-19',
      status: 'ONLINE',
      createdAt: '2023-04-07T07:08:04.375Z',
      updatedAt: '2023-11-03T08:23:23.449Z',
      name: 'Livechat Visitor',
      phones: [{ phoneNumber: '55 51 5555-5555' }],
      token: 'iNKE8a6k6cjbqWhWd',
      emails: [{ address: 'visitor@example.com' }],
      departmentId: '64181a0728384134ed600dcc',
      lastChat: { id: 'sEeDcHaT23NoV0317', startedAt: '2023-11-03T08:10:02.118Z' },
      lastAgent: null,
      contactManager: null,
      customFields: null,
      externalIds: [],
      activity: [],
    });
  });
});

describe('Visitor mapping: minimal visitor (only _id)', () => {
  it('answers null for nullable fields and [] for list fields, without errors', async () => {
    const v = visitorOf(await run(MINIMAL_VISITOR_ID));
    expect(v).toStrictEqual({
      id: MINIMAL_VISITOR_ID,
      username: null,
      name: null,
      status: null,
      createdAt: null,
      updatedAt: null,
      token: null,
      departmentId: null,
      phones: [],
      emails: [],
      lastChat: null,
      lastAgent: null,
      contactManager: null,
      customFields: null,
      externalIds: [],
      userAgent: null,
      ip: null,
      host: null,
      activity: [],
      disabled: null,
    });
  });

  it('logs no warning for an absent status', async () => {
    const { logs } = await run(MINIMAL_VISITOR_ID);
    expect(logs.filter((l) => l.level === 40)).toHaveLength(0);
  });
});

describe('Visitor mapping: Rocket.Chat 8.5 visitor', () => {
  it('token is null, phone null → [], externalIds without metadata → metadata null', async () => {
    const v = visitorOf(await run(V85_VISITOR_ID));
    expect(v.token).toBeNull();
    expect(v.phones).toStrictEqual([]);
    expect(v.emails).toStrictEqual([]);
    expect(v.status).toBe('OFFLINE');
    expect(v.externalIds).toStrictEqual([{ appId: '1e0d7c2b-9a34-4c5f-8e61-5b7a2d9c0f13', entityId: '5511987654321', metadata: null }]);
  });
});

describe('Visitor mapping: status', () => {
  it.each([
    [SEED_VISITOR_ID, 'ONLINE'],
    [FULL_VISITOR_ID, 'AWAY'],
    [CUSTOM_FIELDS_VISITOR_ID, 'BUSY'],
    [V85_VISITOR_ID, 'OFFLINE'],
    [DISABLED_VISITOR_ID, 'DISABLED'],
  ])('%s → %s', async (id, status) => {
    const v = visitorOf(await run(id, 'query ($id: ID!) { visitor(id: $id) { status } }'));
    expect(v.status).toBe(status);
  });

  it('disabled visitor: disabled true', async () => {
    const v = visitorOf(await run(DISABLED_VISITOR_ID, 'query ($id: ID!) { visitor(id: $id) { disabled status } }'));
    expect(v).toStrictEqual({ disabled: true, status: 'DISABLED' });
  });

  it('an unknown status → null, no GraphQL error, one warning naming the status and visitor', async () => {
    const r = await run(UNKNOWN_STATUS_VISITOR_ID);
    const v = visitorOf(r);
    expect(r.result.errors).toBeUndefined();
    expect(v.status).toBeNull();
    expect(v.name).toBe('Future Status Visitor');
    const warnings = r.logs.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ status: 'invisible', visitorId: UNKNOWN_STATUS_VISITOR_ID });
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'])(
    'status %j, a member of Object.prototype, is an unknown status: null and one warning',
    async (status) => {
      const r = await run(SEED_VISITOR_ID, 'query ($id: ID!) { visitor(id: $id) { id status } }', { _id: SEED_VISITOR_ID, status });
      expect(r.result.errors).toBeUndefined();
      expect(r.result.data).toStrictEqual({ visitor: { id: SEED_VISITOR_ID, status: null } });
      const warnings = r.logs.filter((l) => l.level === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ status, visitorId: SEED_VISITOR_ID });
    },
  );

  it('a status that differs from a known one only in case is unknown too', async () => {
    const r = await run(SEED_VISITOR_ID, 'query ($id: ID!) { visitor(id: $id) { status } }', { _id: SEED_VISITOR_ID, status: 'ONLINE' });
    expect(visitorOf(r).status).toBeNull();
  });

  it('an unknown status of 100 000 characters is logged by its first 64 only', async () => {
    const status = `new-${'s'.repeat(100_000)}`;
    const r = await run(SEED_VISITOR_ID, 'query ($id: ID!) { visitor(id: $id) { status } }', { _id: SEED_VISITOR_ID, status });
    expect(visitorOf(r).status).toBeNull();
    const warnings = r.logs.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.status).toBe(`${status.slice(0, 64)}…`);
    expect(JSON.stringify(r.logs).length).toBeLessThan(2048);
  });

  it('known statuses log no warning and never make the request logger', async () => {
    const { logs, loggerUsed } = await run(FULL_VISITOR_ID);
    expect(logs.filter((l) => l.level === 40)).toHaveLength(0);
    expect(loggerUsed).toBe(false);
  });
});

describe('Visitor mapping: custom fields', () => {
  it('passes nested JSON through untouched', async () => {
    const v = visitorOf(await run(CUSTOM_FIELDS_VISITOR_ID, 'query ($id: ID!) { visitor(id: $id) { customFields } }'));
    expect(v.customFields).toStrictEqual(fixture(CUSTOM_FIELDS_VISITOR_ID).livechatData);
  });
});

describe('Visitor mapping through visitors(ids)', () => {
  it('maps each visitor of a list, in order', async () => {
    const logs: unknown[] = [];
    const contextValue = {
      visitors: {
        load: async (vid: string) => fixture(vid),
        loadMany: (ids: readonly string[]) => ids.map(async (vid) => fixture(vid)),
      },
      requestId: 'r1',
      log: createLogger('info', { write: (line: string) => void logs.push(line) }),
    } as unknown as GatewayContext;
    const executed = await graphql({
      schema,
      source: 'query ($ids: [ID!]!) { visitors(ids: $ids) { id status phones { phoneNumber } } }',
      contextValue,
      variableValues: { ids: [V85_VISITOR_ID, SEED_VISITOR_ID, MINIMAL_VISITOR_ID] },
    });
    const result = asSentOverHttp(executed);
    expect(result.errors).toBeUndefined();
    expect(result.data).toStrictEqual({
      visitors: [
        { id: V85_VISITOR_ID, status: 'OFFLINE', phones: [] },
        { id: SEED_VISITOR_ID, status: 'ONLINE', phones: [{ phoneNumber: '55 51 5555-5555' }] },
        { id: MINIMAL_VISITOR_ID, status: null, phones: [] },
      ],
    });
  });
});
