/**
 * Trusted documents over HTTP: a real gateway with a PERSISTED_DOCUMENTS manifest (both formats
 * frontends produce) in front of the demo upstream, in and out of safelist mode; Apollo Client 4's
 * persisted-query link against a safelisted gateway; a bad manifest stopping the real entry point;
 * and the refusals in /metrics.
 */
import { writeFile } from 'node:fs/promises';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../helpers/apq.js';
import { useManifests, type ManifestFormat } from '../helpers/manifests.js';
import { sample } from '../helpers/metrics.js';
import type { DemoUpstream } from '../../src/demo/upstream.js';
import { DEMO_CREDENTIALS, SEED_VISITOR_ID } from '../../src/demo/visitors.js';
import { persisted } from '../helpers/apq.js';
import { DEMO_HEADERS, GRAPHQL_RESPONSE_ACCEPT, type GraphQLBody, type TestGateway } from '../helpers/gateway.js';
import { ensureBuilt, spawnGateway } from '../helpers/process.js';
import { useServers } from '../helpers/servers.js';

const VISITOR = 'query Visitor($id: ID!) { visitor(id: $id) { id name } }';
const VISITOR_BY_SEED = `query Seed { visitor(id: "${SEED_VISITOR_ID}") { id username } }`;
/** Not in any manifest of this file. */
const ARBITRARY = `query Arbitrary { visitor(id: "${SEED_VISITOR_ID}") { id name status } }`;
const SEED = { visitor: { id: SEED_VISITOR_ID, name: 'Livechat Visitor' } };

type Format = ManifestFormat;

const servers = useServers();
const manifests = useManifests('persisted-documents-it-');
const writeManifest = (format: Format, documents: string[]) => manifests.write(format, documents);

async function writeRaw(content: unknown): Promise<string> {
  const path = manifests.path('raw');
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

/** A GET to /graphql with these query-string parameters (objects JSON-encoded), as the demo's caller. */
async function get(gateway: TestGateway, params: Record<string, unknown>): Promise<{ status: number; headers: Headers; body: GraphQLBody }> {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) search.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  const res = await fetch(`${gateway.url}?${search}`, { headers: { ...DEMO_HEADERS, accept: GRAPHQL_RESPONSE_ACCEPT } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text) as GraphQLBody };
}

/** A refusal before Apollo: HTTP 400, exactly one error with this code and the response's request id, no data. */
function expectRefusal(res: { status: number; headers: Headers; body: GraphQLBody }, code: string): void {
  expect(res.status).toBe(400);
  expect(res.body.data).toBeUndefined();
  expect(res.body.errors).toHaveLength(1);
  const [error] = res.body.errors!;
  expect(typeof error!.message).toBe('string');
  expect(error!.message.length).toBeGreaterThan(0);
  expect(error!.extensions).toEqual({ code, requestId: res.headers.get('x-request-id') });
}

const apq = (document: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(document) } });

/** A demo upstream and a gateway with a manifest of VISITOR and VISITOR_BY_SEED; the upstream's record starts empty. */
async function setUp(format: Format, env: Record<string, string>): Promise<{ upstream: DemoUpstream; gateway: TestGateway; path: string }> {
  const upstream = await servers.demo();
  const path = await writeManifest(format, [VISITOR, VISITOR_BY_SEED]);
  const gateway = await servers.gateway(upstream.url, { PERSISTED_DOCUMENTS: path, ...env });
  upstream.reset();
  return { upstream, gateway, path };
}

