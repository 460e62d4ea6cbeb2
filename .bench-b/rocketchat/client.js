import { Pool, errors as undiciErrors } from 'undici';
import { badResponse, circuitOpen, errorFromResponse, errorFromTransport, GatewayError, rateLimitedLocally, upstreamTimeout, } from '../errors.js';
import { statusClass } from '../metrics.js';
import { Cancellation } from './cancellation.js';
import { Coalescer } from './coalesce.js';
import { RateLimitMemory } from './rateLimits.js';
import { UpstreamPolicy } from './resilience.js';
import { parseVisitorsInfo } from './validate.js';
/** Rocket.Chat's visitor is a few KiB; anything near this is not a visitor. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
const VISITORS_INFO_PATH = '/api/v1/livechat/visitors.info';
const INFO_PATH = '/api/info';
/**
 * The one place that talks HTTP to Rocket.Chat and the one place that forwards credentials. One
 * undici Pool per process keeps connections warm; every call goes through the resilience policies,
 * every answer through the error catalogue.
 */
export class HttpRocketChatClient {
    #pool;
    #pathPrefix;
    #visitorsInfoPath;
    #timeoutMs;
    #policy;
    #rateLimits = new RateLimitMemory();
    #inflight = new Coalescer();
    #observe;
    constructor(options) {
        const url = new URL(options.baseUrl);
        this.#pathPrefix = url.pathname.replace(/\/+$/, '');
        this.#visitorsInfoPath = `${this.#pathPrefix}${VISITORS_INFO_PATH}?visitorId=`;
        this.#timeoutMs = options.timeoutMs;
        this.#policy = new UpstreamPolicy(options);
        this.#observe = options.observe;
        this.#pool = new Pool(url.origin, {
            connections: options.connections,
            pipelining: 1,
            // Idle sockets stay open long enough to serve bursts without new handshakes.
            keepAliveTimeout: 30_000,
            keepAliveMaxTimeout: 600_000,
            connectTimeout: options.timeoutMs,
            headersTimeout: options.timeoutMs,
            bodyTimeout: options.timeoutMs,
            maxResponseSize: MAX_RESPONSE_BYTES,
        });
    }
    get breakerState() {
        return this.#policy.breakerState;
    }
    get policy() {
        return this.#policy;
    }
    getVisitor(id, options) {
        const { credentials, clientIp, requestId } = options;
        const bucket = `${clientIp ?? ''}|${credentials.userId}`;
        const wait = this.#rateLimits.retryAfter(bucket);
        if (wait !== undefined)
            return Promise.reject(rateLimitedLocally(wait));
        const path = this.#visitorsInfoPath + encodeURIComponent(id);
        const headers = {
            accept: 'application/json',
            'x-auth-token': credentials.authToken,
            'x-user-id': credentials.userId,
        };
        if (requestId)
            headers['x-request-id'] = requestId;
        if (clientIp)
            headers['x-real-ip'] = clientIp;
        const interpret = (answer) => {
            try {
                return parseVisitorsInfo(answer.status, answer.headers, answer.body);
            }
            catch (err) {
                if (err instanceof GatewayError && err.code === 'RATE_LIMITED') {
                    this.#rateLimits.remember(bucket, Number(err.extensions.retryAfter ?? 0));
                }
                throw err;
            }
        };
        // The in-flight key never leaves this process and lives only while the call does, so it may hold
        // the token itself: tokens are visible ASCII (context.ts), so the newlines keep the parts apart.
        const key = `${credentials.userId}\n${credentials.authToken}\n${id}`;
        return this.#inflight.run(key, options.cancellation, (shared) => this.#policy.execute((attempt) => this.#get(path, headers, attempt, interpret), shared));
    }
    async serverInfo(signal) {
        if (this.#policy.breakerState === 'open')
            throw circuitOpen();
        const attempt = Cancellation.from(signal) ?? new Cancellation();
        const timer = setTimeout(() => attempt.cancel(upstreamTimeout(this.#timeoutMs)), this.#timeoutMs);
        try {
            return await this.#get(`${this.#pathPrefix}${INFO_PATH}`, { accept: 'application/json' }, attempt, (answer) => {
                if (answer.status !== 200)
                    throw errorFromResponse(answer.status, answer.body);
                const info = answer.body;
                if (!info || typeof info.version !== 'string')
                    throw badResponse(answer.status, 'no version in /api/info');
                return { version: info.version, success: true };
            });
        }
        finally {
            clearTimeout(timer);
        }
    }
    async close() {
        await this.#pool.close();
    }
    /** One attempt: a GET whose answer `interpret` turns into a value or a catalogue error. */
    #get(path, headers, attempt, interpret) {
        return new Promise((resolve, reject) => {
            this.#pool.dispatch({ method: 'GET', path, headers }, new AttemptHandler(attempt, interpret, resolve, reject, this.#timeoutMs, this.#observe));
        });
    }
}
/**
 * Gathers one answer straight from undici's dispatcher and settles the attempt's promise: status,
 * headers and parsed JSON body, or a catalogue error. `pool.request` would wrap every answer in a
 * Readable stream only for the gateway to read it whole, and an AbortSignal per attempt would cost
 * more than the rest of the attempt's own work; at one upstream call per operation both showed in
 * the gateway's CPU profile. Never follows redirects.
 */
