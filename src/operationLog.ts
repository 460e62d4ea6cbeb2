import type { GatewayContext } from './context.js';
import type { GatewayMetrics } from './metrics.js';
import { clip, ErrorCode } from './errors.js';

export interface OperationRecord {
  operationName: string | null;
  seconds: number;
  httpStatus: number;
  /** `extensions.code` of each error in the response. */
  codes: readonly unknown[];
}

/**
 * One log line and one metric sample per operation: what ran, how long it took, what it cost
 * upstream and how it ended. Only names, numbers and codes: never a variable, a header or a
 * visitor's data. The gateway's Apollo plugin (apollo.ts) records through here.
 */
export function recordOperation(context: GatewayContext | undefined, metrics: GatewayMetrics | undefined, record: OperationRecord): void {
  const codes = record.codes.length === 0 ? [] : [...new Set(record.codes.map((c) => String(c ?? 'UNKNOWN')))];
  // An automatic persisted query's first request, answered "send the document", is half of a
  // handshake whose second request is the operation: it is no failure.
  const handshake = codes.length === 1 && codes[0] === ErrorCode.PERSISTED_QUERY_NOT_FOUND;
  const outcome = handshake ? 'persisted-query-miss' : codes.length === 0 ? 'ok' : 'error';
  if (handshake) metrics?.persistedQueryMiss();
  else metrics?.operation(record.operationName, codes[0], record.seconds);
  if (codes.length) metrics?.refusals(codes);
  if (!context?.logs('info')) return;
  context.log.info(
    {
      // The client chose it: a log line must not grow with it.
      operationName: record.operationName === null ? null : clip(record.operationName, 128),
      durationMs: Math.round(record.seconds * 100_000) / 100,
      upstreamCalls: context.visitors?.upstreamCalls ?? 0,
      httpStatus: record.httpStatus,
      outcome,
      codes,
    },
    'graphql operation',
  );
}