describe.each<Format>(['codegen', 'apollo'])('%s manifest, PERSISTED_DOCUMENTS_ONLY=true', (format) => {
  const safelisted = () => setUp(format, { PERSISTED_DOCUMENTS_ONLY: 'true' });

  it('loads the manifest at start-up and logs how many documents, in safelist mode', async () => {
    const { gateway } = await safelisted();
    expect(gateway.config.persistedDocuments).toMatchObject({ only: true });
    expect(gateway.logs.find((l) => l.msg === 'trusted documents loaded from PERSISTED_DOCUMENTS')).toMatchObject({ documents: 2, only: true });
  });

  it('POST by documentId (with and without sha256:) answers the visitor', async () => {
    const { gateway, upstream } = await safelisted();
    for (const documentId of [sha256(VISITOR), `sha256:${sha256(VISITOR)}`]) {
      const res = await gateway.post({ documentId, variables: { id: SEED_VISITOR_ID }, operationName: 'Visitor' }, DEMO_HEADERS);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: SEED });
    }
    const literal = await gateway.post({ documentId: sha256(VISITOR_BY_SEED) }, DEMO_HEADERS);
    expect(literal.body).toEqual({ data: { visitor: { id: SEED_VISITOR_ID, username: 'guest-19' } } });
    expect(upstream.calls).toBe(3);
  });

  it('GET by documentId with variables answers the visitor', async () => {
    const { gateway } = await safelisted();
    const res = await get(gateway, { documentId: sha256(VISITOR), variables: { id: SEED_VISITOR_ID } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: SEED });
    const prefixed = await get(gateway, { documentId: `sha256:${sha256(VISITOR)}`, variables: { id: SEED_VISITOR_ID }, operationName: 'Visitor' });
    expect(prefixed.body).toEqual({ data: SEED });
  });

  it("Apollo's extensions.persistedQuery over POST and GET answers the visitor", async () => {
    const { gateway } = await safelisted();
    const viaPost = await gateway.post({ variables: { id: SEED_VISITOR_ID }, extensions: apq(VISITOR) }, DEMO_HEADERS);
    expect(viaPost.status).toBe(200);
    expect(viaPost.body).toEqual({ data: SEED });
    // With the document as well (an APQ registration of a manifest document): the same answer.
    const withQuery = await gateway.post({ query: VISITOR, variables: { id: SEED_VISITOR_ID }, extensions: apq(VISITOR) }, DEMO_HEADERS);
    expect(withQuery.body).toEqual({ data: SEED });
    const viaGet = await get(gateway, { variables: { id: SEED_VISITOR_ID }, extensions: apq(VISITOR) });
    expect(viaGet.status).toBe(200);
    expect(viaGet.body).toEqual({ data: SEED });
  });

  it('a manifest document sent by value runs', async () => {
    const { gateway } = await safelisted();
    const res = await gateway.post({ query: VISITOR, variables: { id: SEED_VISITOR_ID } }, DEMO_HEADERS);
    expect(res.body).toEqual({ data: SEED });
  });

  it('an unknown id is 400 PERSISTED_DOCUMENT_NOT_FOUND with no upstream call (documentId and APQ, POST and GET)', async () => {
    const { gateway, upstream } = await safelisted();
    const unknown = sha256(ARBITRARY);
    expectRefusal(await gateway.post({ documentId: unknown, variables: { id: SEED_VISITOR_ID } }, DEMO_HEADERS), 'PERSISTED_DOCUMENT_NOT_FOUND');
    expectRefusal(await gateway.post({ documentId: `sha256:${unknown}` }, DEMO_HEADERS), 'PERSISTED_DOCUMENT_NOT_FOUND');
    expectRefusal(await gateway.post({ extensions: apq(ARBITRARY) }, DEMO_HEADERS), 'PERSISTED_DOCUMENT_NOT_FOUND');
    expectRefusal(await get(gateway, { documentId: unknown }), 'PERSISTED_DOCUMENT_NOT_FOUND');
    expectRefusal(await get(gateway, { extensions: apq(ARBITRARY) }), 'PERSISTED_DOCUMENT_NOT_FOUND');
    expect(upstream.calls).toBe(0);
    expect(upstream.requests).toEqual([]);
  });

  it('a known id with a tampered query is 400 PERSISTED_QUERY_HASH_MISMATCH with no upstream call', async () => {
    const { gateway, upstream } = await safelisted();
    const tampered = VISITOR.replace('{ id name }', '{ id name token ip }');
    expectRefusal(
      await gateway.post({ documentId: sha256(VISITOR), query: tampered, variables: { id: SEED_VISITOR_ID } }, DEMO_HEADERS),
      'PERSISTED_QUERY_HASH_MISMATCH',
    );
    expectRefusal(
      await gateway.post({ query: tampered, variables: { id: SEED_VISITOR_ID }, extensions: apq(VISITOR) }, DEMO_HEADERS),
      'PERSISTED_QUERY_HASH_MISMATCH',
    );
    expectRefusal(await get(gateway, { query: tampered, variables: { id: SEED_VISITOR_ID }, extensions: apq(VISITOR) }), 'PERSISTED_QUERY_HASH_MISMATCH');
    expect(upstream.calls).toBe(0);
  });

  it('an arbitrary document by value is 400 PERSISTED_DOCUMENT_REQUIRED with no upstream call (POST and GET)', async () => {
    const { gateway, upstream } = await safelisted();
    expectRefusal(await gateway.post({ query: ARBITRARY }, DEMO_HEADERS), 'PERSISTED_DOCUMENT_REQUIRED');
    expectRefusal(await get(gateway, { query: ARBITRARY }), 'PERSISTED_DOCUMENT_REQUIRED');
    // The manifest's document with a single character changed is another document.
    expectRefusal(await gateway.post({ query: `${VISITOR} `, variables: { id: SEED_VISITOR_ID } }, DEMO_HEADERS), 'PERSISTED_DOCUMENT_REQUIRED');
    expect(upstream.calls).toBe(0);
    expect(gateway.logs.filter((l) => l.msg === 'request refused before execution').map((l) => l.codes)).toEqual([
      ['PERSISTED_DOCUMENT_REQUIRED'],
      ['PERSISTED_DOCUMENT_REQUIRED'],
      ['PERSISTED_DOCUMENT_REQUIRED'],
    ]);
  });

  it('an APQ registration of a new document is refused, and registers nothing', async () => {
    const { gateway, upstream } = await safelisted();
    expectRefusal(await gateway.post({ query: ARBITRARY, extensions: apq(ARBITRARY) }, DEMO_HEADERS), 'PERSISTED_DOCUMENT_NOT_FOUND');
    expectRefusal(await gateway.post({ extensions: apq(ARBITRARY) }, DEMO_HEADERS), 'PERSISTED_DOCUMENT_NOT_FOUND');
    expectRefusal(await get(gateway, { extensions: apq(ARBITRARY) }), 'PERSISTED_DOCUMENT_NOT_FOUND');
    expect(await persisted(gateway, 'query Handshake { __typename }', true)).toBe('PERSISTED_DOCUMENT_NOT_FOUND');
    expect(await persisted(gateway, 'query Handshake { __typename }', false)).toBe('PERSISTED_DOCUMENT_NOT_FOUND');
    expect(upstream.calls).toBe(0);
  });

  it('serves the landing page, and answers a CORS preflight, as without a manifest', async () => {
    const { gateway, upstream } = await setUp(format, { PERSISTED_DOCUMENTS_ONLY: 'true' });
    const page = await fetch(gateway.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const preflight = await fetch(gateway.url, { method: 'OPTIONS' });
    expect((await preflight.text()).includes('PERSISTED_DOCUMENT')).toBe(false);
    expect(upstream.calls).toBe(0);
  });

  it('a documentId that is not a string is 400 BAD_REQUEST', async () => {
    const { gateway, upstream } = await safelisted();
    expectRefusal(await gateway.post({ documentId: 42 }, DEMO_HEADERS), 'BAD_REQUEST');
    expect(upstream.calls).toBe(0);
  });
});

