/**
 * Trusted documents (src/persistedDocuments.ts) as pure functions: loading and checking both
 * manifest formats, and how a request is resolved against the manifest, in and out of safelist mode.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../helpers/apq.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ErrorCode } from '../../src/errors.js';
import { loadPersistedDocuments, resolveDocument, trustedRequest, type PersistedDocuments } from '../../src/persistedDocuments.js';
import { buildSchema } from '../../src/schema.js';

const VISITOR = 'query Visitor($id: ID!) { visitor(id: $id) { id name } }';
const VISITORS = 'query Visitors($ids: [ID!]!) { visitors(ids: $ids) { id } }';
const OTHER = 'query Other { visitor(id: "x") { id username } }';
const UNKNOWN_HASH = sha256('query NotInTheManifest { __typename }');

let schema: GraphQLSchema;
let dir: string;
let counter = 0;

beforeAll(async () => {
  schema = buildSchema();
  dir = await mkdtemp(join(tmpdir(), 'persisted-documents-unit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `content` (JSON unless already a string) to a fresh file in the temporary directory. */
async function manifestFile(content: unknown): Promise<string> {
  const path = join(dir, `manifest-${++counter}.json`);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const codegen = (...documents: string[]) => Object.fromEntries(documents.map((d) => [sha256(d), d]));
const apollo = (...operations: Array<{ id: unknown; name?: string; body: unknown }>) => ({
  format: 'apollo-persisted-query-manifest',
  version: 1,
  operations: operations.map((o) => ({ type: 'query', ...o })),
});

async function load(content: unknown, options: { only?: boolean; maxQueryBytes?: number } = {}) {
  const path = await manifestFile(content);
  return { path, documents: await loadPersistedDocuments(path, { schema, maxQueryBytes: options.maxQueryBytes ?? 16 * 1024, only: options.only ?? true }) };
}

/** Loads `content` and returns the ConfigError it must throw, with the file's path. */
async function loadError(content: unknown, options: { maxQueryBytes?: number } = {}): Promise<{ path: string; error: ConfigError }> {
  const path = await manifestFile(content);
  const caught = await loadPersistedDocuments(path, { schema, maxQueryBytes: options.maxQueryBytes ?? 16 * 1024, only: true }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(caught).toBeInstanceOf(ConfigError);
  return { path, error: caught as ConfigError };
}

describe('loadPersistedDocuments: the two manifest formats', () => {
  it("loads graphql-codegen's persisted-documents.json: byId with and without sha256:, has, size, only", async () => {
    const { documents } = await load(codegen(VISITOR, VISITORS), { only: false });
    expect(documents.size).toBe(2);
    expect(documents.only).toBe(false);
    expect(documents.byId(sha256(VISITOR))).toBe(VISITOR);
    expect(documents.byId(`sha256:${sha256(VISITOR)}`)).toBe(VISITOR);
    expect(documents.byId(sha256(VISITORS))).toBe(VISITORS);
    expect(documents.byId(UNKNOWN_HASH)).toBeUndefined();
    expect(documents.byId('')).toBeUndefined();
    expect(documents.has(VISITOR)).toBe(true);
    expect(documents.has(VISITORS)).toBe(true);
    // Exact text: the same operation formatted otherwise is not in the manifest.
    expect(documents.has(`${VISITOR} `)).toBe(false);
    expect(documents.has(VISITOR.replace('{ id name }', '{ id  name }'))).toBe(false);
    expect(documents.has(OTHER)).toBe(false);
  });

  it("loads Apollo's persisted query manifest the same way", async () => {
    const { documents } = await load(
      apollo({ id: sha256(VISITOR), name: 'Visitor', body: VISITOR }, { id: sha256(VISITORS), name: 'Visitors', body: VISITORS }),
    );
    expect(documents.size).toBe(2);
    expect(documents.only).toBe(true);
    expect(documents.byId(sha256(VISITOR))).toBe(VISITOR);
    expect(documents.byId(`sha256:${sha256(VISITORS)}`)).toBe(VISITORS);
    expect(documents.byId(UNKNOWN_HASH)).toBeUndefined();
    expect(documents.has(VISITORS)).toBe(true);
    expect(documents.has(OTHER)).toBe(false);
  });

  it('accepts ids written with the sha256: prefix in the manifest, found with or without it', async () => {
    const { documents } = await load({ [`sha256:${sha256(VISITOR)}`]: VISITOR });
    expect(documents.size).toBe(1);
    expect(documents.byId(sha256(VISITOR))).toBe(VISITOR);
    expect(documents.byId(`sha256:${sha256(VISITOR)}`)).toBe(VISITOR);
  });

  it('counts one document once when the manifest gives it under the same id twice', async () => {
    const { documents } = await load(
      apollo({ id: sha256(VISITOR), name: 'Visitor', body: VISITOR }, { id: `sha256:${sha256(VISITOR)}`, name: 'Visitor', body: VISITOR }),
    );
    expect(documents.size).toBe(1);
  });
});

describe('loadPersistedDocuments: a bad manifest is a ConfigError naming the file and the entry', () => {
  it('not JSON', async () => {
    const { path, error } = await loadError('{ "abc": ');
    expect(error.message).toContain('PERSISTED_DOCUMENTS');
    expect(error.message).toContain(path);
    expect(error.message).toContain('is not JSON');
  });

  it.each([
    ['an array', [VISITOR]],
    ['a string', 'just text'],
    ['null', null],
    ['a number', 42],
  ])('not an object (%s)', async (_name, content) => {
    const { path, error } = await loadError(JSON.stringify(content));
    expect(error.message).toContain(path);
    expect(error.message).toContain('must be an object');
  });

  it('Apollo format with the wrong format', async () => {
    const { path, error } = await loadError({ ...apollo({ id: sha256(VISITOR), body: VISITOR }), format: 'relay-persisted-queries' });
    expect(error.message).toContain(path);
    expect(error.message).toContain('format must be "apollo-persisted-query-manifest"');
    expect(error.message).toContain('relay-persisted-queries');
  });

  it('Apollo format with the wrong version', async () => {
    const { path, error } = await loadError({ ...apollo({ id: sha256(VISITOR), body: VISITOR }), version: 2 });
    expect(error.message).toContain(path);
    expect(error.message).toContain('version must be 1 (got 2)');
  });

  it('Apollo format whose operations are not an array', async () => {
    const { path, error } = await loadError({ format: 'apollo-persisted-query-manifest', version: 1, operations: { [sha256(VISITOR)]: VISITOR } });
    expect(error.message).toContain(path);
    expect(error.message).toContain('operations must be an array');
  });

  it('an Apollo entry with an empty id names operations[i] (Name)', async () => {
    const { path, error } = await loadError(apollo({ id: sha256(VISITOR), name: 'Visitor', body: VISITOR }, { id: '', name: 'Visitors', body: VISITORS }));
    expect(error.message).toContain(path);
    expect(error.message).toContain('operations[1] (Visitors)');
    expect(error.message).toContain('the id must be a non-empty string');
  });

  it('an Apollo entry with a missing id, and one that is not an object at all', async () => {
    const missing = await loadError(apollo({ id: undefined, name: 'Visitor', body: VISITOR }));
    expect(missing.error.message).toContain('operations[0] (Visitor): the id must be a non-empty string');
    const notObject = await loadError({ format: 'apollo-persisted-query-manifest', version: 1, operations: [null] });
    expect(notObject.error.message).toContain(notObject.path);
    expect(notObject.error.message).toContain('operations[0]');
  });

  it('a codegen entry with an empty id', async () => {
    const { path, error } = await loadError({ '': VISITOR });
    expect(error.message).toContain(path);
    expect(error.message).toContain('entry ""');
    expect(error.message).toContain('the id must be a non-empty string');
  });

  it.each([
    ['a number', 42],
    ['an object', { query: VISITOR }],
    ['null', null],
    ['an empty string', ''],
  ])('a codegen entry whose document is %s', async (_name, document) => {
    const id = sha256(VISITOR);
    const { path, error } = await loadError({ [id]: document });
    expect(error.message).toContain(path);
    expect(error.message).toContain(`entry "${id}"`);
    expect(error.message).toContain('the document must be a non-empty string');
  });

  it('an Apollo entry whose body is not a string', async () => {
    const { path, error } = await loadError(apollo({ id: sha256(VISITOR), name: 'Visitor', body: VISITOR }, { id: sha256('x'), name: 'Broken', body: 7 }));
    expect(error.message).toContain(path);
    expect(error.message).toContain('operations[1] (Broken): the document must be a non-empty string');
  });

  it('a document that does not parse', async () => {
    const broken = 'query Broken { visitor(id: "x") { id ';
    const { path, error } = await loadError(codegen(VISITOR, broken));
    expect(error.message).toContain(path);
    expect(error.message).toContain(`entry "${sha256(broken)}"`);
    expect(error.message).toContain('the document does not run against this schema');
    expect(error.message).toContain('Syntax Error');
  });

  it('a document that fails validation (unknown field), Apollo format: operations[1] (Name)', async () => {
    const unknownField = 'query Nope { visitor(id: "x") { id nope } }';
    const { path, error } = await loadError(
      apollo({ id: sha256(VISITOR), name: 'Visitor', body: VISITOR }, { id: sha256(unknownField), name: 'Nope', body: unknownField }),
    );
    expect(error.message).toContain(path);
    expect(error.message).toContain('operations[1] (Nope)');
    expect(error.message).toContain('Cannot query field "nope" on type "Visitor"');
  });

  it('a document that fails validation (unknown root field), codegen format: entry "<id>"', async () => {
    const unknownField = 'query Nope { nope }';
    const { path, error } = await loadError(codegen(VISITOR, unknownField));
    expect(error.message).toContain(path);
    expect(error.message).toContain(`entry "${sha256(unknownField)}"`);
    expect(error.message).toContain('Cannot query field "nope" on type "Query"');
  });

  it('a document over maxQueryBytes', async () => {
    const { path, error } = await loadError(apollo({ id: sha256(VISITOR), name: 'Visitor', body: VISITOR }), { maxQueryBytes: 20 });
    expect(error.message).toContain(path);
    expect(error.message).toContain('operations[0] (Visitor)');
    expect(error.message).toContain('over MAX_QUERY_BYTES (20)');
  });

  it('a document exactly maxQueryBytes long loads', async () => {
    const { documents } = await load(codegen(VISITOR), { maxQueryBytes: Buffer.byteLength(VISITOR) });
    expect(documents.size).toBe(1);
  });

  it('one id for two different documents (Apollo format)', async () => {
    const id = sha256(VISITOR);
    const { path, error } = await loadError(apollo({ id, name: 'Visitor', body: VISITOR }, { id, name: 'Visitors', body: VISITORS }));
    expect(error.message).toContain(path);
    expect(error.message).toContain('operations[1] (Visitors)');
    expect(error.message).toContain('the id is given to two different documents');
  });

  it('one id for two different documents (codegen format, with and without sha256:)', async () => {
    const id = sha256(VISITOR);
    const { path, error } = await loadError({ [id]: VISITOR, [`sha256:${id}`]: VISITORS });
    expect(error.message).toContain(path);
    expect(error.message).toContain(`entry "sha256:${id}"`);
    expect(error.message).toContain('the id is given to two different documents');
  });

  it.each([
    ['codegen', {}],
    ['Apollo', apollo()],
  ])('an empty manifest (%s format)', async (_name, content) => {
    const { path, error } = await loadError(content);
    expect(error.message).toContain(path);
    expect(error.message).toContain('holds no documents');
  });

  it('a missing file', async () => {
    const path = join(dir, 'does-not-exist.json');
    const caught = await loadPersistedDocuments(path, { schema, maxQueryBytes: 16 * 1024, only: true }).catch((err: unknown) => err);
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message).toContain(path);
    expect((caught as ConfigError).message).toContain('cannot be read (ENOENT)');
  });

  it('a directory', async () => {
    const caught = await loadPersistedDocuments(dir, { schema, maxQueryBytes: 16 * 1024, only: true }).catch((err: unknown) => err);
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message).toContain(dir);
    expect((caught as ConfigError).message).toContain('is not a file');
  });

  it('a long id is clipped in the message', async () => {
    const id = 'a'.repeat(300);
    const { error } = await loadError({ [id]: 'query Nope { nope }' });
    expect(error.message).toContain(`entry "${'a'.repeat(80)}…"`);
    expect(error.message).not.toContain('a'.repeat(81));
  });
});

