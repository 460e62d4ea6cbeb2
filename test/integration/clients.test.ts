/**
 * The clients frontends really use, with their defaults, against the gateway and the demo
 * upstream: Apollo Client 4 (POST, and automatic persisted queries over GET), urql (GET by default,
 * no content type, no preflight header) and graphql-request. Each request they send is recorded
 * through the `fetch` they are given, so the tests also check what went over the wire.
 */
import { createHash } from 'node:crypto';
import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { Client as UrqlClient, fetchExchange } from '@urql/core';
import { ClientError, GraphQLClient } from 'graphql-request';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoUpstream, type DemoUpstream } from '../../src/demo/upstream.js';
import { DEMO_CREDENTIALS, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const HEADERS = { 'X-Auth-Token': DEMO_CREDENTIALS.authToken, 'X-User-Id': DEMO_CREDENTIALS.userId };
const VISITOR = `query Visitor($id: ID!) { visitor(id: $id) { id username name status emails { address } } }`;

interface Sent {
  method: string;
  url: URL;
  contentType: string | null;
  body: string | undefined;
}

/** A `fetch` that records each request a client library makes, then makes it. */
function recordingFetch(sent: Sent[]): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const body = request.method === 'POST' ? await request.clone().text() : undefined;
    sent.push({ method: request.method, url: new URL(request.url), contentType: request.headers.get('content-type'), body });
    return fetch(request);
  };
}

let upstream: DemoUpstream;
let gateway: TestGateway;

beforeAll(async () => {
  upstream = await startDemoUpstream({ record: true });
  gateway = await startTestGateway(upstream.url, { NODE_ENV: 'production' });
});
afterAll(async () => {
  await gateway.stop();
  await upstream.stop();
});

describe('Apollo Client 4 with its defaults', () => {
  it('POSTs a query (with extensions.clientLibrary and __typename) and reads the visitor', async () => {
    const sent: Sent[] = [];
    const client = new ApolloClient({
      link: new HttpLink({ uri: gateway.url, headers: HEADERS, fetch: recordingFetch(sent) }),
      cache: new InMemoryCache(),
    });
    const { data } = await client.query({ query: gql(VISITOR), variables: { id: SEED_VISITOR_ID } });
    expect(data).toEqual({
      visitor: {
        __typename: 'Visitor',
        id: SEED_VISITOR_ID,
        username: 'guest-19',
        name: 'Livechat Visitor',
        status: 'ONLINE',
        emails: [{ __typename: 'VisitorEmail', address: 'visitor@example.com' }],
      },
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.method).toBe('POST');
    expect(JSON.parse(sent[0]!.body!)).toMatchObject({ operationName: 'Visitor', extensions: { clientLibrary: { name: '@apollo/client' } } });
  });

  it('sees a missing visitor as a GraphQL error with its code, next to partial data', async () => {
    const client = new ApolloClient({ link: new HttpLink({ uri: gateway.url, headers: HEADERS }), cache: new InMemoryCache() });
    const { data, error } = await client.query({ query: gql(VISITOR), variables: { id: 'unknownVisitor001' }, errorPolicy: 'all' });
    expect(data).toEqual({ visitor: null });
    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    const [first] = (error as CombinedGraphQLErrors).errors;
    expect(first!.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect(first!.path).toEqual(['visitor']);
  });

  it('sends automatic persisted queries as GET with useGETForHashedQueries: hash first, the query once, then the hash alone', async () => {
    const sent: Sent[] = [];
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    const makeClient = () =>
      new ApolloClient({
        link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
          new HttpLink({ uri: gateway.url, headers: HEADERS, fetch: recordingFetch(sent) }),
        ),
        cache: new InMemoryCache(),
      });
    // A document of this test's own, so the first request is sure to be a miss.
    const query = gql(`query PersistedVisitor($id: ID!) { visitor(id: $id) { id name } }`);
    const first = await makeClient().query({ query, variables: { id: SEED_VISITOR_ID } });
    expect(first.data).toEqual({ visitor: { __typename: 'Visitor', id: SEED_VISITOR_ID, name: 'Livechat Visitor' } });
    // Miss (GET, hash only) → registration (POST with the query) → a second client: hash only, GET.
    const second = await makeClient().query({ query, variables: { id: SEED_VISITOR_ID } });
    expect(second.data).toEqual(first.data);
    expect(sent.map((s) => s.method)).toEqual(['GET', 'POST', 'GET']);
    for (const get of [sent[0]!, sent[2]!]) {
      expect(get.url.searchParams.get('query')).toBeNull();
      expect(JSON.parse(get.url.searchParams.get('extensions')!)).toMatchObject({ persistedQuery: { version: 1 } });
    }
    expect(JSON.parse(sent[1]!.body!).query).toContain('PersistedVisitor');
  });
});

describe('urql with its defaults', () => {
  it('sends the query as a GET with no content type and reads the visitor, CSRF prevention on', async () => {
    const sent: Sent[] = [];
    const client = new UrqlClient({
      url: gateway.url,
      exchanges: [fetchExchange],
      fetchOptions: { headers: HEADERS },
      fetch: recordingFetch(sent),
    });
    const result = await client.query(VISITOR, { id: SEED_VISITOR_ID }).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data).toMatchObject({ visitor: { id: SEED_VISITOR_ID, name: 'Livechat Visitor' } });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.method).toBe('GET');
    expect(sent[0]!.contentType).toBeNull();
  });

  it('sees an error code in result.error.graphQLErrors', async () => {
    const client = new UrqlClient({ url: gateway.url, exchanges: [fetchExchange], fetchOptions: { headers: HEADERS } });
    const result = await client.query(VISITOR, { id: 'bad id!' }).toPromise();
    expect(result.error?.graphQLErrors[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});

describe('graphql-request with its defaults', () => {
  it('POSTs the query and reads the visitor; a failure throws ClientError carrying the codes', async () => {
    const client = new GraphQLClient(gateway.url, { headers: HEADERS });
    const data = await client.request<{ visitor: { id: string } }>(VISITOR, { id: SEED_VISITOR_ID });
    expect(data.visitor).toMatchObject({ id: SEED_VISITOR_ID, username: 'guest-19' });

    const anonymous = new GraphQLClient(gateway.url);
    const failure = await anonymous.request(VISITOR, { id: SEED_VISITOR_ID }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ClientError);
    expect((failure as ClientError).response.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