describe.each<Format>(['codegen', 'apollo'])('%s manifest, PERSISTED_DOCUMENTS_ONLY=false', (format) => {
  const open = () => setUp(format, { PERSISTED_DOCUMENTS_ONLY: 'false' });

  it('arbitrary documents run, by POST and GET', async () => {
    const { gateway } = await open();
    const res = await gateway.post({ query: ARBITRARY }, DEMO_HEADERS);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { visitor: { id: SEED_VISITOR_ID, name: 'Livechat Visitor', status: 'ONLINE' } } });
    expect((await get(gateway, { query: ARBITRARY })).body).toEqual(res.body);
  });

  it('the APQ handshake of a new document works: PERSISTED_QUERY_NOT_FOUND, registration, then by hash', async () => {
    const { gateway } = await open();
    const query = 'query Handshake { __typename }';
    expect(await persisted(gateway, query, false)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await persisted(gateway, query, true)).toBeUndefined();
    const byHash = await gateway.post({ extensions: apq(query) });
    expect(byHash.body).toEqual({ data: { __typename: 'Query' } });
    // Over GET as well, with a visitor document.
    const missed = await get(gateway, { extensions: apq(ARBITRARY) });
    expect(missed.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await gateway.post({ query: ARBITRARY, extensions: apq(ARBITRARY) }, DEMO_HEADERS)).body.data).toBeTruthy();
    expect((await get(gateway, { extensions: apq(ARBITRARY) })).body).toEqual({
      data: { visitor: { id: SEED_VISITOR_ID, name: 'Livechat Visitor', status: 'ONLINE' } },
    });
  });

  it("the manifest's ids still work (documentId and APQ); an unknown documentId is still refused", async () => {
    const { gateway, upstream } = await open();
    expect((await gateway.post({ documentId: sha256(VISITOR), variables: { id: SEED_VISITOR_ID } }, DEMO_HEADERS)).body).toEqual({ data: SEED });
    expect((await get(gateway, { documentId: `sha256:${sha256(VISITOR)}`, variables: { id: SEED_VISITOR_ID } })).body).toEqual({ data: SEED });
    expect((await gateway.post({ variables: { id: SEED_VISITOR_ID }, extensions: apq(VISITOR) }, DEMO_HEADERS)).body).toEqual({ data: SEED });
    const callsBefore = upstream.calls;
    expectRefusal(await gateway.post({ documentId: sha256(ARBITRARY) }, DEMO_HEADERS), 'PERSISTED_DOCUMENT_NOT_FOUND');
    expectRefusal(
      await gateway.post({ documentId: sha256(VISITOR), query: ARBITRARY, variables: { id: SEED_VISITOR_ID } }, DEMO_HEADERS),
      'PERSISTED_QUERY_HASH_MISMATCH',
    );
    expect(upstream.calls).toBe(callsBefore);
  });
});

