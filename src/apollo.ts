import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import { unwrapResolverError } from '@apollo/server/errors';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDisableSuggestions } from '@apollo/server/plugin/disableSuggestions';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Config } from './config.js';
import type { GatewayContext } from './context.js';
import { ErrorCode, GatewayError } from './errors.js';
import { SEED_VISITOR_ID } from './demo/visitors.js';
import { gatewayRules, idsLimitPlugin } from './limits.js';
import { operationLog } from './operationLog.js';
import type { GatewayMetrics } from './metrics.js';
import type { KeyValueCache } from '@apollo/utils.keyvaluecache';


/** What Apollo Sandbox opens with: a query that works as soon as the headers hold real credentials. */
export const SANDBOX_DOCUMENT = `query Visitor($id: ID!) {
  visitor(id: $id) {
    id
    username
    name
    status
    createdAt
    updatedAt
    departmentId
    phones { phoneNumber }
    emails { address }
    token
  }
}
`;
export const SANDBOX_VARIABLES = { id: SEED_VISITOR_ID };
export const PLACEHOLDER_HEADERS = {
  'X-Auth-Token': '<your Rocket.Chat auth or personal access token>',
  'X-User-Id': '<your Rocket.Chat user id>',
};

export interface ApolloOptions {
  config: Pick<Config, 'production' | 'introspection' | 'limits' | 'maxIds'>;
  /** Headers Sandbox starts with: the demo credentials in demo mode, placeholders otherwise. */
  sandboxHeaders: Record<string, string>;
  schema: GraphQLSchema;
  metrics?: GatewayMetrics;
  /**
   * Where automatic persisted queries live (cache/apq.ts: bounded, apart from cached visitors) and
   * for how long; false turns them off; undefined leaves Apollo's default (its server-wide cache).
   */
  apqStore?: { cache: KeyValueCache<string>; ttlSeconds: number } | false;
}

export function createApollo({ config, sandboxHeaders, schema, metrics, apqStore }: ApolloOptions): ApolloServer<GatewayContext> {
  return new ApolloServer<GatewayContext>({
    schema,
    // Introspection is refused by gatewayRules (graphql's own rule), the same on both execution paths.
    introspection: true,
    hideSchemaDetailsFromClientErrors: config.production,
    includeStacktraceInErrorResponses: !config.production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // index.ts owns shutdown; Apollo's own handler would re-raise the signal and kill the process mid-drain.
    stopOnTerminationSignals: false,
    formatError: maskUnexpected,
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
      idsLimitPlugin(config.maxIds),
      operationLog(metrics),
      config.production
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : ApolloServerPluginLandingPageLocalDefault({
            footer: false,
            document: SANDBOX_DOCUMENT,
            variables: SANDBOX_VARIABLES,
            headers: sandboxHeaders,
            embed: { endpointIsEditable: false, initialState: { pollForSchemaUpdates: false } },
          }),
      requestIdOnErrors,
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
  if (original instanceof GraphQLError) return formatted;
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}

/** Puts the request id on every error (support can find the log line) and logs unexpected ones in full. */
const requestIdOnErrors: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async didEncounterErrors({ errors, contextValue }) {
        for (const err of errors) {
          const original = unwrapResolverError(err);
          if (!(original instanceof GraphQLError)) {
            contextValue.log?.error({ err: original, path: err.path }, 'unexpected error while resolving');
          }
        }
      },
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind !== 'single' || !response.body.singleResult.errors) return;
        const requestId = contextValue.requestId;
        response.body.singleResult.errors = response.body.singleResult.errors.map((e) => ({
          ...e,
          extensions: { ...e.extensions, requestId },
        }));
      },
    };
  },
};
