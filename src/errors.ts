import { GraphQLError, type ASTNode, type GraphQLFormattedError } from 'graphql';
import type { WireErrorBody } from './rocketchat/models.js';

/**
 * The error catalogue: the one place that decides which `extensions.code` a failure gets. Every
 * other module raises through these functions, so a client can switch on a code and trust it.
 */
export const ErrorCode = {
  NOT_FOUND: 'NOT_FOUND',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  FORBIDDEN: 'FORBIDDEN',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  RATE_LIMITED: 'RATE_LIMITED',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UPSTREAM_BAD_RESPONSE: 'UPSTREAM_BAD_RESPONSE',
  UPSTREAM_ERROR: 'UPSTREAM_ERROR',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  UPSTREAM_BUDGET_EXCEEDED: 'UPSTREAM_BUDGET_EXCEEDED',
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  // Request-level refusals: the request never reached execution. Those Apollo Server raises keep
  // Apollo's names, so that its clients (persisted queries) understand them.
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
  PERSISTED_QUERY_HASH_MISMATCH: 'PERSISTED_QUERY_HASH_MISMATCH',
  // Trusted documents (persistedDocuments.ts): an id the manifest does not have, and a document
  // sent by value to a gateway that runs only its manifest's.
  PERSISTED_DOCUMENT_NOT_FOUND: 'PERSISTED_DOCUMENT_NOT_FOUND',
  PERSISTED_DOCUMENT_REQUIRED: 'PERSISTED_DOCUMENT_REQUIRED',
  BAD_REQUEST: 'BAD_REQUEST',
  QUERY_TOO_LARGE: 'QUERY_TOO_LARGE',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What a client may learn of the upstream answer: its status and Rocket.Chat's own error string. */
export interface UpstreamDetails {
  /** HTTP status, or null when no answer arrived (connection refused, reset, timeout). */
  status: number | null;
  /** Rocket.Chat's `error` (or 401's `message`), or the transport error's code; never the raw body. */
  error: string | null;
}

/**
 * A failure the gateway understood. `retryable` tells the retry policy whether another attempt could
 * succeed; `upstreamFault` tells the circuit breaker that Rocket.Chat itself is failing (5xx, no
 * connection, no answer), as opposed to answering a refusal. Neither is sent to callers.
 */
export class GatewayError extends GraphQLError {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly upstreamFault: boolean;
  /** What Rocket.Chat answered, when it answered (also sent as `extensions.upstream`). */
  readonly upstream: UpstreamDetails | undefined;
  /** Seconds until calling again may succeed (also sent as `extensions.retryAfter`). */
  readonly retryAfter: number | undefined;
  /** For a refusal of the whole request: its HTTP status and headers. */
  readonly http: { status: number; headers?: Map<string, string> } | undefined;

  constructor(
    message: string,
    code: ErrorCode,
    options: {
      upstream?: UpstreamDetails;
      retryAfter?: number;
      retryable?: boolean;
      upstreamFault?: boolean;
      /** For a refusal of the whole request: its HTTP status (Apollo takes it out of the answer). */
      http?: { status: number; headers?: Map<string, string> };
      /** Where in the document the refused part is. */
      nodes?: readonly ASTNode[];
    } = {},
  ) {
    const extensions: Record<string, unknown> = { code };
    if (options.upstream) extensions.upstream = options.upstream;
    if (options.retryAfter !== undefined) extensions.retryAfter = options.retryAfter;
    if (options.http) extensions.http = options.http;
    super(message, { extensions, nodes: options.nodes });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.upstreamFault = options.upstreamFault ?? false;
    this.upstream = options.upstream;
    this.retryAfter = options.retryAfter;
    this.http = options.http;
  }
}

/**
 * The longest upstream error string a client (or a log line) ever holds. Rocket.Chat's own strings
 * are short (the 429 sentence, the longest in BEHAVIOR.md, is 129 characters; an `invalid-params`
 * one names a parameter), so 256 keeps every real one whole, while an upstream or a proxy that puts
 * a whole page in `error` costs each of the up to MAX_IDS errors of one answer a fixed, small size.
 */
export const MAX_UPSTREAM_ERROR_LENGTH = 256;

/**
 * Rocket.Chat's 401 body says `message`; every other error body says `error`. Bounded here, where it
 * is read, so that no error, response or log line downstream ever holds the long one.
 */
function upstreamErrorString(body: WireErrorBody | undefined): string | null {
  if (!body || typeof body !== 'object') return null;
  if (typeof body.error === 'string') return bounded(body.error);
  if (typeof body.message === 'string') return bounded(body.message);
  return null;
}

function bounded(text: string): string {
  if (text.length <= MAX_UPSTREAM_ERROR_LENGTH) return text;
  // One character is kept for the ellipsis that tells the reader it was cut; a surrogate pair is
  // never split, so the result is still well-formed UTF-16 for JSON and logs.
  let end = MAX_UPSTREAM_ERROR_LENGTH - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  // V8 makes a slice a view that keeps the whole original alive; the copy through a buffer lets
  // the long one go with the body it came in (only over-long strings ever take this path).
  return Buffer.from(`${text.slice(0, end)}…`, 'utf8').toString('utf8');
}

/**
 * Seconds until a 429's window reopens. Rocket.Chat sends `X-RateLimit-Reset` as an epoch in
 * milliseconds and no `Retry-After`; proxies in front of it may send `Retry-After` (seconds or a date).
 */
export function retryAfterSeconds(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | undefined {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  // Retry-After is either whole seconds or an HTTP-date; anything else is ignored, not guessed at.
  const retryAfter = first(headers['retry-after'])?.trim();
  if (retryAfter && /^\d+(\.\d+)?$/.test(retryAfter)) return boundedWait(Number(retryAfter));
  if (retryAfter && /[A-Za-z]/.test(retryAfter)) {
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return boundedWait((date - now) / 1000);
  }
  const reset = Number(first(headers['x-ratelimit-reset']));
  if (Number.isFinite(reset) && reset > 0) return boundedWait((reset - now) / 1000);
  return undefined;
}

/**
 * Longest wait passed on, in seconds: the rate-limit memory keeps no window longer (rateLimits.ts),
 * and a far-future value from a proxy would otherwise reach clients as `1e+21`.
 */
export const MAX_RETRY_AFTER_SECONDS = 3600;
const boundedWait = (seconds: number) => Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil(seconds)));