describe('PERSISTED_DOCUMENTS_ONLY default', () => {
  it('NODE_ENV=production with a manifest: safelist on', async () => {
    const { gateway, upstream } = await setUp('apollo', { NODE_ENV: 'production' });
    expect(gateway.config.persistedDocuments).toMatchObject({ only: true });
    expectRefusal(await gateway.post({ query: ARBITRARY }, DEMO_HEADERS), 'PERSISTED_DOCUMENT_REQUIRED');
    expect(upstream.calls).toBe(0);
    expect((await gateway.post({ documentId: sha256(VISITOR), variables: { id: SEED_VISITOR_ID } }, DEMO_HEADERS)).body).toEqual({ data: SEED });
  });

  it('NODE_ENV=development with a manifest: safelist off', async () => {
    const { gateway } = await setUp('codegen', { NODE_ENV: 'development' });
    expect(gateway.config.persistedDocuments).toMatchObject({ only: false });
    expect((await gateway.post({ query: ARBITRARY }, DEMO_HEADERS)).body.data).toMatchObject({ visitor: { id: SEED_VISITOR_ID } });
    expect((await gateway.post({ documentId: sha256(VISITOR), variables: { id: SEED_VISITOR_ID } }, DEMO_HEADERS)).body).toEqual({ data: SEED });
  });
});

