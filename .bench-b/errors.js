import { GraphQLError } from 'graphql';
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
};
/**
 * A failure the gateway understood. `retryable` tells the retry policy whether another attempt could
 * succeed; `upstreamFault` tells the circuit breaker that Rocket.Chat itself is failing (5xx, no
 * connection, no answer), as opposed to answering a refusal. Neither is sent to callers.
 */
export class GatewayError extends GraphQLError {
    code;
    retryable;
    upstreamFault;
    constructor(message, code, options = {}) {
        const extensions = { code };
        if (options.upstream)
            extensions.upstream = options.upstream;
        if (options.retryAfter !== undefined)
            extensions.retryAfter = options.retryAfter;
        super(message, { extensions });
        this.code = code;
        this.retryable = options.retryable ?? false;
        this.upstreamFault = options.upstreamFault ?? false;
    }
}
/** Rocket.Chat's 401 body says `message`; every other error body says `error`. */
function upstreamErrorString(body) {
    if (!body || typeof body !== 'object')
        return null;
    if (typeof body.error === 'string')
        return body.error;
    if (typeof body.message === 'string')
        return body.message;
    return null;
}
/**
 * Seconds until a 429's window reopens. Rocket.Chat sends `X-RateLimit-Reset` as an epoch in
 * milliseconds and no `Retry-After`; proxies in front of it may send `Retry-After` (seconds or a date).
 */
export function retryAfterSeconds(headers, now = Date.now()) {
    const first = (v) => (Array.isArray(v) ? v[0] : v);
    // Retry-After is either whole seconds or an HTTP-date; anything else is ignored, not guessed at.
    const retryAfter = first(headers['retry-after'])?.trim();
    if (retryAfter && /^\d+(\.\d+)?$/.test(retryAfter))
        return Math.ceil(Number(retryAfter));
    if (retryAfter && /[A-Za-z]/.test(retryAfter)) {
        const date = Date.parse(retryAfter);
        if (!Number.isNaN(date))
            return Math.max(0, Math.ceil((date - now) / 1000));
    }
    const reset = Number(first(headers['x-ratelimit-reset']));
    if (Number.isFinite(reset) && reset > 0)
        return Math.max(0, Math.ceil((reset - now) / 1000));
    return undefined;
}
/** Maps a non-200 answer (and a 200 with `success: false`) to its catalogue row. */
export function errorFromResponse(status, body, headers = {}) {
    const error = upstreamErrorString(body);
    const upstream = { status, error };
    if (status === 200) {
        return new GatewayError('Rocket.Chat answered 200 but reported a failure.', 'UPSTREAM_BAD_RESPONSE', { upstream });
    }
    if (status === 400) {
        if (error === 'visitor-not-found')
            return new GatewayError('Visitor not found.', 'NOT_FOUND', { upstream });
        if (body?.errorType === 'invalid-params') {
            return new GatewayError('Rocket.Chat rejected the request parameters.', 'BAD_USER_INPUT', { upstream });
        }
        if (error === 'error-not-authorized')
            return forbidden(upstream);
        return new GatewayError(`Rocket.Chat answered 400.`, 'UPSTREAM_ERROR', { upstream });
    }
    if (status === 401) {
        return new GatewayError('Rocket.Chat did not accept these credentials.', 'UNAUTHENTICATED', { upstream });
    }
    if (status === 403)
        return forbidden(upstream);
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
function forbidden(upstream) {
    return new GatewayError('These credentials lack the view-l-room permission.', 'FORBIDDEN', { upstream });
}
/** A 200 (or an error status) whose body is not what Rocket.Chat sends: not JSON, truncated, wrong shape, too big. */
export function badResponse(status, reason) {
    return new GatewayError(`Rocket.Chat sent an unusable response: ${reason}.`, 'UPSTREAM_BAD_RESPONSE', {
        upstream: { status, error: null },
    });
}
export function upstreamTimeout(timeoutMs, { retryable = true } = {}) {
    return new GatewayError(`Rocket.Chat did not answer within ${timeoutMs} ms.`, 'UPSTREAM_TIMEOUT', {
        upstream: { status: null, error: 'timeout' },
        retryable,
        upstreamFault: true,
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
export function errorFromTransport(err, timeoutMs) {
    if (err instanceof GatewayError)
        return err;
    const code = transportCode(err);
    if (code === 'UND_ERR_CONNECT_TIMEOUT' ||
        code === 'UND_ERR_HEADERS_TIMEOUT' ||
        code === 'UND_ERR_BODY_TIMEOUT' ||
        code === 'ETIMEDOUT' ||
        code === 'TimeoutError') {
        return upstreamTimeout(timeoutMs);
    }
    return new GatewayError('Rocket.Chat could not be reached.', 'UPSTREAM_UNAVAILABLE', {
        upstream: { status: null, error: code ?? 'connection-error' },
        retryable: code === undefined || RETRYABLE_TRANSPORT_CODES.has(code),
        upstreamFault: true,
    });
}
function transportCode(err) {
    let e = err;
    // undici wraps the socket error in `cause`; the innermost code is the informative one.
    for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
        const obj = e;
        if (typeof obj.code === 'string' && !obj.cause)
            return obj.code;
        if (obj.name === 'TimeoutError')
            return 'TimeoutError';
        if (!obj.cause)
            return typeof obj.code === 'string' ? obj.code : undefined;
        e = obj.cause;
    }
    return undefined;
}
/** Refused before any upstream call: no credentials, or malformed ones. */
export function missingCredentials(reason) {
    return new GatewayError(`Send your Rocket.Chat credentials in the X-Auth-Token and X-User-Id headers (${reason}).`, 'UNAUTHENTICATED');
}
export function badUserInput(message) {
    return new GatewayError(message, 'BAD_USER_INPUT');
}
/** The circuit breaker is open: Rocket.Chat failed repeatedly, so calls fail fast without traffic. */
export function circuitOpen() {
    return new GatewayError('Rocket.Chat is failing; calls are paused for a moment.', 'UPSTREAM_UNAVAILABLE', {
        upstream: { status: null, error: 'circuit-open' },
    });
}
/** More calls are waiting for Rocket.Chat than the bulkhead admits. */
export function upstreamSaturated() {
    return new GatewayError('Too many calls to Rocket.Chat are in progress; try again shortly.', 'UPSTREAM_UNAVAILABLE', {
        upstream: { status: null, error: 'bulkhead-full' },
    });
}
/** Rocket.Chat's window for this caller is still closed: answered here without spending its quota. */
export function rateLimitedLocally(retryAfter) {
    return new GatewayError('Rocket.Chat is rate limiting these calls; try again later.', 'RATE_LIMITED', {
        upstream: { status: 429, error: 'error-too-many-requests' },
        retryAfter,
    });
}
/** The caller went away; nobody reads this error, but the breaker must not count it. */
export function callerAborted() {
    return new GatewayError('The request was aborted by the client.', 'UPSTREAM_UNAVAILABLE', {
        upstream: { status: null, error: 'aborted' },
    });
}
//# sourceMappingURL=errors.js.map