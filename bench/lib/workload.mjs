/**
 * What the contenders are asked: the visitor pool the upstream serves and the GraphQL documents sent
 * to it. The runner and the upstream child both import this, so both derive the same ids.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSchema, getNamedType, isObjectType } from 'graphql';
import { DEMO_VISITORS, FULL_VISITOR_ID } from '../../dist/demo/visitors.js';

export const SCHEMA_DIR = fileURLToPath(new URL('../../schema/', import.meta.url));

/** The contract as one SDL string, files in the same order the gateway reads them. */
export function loadSdl() {
  return readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => readFileSync(SCHEMA_DIR + f, 'utf8'))
    .join('\n');
}

// Meteor's id alphabet, so pool ids look like the 17-character ids Rocket.Chat hands out.
const METEOR_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz';

/**
 * `size` distinct ids, the same on every call and in every process (derived from a hash of the
 * index, not from a random source), so the runner knows which ids the upstream child serves.
 */
export function poolIds(size) {
  const ids = new Array(size);
  const seen = new Set();
  for (let i = 0; i < size; i++) {
    const digest = createHash('sha256').update(`bench-visitor-${i}`).digest();
    let id = '';
    for (let k = 0; k < 17; k++) id += METEOR_ALPHABET[digest[k] % METEOR_ALPHABET.length];
    if (seen.has(id)) throw new Error(`pool id collision at ${i}; change the derivation`);
    seen.add(id);
    ids[i] = id;
  }
  return ids;
}

/**
 * The fixture with every optional field set, cloned once per id: every contender then maps every
 * field, and no id repeats often enough for a cache or in-flight coalescing to flatter a figure.
 */
export function poolVisitors(size) {
  const full = DEMO_VISITORS.find((v) => v._id === FULL_VISITOR_ID);
  if (!full) throw new Error('the demo fixtures no longer contain the full visitor');
  return poolIds(size).map((id, i) => ({
    ...structuredClone(full),
    _id: id,
    username: `guest-${i}`,
    name: `Bench Visitor ${i}`,
  }));
}

/** Types the gateway loads from routes other than visitors.info. */
const OTHER_ROUTES = new Set(['Department', 'Agent', 'ChatConnection']);

/**
 * A selection of every field of `typeName`, nested object types included, generated from the SDL
 * so that a field added to the schema is benchmarked without anyone remembering to add it here.
 */
export function everyField(schema, typeName, depth = 0) {
  if (depth > 8) throw new Error(`selection of ${typeName} nests deeper than 8; a cycle in the schema?`);
  const type = schema.getType(typeName);
  if (!isObjectType(type)) throw new Error(`${typeName} is not an object type`);
  const parts = [];
  for (const field of Object.values(type.getFields())) {
    const named = getNamedType(field.type);
    // Loaded from another Rocket.Chat route: a workload of its own, not a second call hidden in this one.
    if (OTHER_ROUTES.has(named.name)) continue;
    parts.push(isObjectType(named) ? `${field.name} ${everyField(schema, named.name, depth + 1)}` : field.name);
  }
  return `{ ${parts.join(' ')} }`;
}

const VISITOR_FIELDS = everyField(buildSchema(loadSdl()), 'Visitor');

export const SINGLE_QUERY = `query Visitor($id: ID!) { visitor(id: $id) ${VISITOR_FIELDS} }`;

export const ALIASES = 10;
export const ALIAS_DISTINCT_IDS = 5;
export const ALIASES_QUERY = (() => {
  const vars = Array.from({ length: ALIAS_DISTINCT_IDS }, (_, k) => `$id${k}: ID!`).join(', ');
  const fields = Array.from({ length: ALIASES }, (_, a) => `v${a}: visitor(id: $id${a % ALIAS_DISTINCT_IDS}) ${VISITOR_FIELDS}`).join(' ');
  return `query Aliases(${vars}) { ${fields} }`;
})();

