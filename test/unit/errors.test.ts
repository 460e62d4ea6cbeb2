import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  badResponse,
  badUserInput,
  circuitOpen,
  errorFromResponse,
  errorFromTransport,
  GatewayError,
  MAX_UPSTREAM_ERROR_LENGTH,
  missingCredentials,
  retryAfterSeconds,
  upstreamQueueTimeout,
  upstreamSaturated,
  upstreamTimeout,
} from '../../src/errors.js';
import type { WireErrorBody } from '../../src/rocketchat/models.js';

// Rocket.Chat's own bodies, verbatim from shared/upstream/BEHAVIOR.md.
const BODY_401: WireErrorBody = { status: 'error', message: 'You must be logged in to do this.' };
const BODY_403: WireErrorBody = {
  success: false,
  error: 'User does not have the permissions required for this action [error-unauthorized]',
};
const BODY_400_NOT_AUTHORIZED: WireErrorBody = { success: false, error: 'error-not-authorized' };
const BODY_400_INVALID_PARAMS: WireErrorBody = {
  success: false,
  error: "must have required property 'visitorId' [invalid-params]",
  errorType: 'invalid-params',
};
const BODY_400_NOT_FOUND: WireErrorBody = { success: false, error: 'visitor-not-found' };
const BODY_429: WireErrorBody = {
  success: false,
  error: 'Error, too many requests. Please slow down. You must wait 52 seconds before trying this endpoint again. [error-too-many-requests]',
};

/** A fixed instant on a whole second, so HTTP-dates (second precision) round-trip exactly. */
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

type Headers = Record<string, string | string[] | undefined>;

/** Everything a client could see of an error. */
function visible(err: GatewayError): string {
  return JSON.stringify({ message: err.message, extensions: err.extensions });
}