describe('Apollo Client 4 with PersistedQueryLink against a safelisted gateway', () => {
  const HEADERS = { 'X-Auth-Token': DEMO_CREDENTIALS.authToken, 'X-User-Id': DEMO_CREDENTIALS.userId };
  const QUERY = gql('query TrustedVisitor($id: ID!) { visitor(id: $id) { id name emails { address } } }');

  interface Sent {
    method: string;
    url: URL;
    body: string | undefined;
  }
  function recordingFetch(sent: Sent[]): typeof fetch {
    return async (input, init) => {
      const request = new Request(input, init);
      const body = request.method === 'POST' ? await request.clone().text() : undefined;
      sent.push({ method: request.method, url: new URL(request.url), body });
      return fetch(request);
    };
  }
  const clientFor = (url: string, sent: Sent[]) =>
    new ApolloClient({
      link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(new HttpLink({ uri: url, headers: HEADERS, fetch: recordingFetch(sent) })),
      cache: new InMemoryCache(),
    });

  it('sends only GETs with the hash, no query, and reads the visitor', async () => {
    const upstream = await servers.demo();
    // 1. What Apollo Client sends for QUERY (with its __typename): the registration POST of the APQ
    // handshake against a gateway with no manifest carries the printed document.
    const plain = await servers.gateway(upstream.url);
    const captured: Sent[] = [];
    await clientFor(plain.url, captured).query({ query: QUERY, variables: { id: SEED_VISITOR_ID } });
    expect(captured.map((s) => s.method)).toEqual(['GET', 'POST']);
    const body = (JSON.parse(captured[1]!.body!) as { query: string }).query;
    expect(body).toContain('__typename');
    const hash = (JSON.parse(captured[0]!.url.searchParams.get('extensions')!) as { persistedQuery: { sha256Hash: string } }).persistedQuery.sha256Hash;
    expect(hash).toBe(sha256(body));

    // 2. The manifest a build would write for it, and a safelisted gateway reading it.
    const path = manifests.path('apollo-client');
    await writeFile(
      path,
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [{ id: sha256(body), name: 'TrustedVisitor', type: 'query', body }],
      }),
    );
    const gateway = await servers.gateway(upstream.url, { PERSISTED_DOCUMENTS: path, PERSISTED_DOCUMENTS_ONLY: 'true' });

    // 3. A fresh client: the first GET by hash is already known, so nothing else goes over the wire.
    const sent: Sent[] = [];
    const client = clientFor(gateway.url, sent);
    const { data, error } = await client.query({ query: QUERY, variables: { id: SEED_VISITOR_ID } });
    expect(error).toBeUndefined();
    expect(data).toEqual({
      visitor: {
        __typename: 'Visitor',
        id: SEED_VISITOR_ID,
        name: 'Livechat Visitor',
        emails: [{ __typename: 'VisitorEmail', address: 'visitor@example.com' }],
      },
    });
    // A second query of the same document from another client: the same single GET.
    await clientFor(gateway.url, sent).query({ query: QUERY, variables: { id: SEED_VISITOR_ID } });
    expect(sent).toHaveLength(2);
    for (const request of sent) {
      expect(request.method).toBe('GET');
      expect(request.url.searchParams.get('query')).toBeNull();
      expect(JSON.parse(request.url.searchParams.get('extensions')!)).toMatchObject({ persistedQuery: { version: 1, sha256Hash: sha256(body) } });
      expect(JSON.parse(request.url.searchParams.get('variables')!)).toEqual({ id: SEED_VISITOR_ID });
    }
  });
});

