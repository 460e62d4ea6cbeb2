import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../../src/demo/upstream.js';
import { FULL_VISITOR_ID, SEED_VISITOR_ID, UNKNOWN_STATUS_VISITOR_ID } from '../../src/demo/visitors.js';
import { DEMO_HEADERS, startTestGateway, VISITOR_FIELDS, type GraphQLBody, type TestGateway } from '../helpers/gateway.js';

/**
 * POSTed JSON operations take the fast path (src/fastPath.ts); the same request with an
 * `extensions` member goes through Apollo Server's pipeline. Both must answer alike, in
 * development and in production.
 */
const CASES: Array<[string, Record<string, unknown>, Record<string, string>?]> = [
  ['a visitor with every field', { query: `query One($id: ID!) { visitor(id: $id) { ${VISITOR_FIELDS} } }`, variables: { id: FULL_VISITOR_ID } }],
  ['an unknown status', { query: `{ visitor(id: "${UNKNOWN_STATUS_VISITOR_ID}") { id status } }` }],
  ['NOT_FOUND', { query: '{ visitor(id: "unknownVisitor001") { id } }' }],
  ['partial visitors(ids)', { query: 'query($ids: [ID!]!) { visitors(ids: $ids) { id } }', variables: { ids: [SEED_VISITOR_ID, 'nope nope', 'unknownVisitor001'] } }],
  ['missing credentials', { query: `{ visitor(id: "${SEED_VISITOR_ID}") { id } }` }, {}],
  ['a parse error', { query: '{ visitor(id: ' }],
  ['a validation error', { query: '{ visitor(id: "x") { nmae } }' }],
  ['a missing variable', { query: 'query($id: ID!) { visitor(id: $id) { id } }' }],
  ['a mistyped variable', { query: 'query($id: ID!) { visitor(id: $id) { id } }', variables: { id: { nested: true } } }],
  ['an unknown operation name', { query: 'query A { __typename }', operationName: 'B' }],
  ['two operations and no name', { query: 'query A { __typename } query B { __typename }' }],
  ['the depth limit', { query: '{ visitor(id: "x") { contactManager { emails { address } } } }' }],
  ['MAX_IDS', { query: 'query($ids: [ID!]!) { visitors(ids: $ids) { id } }', variables: { ids: ['a', 'b', 'c', 'd'] } }],
  ['introspection', { query: '{ __schema { queryType { name } } }' }],
  ['a mutation', { query: 'mutation { x }' }],
  ['a non-null variable left to its default', { query: `query($ids: [ID!]! = ["${SEED_VISITOR_ID}"]) { visitors(ids: $ids) { id } }` }],
  ['an explicit null for a nullable variable with a default', { query: `query($id: ID = "${SEED_VISITOR_ID}") { visitor(id: $id) { id } }`, variables: { id: null } }],
  ['an operation over the upstream-call budget', { query: `{ ${Array.from({ length: 13 }, (_, k) => `a${k}: visitors(ids: [${Array.from({ length: 10 }, (_, i) => `"v${k}_${i}"`).join(',')}]) { id }`).join(' ')} }` }],
  ['an unknown operation name of 90 KiB', { query: 'query A { __typename }', operationName: 'N'.repeat(90 * 1024) }],
];

function normalise(body: GraphQLBody): GraphQLBody {
  const errors = body.errors?.map((e) => {
    const { requestId: _r, stacktrace: _s, ...extensions } = e.extensions ?? {};
    return { ...e, extensions };
  });
  return errors ? { ...body, errors } : body;
}