/** Maps a non-200 answer (and a 200 with `success: false`) to its catalogue row. */
/** What the mapping of a route's refusals depends on (visitors.info's by default). */
export interface RouteFacts {
  /** The permission the route checks, named in FORBIDDEN's message. */
  permission: string | undefined;
  /** The 400 `error` that means "no such record", and the message NOT_FOUND then carries. */
  notFound?: { error: string; message: string };
  /** Further 400 `error` strings that mean the caller may not read this (FORBIDDEN). */
  forbidden?: readonly string[];
  /**
   * Whether its parameters come from the caller (a visitor id typed into a query): then Rocket.Chat
   * refusing them is the caller's BAD_USER_INPUT; parameters the gateway builds itself are its own fault.
   */
  callerParams: boolean;
}

const VISITORS_INFO_ROUTE: RouteFacts = {
  permission: 'view-l-room',
  callerParams: true,
  notFound: { error: 'visitor-not-found', message: 'Visitor not found.' },
};

/** Typed routes refuse a missing permission with a 400 and this sentence (NEIGHBOURS.md). */
const PERMISSION_REFUSAL = 'User does not have the permissions required for this action';

export function errorFromResponse(
  status: number,
  body: WireErrorBody | undefined,
  headers: Record<string, string | string[] | undefined> = {},
  route: RouteFacts = VISITORS_INFO_ROUTE,
): GatewayError {
  const error = upstreamErrorString(body);
  const upstream = { status, error };
  if (status === 200) {
    return new GatewayError('Rocket.Chat answered 200 but reported a failure.', 'UPSTREAM_BAD_RESPONSE', { upstream });
  }
  if (status === 400) {
    if (route.notFound && error === route.notFound.error) return new GatewayError(route.notFound.message, 'NOT_FOUND', { upstream });
    if (body?.errorType === 'invalid-params') {
      if (!route.callerParams) return new GatewayError("Rocket.Chat rejected the gateway's request parameters.", 'UPSTREAM_ERROR', { upstream });
      return new GatewayError('Rocket.Chat rejected the request parameters.', 'BAD_USER_INPUT', { upstream });
    }
    if (error === 'error-not-authorized' || error?.startsWith(PERMISSION_REFUSAL) || (error !== null && route.forbidden?.includes(error))) {
      return forbidden(upstream, route);
    }
    return new GatewayError(`Rocket.Chat answered 400.`, 'UPSTREAM_ERROR', { upstream });
  }
  if (status === 401) {
    return new GatewayError('Rocket.Chat did not accept these credentials.', 'UNAUTHENTICATED', { upstream });
  }
  if (status === 403) return forbidden(upstream, route);
  if (status === 429) {
    return new GatewayError('Rocket.Chat is rate limiting these calls; try again later.', 'RATE_LIMITED', {
      upstream,
      retryAfter: retryAfterSeconds(headers),
    });
  }
  if (status === 500 || status === 502 || status === 503 || status === 504) {
    return new GatewayError(`Rocket.Chat is unavailable (HTTP ${status}).`, 'UPSTREAM_UNAVAILABLE', {
      upstream,
      retryable: true,
      upstreamFault: true,
    });
  }
  return new GatewayError(`Rocket.Chat answered an unexpected HTTP ${status}.`, 'UPSTREAM_ERROR', { upstream });
}