describe('errorFromResponse: the catalogue, row by row', () => {
  it('400 visitor-not-found → NOT_FOUND, not retryable', () => {
    const err = errorFromResponse(400, BODY_400_NOT_FOUND);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.extensions.code).toBe('NOT_FOUND');
    expect(err.code).toBe('NOT_FOUND');
    expect(err.extensions.upstream).toStrictEqual({ status: 400, error: 'visitor-not-found' });
    expect(err.retryable).toBe(false);
    expect(err.extensions).not.toHaveProperty('retryAfter');
  });

  it('400 errorType invalid-params → BAD_USER_INPUT, not retryable', () => {
    const err = errorFromResponse(400, BODY_400_INVALID_PARAMS);
    expect(err.extensions.code).toBe('BAD_USER_INPUT');
    expect(err.extensions.upstream).toStrictEqual({
      status: 400,
      error: "must have required property 'visitorId' [invalid-params]",
    });
    expect(err.retryable).toBe(false);
  });

  it('400 error-not-authorized (older servers) → FORBIDDEN', () => {
    const err = errorFromResponse(400, BODY_400_NOT_AUTHORIZED);
    expect(err.extensions.code).toBe('FORBIDDEN');
    expect(err.extensions.upstream).toStrictEqual({ status: 400, error: 'error-not-authorized' });
    expect(err.retryable).toBe(false);
  });

  it('403 [error-unauthorized] (current servers) → FORBIDDEN', () => {
    const err = errorFromResponse(403, BODY_403);
    expect(err.extensions.code).toBe('FORBIDDEN');
    expect(err.extensions.upstream).toStrictEqual({
      status: 403,
      error: 'User does not have the permissions required for this action [error-unauthorized]',
    });
    expect(err.retryable).toBe(false);
  });

  it('403 with no body at all is still FORBIDDEN, with a null upstream error', () => {
    const err = errorFromResponse(403, undefined);
    expect(err.extensions.code).toBe('FORBIDDEN');
    expect(err.extensions.upstream).toStrictEqual({ status: 403, error: null });
  });

  it("401 → UNAUTHENTICATED, upstream error taken from the 401 body's `message`", () => {
    const err = errorFromResponse(401, BODY_401);
    expect(err.extensions.code).toBe('UNAUTHENTICATED');
    expect(err.extensions.upstream).toStrictEqual({ status: 401, error: 'You must be logged in to do this.' });
    expect(err.retryable).toBe(false);
  });

  it('400 with some other error string → UPSTREAM_ERROR (neither not-found nor bad input)', () => {
    const err = errorFromResponse(400, { success: false, error: 'error-something-new' });
    expect(err.extensions.code).toBe('UPSTREAM_ERROR');
    expect(err.extensions.upstream).toStrictEqual({ status: 400, error: 'error-something-new' });
    expect(err.retryable).toBe(false);
  });

  it.each([500, 502, 503, 504])('%i → UPSTREAM_UNAVAILABLE, retryable', (status) => {
    const err = errorFromResponse(status, { success: false, error: 'Internal server error' });
    expect(err.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.extensions.upstream).toStrictEqual({ status, error: 'Internal server error' });
    expect(err.retryable).toBe(true);
  });

  it('502 from a proxy with no JSON body → UPSTREAM_UNAVAILABLE with a null upstream error', () => {
    const err = errorFromResponse(502, undefined);
    expect(err.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.extensions.upstream).toStrictEqual({ status: 502, error: null });
    expect(err.retryable).toBe(true);
  });

  it.each([404, 302, 418, 501, 505])('%i → UPSTREAM_ERROR, not retryable', (status) => {
    const err = errorFromResponse(status, undefined);
    expect(err.extensions.code).toBe('UPSTREAM_ERROR');
    expect(err.extensions.upstream).toStrictEqual({ status, error: null });
    expect(err.retryable).toBe(false);
  });

  it('404 with an error string keeps that string in upstream.error', () => {
    const err = errorFromResponse(404, { success: false, error: 'Not found' });
    expect(err.extensions.code).toBe('UPSTREAM_ERROR');
    expect(err.extensions.upstream).toStrictEqual({ status: 404, error: 'Not found' });
  });

  it('200 with success:false → UPSTREAM_BAD_RESPONSE', () => {
    const err = errorFromResponse(200, { success: false, error: 'error-weird' });
    expect(err.extensions.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.extensions.upstream).toStrictEqual({ status: 200, error: 'error-weird' });
    expect(err.retryable).toBe(false);
  });

  it('ignores a non-string error field rather than passing an object through', () => {
    const err = errorFromResponse(400, { success: false, error: { nested: 'x' } } as unknown as WireErrorBody);
    expect(err.extensions.upstream).toStrictEqual({ status: 400, error: null });
  });
});

describe('errorFromResponse: 429', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('→ RATE_LIMITED with retryAfter from X-RateLimit-Reset (epoch milliseconds)', () => {
    const headers: Headers = {
      'x-ratelimit-limit': '10',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(NOW + 52_000),
    };
    const err = errorFromResponse(429, BODY_429, headers);
    expect(err.extensions.code).toBe('RATE_LIMITED');
    expect(err.extensions.retryAfter).toBe(52);
    expect(err.extensions.upstream).toStrictEqual({ status: 429, error: BODY_429.error });
    expect(err.retryable).toBe(false);
  });

  it('rounds a partial second up', () => {
    const err = errorFromResponse(429, BODY_429, { 'x-ratelimit-reset': String(NOW + 51_200) });
    expect(err.extensions.retryAfter).toBe(52);
  });

  it('takes Retry-After in seconds, preferring it over X-RateLimit-Reset', () => {
    const err = errorFromResponse(429, BODY_429, {
      'retry-after': '30',
      'x-ratelimit-reset': String(NOW + 52_000),
    });
    expect(err.extensions.retryAfter).toBe(30);
  });

  it('takes Retry-After as an HTTP-date', () => {
    const err = errorFromResponse(429, BODY_429, { 'retry-after': new Date(NOW + 90_000).toUTCString() });
    expect(err.extensions.retryAfter).toBe(90);
  });

  it('omits retryAfter when neither header is present', () => {
    const err = errorFromResponse(429, BODY_429, {});
    expect(err.extensions.code).toBe('RATE_LIMITED');
    expect(err.extensions).not.toHaveProperty('retryAfter');
  });
});

