import { readFile, stat } from 'node:fs/promises';
import { GraphQLError, parse, validate, type GraphQLSchema } from 'graphql';
import { ConfigError } from './config.js';
import { clip, ErrorCode } from './errors.js';

/**
 * Trusted documents: the operations a frontend build declared, loaded from the manifest its
 * tooling wrote (PERSISTED_DOCUMENTS). Clients send an id instead of the document; in safelist mode
 * (PERSISTED_DOCUMENTS_ONLY) nothing else runs. Apollo Server has automatic persisted queries but no
 * manifest or safelist of its own (that lives in Apollo Router), so this is the gateway's.
 */
export interface PersistedDocuments {
  /** The document with this id (`sha256:` prefix or not), if the manifest has one. */
  byId(id: string): string | undefined;
  /** Whether this exact document text is in the manifest. */
  has(document: string): boolean;
  readonly size: number;
  /** Refuse every document that is not in the manifest. */
  readonly only: boolean;
}

/** A manifest is source code's worth of documents; anything this big is not one. */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
const APOLLO_FORMAT = 'apollo-persisted-query-manifest';
/** The GraphQL-over-HTTP appendix's form of an id, `sha256:<hex>`; manifests and clients use both. */
const withoutPrefix = (id: string) => (id.startsWith('sha256:') ? id.slice(7) : id);

/**
 * Reads and checks a manifest in either format frontends produce: graphql-codegen's client preset
 * (`persisted-documents.json`, `{ "<hash>": "<document>" }`) or Apollo's
 * `@apollo/generate-persisted-query-manifest` (`{ format, version: 1, operations: [{ id, name, type, body }] }`).
 * Every document must parse and validate against the schema, and fit MAX_QUERY_BYTES; the first
 * that does not stops start-up with a message naming the file and the entry.
 */
export async function loadPersistedDocuments(
  path: string,
  options: { schema: GraphQLSchema; maxQueryBytes: number; only: boolean },
): Promise<PersistedDocuments> {
  const fail = (reason: string): never => {
    throw new ConfigError(`Invalid configuration:\n  PERSISTED_DOCUMENTS: ${path}: ${reason}`);
  };
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) fail('is not a file');
    if (info.size > MAX_MANIFEST_BYTES) fail(`is ${info.size} bytes; a manifest is at most ${MAX_MANIFEST_BYTES}`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    return fail(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail(`is not JSON (${(err as Error).message})`);
  }
  const entries = manifestEntries(json, fail);
  const documents = new Map<string, string>();
  const texts = new Set<string>();
  for (const [rawId, document, where] of entries) {
    const entry = (reason: string) => fail(`${where}: ${reason}`);
    if (typeof rawId !== 'string' || rawId === '') entry('the id must be a non-empty string');
    if (typeof document !== 'string' || document === '') entry('the document must be a non-empty string');
    const id = withoutPrefix(rawId as string);
    if (Buffer.byteLength(document as string) > options.maxQueryBytes) entry(`the document is over MAX_QUERY_BYTES (${options.maxQueryBytes})`);
    const known = documents.get(id);
    if (known !== undefined && known !== document) entry('the id is given to two different documents');
    let errors: readonly GraphQLError[];
    try {
      errors = validate(options.schema, parse(document as string));
    } catch (err) {
      errors = [err as GraphQLError];
    }
    if (errors.length) entry(`the document does not run against this schema: ${errors[0]!.message}`);
    documents.set(id, document as string);
    texts.add(document as string);
  }
  if (documents.size === 0) fail('holds no documents');
  return {
    byId: (id) => documents.get(withoutPrefix(id)),
    has: (document) => texts.has(document),
    size: documents.size,
    only: options.only,
  };
}

type Entry = [id: unknown, document: unknown, where: string];

function manifestEntries(json: unknown, fail: (reason: string) => never): Entry[] {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return fail('must be an object: graphql-codegen\'s { "<hash>": "<document>" } or Apollo\'s persisted query manifest');
  }
  const record = json as Record<string, unknown>;
  if (!('format' in record)) {
    return Object.entries(record).map(([id, document]): Entry => [id, document, `entry ${JSON.stringify(clip(id, 80))}`]);
  }
  if (record.format !== APOLLO_FORMAT) fail(`format must be "${APOLLO_FORMAT}" (got ${JSON.stringify(clip(String(record.format), 80))})`);
  if (record.version !== 1) fail(`version must be 1 (got ${JSON.stringify(record.version)})`);
  if (!Array.isArray(record.operations)) return fail('operations must be an array');
  return record.operations.map((operation: unknown, i): Entry => {
    const op = (operation ?? {}) as { id?: unknown; name?: unknown; body?: unknown };
    const name = typeof op.name === 'string' ? ` (${clip(op.name, 80)})` : '';
    return [op.id, op.body, `operations[${i}]${name}`];
  });
}

/** What a request asks for, as the HTTP layer read it from a POST body or a GET query string. */
export interface DocumentRequest {
  query?: unknown;
  documentId?: unknown;
  extensions?: unknown;
}

export type Resolution =
  /** Nothing to change: Apollo sees the request as it came. */
  | { kind: 'pass' }
  /** The manifest's document, to run in place of the id. */
  | { kind: 'document'; query: string }
  | { kind: 'refuse'; code: ErrorCode; message: string };

