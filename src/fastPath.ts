import {
  getOperationAST,
  GraphQLError,
  getVariableValues,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ValidationRule,
  type VariableDefinitionNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { maskUnexpected } from './apollo.js';
import { clip } from './errors.js';
import { DOCUMENT_BYTES_PER_QUERY_BYTE, prepareOperation, runOperation, type OperationRun } from './executor.js';
import type { Config } from './config.js';
import type { GatewayContext } from './context.js';
import { checkDemand, gatewayRules, operationDemand, type OperationDemand } from './limits.js';
import type { GatewayMetrics } from './metrics.js';
import { recordOperation } from './operationLog.js';

/**
 * The hot path for the request nearly every client sends: a POSTed JSON `{query, variables,
 * operationName}`. Apollo Server's request pipeline costs about 30 µs per operation before any
 * work (measured in-process; see the README's Performance section). This path takes the same steps,
 * with everything that depends only on the query text done once and cached: parse (with the token
 * limit), validation (GraphQL's rules, the operation limits, introspection off in production), the
 * walk for the ids each operation names, and, from its second use on, the graphql-jit compilation.
 * Per request it checks the MAX_IDS and upstream-call budgets, coerces variables, executes and
 * formats.
 *
 * Everything else (GET, persisted queries, the landing page, batching, odd content types) goes to
 * Apollo Server, which stays the reference: the integration tests hold both paths to the same answers.
 */
export interface FastAnswer {
  status: number;
  body: string;
  /** Set by a refusal that tells HTTP clients more (Retry-After on RATE_LIMITED). */
  headers?: Map<string, string>;
}

interface Prepared {
  /** Parse or validation failure: answered as is. */
  failure?: { status: number; errors: GraphQLFormattedError[] };
  document?: DocumentNode;
  operations: Map<
    string,
    | {
        /** How it runs: graphql-js at first, graphql-jit once the document comes back (executor.ts). */
        run: OperationRun;
        operationName: string | undefined;
        demand: OperationDemand;
        variables: readonly VariableDefinitionNode[];
        name: string | null;
      }
    | { failure: { status: number; errors: GraphQLFormattedError[] } }
  >;
}

type Body = { query?: unknown; variables?: unknown; operationName?: unknown; extensions?: unknown };
type FastPathConfig = Pick<Config, 'production' | 'introspection' | 'limits' | 'maxIds' | 'maxUpstreamCalls' | 'documentCacheBytes'>;




export class FastPath {
  readonly #schema: GraphQLSchema;
  readonly #config: FastPathConfig;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #rules: ValidationRule[];
  readonly #prepared: LRUCache<string, Prepared>;

  constructor(schema: GraphQLSchema, config: FastPathConfig, metrics?: GatewayMetrics) {
    this.#schema = schema;
    this.#config = config;
    this.#metrics = metrics;
    this.#prepared = new LRUCache<string, Prepared>({
      maxSize: Math.max(1, config.documentCacheBytes),
      // Failures keep only their errors; a document grows by what each of its operations compiled.
      sizeCalculation: (prepared, query) => (prepared.document ? query.length * DOCUMENT_BYTES_PER_QUERY_BYTE : query.length * 2) + 1,
      // One document over the whole budget is answered but not kept.
      maxEntrySize: Math.max(1, config.documentCacheBytes),
    });
    this.#rules = [...specifiedRules, ...gatewayRules(config)];
  }

  /** Whether this path answers the request; anything else goes to Apollo Server. */
  accepts(body: unknown): body is Body & { query: string } {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return false;
    const b = body as Body;
    return (
      typeof b.query === 'string' &&
      b.extensions === undefined &&
      (b.variables === undefined || b.variables === null || (typeof b.variables === 'object' && !Array.isArray(b.variables))) &&
      (b.operationName === undefined || b.operationName === null || typeof b.operationName === 'string')
    );
  }

  async run(body: Body & { query: string }, context: GatewayContext): Promise<FastAnswer> {
    const started = performance.now();
    const operationName = typeof body.operationName === 'string' ? body.operationName : null;
    let status = 200;
    let errors: readonly GraphQLError[] | GraphQLFormattedError[] | undefined;
    let data: unknown;
    let formatted: GraphQLFormattedError[] | undefined;
    let headers: Map<string, string> | undefined;

    const prepared = this.#prepare(body.query);
    const operation = prepared.failure ?? this.#operation(prepared, operationName);
    if ('failure' in operation || 'errors' in operation) {
      const failure = 'failure' in operation ? operation.failure : operation;
      status = failure.status;
      formatted = failure.errors;
    } else {
      const variables = (body.variables ?? {}) as Record<string, unknown>;
      const checked = checkDemand(operation.demand, variables, this.#config);
      const refusal = 'refusal' in checked ? checked.refusal : context.visitors.admit(checked.calls);
      if (refusal) {
        status = refusal.http?.status ?? 400;
        headers = refusal.http?.headers;
        formatted = [withCode(refusal, refusal.code)];
      } else {
        const result = await runOperation(this.#schema, prepared.document!, operation.operationName, operation.run, context, variables);
        data = result.data;
        errors = result.errors;
        // No `data` at all means the variables did not coerce: a request error, as Apollo answers it,
        // worded by graphql-js itself (only on this failure path, so the happy path coerces once).
        if (!('data' in result) || result.data === undefined) {
          status = 400;
          const coerced = getVariableValues(this.#schema, operation.variables, variables);
          if (coerced.errors) errors = coerced.errors;
        }
        formatted = errors?.map((e) => (status === 400 ? withCode(e, 'BAD_USER_INPUT') : this.#format(e, context)));
      }
    }

    if (formatted) formatted = formatted.map((e) => ({ ...e, extensions: { ...e.extensions, requestId: context.requestId } }));
    recordOperation(context, this.#metrics, {
      operationName: operationName ?? ('run' in operation ? operation.name : null),
      seconds: (performance.now() - started) / 1000,
      httpStatus: status,
      codes: formatted?.map((e) => e.extensions?.code) ?? [],
    });
    const payload = formatted?.length ? (status === 400 && data === undefined ? { errors: formatted } : { errors: formatted, data }) : { data };
    return { status, body: JSON.stringify(payload), headers };
  }

  #format(error: GraphQLError, context: GatewayContext): GraphQLFormattedError {
    if (error.originalError && !(error.originalError instanceof GraphQLError)) {
      context.log.error({ err: error.originalError, path: error.path }, 'unexpected error while resolving');
    }
    const formatted = error.toJSON();
    const withDefault = formatted.extensions?.code ? formatted : { ...formatted, extensions: { ...formatted.extensions, code: 'INTERNAL_SERVER_ERROR' } };
    return maskUnexpected(withDefault, error);
  }

  #prepare(query: string): Prepared {
    const cached = this.#prepared.get(query);
    if (cached) return cached;
    let prepared: Prepared;
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: this.#config.limits.maxTokens });
    } catch (err) {
      prepared = { operations: new Map(), failure: { status: 400, errors: [withCode(err as GraphQLError, 'GRAPHQL_PARSE_FAILED')] } };
      this.#prepared.set(query, prepared);
      return prepared;
    }
    const invalid = validate(this.#schema, document, this.#rules);
    prepared = invalid.length
      ? {
          operations: new Map(),
          failure: {
            status: 400,
            errors: invalid.map((e) => withCode(this.#config.production ? withoutSuggestions(e) : e, 'GRAPHQL_VALIDATION_FAILED')),
          },
        }
      : { document, operations: new Map() };
    this.#prepared.set(query, prepared);
    return prepared;
  }

  #operation(prepared: Prepared, operationName: string | null) {
    const key = operationName ?? '';
    const known = prepared.operations.get(key);
    if (known) return known;
    const document = prepared.document!;
    let entry: Prepared['operations'] extends Map<string, infer V> ? V : never;
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      // Not kept: every request may name a new operation, and only names in the document are bounded.
      // Worded and clipped as Apollo's own answer is (apollo.ts), which the parity test holds it to.
      const message = operationName
        ? clip(`Unknown operation named "${operationName}".`, 200)
        : 'Must provide operation name if query contains multiple operations.';
      return { failure: { status: 400, errors: [{ message, extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } }] } };
    } else {
      entry = {
        run: prepareOperation(operation),
        operationName: operationName ?? undefined,
        demand: operationDemand(document, operation),
        variables: operation.variableDefinitions ?? [],
        name: operation.name?.value ?? null,
      };
    }
    prepared.operations.set(key, entry);
    return entry;
  }

}

function withCode(error: GraphQLError | GraphQLFormattedError, code: string): GraphQLFormattedError {
  const formatted = error instanceof GraphQLError ? error.toJSON() : error;
  // `http` is an instruction to the HTTP layer (Apollo strips it too), not part of the answer.
  const { http: _http, ...extensions } = formatted.extensions ?? {};
  return { ...formatted, extensions: { ...extensions, code } };
}

function withoutSuggestions(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message.replace(/ ?Did you mean(.+?)\?$/, ''), { nodes: error.nodes, extensions: error.extensions });
}