function forbidden(upstream: UpstreamDetails, route: RouteFacts): GatewayError {
  const message = route.permission
    ? `These credentials lack the ${route.permission} permission.`
    : 'Rocket.Chat refused these credentials access to this record.';
  return new GatewayError(message, 'FORBIDDEN', { upstream });
}

/** A 200 (or an error status) whose body is not what Rocket.Chat sends: not JSON, truncated, wrong shape, too big. */
export function badResponse(status: number, reason: string): GatewayError {
  return new GatewayError(`Rocket.Chat sent an unusable response: ${reason}.`, 'UPSTREAM_BAD_RESPONSE', {
    upstream: { status, error: null },
  });
}

/**
 * No answer in time. A fault of Rocket.Chat's unless it had less than a whole attempt's time: the
 * call's deadline cutting short an attempt that waited for a connection first proves nothing.
 */
export function upstreamTimeout(timeoutMs: number, { retryable = true, upstreamFault = true } = {}): GatewayError {
  return new GatewayError(`Rocket.Chat did not answer within ${timeoutMs} ms.`, 'UPSTREAM_TIMEOUT', {
    upstream: { status: null, error: 'timeout' },
    retryable,
    upstreamFault,
  });
}

/** Errors undici raises before any answer (refused, reset, DNS) that a retry may cure. */
const RETRYABLE_TRANSPORT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** Maps a transport failure (no usable HTTP answer) to its catalogue row. */
export function errorFromTransport(err: unknown, timeoutMs: number): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = transportCode(err);
  if (
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'ETIMEDOUT' ||
    code === 'TimeoutError'
  ) {
    return upstreamTimeout(timeoutMs);
  }
  return new GatewayError('Rocket.Chat could not be reached.', 'UPSTREAM_UNAVAILABLE', {
    upstream: { status: null, error: code ?? 'connection-error' },
    retryable: code === undefined || RETRYABLE_TRANSPORT_CODES.has(code),
    upstreamFault: true,
  });
}

function transportCode(err: unknown): string | undefined {
  let e: unknown = err;
  // undici wraps the socket error in `cause`; the innermost code is the informative one.
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const obj = e as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof obj.code === 'string' && !obj.cause) return obj.code;
    if (obj.name === 'TimeoutError') return 'TimeoutError';
    if (!obj.cause) return typeof obj.code === 'string' ? obj.code : undefined;
    e = obj.cause;
  }
  return undefined;
}

/** Refused before any upstream call: no credentials, or malformed ones. */
export function missingCredentials(reason: string): GatewayError {
  return new GatewayError(`Send your Rocket.Chat credentials in the X-Auth-Token and X-User-Id headers (${reason}).`, 'UNAUTHENTICATED');
}

export function badUserInput(message: string): GatewayError {
  return new GatewayError(message, 'BAD_USER_INPUT');
}

/** The circuit breaker is open: Rocket.Chat failed repeatedly, so calls fail fast without traffic. */
/** The breaker is open: `retryAfter` is the seconds until it lets a trial call through. */
export function circuitOpen(retryAfter: number): GatewayError {
  return new GatewayError('Rocket.Chat is failing; calls are paused for a moment.', 'UPSTREAM_UNAVAILABLE', {
    upstream: { status: null, error: 'circuit-open' },
    retryAfter,
  });
}

/** More calls are waiting for Rocket.Chat than the bulkhead admits. */
export function upstreamSaturated(): GatewayError {
  return new GatewayError('Too many calls to Rocket.Chat are in progress; try again shortly.', 'UPSTREAM_UNAVAILABLE', {
    upstream: { status: null, error: 'bulkhead-full' },
  });
}