export const BATCH_SIZE = 50;
export const BATCH_QUERY = `query Batch($ids: [ID!]!) { visitors(ids: $ids) ${VISITOR_FIELDS} }`;

/** Consecutive slices of the pool, wrapping round, `per` ids each. */
function slices(ids, per, count) {
  return Array.from({ length: count }, (_, n) => Array.from({ length: per }, (_, k) => ids[(n * per + k) % ids.length]));
}

/**
 * Request bodies, built once as Buffers so the load generator spends its time sending rather than
 * serialising; a run cycles through them round-robin.
 */
export function graphqlBodies(ids) {
  const single = ids.map((id) => Buffer.from(JSON.stringify({ query: SINGLE_QUERY, variables: { id } })));
  const aliases = slices(ids, ALIAS_DISTINCT_IDS, Math.floor(ids.length / ALIAS_DISTINCT_IDS)).map((group) =>
    Buffer.from(
      JSON.stringify({
        query: ALIASES_QUERY,
        variables: Object.fromEntries(group.map((id, k) => [`id${k}`, id])),
      }),
    ),
  );
  const batch = slices(ids, BATCH_SIZE, Math.floor(ids.length / BATCH_SIZE)).map((group) =>
    Buffer.from(JSON.stringify({ query: BATCH_QUERY, variables: { ids: group } })),
  );
  return { single, aliases, batch };
}

export const VISITORS_INFO_PATH = '/api/v1/livechat/visitors.info';

export function restPaths(ids) {
  return ids.map((id) => `${VISITORS_INFO_PATH}?visitorId=${encodeURIComponent(id)}`);
}

/**
 * Apollo Client 4's exact request for SINGLE_QUERY, as its HttpLink sends it: the document as its
 * cache rewrites it (`__typename` in every selection) and prints it, `operationName`, the
 * variables, `extensions.clientLibrary`, and its Accept header. Captured from the library itself
 * (its `fetch` answered here, nothing sent), so the bench follows what a new version sends.
 * Resolves to `{ headers, body(id) }`.
 */
export async function apolloClientRequest() {
  const { ApolloClient, HttpLink, InMemoryCache, gql } = await import('@apollo/client');
  let captured;
  const fetch = async (_url, init) => {
    captured = { headers: Object.fromEntries(new Headers(init.headers)), body: JSON.parse(init.body) };
    return new Response('{"data":{"visitor":null}}', { headers: { 'content-type': 'application/json' } });
  };
  const client = new ApolloClient({ link: new HttpLink({ uri: 'http://apollo-client.invalid/graphql', fetch }), cache: new InMemoryCache() });
  await client.query({ query: gql(SINGLE_QUERY), variables: { id: 'placeholder' }, fetchPolicy: 'no-cache' });
  const { variables: _v, ...rest } = captured.body;
  return {
    headers: captured.headers,
    body: (id) => JSON.stringify({ operationName: rest.operationName, variables: { id }, extensions: rest.extensions, query: rest.query }),
  };
}

/**
 * urql's request for SINGLE_QUERY with its defaults (`cacheExchange`, `fetchExchange`, which send a
 * query as GET when its URL fits, `__typename` added to every selection), captured from the library
 * as Apollo Client's is. Resolves to `{ method, headers, search(id) }` (the query string) for GET,
 * or `{ method, headers, body(id) }` if urql chose POST (a URL too long for its limit).
 */
export async function urqlRequest() {
  const { Client, cacheExchange, fetchExchange } = await import('@urql/core');
  let captured;
  const fetch = async (url, init) => {
    captured = { url: String(url), method: init?.method ?? 'GET', headers: Object.fromEntries(new Headers(init?.headers)), body: init?.body };
    return new Response('{"data":{"visitor":null}}', { headers: { 'content-type': 'application/json' } });
  };
  const client = new Client({ url: 'http://urql.invalid/graphql', exchanges: [cacheExchange, fetchExchange], fetch });
  await client.query(SINGLE_QUERY, { id: PLACEHOLDER_ID }).toPromise();
  return capturedRequest(captured, 'urql.invalid');
}

