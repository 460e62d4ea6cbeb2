/**
 * GraphQL over HTTP, as graphql-http's own server audit checks it, and the status rule that goes
 * with the media type: under `application/json` alone a well-formed request that cannot run
 * answers 200 with its errors, under `application/graphql-response+json` it answers 4xx.
 */
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../../src/demo/upstream.js';
import { DEMO_HEADERS, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let upstream: DemoUpstream;
let gateway: TestGateway;

beforeAll(async () => {
  upstream = await startDemoUpstream();
  // The audit asks for `__type`, so introspection must be on (it is outside production).
  gateway = await startTestGateway(upstream.url, { NODE_ENV: 'development' });
});
afterAll(async () => {
  await gateway.stop();
  await upstream.stop();
});

describe("graphql-http's server audit", () => {
  it('passes every MUST and every SHOULD', async () => {
    const failed: string[] = [];
    const audits = serverAudits({ url: gateway.url });
    for (const audit of audits) {
      const result = await audit.fn();
      // MAY items are optional; the GET ones fail by design: CSRF prevention wants a preflight header.
      if (result.status !== 'ok' && !audit.name.startsWith('MAY')) failed.push(`${audit.name}: ${result.reason}`);
    }
    // The audit as this version of graphql-http has it: 13 MUSTs and 23 SHOULDs.
    expect(audits.filter((a) => a.name.startsWith('MUST')).length).toBeGreaterThanOrEqual(13);
    expect(audits.filter((a) => a.name.startsWith('SHOULD')).length).toBeGreaterThanOrEqual(20);
    expect(failed).toEqual([]);
  });
});

describe('status codes by media type', () => {
  const cases: Array<[string, unknown, string]> = [
    ['a parse error', { query: '{ visitor(id: ' }, 'GRAPHQL_PARSE_FAILED'],
    ['a validation error', { query: '{ nope }' }, 'GRAPHQL_VALIDATION_FAILED'],
    ['a variable that does not coerce', { query: 'query($id: ID!) { visitor(id: $id) { id } }', variables: { id: { no: 1 } } }, 'BAD_USER_INPUT'],
    [
      'an operation over the upstream-call budget',
      {
        query: `{ visitors(ids: [${Array.from({ length: 100 }, (_, i) => `"a${i}"`).join(',')}]) { id } b: visitors(ids: [${Array.from({ length: 100 }, (_, i) => `"b${i}"`).join(',')}]) { id } }`,
      },
      'UPSTREAM_BUDGET_EXCEEDED',
    ],
  ];
  it.each(cases)('%s: 200 under application/json, 400 under application/graphql-response+json, with or without extensions', async (_name, body, code) => {
    for (const sent of [body, { ...(body as object), extensions: {} }]) {
      for (const [accept, status, type] of [
        ['application/json', 200, 'application/json'],
        ['*/*', 200, 'application/json'],
        ['application/graphql-response+json', 400, 'application/graphql-response+json'],
      ] as const) {
        const res = await gateway.post(sent, { ...DEMO_HEADERS, accept });
        expect(res.status, `${accept} ${JSON.stringify(sent).slice(0, 40)}`).toBe(status);
        expect(res.headers.get('content-type')).toContain(type);
        expect(res.body.errors?.[0]?.extensions?.code).toBe(code);
        expect(res.body.data).toBeUndefined();
      }
    }
  });

  it('keeps 4xx under application/json for what is not a GraphQL request at all', async () => {
    const notJson = await gateway.post('{"query": ', { accept: 'application/json' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    const noQuery = await gateway.post({ variables: {} }, { accept: 'application/json' });
    expect(noQuery.status).toBe(400);
  });
});
