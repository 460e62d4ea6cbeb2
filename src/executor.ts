import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import {
  execute,
  getVariableValues,
  GraphQLError,
  printSchema,
  valueFromASTUntyped,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/**
 * Bytes of heap one cached document takes per byte of query text: its AST with locations (about
 * 70×) and graphql-jit's compiled functions (about 200× more), measured on documents of 0.2 to
 * 14 KiB with `node --expose-gc` (heap before and after holding 300 of them). The cache is bounded
 * by this estimate rather than by a count, so a few large documents cannot hold gigabytes.
 */
export const DOCUMENT_BYTES_PER_QUERY_BYTE = 300;

/**
 * The use at which an operation is compiled with graphql-jit; before that graphql-js runs it.
 * Compiling a 14 KiB document took about 25 ms of CPU, ten times what parsing and validating it
 * cost, so a flood of unique documents sent once each (no credentials needed) would spend most of
 * the gateway's CPU on compilations nobody reuses. Real clients repeat a handful of documents, and
 * from their second use on run compiled.
 */
const COMPILE_AT = 2;

// Apollo Server's own types for its gateway hook, as its constructor takes them.
type GatewayInterface = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type GatewaySchemaLoadOrUpdateCallback = Parameters<GatewayInterface['onSchemaLoadOrUpdate']>[0];
type GatewayExecutor = NonNullable<Awaited<ReturnType<GatewayInterface['load']>>['executor']>;

/** What is known of one operation of one cached document. */
export interface OperationRun {
  /** Requests this operation has answered; compiling is worth its cost only for repeats. */
  uses: number;
  compiled: CompiledQuery | undefined;
  /** Variables with a default, as values: graphql-jit ignores the default of a non-null variable. */
  defaults: ReadonlyArray<readonly [string, unknown]>;
}

export function prepareOperation(operation: OperationDefinitionNode): OperationRun {
  return {
    uses: 0,
    compiled: undefined,
    defaults: (operation.variableDefinitions ?? []).flatMap((d) =>
      d.defaultValue ? [[d.variable.name.value, valueFromASTUntyped(d.defaultValue)] as const] : [],
    ),
  };
}

/**
 * Runs one operation of a cached document: on graphql-js until its COMPILE_AT-th use, compiled by
 * graphql-jit from then on. The variables get the operation's defaults for those left out.
 */
export function runOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  run: OperationRun,
  contextValue: unknown,
  sent: Record<string, unknown>,
): ExecutionResult | Promise<ExecutionResult> {
  if (!run.compiled && ++run.uses >= COMPILE_AT) {
    const compiled = compileQuery(schema, document, operationName, { customSerializers: { DateTime: serializeDateTime } });
    if (isCompiledQuery(compiled)) run.compiled = compiled;
    // graphql-jit refused it (no such valid document is known): graphql-js keeps running it.
    else run.uses = Number.NEGATIVE_INFINITY;
  }
  const variableValues = withDefaults(sent, run.defaults);
  return run.compiled
    ? run.compiled.query(undefined, contextValue, variableValues)
    : execute({ schema, document, operationName, contextValue, variableValues });
}

/**
 * Apollo Server's supported hook for running operations another way: a gateway whose executor
 * runs each operation on graphql-jit. Everything before execution (parsing and validating once per
 * document through Apollo's document store, the plugins, persisted queries, CSRF) and after it
 * (error formatting, status codes, the response) stays Apollo's own, so every plugin sees every
 * operation. There is one schema and it never changes, so this "gateway" loads it once.
 */
export class JitExecutorGateway implements GatewayInterface {
  readonly #schema: GraphQLSchema;
  readonly #listeners = new Set<GatewaySchemaLoadOrUpdateCallback>();
  // Apollo's document store hands back the same DocumentNode for the same query text, so an
  // operation's compilation lives exactly as long as Apollo keeps its document.
  readonly #prepared = new WeakMap<OperationDefinitionNode, OperationRun>();

  constructor(schema: GraphQLSchema) {
    this.#schema = schema;
  }

  onSchemaLoadOrUpdate(callback: GatewaySchemaLoadOrUpdateCallback): () => void {
    this.#listeners.add(callback);
    return () => this.#listeners.delete(callback);
  }

  async load(): Promise<{ executor: GatewayExecutor }> {
    const coreSupergraphSdl = printSchema(this.#schema);
    for (const listener of this.#listeners) listener({ apiSchema: this.#schema, coreSupergraphSdl });
    return {
      executor: (rc) => this.#execute(rc.document, rc.operation, rc.request.variables, rc.context, rc.request.operationName ?? undefined),
    };
  }

  async stop(): Promise<void> {
    this.#listeners.clear();
  }

  async #execute(
    document: DocumentNode,
    operation: OperationDefinitionNode | undefined,
    sent: Record<string, unknown> | undefined,
    contextValue: unknown,
    operationNameSent: string | undefined,
  ): Promise<ExecutionResult> {
    // No operation by that name (or no name among several): graphql-js words the error, and Apollo
    // answers it as OPERATION_RESOLUTION_FAILURE.
    if (!operation) return execute({ schema: this.#schema, document, operationName: operationNameSent, contextValue, variableValues: sent });
    let run = this.#prepared.get(operation);
    if (!run) this.#prepared.set(operation, (run = prepareOperation(operation)));
    const result = await runOperation(this.#schema, document, operation.name?.value, run, contextValue, sent ?? {});
    // No data at all: the variables did not coerce. graphql-js words that error, with the variable's
    // node, which is how Apollo tells a client's bad input (400 BAD_USER_INPUT) from a failure; it
    // runs on this failure path only, so the happy path coerces once.
    if (result.data === undefined && result.errors?.length) {
      const coerced = getVariableValues(this.#schema, operation.variableDefinitions ?? [], withDefaults(sent ?? {}, run.defaults));
      if (coerced.errors) return { errors: coerced.errors };
    }
    if (result.errors?.some((e) => !e.extensions)) return { ...result, errors: result.errors.map(withExtensions) };
    return result;
  }
}

/**
 * graphql-jit raises some errors of its own (a null for a non-null argument) with no `extensions`,
 * which Apollo's error formatting reads; graphql-js always sets them.
 */
function withExtensions(error: GraphQLError): GraphQLError {
  if (error.extensions) return error;
  const copy = new GraphQLError(error.message, { path: error.path, originalError: error.originalError });
  // graphql-jit puts `locations` on its errors directly, without the document's nodes to derive them from.
  if (error.locations) Object.defineProperty(copy, 'locations', { value: error.locations, enumerable: true });
  return copy;
}

/** The variables a request sent, with the operation's defaults for those it left out (an explicit null stays). */
function withDefaults(variables: Record<string, unknown>, defaults: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  if (defaults.length === 0) return variables;
  let filled: Record<string, unknown> | undefined;
  for (const [name, value] of defaults) {
    if (Object.hasOwn(variables, name) && variables[name] !== undefined) continue;
    (filled ??= { ...variables })[name] = value;
  }
  return filled ?? variables;
}

/** What the DateTime scalar prints (UTC, milliseconds): Rocket.Chat's dates are already in that form. */
const CANONICAL_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * The DateTime scalar's output without its cost: graphql-scalars parses every date into a Date
 * for JSON to print it back; a date already in canonical form (validated at the edge,
 * rocketchat/validate.ts) is copied, anything else normalised exactly as the scalar would.
 */
function serializeDateTime(value: unknown): string {
  return typeof value === 'string' && CANONICAL_DATE.test(value) ? value : new Date(value as string).toISOString();
}