/**
 * Apollo Client 4 with automatic persisted queries and `useGETForHashedQueries`, as its docs set it
 * up: once a query is registered it sends only the hash, as a GET. Captured from the library: its
 * first hashed GET is answered PERSISTED_QUERY_NOT_FOUND, so it registers with a POST carrying the
 * query, and both requests are kept. Resolves to `{ method, headers, search(id), register }`, where
 * `register` is the registering POST as `{ method, headers, body(id) }` (sent once before a run).
 */
export async function apqRequest() {
  const { ApolloClient, HttpLink, InMemoryCache, gql } = await import('@apollo/client');
  const { PersistedQueryLink } = await import('@apollo/client/link/persisted-queries');
  const requests = [];
  const fetch = async (url, init) => {
    requests.push({ url: String(url), method: init?.method ?? 'GET', headers: Object.fromEntries(new Headers(init?.headers)), body: init?.body });
    const notFound = requests.length === 1;
    const answer = notFound
      ? { errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] }
      : { data: { visitor: null } };
    return new Response(JSON.stringify(answer), { headers: { 'content-type': 'application/json' } });
  };
  const sha256 = (text) => createHash('sha256').update(text).digest('hex');
  const link = new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(new HttpLink({ uri: 'http://apq.invalid/graphql', fetch }));
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  await client.query({ query: gql(SINGLE_QUERY), variables: { id: PLACEHOLDER_ID }, fetchPolicy: 'no-cache' });
  const [hashed, registering] = requests;
  if (requests.length !== 2 || hashed.method !== 'GET' || registering.method !== 'POST') {
    throw new Error(`Apollo Client's APQ link sent ${requests.map((r) => r.method).join(', ')}; expected a GET, then the registering POST`);
  }
  const body = JSON.parse(registering.body);
  if (!body.query || !body.extensions?.persistedQuery) throw new Error('the registering POST carries no query and hash');
  return { ...capturedRequest(hashed, 'apq.invalid'), register: capturedRequest(registering, 'apq.invalid') };
}

/** A request id no real id collides with, so the captured request can be re-keyed per id. */
const PLACEHOLDER_ID = 'PLACEHOLDERxID';

function capturedRequest(captured, host) {
  const url = new URL(captured.url);
  if (url.host !== host) throw new Error(`captured a request to ${url.host}`);
  if (captured.method === 'GET') {
    const parts = url.search.split(PLACEHOLDER_ID);
    if (parts.length !== 2) throw new Error(`the captured GET names the id ${parts.length - 1} times`);
    return { method: 'GET', headers: captured.headers, search: (id) => parts[0] + encodeURIComponent(id) + parts[1] };
  }
  const parts = captured.body.split(PLACEHOLDER_ID);
  if (parts.length !== 2) throw new Error(`the captured body names the id ${parts.length - 1} times`);
  return { method: 'POST', headers: captured.headers, body: (id) => parts[0] + id + parts[1] };
}

/**
 * The single-visitor request of each client the bench measures, by workload name: what a console
 * built on that client sends for `visitor(id)` with every field. Each is `{ label, method, headers,
 * body(id) | search(id), register? }`; `register`, for APQ, is sent once before a run.
 */
export async function clientWorkloads() {
  const apolloClient = await apolloClientRequest();
  return {
    'apollo-client': { label: "Apollo Client 4's POST", method: 'POST', headers: apolloClient.headers, body: apolloClient.body },
    urql: { label: "urql's default GET", ...(await urqlRequest()) },
    apq: { label: 'APQ over GET (Apollo Client, hash only)', ...(await apqRequest()) },
    bare: {
      label: 'bare {query, variables} POST',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: (id) => JSON.stringify({ query: SINGLE_QUERY, variables: { id } }),
    },
  };
}