describe('retryAfterSeconds(headers, now)', () => {
  it('converts X-RateLimit-Reset from epoch ms to seconds from now', () => {
    expect(retryAfterSeconds({ 'x-ratelimit-reset': String(NOW + 52_000) }, NOW)).toBe(52);
    expect(retryAfterSeconds({ 'x-ratelimit-reset': String(NOW + 1) }, NOW)).toBe(1);
  });

  it('never answers a negative number for a reset already past', () => {
    expect(retryAfterSeconds({ 'x-ratelimit-reset': String(NOW - 5_000) }, NOW)).toBe(0);
    expect(retryAfterSeconds({ 'retry-after': new Date(NOW - 60_000).toUTCString() }, NOW)).toBe(0);
  });

  it('reads Retry-After seconds, rounding fractions up', () => {
    expect(retryAfterSeconds({ 'retry-after': '120' }, NOW)).toBe(120);
    expect(retryAfterSeconds({ 'retry-after': '0' }, NOW)).toBe(0);
    expect(retryAfterSeconds({ 'retry-after': '1.2' }, NOW)).toBe(2);
  });

  it('reads Retry-After as an HTTP-date relative to now', () => {
    expect(retryAfterSeconds({ 'retry-after': new Date(NOW + 45_000).toUTCString() }, NOW)).toBe(45);
  });

  it('uses the first value of a repeated header', () => {
    expect(retryAfterSeconds({ 'retry-after': ['7', '99'] }, NOW)).toBe(7);
    expect(retryAfterSeconds({ 'x-ratelimit-reset': [String(NOW + 3_000), String(NOW + 60_000)] }, NOW)).toBe(3);
  });

  it('answers undefined without a usable header', () => {
    expect(retryAfterSeconds({}, NOW)).toBeUndefined();
    expect(retryAfterSeconds({ 'x-ratelimit-reset': 'soon' }, NOW)).toBeUndefined();
    expect(retryAfterSeconds({ 'x-ratelimit-reset': '0' }, NOW)).toBeUndefined();
    expect(retryAfterSeconds({ 'retry-after': 'whenever' }, NOW)).toBeUndefined();
  });

  it('falls back to X-RateLimit-Reset when Retry-After is unusable', () => {
    expect(retryAfterSeconds({ 'retry-after': 'whenever', 'x-ratelimit-reset': String(NOW + 8_000) }, NOW)).toBe(8);
  });

  it('ignores a negative Retry-After instead of reading it as a date', () => {
    // "-5" is neither delta-seconds nor an HTTP-date; it must not be turned into a date by Date.parse.
    expect(retryAfterSeconds({ 'retry-after': '-5', 'x-ratelimit-reset': String(NOW + 8_000) }, NOW)).toBe(8);
    expect(retryAfterSeconds({ 'retry-after': '-5' }, NOW)).toBeUndefined();
  });
});

describe('errors never leak headers or the raw body', () => {
  const secretHeaders: Headers = {
    'x-auth-token': 'RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f',
    'x-user-id': 'rbAXPnMktTFbNpwtJ',
    'set-cookie': 'rc_token=sEcReTcOoKiE',
    server: 'nginx/1.25.3-internal-build',
    'x-ratelimit-reset': String(Date.now() + 30_000),
  };
  const cases: [number, WireErrorBody][] = [
    [400, BODY_400_NOT_FOUND],
    [400, BODY_400_INVALID_PARAMS],
    [400, BODY_400_NOT_AUTHORIZED],
    [400, { success: false, error: 'other' }],
    [401, BODY_401],
    [403, BODY_403],
    [429, BODY_429],
    [500, { success: false, error: 'Internal server error' }],
    [503, { success: false, error: 'Service Unavailable' }],
    [404, { success: false, error: 'Not found' }],
    [200, { success: false, error: 'weird' }],
  ];

  it.each(cases)('%i %j', (status, body) => {
    // Extra fields a server might add (a stack, internal hosts) must stay behind too.
    const rawBody = { ...body, stack: 'Error: at MongoClient (/srv/rc/db.js:1:1)', details: { dbHost: 'mongo-7.internal' } };
    const err = errorFromResponse(status, rawBody as WireErrorBody, secretHeaders);
    const seen = visible(err);
    for (const value of Object.values(secretHeaders)) {
      if (typeof value === 'string' && value.length > 8 && !/^\d+$/.test(value)) expect(seen).not.toContain(value);
    }
    expect(seen).not.toContain('MongoClient');
    expect(seen).not.toContain('mongo-7.internal');
    expect(seen).not.toContain(JSON.stringify(rawBody));
    expect(seen).not.toContain(JSON.stringify(body));
    // Only the catalogue's keys reach the client.
    for (const key of Object.keys(err.extensions)) expect(['code', 'upstream', 'retryAfter']).toContain(key);
    expect(Object.keys(err.extensions.upstream as object).sort()).toStrictEqual(['error', 'status']);
  });
});

