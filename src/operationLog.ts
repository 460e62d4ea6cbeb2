import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from './context.js';
import type { GatewayMetrics } from './metrics.js';

/**
 * One log line and one metric sample per operation: what ran, how long it took, what it cost
 * upstream and how it ended. Only names, numbers and codes: never a variable, a header or a
 * visitor's data.
 */
export function operationLog(metrics?: GatewayMetrics): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ request }) {
      const started = performance.now();
      return {
        async willSendResponse({ contextValue, response, operationName, errors }) {
          const seconds = (performance.now() - started) / 1000;
          const codes = [...new Set((errors ?? []).map((e) => String(e.extensions?.code ?? 'UNKNOWN')))];
          const outcome = codes.length === 0 ? 'ok' : 'error';
          const name = operationName ?? request.operationName ?? null;
          metrics?.operation(name, outcome, seconds);
          contextValue.log?.info(
            {
              operationName: name,
              durationMs: Math.round(seconds * 100_000) / 100,
              upstreamCalls: contextValue.visitors?.upstreamCalls ?? 0,
              httpStatus: response.http.status ?? 200,
              outcome,
              codes,
            },
            'graphql operation',
          );
        },
      };
    },
  };
}
