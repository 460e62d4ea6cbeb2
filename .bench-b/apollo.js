import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault, ApolloServerPluginLandingPageProductionDefault, } from '@apollo/server/plugin/landingPage/default';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginSchemaReportingDisabled, ApolloServerPluginUsageReportingDisabled, } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDisableSuggestions } from '@apollo/server/plugin/disableSuggestions';
import { GraphQLError } from 'graphql';
import { ErrorCode, GatewayError } from './errors.js';
import { SEED_VISITOR_ID } from './demo/visitors.js';
import { gatewayRules, idsLimitPlugin } from './limits.js';
import { operationLog } from './operationLog.js';
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
export function createApollo({ config, sandboxHeaders, schema, metrics, apqStore }) {
    return new ApolloServer({
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
        persistedQueries: apqStore ? { cache: apqCache(apqStore), ttl: 24 * 3600 } : undefined,
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
export function maskUnexpected(formatted, error) {
    const original = unwrapResolverError(error);
    if (original instanceof GatewayError) {
        // An expected outcome, not a bug: a stack trace would only be noise.
        const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
        return { ...formatted, extensions };
    }
    if (original instanceof GraphQLError)
        return formatted;
    return {
        message: 'Internal server error',
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
}
/** Puts the request id on every error (support can find the log line) and logs unexpected ones in full. */
const requestIdOnErrors = {
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
                if (response.body.kind !== 'single' || !response.body.singleResult.errors)
                    return;
                const requestId = contextValue.requestId;
                response.body.singleResult.errors = response.body.singleResult.errors.map((e) => ({
                    ...e,
                    extensions: { ...e.extensions, requestId },
                }));
            },
        };
    },
};
/** Apollo's persisted-query cache interface over the gateway's store, under its own key prefix. */
function apqCache(store) {
    const prefix = 'lvg:apq:';
    return {
        get: (key) => store.get(prefix + key),
        set: (key, value, options) => store.set(prefix + key, value, (options?.ttl ?? 86_400) * 1000),
        delete: (key) => store.delete(prefix + key),
    };
}
//# sourceMappingURL=apollo.js.map