describe('loadConfig: PERSISTED_DOCUMENTS and PERSISTED_DOCUMENTS_ONLY', () => {
  it('safelist mode defaults to on in production with a manifest, off elsewhere; the flag overrides', () => {
    expect(loadConfig({}).persistedDocuments).toBeUndefined();
    expect(loadConfig({ PERSISTED_DOCUMENTS: '/m.json', NODE_ENV: 'production' }).persistedDocuments).toEqual({ path: '/m.json', only: true });
    expect(loadConfig({ PERSISTED_DOCUMENTS: '/m.json', NODE_ENV: 'development' }).persistedDocuments).toEqual({ path: '/m.json', only: false });
    expect(loadConfig({ PERSISTED_DOCUMENTS: '/m.json' }).persistedDocuments).toEqual({ path: '/m.json', only: false });
    expect(loadConfig({ PERSISTED_DOCUMENTS: '/m.json', NODE_ENV: 'production', PERSISTED_DOCUMENTS_ONLY: 'false' }).persistedDocuments).toEqual({
      path: '/m.json',
      only: false,
    });
    expect(loadConfig({ PERSISTED_DOCUMENTS: '/m.json', PERSISTED_DOCUMENTS_ONLY: 'true' }).persistedDocuments).toEqual({ path: '/m.json', only: true });
    // Without a manifest the production default is simply off, not an error.
    expect(loadConfig({ NODE_ENV: 'production' }).persistedDocuments).toBeUndefined();
  });

  it('PERSISTED_DOCUMENTS_ONLY=true without PERSISTED_DOCUMENTS is a ConfigError naming both', () => {
    let caught: unknown;
    try {
      loadConfig({ PERSISTED_DOCUMENTS_ONLY: 'true' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message).toContain('PERSISTED_DOCUMENTS_ONLY');
    expect((caught as ConfigError).message).toContain('needs PERSISTED_DOCUMENTS');
    // false without a manifest is harmless.
    expect(loadConfig({ PERSISTED_DOCUMENTS_ONLY: 'false' }).persistedDocuments).toBeUndefined();
  });
});

/** The manifest resolveDocument and trustedRequest are checked against, loaded from a real file. */
async function loaded(only: boolean): Promise<PersistedDocuments> {
  return (await load(codegen(VISITOR, VISITORS), { only })).documents;
}

const apq = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

describe('resolveDocument', () => {
  describe.each([true, false])('only=%s', (only) => {
    let documents: PersistedDocuments;
    beforeAll(async () => {
      documents = await loaded(only);
    });
    const ifOnly = (code: ErrorCode) => (only ? { kind: 'refuse', code } : { kind: 'pass' });

    it.each([
      ['a known documentId → its document', { documentId: sha256(VISITOR) }, { kind: 'document', query: VISITOR }],
      ['a known documentId with sha256: → its document', { documentId: `sha256:${sha256(VISITOR)}` }, { kind: 'document', query: VISITOR }],
      ['a known documentId and the same query → its document', { documentId: sha256(VISITOR), query: VISITOR }, { kind: 'document', query: VISITOR }],
      ['a known APQ hash → its document', { extensions: apq(sha256(VISITORS)) }, { kind: 'document', query: VISITORS }],
      ['a known APQ hash and the same query → its document', { query: VISITORS, extensions: apq(sha256(VISITORS)) }, { kind: 'document', query: VISITORS }],
      [
        'a known documentId and another query → PERSISTED_QUERY_HASH_MISMATCH',
        { documentId: sha256(VISITOR), query: OTHER },
        { kind: 'refuse', code: ErrorCode.PERSISTED_QUERY_HASH_MISMATCH },
      ],
      [
        'a known APQ hash and another query → PERSISTED_QUERY_HASH_MISMATCH',
        { query: OTHER, extensions: apq(sha256(VISITOR)) },
        { kind: 'refuse', code: ErrorCode.PERSISTED_QUERY_HASH_MISMATCH },
      ],
      ['an unknown documentId → PERSISTED_DOCUMENT_NOT_FOUND', { documentId: UNKNOWN_HASH }, { kind: 'refuse', code: ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND }],
      [
        'an unknown documentId with a query → PERSISTED_DOCUMENT_NOT_FOUND',
        { documentId: UNKNOWN_HASH, query: OTHER },
        { kind: 'refuse', code: ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND },
      ],
      ['a non-string documentId → BAD_REQUEST', { documentId: 42 }, { kind: 'refuse', code: ErrorCode.BAD_REQUEST }],
      ['a documentId null with a manifest query → pass (null is absent)', { documentId: null, query: VISITOR }, { kind: 'pass' }],
      ['a documentId object → BAD_REQUEST', { documentId: { id: sha256(VISITOR) }, query: VISITOR }, { kind: 'refuse', code: ErrorCode.BAD_REQUEST }],
      ['a query by value in the manifest → pass', { query: VISITOR }, { kind: 'pass' }],
    ] as const)('%s', (_name, request, expected) => {
      expect(resolveDocument(documents, request)).toMatchObject(expected);
    });

    it(`an unknown APQ hash → ${only ? 'PERSISTED_DOCUMENT_NOT_FOUND' : 'pass (Apollo handshake)'}`, () => {
      expect(resolveDocument(documents, { extensions: apq(UNKNOWN_HASH) })).toMatchObject(ifOnly(ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND));
    });

    it(`an APQ registration of a new document → ${only ? 'PERSISTED_DOCUMENT_NOT_FOUND' : 'pass'}`, () => {
      expect(resolveDocument(documents, { query: OTHER, extensions: apq(sha256(OTHER)) })).toMatchObject(ifOnly(ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND));
    });

    it(`a query by value not in the manifest → ${only ? 'PERSISTED_DOCUMENT_REQUIRED' : 'pass'}`, () => {
      expect(resolveDocument(documents, { query: OTHER })).toMatchObject(ifOnly(ErrorCode.PERSISTED_DOCUMENT_REQUIRED));
      expect(resolveDocument(documents, { query: OTHER, extensions: { clientLibrary: { name: 'x' } } })).toMatchObject(
        ifOnly(ErrorCode.PERSISTED_DOCUMENT_REQUIRED),
      );
    });

    it('no query, no id and no extensions is not a GraphQL request: pass, for Apollo to answer (a landing page, an empty body)', () => {
      expect(resolveDocument(documents, {})).toEqual({ kind: 'pass' });
      expect(resolveDocument(documents, { documentId: null, query: null })).toEqual({ kind: 'pass' });
    });

    it(`a query that is not a string → ${only ? 'PERSISTED_DOCUMENT_REQUIRED' : 'pass'}`, () => {
      expect(resolveDocument(documents, { query: 42 })).toMatchObject(ifOnly(ErrorCode.PERSISTED_DOCUMENT_REQUIRED));
    });

    it('a persistedQuery extension without a string hash is not an id', () => {
      for (const extensions of [{ persistedQuery: { version: 1 } }, { persistedQuery: { sha256Hash: 42 } }, { persistedQuery: null }, null, 'x']) {
        expect(resolveDocument(documents, { query: VISITOR, extensions })).toEqual({ kind: 'pass' });
        expect(resolveDocument(documents, { query: OTHER, extensions })).toMatchObject(ifOnly(ErrorCode.PERSISTED_DOCUMENT_REQUIRED));
      }
    });

    it('documentId wins over an APQ hash sent beside it', () => {
      expect(resolveDocument(documents, { documentId: sha256(VISITOR), extensions: apq(sha256(VISITORS)) })).toEqual({ kind: 'document', query: VISITOR });
      expect(resolveDocument(documents, { documentId: UNKNOWN_HASH, extensions: apq(sha256(VISITORS)) })).toMatchObject({
        kind: 'refuse',
        code: ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND,
      });
    });

    it('every refusal carries a message', () => {
      for (const request of [{ documentId: UNKNOWN_HASH }, { documentId: 1 }, { documentId: sha256(VISITOR), query: OTHER }]) {
        const resolution = resolveDocument(documents, request);
        expect(resolution.kind).toBe('refuse');
        expect((resolution as { message: string }).message.length).toBeGreaterThan(0);
      }
    });
  });
});

describe('trustedRequest', () => {
  let documents: PersistedDocuments;
  let open: PersistedDocuments;
  beforeAll(async () => {
    documents = await loaded(true);
    open = await loaded(false);
  });

  it('POST by documentId: the document in its place, documentId gone, variables and operationName kept', () => {
    const body = { documentId: sha256(VISITOR), variables: { id: 'v1' }, operationName: 'Visitor' };
    expect(trustedRequest(documents, true, body, '?x=1')).toEqual({
      body: { query: VISITOR, variables: { id: 'v1' }, operationName: 'Visitor' },
      search: '?x=1',
    });
    // The caller's object is not changed.
    expect(body).toEqual({ documentId: sha256(VISITOR), variables: { id: 'v1' }, operationName: 'Visitor' });
  });

  it('POST by APQ hash: persistedQuery removed, other extensions kept', () => {
    const body = {
      variables: { ids: ['a'] },
      operationName: 'Visitors',
      extensions: { ...apq(sha256(VISITORS)), clientLibrary: { name: '@apollo/client', version: '4' } },
    };
    expect(trustedRequest(documents, true, body, '')).toEqual({
      body: { query: VISITORS, variables: { ids: ['a'] }, operationName: 'Visitors', extensions: { clientLibrary: { name: '@apollo/client', version: '4' } } },
      search: '',
    });
  });

  it('POST by APQ hash with nothing else in extensions: no extensions left', () => {
    const result = trustedRequest(documents, true, { query: VISITORS, extensions: apq(`sha256:${sha256(VISITORS)}`) }, '');
    expect(result).toEqual({ body: { query: VISITORS }, search: '' });
  });

  it('POST refusals answer the code and message, whatever the body', () => {
    expect(trustedRequest(documents, true, { documentId: UNKNOWN_HASH }, '')).toMatchObject({ code: ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND });
    expect(trustedRequest(documents, true, { query: OTHER }, '')).toMatchObject({ code: ErrorCode.PERSISTED_DOCUMENT_REQUIRED });
    expect(trustedRequest(documents, true, { documentId: sha256(VISITOR), query: OTHER }, '')).toMatchObject({ code: ErrorCode.PERSISTED_QUERY_HASH_MISMATCH });
    expect(trustedRequest(documents, true, { documentId: [] }, '')).toMatchObject({ code: ErrorCode.BAD_REQUEST });
    // A batch, a body that is not JSON (a string) and no body at all are Apollo's to refuse (batching
    // is off; a text body fails its CSRF check or is a bad request): handed on as they came.
    for (const body of [[{ documentId: sha256(VISITOR) }], 'query { __typename }', undefined, null]) {
      expect(trustedRequest(documents, true, body, '')).toEqual({ body, search: '' });
    }
  });

  it('POST that passes is handed on unchanged (same object)', () => {
    const body = { query: VISITOR, variables: { id: 'v' }, extensions: { clientLibrary: { name: 'x' } } };
    const result = trustedRequest(documents, true, body, '?a=b') as { body: unknown; search: string };
    expect(result.body).toBe(body);
    expect(result.search).toBe('?a=b');
    const openBody = { query: OTHER, extensions: apq(sha256(OTHER)) };
    expect((trustedRequest(open, true, openBody, '') as { body: unknown }).body).toBe(openBody);
    // Outside safelist mode a batch and a text body go on to Apollo, which answers them itself.
    const batch = [{ query: OTHER }];
    expect((trustedRequest(open, true, batch, '') as { body: unknown }).body).toBe(batch);
  });

  it('GET by documentId: the query string rewritten with the document, documentId gone, variables and operationName kept', () => {
    const search = `?documentId=${sha256(VISITOR)}&variables=${encodeURIComponent(JSON.stringify({ id: 'v1' }))}&operationName=Visitor`;
    const result = trustedRequest(documents, false, undefined, search) as { body: unknown; search: string };
    expect(result.body).toBeUndefined();
    expect(result.search.startsWith('?')).toBe(true);
    const params = new URLSearchParams(result.search);
    expect(params.get('query')).toBe(VISITOR);
    expect(params.get('documentId')).toBeNull();
    expect(JSON.parse(params.get('variables')!)).toEqual({ id: 'v1' });
    expect(params.get('operationName')).toBe('Visitor');
    expect(params.has('extensions')).toBe(false);
  });

  it('GET by APQ hash: persistedQuery removed from extensions, other extensions kept', () => {
    const extensions = { ...apq(sha256(VISITORS)), clientLibrary: { name: '@apollo/client' } };
    const search = `?operationName=Visitors&variables=${encodeURIComponent('{"ids":["a"]}')}&extensions=${encodeURIComponent(JSON.stringify(extensions))}`;
    const result = trustedRequest(documents, false, undefined, search) as { search: string };
    const params = new URLSearchParams(result.search);
    expect(params.get('query')).toBe(VISITORS);
    expect(JSON.parse(params.get('extensions')!)).toEqual({ clientLibrary: { name: '@apollo/client' } });
    expect(params.get('operationName')).toBe('Visitors');
    expect(JSON.parse(params.get('variables')!)).toEqual({ ids: ['a'] });
  });

  it('GET by APQ hash with nothing else in extensions: the extensions param removed', () => {
    const search = `?extensions=${encodeURIComponent(JSON.stringify(apq(sha256(VISITORS))))}`;
    const params = new URLSearchParams((trustedRequest(documents, false, undefined, search) as { search: string }).search);
    expect(params.get('query')).toBe(VISITORS);
    expect(params.has('extensions')).toBe(false);
  });

  it('GET with a known id and the same query keeps it; a different query is a mismatch', () => {
    const same = `?documentId=sha256:${sha256(VISITOR)}&query=${encodeURIComponent(VISITOR)}`;
    expect(new URLSearchParams((trustedRequest(documents, false, undefined, same) as { search: string }).search).get('query')).toBe(VISITOR);
    const other = `?documentId=${sha256(VISITOR)}&query=${encodeURIComponent(OTHER)}`;
    expect(trustedRequest(documents, false, undefined, other)).toMatchObject({ code: ErrorCode.PERSISTED_QUERY_HASH_MISMATCH });
  });

  it('GET refusals and passes', () => {
    expect(trustedRequest(documents, false, undefined, `?documentId=${UNKNOWN_HASH}`)).toMatchObject({ code: ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND });
    expect(trustedRequest(documents, false, undefined, `?extensions=${encodeURIComponent(JSON.stringify(apq(UNKNOWN_HASH)))}`)).toMatchObject({
      code: ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND,
    });
    expect(trustedRequest(documents, false, undefined, `?query=${encodeURIComponent(OTHER)}`)).toMatchObject({ code: ErrorCode.PERSISTED_DOCUMENT_REQUIRED });
    // No query, id or extensions: the landing page's GET, for Apollo to serve.
    expect(trustedRequest(documents, false, undefined, '')).toEqual({ body: undefined, search: '' });
    // A query by value in the manifest passes untouched.
    const inManifest = `?query=${encodeURIComponent(VISITOR)}`;
    expect(trustedRequest(documents, false, undefined, inManifest)).toEqual({ body: undefined, search: inManifest });
    // Outside safelist mode: an unknown APQ hash goes to Apollo untouched; an unknown documentId does not.
    const unknownApq = `?extensions=${encodeURIComponent(JSON.stringify(apq(UNKNOWN_HASH)))}`;
    expect(trustedRequest(open, false, undefined, unknownApq)).toEqual({ body: undefined, search: unknownApq });
    expect(trustedRequest(open, false, undefined, `?query=${encodeURIComponent(OTHER)}`)).toEqual({
      body: undefined,
      search: `?query=${encodeURIComponent(OTHER)}`,
    });
    expect(trustedRequest(open, false, undefined, `?documentId=${UNKNOWN_HASH}`)).toMatchObject({ code: ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND });
  });

  it('GET with unreadable extensions is handed on as it came, for Apollo to refuse, with or without an id', () => {
    for (const search of [
      `?query=${encodeURIComponent(OTHER)}&extensions=%7Bnot-json`,
      '?extensions=%7Bnot-json',
      `?documentId=${sha256(VISITOR)}&extensions=%7Bbad`,
    ]) {
      expect(trustedRequest(documents, false, undefined, search)).toEqual({ body: undefined, search });
    }
  });
});
