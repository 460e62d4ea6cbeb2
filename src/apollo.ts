import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault, ApolloServerPluginLandingPageProductionDefault } from '@apollo/server/plugin/landingPage/default';
import { unwrapResolverError } from '@apollo/server/errors';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDisableSuggestions } from '@apollo/server/plugin/disableSuggestions';
import { GraphQLError, type DocumentNode, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Config } from './config.js';
import type { GatewayContext } from './context.js';
import { apolloRequestErrorCode, clip, ErrorCode, GatewayError } from './errors.js';
import { FULL_VISITOR_ID } from './demo/visitors.js';
import { DOCUMENT_BYTES_PER_QUERY_BYTE, JitExecutorGateway } from './executor.js';
import { gatewayRules, OperationLimits } from './limits.js';
import { recordOperation } from './operationLog.js';
import type { ResponseMediaTypes } from './responseMediaType.js';
import type { GatewayMetrics } from './metrics.js';
import { InMemoryLRUCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { Span } from '@opentelemetry/api';
import { endSpan, type Tracing } from './tracing.js';
import { localExplorerLandingPage } from './explorer.js';

/** What Apollo Sandbox opens with: a query that works as soon as the headers hold real credentials. */
export const SANDBOX_DOCUMENT = `query Visitor($id: ID!) {
  visitor(id: $id) {
    id
    username
    name
    status
    createdAt
    phones { phoneNumber }
    emails { address }
    department { name enabled archived }
    lastAgent { assignedAt agent { name status livechatStatus avatarUrl } }
    contactManager { user { name avatarUrl } }
    chats(first: 5) {
      totalCount
      edges { node { id startedAt closedAt open messagesCount tags department { name } servedBy { name } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
`;
/** The demo's fullest visitor: every field set, a department, agents and three chats. */
export const SANDBOX_VARIABLES = { id: FULL_VISITOR_ID };
export const PLACEHOLDER_HEADERS = {
  'X-Auth-Token': '<your Rocket.Chat auth or personal access token>',
  'X-User-Id': '<your Rocket.Chat user id>',
};

export interface ApolloOptions {
  config: Pick<Config, 'production' | 'explorer' | 'introspection' | 'limits' | 'maxIds' | 'maxUpstreamCalls' | 'documentCacheBytes'>;
  /** Headers Sandbox starts with: the demo credentials in demo mode, placeholders otherwise. */
  sandboxHeaders: Record<string, string>;
  schema: GraphQLSchema;
  metrics?: GatewayMetrics;
  /**
   * Where automatic persisted queries live (cache/apq.ts: bounded, apart from cached visitors) and
   * for how long; false turns them off; undefined leaves Apollo's default (its server-wide cache).
   */
  apqStore?: { cache: KeyValueCache<string>; ttlSeconds: number } | false;
  /** A span per operation (tracing.ts); none when tracing is off. */
  tracing?: Tracing;
  /** The memo of the response's media type, shared with the HTTP layer's check of `Accept`. */
  mediaTypes: ResponseMediaTypes;
}

export function createApollo({ config, sandboxHeaders, schema, metrics, apqStore, tracing, mediaTypes }: ApolloOptions): ApolloServer<GatewayContext> {
  return new ApolloServer<GatewayContext>({
    // Apollo's hook for another executor: graphql-jit, behind Apollo's whole pipeline (executor.ts).
    gateway: new JitExecutorGateway(schema),
    // Introspection is refused by gatewayRules (graphql's own rule), the same on both execution paths.
    introspection: true,
    hideSchemaDetailsFromClientErrors: config.production,
    includeStacktraceInErrorResponses: !config.production,
    // A browser sends a custom header cross-site only after a CORS preflight, which CORS_ORIGINS
    // answers; every real request carries X-Auth-Token, so it already proves what Apollo's own
    // preflight headers prove, and clients that send GET without them (urql) work as they are.
    csrfPrevention: { requestHeaders: ['x-apollo-operation-name', 'apollo-require-preflight', 'x-auth-token', 'x-user-id'] },
    allowBatchedHttpRequests: false,
    // index.ts owns shutdown; Apollo's own handler would re-raise the signal and kill the process mid-drain.
    stopOnTerminationSignals: false,
    formatError: maskUnexpected,
    // Apollo's default adds a newline, which leaves a rope that must be flattened, a copy of the
    // whole answer, before it reaches the socket.
    stringifyResult: (result) => JSON.stringify(result),
    documentStore: documentStore(config.documentCacheBytes),
    // An oversized document stops in the parser: a 400, before any validation or execution work.
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules: gatewayRules(config),
    persistedQueries: apqStore && { cache: apqStore.cache, ttl: apqStore.ttlSeconds },
    plugins: [
      // Only what earns its cost: no cache-control hints here (they would wrap every field resolver),
      // and nothing reported to Apollo's cloud.
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      ...(config.production ? [ApolloServerPluginDisableSuggestions()] : []),
      gatewayPlugin(new OperationLimits(config), metrics, tracing, mediaTypes),
      config.production
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : config.explorer === 'local'
          ? localExplorerLandingPage({ document: SANDBOX_DOCUMENT, variables: SANDBOX_VARIABLES, headers: sandboxHeaders })
          : ApolloServerPluginLandingPageLocalDefault({
              footer: false,
              document: SANDBOX_DOCUMENT,
              variables: SANDBOX_VARIABLES,
              headers: sandboxHeaders,
              embed: { endpointIsEditable: false, initialState: { pollForSchemaUpdates: false } },
            }),
    ],
  });
}

/**
 * Errors the gateway raised on purpose (the catalogue) and GraphQL's own (syntax, validation) carry
 * their message; anything else is a bug here, and its message could leak internals.
 */
export function maskUnexpected(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof GatewayError) {
    // An expected outcome, not a bug: a stack trace would only be noise.
    const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  if (original instanceof GraphQLError) {
    const code = formatted.extensions?.code === ErrorCode.INTERNAL_SERVER_ERROR ? apolloRequestErrorCode(original.message) : undefined;
    if (code) return { ...formatted, extensions: { ...formatted.extensions, code } };
    // Apollo echoes the operation name the client sent, however long, in the message and in the
    // stack trace's first line (outside production).
    if (formatted.extensions?.code === 'OPERATION_RESOLUTION_FAILURE') {
      const { stacktrace: _stack, ...extensions } = formatted.extensions;
      return { ...formatted, message: clip(formatted.message, 200), extensions };
    }
    return formatted;
  }
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}

/**
 * The gateway's own hooks, in one plugin so that Apollo calls one listener per stage: the
 * operation limits before execution, unexpected errors logged in full, the request id on every
 * error (support can find the log line), the response's media type from a memo of Apollo's own
 * negotiation (responseMediaType.ts), one log line and metric sample per operation, and with
 * tracing on the operation's span (its upstream calls are its children through the context's scope).
 */
function gatewayPlugin(
  limits: OperationLimits,
  metrics: GatewayMetrics | undefined,
  tracing: Tracing | undefined,
  mediaTypes: ResponseMediaTypes,
): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ request, contextValue }) {
      const started = performance.now();
      let span: Span | undefined;
      if (tracing) {
        const traced = tracing.operation(contextValue.scope.trace);
        span = traced.span;
        contextValue.scope.trace = traced.context;
      }
      return {
        async didResolveOperation({ document, operation, operationName, queryHash, request: resolved, contextValue }) {
          if (span && operation) {
            span.updateName(operationName ? `${operation.operation} ${operationName}` : operation.operation);
            span.setAttributes({ 'graphql.operation.type': operation.operation, 'graphql.document.hash': queryHash });
            if (operationName) span.setAttribute('graphql.operation.name', operationName);
          }
          const refusal = operation && limits.check(document, operation, resolved.variables, contextValue);
          if (refusal) throw refusal;
        },
        async didEncounterErrors({ errors, contextValue }) {
          for (const err of errors) {
            const original = unwrapResolverError(err);
            if (!(original instanceof GraphQLError)) {
              contextValue.log?.error({ err: original, path: err.path }, 'unexpected error while resolving');
            }
          }
        },
        async willSendResponse({ response, contextValue, operationName, errors }) {
          if (response.body.kind === 'single' && !response.http.headers.has('content-type')) {
            const mediaType = mediaTypes.choose(request.http?.headers.get('accept'));
            if (mediaType) response.http.headers.set('content-type', mediaType);
          }
          if (response.body.kind === 'single' && response.body.singleResult.errors) {
            const retryAfter = commonRetryAfter(response.body.singleResult.errors);
            if (retryAfter !== undefined && !response.http.headers.has('retry-after')) response.http.headers.set('retry-after', String(retryAfter));
            const requestId = contextValue.requestId;
            response.body.singleResult.errors = response.body.singleResult.errors.map((e) => ({
              ...e,
              extensions: { ...e.extensions, requestId },
            }));
          }
          const codes = (errors ?? []).map((e) => e.extensions?.code);
          recordOperation(contextValue, metrics, {
            operationName: operationName ?? request.operationName ?? null,
            seconds: (performance.now() - started) / 1000,
            httpStatus: response.http.status ?? 200,
            codes,
          });
          if (span) endSpan(span, codes.length ? { code: String(codes[0] ?? ErrorCode.INTERNAL_SERVER_ERROR) } : undefined);
        },
      };
    },
  };
}