for (const env of [{ NODE_ENV: 'development' }, { NODE_ENV: 'production' }]) {
  describe(`both execution paths answer alike (${env.NODE_ENV})`, () => {
    let upstream: DemoUpstream;
    let gateway: TestGateway;
    beforeAll(async () => {
      upstream = await startDemoUpstream();
      gateway = await startTestGateway(upstream.url, { ...env, MAX_IDS: '3', MAX_DEPTH: '3' });
    });
    afterAll(async () => {
      await gateway.stop();
      await upstream.stop();
    });

    it.each(CASES)('%s', async (_name, body, headers = DEMO_HEADERS) => {
      // Both paths run a document's first use on graphql-js and compile it with graphql-jit for the
      // next ones (src/executor.ts): each use must answer alike on both.
      for (const use of ['first', 'compiled']) {
        const apollo = await gateway.post({ ...body, extensions: {} }, headers);
        const fast = await gateway.post(body, headers);
        expect(fast.status, use).toBe(apollo.status);
        expect(fast.headers.get('content-type'), use).toBe(apollo.headers.get('content-type'));
        expect(normalise(fast.body), use).toEqual(normalise(apollo.body));
      }
    });
  });
}

describe('dates on both paths', () => {
  it('an offset date from Rocket.Chat prints the same UTC instant on both paths', async () => {
    const { startFakeUpstream } = await import('../helpers/fakeUpstream.js');
    const upstream = await startFakeUpstream(() => ({
      status: 200,
      body: { success: true, visitor: { _id: SEED_VISITOR_ID, ts: '2023-04-07T09:08:04+02:00', lastChat: { _id: 'room1', ts: '2023-04-07T07:08:04.5Z' } } },
    }));
    const gateway = await startTestGateway(upstream.url);
    try {
      const body = { query: `{ visitor(id: "${SEED_VISITOR_ID}") { createdAt lastChat { startedAt } } }` };
      const fast = await gateway.post(body, DEMO_HEADERS);
      const apollo = await gateway.post({ ...body, extensions: {} }, DEMO_HEADERS);
      const expected = { data: { visitor: { createdAt: '2023-04-07T07:08:04.000Z', lastChat: { startedAt: '2023-04-07T07:08:04.500Z' } } } };
      expect(fast.body).toEqual(expected);
      expect(apollo.body).toEqual(expected);
    } finally {
      await gateway.stop();
      await upstream.stop();
    }
  });
});

describe('media types on both paths', () => {
  it('answers application/graphql-response+json when the client prefers it, and JSON otherwise', async () => {
    const upstream = await startDemoUpstream();
    const gateway = await startTestGateway(upstream.url);
    try {
      const body = { query: '{ __typename }' };
      for (const [accept, type] of [
        ['application/graphql-response+json', 'application/graphql-response+json; charset=utf-8'],
        ['application/json', 'application/json; charset=utf-8'],
        ['*/*', 'application/json; charset=utf-8'],
      ]) {
        const fast = await gateway.post(body, { accept: accept! });
        const apollo = await gateway.post({ ...body, extensions: {} }, { accept: accept! });
        expect(fast.headers.get('content-type'), accept).toBe(type);
        expect(apollo.headers.get('content-type'), accept).toBe(type);
      }
    } finally {
      await gateway.stop();
      await upstream.stop();
    }
  });
});

describe('an argument that does not coerce at execution', () => {
  it('is the caller\'s BAD_USER_INPUT on both paths and both engines, not an internal error', async () => {
    const upstream = await startDemoUpstream({ record: true });
    const gateway = await startTestGateway(upstream.url);
    try {
      const body = { query: `query($id: ID = "${SEED_VISITOR_ID}") { visitor(id: $id) { id } }`, variables: { id: null } };
      for (let use = 0; use < 2; use++) {
        for (const sent of [body, { ...body, extensions: {} }]) {
          const res = await gateway.post(sent, DEMO_HEADERS);
          expect(res.body.data).toEqual({ visitor: null });
          expect(res.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
          expect(res.body.errors?.[0]?.message).toMatch(/^Argument "id" of non-null type "ID!" must not be null/);
        }
      }
      expect(upstream.calls).toBe(0);
    } finally {
      await gateway.stop();
      await upstream.stop();
    }
  });
});
