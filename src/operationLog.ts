import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from './context.js';

/**
 * One log line per operation: what ran, how long it took, what it cost upstream and how it ended.
 * Only names, numbers and codes: never a variable, a header or a visitor's data.
 */
export const operationLog: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart({ request }) {
    const started = performance.now();
    return {
      async willSendResponse({ contextValue, response, operationName, errors }) {
        const codes = [...new Set((errors ?? []).map((e) => String(e.extensions?.code ?? 'UNKNOWN')))];
        const outcome = codes.length === 0 ? 'ok' : 'error';
        contextValue.log?.info(
          {
            operationName: operationName ?? request.operationName ?? null,
            durationMs: Math.round((performance.now() - started) * 100) / 100,
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