/**
 * When every error of an answer says when to try again (RATE_LIMITED, or UPSTREAM_UNAVAILABLE while
 * the breaker is open), the latest of those times, for a `Retry-After` header an HTTP client sees
 * without reading the body. With any other error in the answer there is none: part of it failed for
 * a reason waiting does not fix, and the data that did arrive stays a 200 either way.
 */
export function commonRetryAfter(errors: readonly GraphQLFormattedError[]): number | undefined {
  let latest: number | undefined;
  for (const error of errors) {
    const seconds = error.extensions?.retryAfter;
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return undefined;
    latest = Math.max(latest ?? 0, Math.ceil(seconds));
  }
  return latest;
}

/**
 * Apollo's parsed and validated documents, bounded in estimated heap bytes. Apollo's default store
 * measures a document by `JSON.stringify`, which prints each location as two numbers and so counts
 * a fraction of what the AST holds: unique documents reached gigabytes within its "30 MiB".
 */
function documentStore(maxBytes: number): InMemoryLRUCache<DocumentNode> {
  return new InMemoryLRUCache<DocumentNode>({
    maxSize: Math.max(1, maxBytes),
    maxEntrySize: Math.max(1, maxBytes),
    // Each document's compiled operations (executor.ts) live as long as the document does.
    sizeCalculation: (document) => Math.max(1, (document.loc?.end ?? 16 * 1024) * DOCUMENT_BYTES_PER_QUERY_BYTE),
  });
}