describe('upstream error strings are bounded where they are read', () => {
  const long = (prefix: string, length = 900 * 1024) => prefix + 'x'.repeat(length - prefix.length);

  it.each<[number, WireErrorBody]>([
    [400, { success: false, error: long('some-error ') }],
    [403, { success: false, error: long('User does not have the permissions ') }],
    [429, { success: false, error: long('Error, too many requests. ') }],
    [503, { success: false, error: long('down ') }],
    [404, { success: false, error: long('Not found ') }],
    [200, { success: false, error: long('weird ') }],
    [401, { status: 'error', message: long('You must be logged in ') }],
  ])('%i: a 900 KiB error string is cut to MAX_UPSTREAM_ERROR_LENGTH, ending in an ellipsis', (status, body) => {
    const err = errorFromResponse(status, body);
    const error = (err.extensions.upstream as { error: string }).error;
    expect(error).toHaveLength(MAX_UPSTREAM_ERROR_LENGTH);
    expect(error.endsWith('…')).toBe(true);
    const original = body.error ?? body.message!;
    expect(error.slice(0, -1)).toBe(original.slice(0, MAX_UPSTREAM_ERROR_LENGTH - 1));
    expect(visible(err).length).toBeLessThan(1024);
  });

  it('does not keep the long original alive through the short one', () => {
    // A slice in V8 is a view on its parent: 20 of them would pin 18 MiB of bodies.
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const body = () => JSON.parse(JSON.stringify({ success: false, error: long('down ') })) as WireErrorBody;
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept = Array.from({ length: 20 }, () => errorFromResponse(503, body()));
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    expect(kept).toHaveLength(20);
    expect(retained).toBeLessThan(4 * 1024 * 1024);
  });

  it('keeps a string of exactly the limit whole, and cuts one character longer', () => {
    const exact = 'e'.repeat(MAX_UPSTREAM_ERROR_LENGTH);
    expect((errorFromResponse(400, { success: false, error: exact }).extensions.upstream as { error: string }).error).toBe(exact);
    const over = (errorFromResponse(400, { success: false, error: `${exact}f` }).extensions.upstream as { error: string }).error;
    expect(over).toBe(`${'e'.repeat(MAX_UPSTREAM_ERROR_LENGTH - 1)}…`);
  });

  it('never splits a surrogate pair at the cut', () => {
    const text = 'a'.repeat(MAX_UPSTREAM_ERROR_LENGTH - 2) + '😀'.repeat(10);
    const error = (errorFromResponse(400, { success: false, error: text }).extensions.upstream as { error: string }).error;
    expect(error.length).toBeLessThanOrEqual(MAX_UPSTREAM_ERROR_LENGTH);
    expect(error).toBe(`${'a'.repeat(MAX_UPSTREAM_ERROR_LENGTH - 2)}…`);
    expect(Buffer.from(error, 'utf8').toString('utf8')).toBe(error); // no lone surrogate to replace
  });

  it('every error string Rocket.Chat really sends is shorter than the limit and keeps its row', () => {
    for (const body of [BODY_401, BODY_403, BODY_400_NOT_AUTHORIZED, BODY_400_INVALID_PARAMS, BODY_400_NOT_FOUND, BODY_429]) {
      expect((body.error ?? body.message)!.length).toBeLessThan(MAX_UPSTREAM_ERROR_LENGTH);
    }
    expect(errorFromResponse(400, BODY_400_NOT_FOUND).code).toBe('NOT_FOUND');
    expect(errorFromResponse(400, BODY_400_NOT_AUTHORIZED).code).toBe('FORBIDDEN');
    expect(errorFromResponse(400, BODY_400_INVALID_PARAMS).code).toBe('BAD_USER_INPUT');
    expect(errorFromResponse(429, BODY_429).extensions.upstream).toStrictEqual({ status: 429, error: BODY_429.error });
    expect(errorFromResponse(401, BODY_401).extensions.upstream).toStrictEqual({ status: 401, error: BODY_401.message });
  });

  it('a known string padded past the limit is no longer recognised: a cut string is never matched as whole', () => {
    const err = errorFromResponse(400, { success: false, error: `visitor-not-found${' '.repeat(MAX_UPSTREAM_ERROR_LENGTH)}` });
    expect(err.code).toBe('UPSTREAM_ERROR');
  });
});

