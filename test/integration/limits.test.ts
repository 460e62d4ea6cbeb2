import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getIntrospectionQuery } from 'graphql';
import { startDemoUpstream, type DemoUpstream } from '../../src/demo/upstream.js';
import { SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { DEMO_HEADERS, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** Every limit refuses before execution: a coded error and zero upstream calls. */
describe('operation limits', () => {
  let upstream: DemoUpstream;
  let gateway: TestGateway;

  beforeAll(async () => {
    upstream = await startDemoUpstream();
    gateway = await startTestGateway(upstream.url, {
      MAX_DEPTH: '3',
      MAX_ALIASES: '3',
      MAX_ROOT_FIELDS: '4',
      MAX_DIRECTIVES: '2',
      MAX_COST: '20',
      MAX_TOKENS: '300',
      MAX_QUERY_BYTES: '2048',
      MAX_IDS: '5',
    });
  });
  afterAll(async () => {
    await gateway.stop();
    await upstream.stop();
  });
  beforeEach(() => upstream.reset());

  const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: visitor(id: "${SEED_VISITOR_ID}") { id }`).join(' ')} }`;

  const refusals: Array<[string, string, number, string, RegExp]> = [
    [
      'depth',
      `{ visitor(id: "${SEED_VISITOR_ID}") { contactManager { emails { address } } lastChat { id } } }`.replace('lastChat { id }', ''),
      400,
      'GRAPHQL_VALIDATION_FAILED',
      /depth/i,
    ],
    ['aliases', aliases(4), 400, 'GRAPHQL_VALIDATION_FAILED', /alias/i],
    [
      'root fields',
      `{ ${['v1', 'v2', 'v3'].map((a) => `${a}: visitor(id: "x") { id }`).join(' ')} visitor(id: "y") { id } visitors(ids: []) { id } }`,
      400,
      'GRAPHQL_VALIDATION_FAILED',
      /root field/i,
    ],
    [
      'directives',
      `{ visitor(id: "${SEED_VISITOR_ID}") { id @include(if: true) name @skip(if: false) username @include(if: true) } }`,
      400,
      'GRAPHQL_VALIDATION_FAILED',
      /directive/i,
    ],
    [
      'cost',
      `{ visitor(id: "${SEED_VISITOR_ID}") { id username name status createdAt updatedAt token departmentId customFields userAgent ip host activity disabled } }`,
      400,
      'GRAPHQL_VALIDATION_FAILED',
      /cost/i,
    ],
    ['tokens', `{ visitor(id: "${SEED_VISITOR_ID}") { ${'id '.repeat(400)} } }`, 400, 'GRAPHQL_PARSE_FAILED', /token/i],
    ['document length', `{ visitor(id: "${SEED_VISITOR_ID}") { id } } ${'#'.repeat(3000)}`, 400, 'QUERY_TOO_LARGE', /bytes/],
  ];

  it.each(refusals)('refuses an operation over the %s limit with a clear coded error and no upstream call', async (_name, query, status, code, message) => {
    const res = await gateway.post({ query }, DEMO_HEADERS);
    expect(res.status).toBe(status);
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors![0]!.extensions!.code).toBe(code);
    expect(res.body.errors![0]!.message).toMatch(message);
    expect(upstream.calls).toBe(0);
  });

  it('accepts operations at the limits', async () => {
    const res = await gateway.post({ query: aliases(3) }, DEMO_HEADERS);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(upstream.calls).toBe(1);
  });

  it('refuses visitors(ids) over MAX_IDS, literal or variable, with 400 and no upstream call', async () => {
    const ids = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
    const viaVariable = await gateway.post({ query: 'query($ids: [ID!]!) { visitors(ids: $ids) { id } }', variables: { ids } }, DEMO_HEADERS);
    expect(viaVariable.status).toBe(400);
    expect(viaVariable.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    const literal = await gateway.post({ query: `{ visitors(ids: ${JSON.stringify(ids)}) { id } }` }, DEMO_HEADERS);
    expect(literal.status).toBe(400);
    expect(literal.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(upstream.calls).toBe(0);
    const atLimit = await gateway.post({ query: 'query($ids: [ID!]!) { visitors(ids: $ids) { id } }', variables: { ids: ids.slice(0, 5) } }, DEMO_HEADERS);
    expect(atLimit.status).toBe(200);
  });

  it("lets Apollo Sandbox's introspection query through outside production", async () => {
    const big = await startTestGateway(upstream.url);
    try {
      const res = await big.post({ query: getIntrospectionQuery() });
      expect(res.status).toBe(200);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data!.__schema.types.some((t: { name: string }) => t.name === 'Visitor')).toBe(true);
    } finally {
      await big.stop();
    }
  });
});