/**
 * The call's deadline passed while it waited for a connection, or after it waited so long that its
 * attempt had less than a whole attempt's time: the gateway's own queue, not Rocket.Chat, ran out
 * of time, so it is neither a fault for the breaker nor worth a retry.
 */
export function upstreamQueueTimeout(): GatewayError {
  return new GatewayError('Too many calls to Rocket.Chat are in progress; this one waited past its deadline.', 'UPSTREAM_UNAVAILABLE', {
    upstream: { status: null, error: 'queue-timeout' },
  });
}

/** Rocket.Chat's window for this caller is still closed: answered here without spending its quota. */
export function rateLimitedLocally(retryAfter: number): GatewayError {
  return new GatewayError('Rocket.Chat is rate limiting these calls; try again later.', 'RATE_LIMITED', {
    upstream: { status: 429, error: 'error-too-many-requests' },
    retryAfter,
  });
}

/** The caller went away; nobody reads this error, but the breaker must not count it. */
export function callerAborted(): GatewayError {
  return new GatewayError('The request was aborted by the client.', 'UPSTREAM_UNAVAILABLE', {
    upstream: { status: null, error: 'aborted' },
  });
}

/**
 * Refused before execution: the operation names more distinct visitors than one operation may
 * spend Rocket.Chat calls on. Also raised per field, should execution reach the budget anyway.
 */
export function overBudget(calls: number, max: number, { request = true } = {}): GatewayError {
  return new GatewayError(
    request
      ? `This operation could cost up to ${calls} Rocket.Chat calls; at most ${max} are allowed per operation.`
      : `This operation reached its budget of ${max} Rocket.Chat calls.`,
    'UPSTREAM_BUDGET_EXCEEDED',
    request ? { http: { status: 400 } } : {},
  );
}

/**
 * The operation's Rocket.Chat bucket (what its last answers said is left) cannot hold the calls
 * the operation may need: refused whole, with HTTP 429, rather than spending the rest of the bucket
 * and failing half-way.
 */
export function quotaTooSmall(calls: number, remaining: number, retryAfter: number): GatewayError {
  return new GatewayError(
    `This operation may need ${calls} Rocket.Chat calls, and Rocket.Chat allows ${remaining} more before its window reopens.`,
    'RATE_LIMITED',
    { retryAfter, http: { status: 429, headers: new Map([['retry-after', String(retryAfter)]]) } },
  );
}

/** The answer would carry more upstream data than MAX_RESPONSE_BYTES: this field is not served. */
export function responseTooLarge(maxBytes: number): GatewayError {
  return new GatewayError(
    `The response is over its limit of ${maxBytes} bytes; ask for less per operation (fewer visitors, smaller pages).`,
    'RESPONSE_TOO_LARGE',
  );
}

/**
 * Apollo Server raises some request errors without a code (which it then answers as
 * INTERNAL_SERVER_ERROR, and which this gateway would mask as a bug). They are the client's
 * mistakes, so each gets its own code here. Apollo's message is the only way to tell them apart.
 */
const APOLLO_REQUEST_ERRORS: Readonly<Record<string, ErrorCode>> = Object.assign(Object.create(null), {
  'provided sha does not match query': ErrorCode.PERSISTED_QUERY_HASH_MISMATCH,
  // A persisted-query extension that is not `{ version: 1, sha256Hash }`: the client's mistake.
  'Unsupported persisted query version': ErrorCode.BAD_REQUEST,
});

/**
 * graphql-js (and graphql-jit after it) reports an argument it cannot coerce at execution, without
 * a code: a variable sent as null for a non-null argument (`query($id: ID = "x") { visitor(id:
 * $id) }` with `{"id": null}`). The caller's input, not a bug.
 */
const ARGUMENT_COERCION = /^Argument "[_A-Za-z][_0-9A-Za-z]*" (?:of non-null type "[^"]+" must not be null|has invalid value)/;

export function apolloRequestErrorCode(message: string): ErrorCode | undefined {
  return APOLLO_REQUEST_ERRORS[message] ?? (ARGUMENT_COERCION.test(message) ? ErrorCode.BAD_USER_INPUT : undefined);
}

/** Client-chosen text echoed back (an operation name in an error) stays short. */
export function clip(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A request refused before GraphQL runs at all (no body, too big, not JSON): the whole answer. */
export function requestRefusal(code: ErrorCode, message: string, requestId: string): { errors: [GraphQLFormattedError] } {
  return { errors: [{ message, extensions: { code, requestId } }] };
}