class AttemptHandler {
    #attempt;
    #interpret;
    #resolve;
    #reject;
    #timeoutMs;
    #observe;
    #started;
    #stopListening;
    #controller;
    #status = 0;
    #headers = {};
    #chunks = [];
    #settled = false;
    constructor(attempt, interpret, resolve, reject, timeoutMs, observe) {
        this.#attempt = attempt;
        this.#interpret = interpret;
        this.#resolve = resolve;
        this.#reject = reject;
        this.#timeoutMs = timeoutMs;
        this.#observe = observe;
        this.#started = observe ? performance.now() : 0;
        // A request still queued in the pool has no controller yet: it is refused at its start, and
        // the attempt ends now rather than when a socket frees up.
        this.#stopListening = attempt.subscribe((reason) => {
            if (this.#controller)
                this.#controller.abort(reason);
            else
                this.#fail(reason);
        });
    }
    onRequestStart(controller) {
        this.#controller = controller;
        if (this.#attempt.reason)
            controller.abort(this.#attempt.reason);
    }
    onResponseStart(controller, statusCode, headers) {
        this.#status = statusCode;
        this.#headers = headers;
        const length = Number(headers['content-length']);
        if (length > MAX_RESPONSE_BYTES) {
            controller.abort(badResponse(statusCode, `body of ${length} bytes is over the ${MAX_RESPONSE_BYTES}-byte cap`));
        }
    }
    onResponseData(_controller, chunk) {
        this.#chunks.push(chunk);
    }
    onResponseEnd() {
        const status = this.#status;
        const chunks = this.#chunks;
        const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8');
        let body;
        try {
            body = text === '' ? undefined : JSON.parse(text);
        }
        catch {
            // An HTML error page from a proxy in front of Rocket.Chat still deserves its status's row.
            if (status === 200)
                return this.#fail(badResponse(status, 'body is not JSON'));
        }
        let value;
        try {
            value = this.#interpret({ status, headers: this.#headers, body });
        }
        catch (err) {
            return this.#fail(err);
        }
        if (this.#settle()) {
            this.#observe?.(statusClass(status), (performance.now() - this.#started) / 1000);
            this.#resolve(value);
        }
    }
    onResponseError(_controller, err) {
        this.#fail(this.#asGatewayError(err));
    }
    #asGatewayError(err) {
        if (err instanceof GatewayError)
            return err;
        // Timed out, past the deadline, or the caller left: the attempt's reason says which.
        if (this.#attempt.reason)
            return this.#attempt.reason;
        if (err instanceof undiciErrors.ResponseExceededMaxSizeError) {
            return badResponse(this.#status || 200, `body over the ${MAX_RESPONSE_BYTES}-byte cap`);
        }
        // The answer began and then stopped: a FIN and a RST mid-body look alike, and both leave a
        // body that cannot be trusted, so neither is retried as a connection failure would be.
        if (this.#status !== 0)
            return badResponse(this.#status, 'truncated body');
        return errorFromTransport(err, this.#timeoutMs);
    }
    #fail(err) {
        if (!this.#settle())
            return;
        if (this.#observe) {
            const upstream = err instanceof GatewayError ? err.extensions.upstream : undefined;
            const cls = upstream?.status ? statusClass(upstream.status) : err instanceof GatewayError && err.code === 'UPSTREAM_TIMEOUT' ? 'timeout' : 'error';
            this.#observe(cls, (performance.now() - this.#started) / 1000);
        }
        this.#reject(err);
    }
    /** True the first time: an attempt settles once, whichever of answer, error or abort comes first. */
    #settle() {
        if (this.#settled)
            return false;
        this.#settled = true;
        this.#stopListening();
        return true;
    }
}
//# sourceMappingURL=client.js.map