describe('badResponse and upstreamTimeout', () => {
  it('badResponse → UPSTREAM_BAD_RESPONSE with the status and no upstream error, not retryable', () => {
    const err = badResponse(200, 'body is not JSON');
    expect(err.extensions.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(err.extensions.upstream).toStrictEqual({ status: 200, error: null });
    expect(err.message).toContain('body is not JSON');
    expect(err.retryable).toBe(false);
  });

  it('upstreamTimeout → UPSTREAM_TIMEOUT naming the deadline, retryable', () => {
    const err = upstreamTimeout(2500);
    expect(err.extensions.code).toBe('UPSTREAM_TIMEOUT');
    expect(err.extensions.upstream).toStrictEqual({ status: null, error: 'timeout' });
    expect(err.message).toContain('2500 ms');
    expect(err.retryable).toBe(true);
  });

  it('upstreamTimeout can be marked not retryable (a second timeout), same code and details', () => {
    const err = upstreamTimeout(2500, { retryable: false });
    expect(err.extensions.code).toBe('UPSTREAM_TIMEOUT');
    expect(err.extensions.upstream).toStrictEqual({ status: null, error: 'timeout' });
    expect(err.retryable).toBe(false);
    expect(err.upstreamFault).toBe(true);
  });

  it('upstreamTimeout is a fault unless told otherwise (a deadline cutting a short attempt), same code and details', () => {
    const err = upstreamTimeout(8000, { retryable: false, upstreamFault: false });
    expect(err.extensions.code).toBe('UPSTREAM_TIMEOUT');
    expect(err.extensions.upstream).toStrictEqual({ status: null, error: 'timeout' });
    expect(err.message).toContain('8000 ms');
    expect(err.upstreamFault).toBe(false);
    expect(upstreamTimeout(3000).upstreamFault).toBe(true);
  });
});

describe('the gateway refusing or giving up on its own: never a fault, never retried', () => {
  it.each<[string, () => GatewayError, string]>([
    ['upstreamQueueTimeout', upstreamQueueTimeout, 'queue-timeout'],
    ['upstreamSaturated', upstreamSaturated, 'bulkhead-full'],
    ['circuitOpen', () => circuitOpen(7), 'circuit-open'],
  ])('%s → UPSTREAM_UNAVAILABLE, upstream.error %j', (_name, make, error) => {
    const err = make();
    expect(err.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.extensions.upstream).toStrictEqual({ status: null, error });
    expect(err.retryable).toBe(false);
    expect(err.upstreamFault).toBe(false);
  });

  it('circuitOpen carries the seconds until the trial call, typed and in extensions', () => {
    const err = circuitOpen(7);
    expect(err.retryAfter).toBe(7);
    expect(err.extensions.retryAfter).toBe(7);
  });
});

describe('errorFromTransport: undici-shaped failures', () => {
  it('{ code: ECONNREFUSED } → UPSTREAM_UNAVAILABLE, retryable', () => {
    const err = errorFromTransport({ code: 'ECONNREFUSED' }, 3000);
    expect(err.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.extensions.upstream).toStrictEqual({ status: null, error: 'ECONNREFUSED' });
    expect(err.retryable).toBe(true);
  });

  it('an Error whose cause is { code: ECONNRESET } → UPSTREAM_UNAVAILABLE with the inner code, retryable', () => {
    const err = errorFromTransport(new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } }), 3000);
    expect(err.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.extensions.upstream).toStrictEqual({ status: null, error: 'ECONNRESET' });
    expect(err.retryable).toBe(true);
  });

  it('an outer undici code wrapping a socket error reports the innermost code', () => {
    const outer = Object.assign(new Error('other side closed'), {
      code: 'UND_ERR_SOCKET',
      cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    });
    const err = errorFromTransport(outer, 3000);
    expect(err.extensions.upstream).toStrictEqual({ status: null, error: 'ECONNRESET' });
    expect(err.retryable).toBe(true);
  });

  it('UND_ERR_HEADERS_TIMEOUT → UPSTREAM_TIMEOUT, retryable', () => {
    const headersTimeout = Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
    const err = errorFromTransport(headersTimeout, 1234);
    expect(err.extensions.code).toBe('UPSTREAM_TIMEOUT');
    expect(err.extensions.upstream).toStrictEqual({ status: null, error: 'timeout' });
    expect(err.message).toContain('1234 ms');
    expect(err.retryable).toBe(true);
  });

  it.each(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])('%s → UPSTREAM_TIMEOUT', (code) => {
    expect(errorFromTransport({ code }, 3000).extensions.code).toBe('UPSTREAM_TIMEOUT');
  });

  it("a DOMException-like { name: 'TimeoutError' } → UPSTREAM_TIMEOUT", () => {
    expect(errorFromTransport({ name: 'TimeoutError', message: 'The operation was aborted due to timeout' }, 3000).extensions.code).toBe('UPSTREAM_TIMEOUT');
  });

  it('a real DOMException TimeoutError (AbortSignal.timeout reason), also as a cause → UPSTREAM_TIMEOUT', () => {
    const dom = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(errorFromTransport(dom, 3000).extensions.code).toBe('UPSTREAM_TIMEOUT');
    expect(errorFromTransport(new Error('aborted', { cause: dom }), 3000).extensions.code).toBe('UPSTREAM_TIMEOUT');
  });

  it('an unknown code → UPSTREAM_UNAVAILABLE carrying that code, not retried', () => {
    const err = errorFromTransport({ code: 'EPROTO_SOMETHING_NEW' }, 3000);
    expect(err.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.extensions.upstream).toStrictEqual({ status: null, error: 'EPROTO_SOMETHING_NEW' });
    expect(err.retryable).toBe(false);
  });

  it('a codeless failure → UPSTREAM_UNAVAILABLE with error "connection-error"', () => {
    const err = errorFromTransport(new Error('something broke'), 3000);
    expect(err.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(err.extensions.upstream).toStrictEqual({ status: null, error: 'connection-error' });
  });

  it('passes a GatewayError through unchanged', () => {
    const original = badResponse(200, 'truncated body');
    expect(errorFromTransport(original, 3000)).toBe(original);
  });

  it("never repeats the transport error's own message (addresses, hosts)", () => {
    const err = errorFromTransport(Object.assign(new Error('connect ECONNREFUSED 10.20.30.40:3000'), { code: 'ECONNREFUSED' }), 3000);
    expect(visible(err)).not.toContain('10.20.30.40');
  });
});

describe('missingCredentials and badUserInput', () => {
  it('missingCredentials → UNAUTHENTICATED with the reason, no upstream details', () => {
    const err = missingCredentials('missing X-Auth-Token or X-User-Id');
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.extensions.code).toBe('UNAUTHENTICATED');
    expect(err.message).toContain('missing X-Auth-Token or X-User-Id');
    expect(err.extensions).not.toHaveProperty('upstream');
    expect(err.retryable).toBe(false);
  });

  it('badUserInput → BAD_USER_INPUT with the message as given', () => {
    const err = badUserInput('A visitor id is 1 to 64 characters.');
    expect(err.extensions.code).toBe('BAD_USER_INPUT');
    expect(err.message).toBe('A visitor id is 1 to 64 characters.');
    expect(err.extensions).not.toHaveProperty('upstream');
    expect(err.retryable).toBe(false);
  });
});