const PASS: Resolution = { kind: 'pass' };

/**
 * Resolves a request against the manifest, before anything is parsed. An id (`documentId`, or
 * Apollo's `extensions.persistedQuery.sha256Hash`) the manifest knows becomes its document; a
 * document sent with it must be that document. In safelist mode an unknown id, and a document by
 * value that is not in the manifest, are refused, so automatic persisted queries cannot register
 * one either. Outside it, an unknown APQ hash goes on to Apollo's own APQ handshake.
 */
export function resolveDocument(documents: PersistedDocuments, request: DocumentRequest): Resolution {
  // Not a GraphQL request at all (a landing page, an empty body): Apollo answers it as it would.
  if (request.query == null && request.documentId == null && request.extensions == null) return PASS;
  const apqHash = persistedQueryHash(request.extensions);
  const id = typeof request.documentId === 'string' ? request.documentId : apqHash;
  const query = typeof request.query === 'string' ? request.query : undefined;
  if (request.documentId != null && typeof request.documentId !== 'string') {
    return refuse(ErrorCode.BAD_REQUEST, 'documentId must be a string.');
  }
  if (id !== undefined) {
    const document = documents.byId(id);
    if (document === undefined) {
      if (documents.only)
        return refuse(ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND, 'This gateway runs only the operations of its manifest, and this id is not one of them.');
      // An APQ hash goes on to Apollo's handshake; a documentId has no handshake to go to.
      if (typeof request.documentId === 'string') return refuse(ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND, 'No document in the manifest has this id.');
      return PASS;
    }
    if (query !== undefined && query !== document) {
      return refuse(ErrorCode.PERSISTED_QUERY_HASH_MISMATCH, 'The document sent is not the one the manifest has for this id.');
    }
    return { kind: 'document', query: document };
  }
  if (documents.only && (query === undefined || !documents.has(query))) {
    return refuse(ErrorCode.PERSISTED_DOCUMENT_REQUIRED, 'This gateway runs only the operations of its manifest: send a documentId it knows.');
  }
  return PASS;
}

function persistedQueryHash(extensions: unknown): string | undefined {
  if (extensions === null || typeof extensions !== 'object') return undefined;
  const persisted = (extensions as { persistedQuery?: unknown }).persistedQuery;
  if (persisted === null || typeof persisted !== 'object') return undefined;
  const hash = (persisted as { sha256Hash?: unknown }).sha256Hash;
  return typeof hash === 'string' ? hash : undefined;
}

function refuse(code: ErrorCode, message: string): Resolution {
  return { kind: 'refuse', code, message };
}

/**
 * The request Apollo is to see once the manifest has had its say, for a POST body or a GET query
 * string: the document in place of the id, and neither `documentId` nor the APQ extension left
 * (Apollo would check the id as a SHA-256 of the document, which a manifest's ids need not be).
 */
export function trustedRequest(
  documents: PersistedDocuments,
  post: boolean,
  body: unknown,
  search: string,
): { body: unknown; search: string } | { code: ErrorCode; message: string } {
  if (post) {
    // A batch is refused by Apollo (batching is off) before anything in it runs; a body that is not
    // JSON, by its CSRF check or as a bad request.
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return { body, search };
    const fields = body as DocumentRequest;
    const resolution = resolveDocument(documents, fields);
    if (resolution.kind === 'refuse') return resolution;
    if (resolution.kind === 'pass') return { body, search };
    const { documentId: _id, extensions, ...rest } = fields as DocumentRequest & Record<string, unknown>;
    const others = withoutPersistedQuery(extensions);
    return { body: others ? { ...rest, query: resolution.query, extensions: others } : { ...rest, query: resolution.query }, search };
  }
  const params = new URLSearchParams(search);
  let extensions: unknown;
  const rawExtensions = params.get('extensions');
  if (rawExtensions !== null) {
    try {
      extensions = JSON.parse(rawExtensions);
    } catch {
      // Apollo refuses unreadable extensions (400) before anything runs: left for it to answer.
      return { body, search };
    }
  }
  const resolution = resolveDocument(documents, { query: params.get('query') ?? undefined, documentId: params.get('documentId') ?? undefined, extensions });
  if (resolution.kind === 'refuse') return resolution;
  if (resolution.kind === 'pass') return { body, search };
  params.delete('documentId');
  params.set('query', resolution.query);
  const rest = withoutPersistedQuery(extensions);
  if (rest === undefined) params.delete('extensions');
  else {
    let text: string;
    try {
      text = JSON.stringify(rest);
    } catch {
      // Nested deeper than the stack allows (JSON.parse reads it, JSON.stringify overflows).
      return { code: ErrorCode.BAD_REQUEST, message: 'The extensions parameter is nested too deeply.' };
    }
    params.set('extensions', text);
  }
  return { body, search: `?${params.toString()}` };
}

function withoutPersistedQuery(extensions: unknown): Record<string, unknown> | undefined {
  if (extensions === null || typeof extensions !== 'object' || Array.isArray(extensions)) return undefined;
  const { persistedQuery: _pq, ...rest } = extensions as Record<string, unknown>;
  return Object.keys(rest).length ? rest : undefined;
}