describe('start-up with a bad manifest (dist/index.js)', () => {
  beforeAll(() => ensureBuilt(), 60_000);

  it('an Apollo manifest with a document that does not validate: exit 1, stderr names the file and the entry', async () => {
    const path = await writeRaw({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [
        { id: sha256(VISITOR), name: 'Visitor', type: 'query', body: VISITOR },
        { id: sha256('query Broken { visitor(id: "x") { nope } }'), name: 'Broken', type: 'query', body: 'query Broken { visitor(id: "x") { nope } }' },
      ],
    });
    // A Rocket.Chat URL nothing listens on: the manifest is read before any connection is opened.
    const proc = spawnGateway({ ROCKETCHAT_URL: 'http://127.0.0.1:9', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PERSISTED_DOCUMENTS: path });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain('PERSISTED_DOCUMENTS');
    expect(proc.stderr()).toContain(path);
    expect(proc.stderr()).toContain('operations[1] (Broken)');
    expect(proc.stderr()).toContain('Cannot query field "nope"');
    expect(proc.stderr()).not.toContain('    at ');
    expect(proc.stdout()).not.toContain('GraphQL at');
  });

  it('a codegen manifest that is not JSON, in demo mode: exit 1, stderr names the file', async () => {
    const path = await writeRaw('{ "abc": "query { __typename }", ');
    const proc = spawnGateway({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PERSISTED_DOCUMENTS: path });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain(path);
    expect(proc.stderr()).toContain('is not JSON');
    expect(proc.stdout()).not.toContain('GraphQL at');
  });

  it('a codegen entry that does not parse: stderr names the entry', async () => {
    const id = sha256('query {');
    const path = await writeRaw({ [id]: 'query {' });
    const proc = spawnGateway({ ROCKETCHAT_URL: 'http://127.0.0.1:9', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PERSISTED_DOCUMENTS: path });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain(path);
    expect(proc.stderr()).toContain(`entry "${id}"`);
  });

  it('a missing manifest file: exit 1, stderr names the file', async () => {
    // Never written: the helper's paths are fresh.
    const path = manifests.path('no-such-manifest');
    const proc = spawnGateway({ ROCKETCHAT_URL: 'http://127.0.0.1:9', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PERSISTED_DOCUMENTS: path });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain(path);
    expect(proc.stderr()).toContain('ENOENT');
  });

  it('PERSISTED_DOCUMENTS_ONLY=true without a manifest: exit 1, stderr names the variable', async () => {
    const proc = spawnGateway({ ROCKETCHAT_URL: 'http://127.0.0.1:9', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', PERSISTED_DOCUMENTS_ONLY: 'true' });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain('PERSISTED_DOCUMENTS_ONLY');
    expect(proc.stderr()).toContain('needs PERSISTED_DOCUMENTS');
    expect(proc.stdout()).not.toContain('GraphQL at');
  });
});

describe('refusals in /metrics', () => {
  it('counts each refusal in gateway_operations_total by code, under operation "other" whatever name was sent', async () => {
    const { gateway } = await setUp('codegen', { PERSISTED_DOCUMENTS_ONLY: 'true' });
    expectRefusal(await gateway.post({ query: ARBITRARY, operationName: 'Arbitrary' }, DEMO_HEADERS), 'PERSISTED_DOCUMENT_REQUIRED');
    expectRefusal(await get(gateway, { query: ARBITRARY, operationName: 'Arbitrary' }), 'PERSISTED_DOCUMENT_REQUIRED');
    expectRefusal(await gateway.post({ query: '{ __typename }' }), 'PERSISTED_DOCUMENT_REQUIRED');
    expectRefusal(await gateway.post({ documentId: sha256(ARBITRARY) }, DEMO_HEADERS), 'PERSISTED_DOCUMENT_NOT_FOUND');
    expect((await gateway.post({ documentId: sha256(VISITOR), variables: { id: SEED_VISITOR_ID } }, DEMO_HEADERS)).body).toEqual({ data: SEED });
    const res = await fetch(gateway.url.replace('/graphql', '/metrics'));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(sample(text, 'gateway_operations_total', 'code="PERSISTED_DOCUMENT_REQUIRED"')).toBe(3);
    // A name sent with a document that never ran takes none of the bounded name labels.
    expect(sample(text, 'gateway_operations_total', 'operation="other",outcome="error",code="PERSISTED_DOCUMENT_REQUIRED"')).toBe(3);
    expect(text).not.toContain('operation="Arbitrary"');
    expect(sample(text, 'gateway_operations_total', 'code="PERSISTED_DOCUMENT_NOT_FOUND"')).toBe(1);
    expect(sample(text, 'gateway_operations_total', 'operation="Visitor",outcome="ok",code="none"')).toBe(1);
  });
});
