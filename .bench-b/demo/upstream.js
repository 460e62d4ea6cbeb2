/**
 * A Rocket.Chat-compatible stand-in for `visitors.info`, so the gateway can be demoed, tested and
 * benchmarked without a real server. Status codes, bodies and check order follow
 * shared/upstream/BEHAVIOR.md; anything not listed there is kept minimal on purpose.
 */
import { createServer } from 'node:http';
import { DEMO_CREDENTIALS, DEMO_LIMITED_CREDENTIALS, DEMO_VISITORS } from './visitors.js';
const VISITORS_INFO_PATH = '/api/v1/livechat/visitors.info';
const INFO_PATH = '/api/info';
const VIEW_L_ROOM = 'view-l-room';
const JSON_HEADERS = { 'Content-Type': 'application/json' };
// Bodies are fixed strings, so encode them once rather than on every request.
const INFO_BODY = Buffer.from('{"version":"8.4.1","success":true}');
const UNAUTHORIZED_BODY = Buffer.from('{"status":"error","message":"You must be logged in to do this."}');
const MISSING_VISITOR_ID_BODY = Buffer.from('{"success":false,"error":"must have required property \'visitorId\' [invalid-params]","errorType":"invalid-params"}');
const FORBIDDEN_BODY = Buffer.from('{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}');
const VISITOR_NOT_FOUND_BODY = Buffer.from('{"success":false,"error":"visitor-not-found"}');
const NOT_FOUND_BODY = Buffer.from('{"success":false,"error":"Not found"}');
const METHOD_NOT_ALLOWED_BODY = Buffer.from('{"success":false,"error":"Method not allowed"}');
function tooManyRequestsBody(waitSeconds) {
    return Buffer.from(JSON.stringify({
        success: false,
        error: `Error, too many requests. Please slow down. You must wait ${waitSeconds} seconds before trying this endpoint again. [error-too-many-requests]`,
    }));
}
const USERS = new Map([
    [DEMO_CREDENTIALS.userId, { authToken: DEMO_CREDENTIALS.authToken, permissions: new Set([VIEW_L_ROOM]) }],
    [DEMO_LIMITED_CREDENTIALS.userId, { authToken: DEMO_LIMITED_CREDENTIALS.authToken, permissions: new Set() }],
]);
function send(res, status, body, extraHeaders) {
    res.writeHead(status, { ...JSON_HEADERS, ...extraHeaders, 'Content-Length': body.length });
    res.end(body);
}
function sendPrepared(res, answer, extraHeaders) {
    res.writeHead(200, extraHeaders ? { ...answer.headers, ...extraHeaders } : answer.headers);
    res.end(answer.body);
}
function headerValue(value) {
    return Array.isArray(value) ? value[0] : value;
}
export async function startDemoUpstream(options = {}) {
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    const rateLimit = options.rateLimit || undefined;
    const latencyMs = options.latencyMs ?? 0;
    const record = options.record ?? false;
    // Serialised once up front: this is the path benchmarks hammer.
    const visitorAnswers = new Map();
    for (const visitor of options.visitors ?? DEMO_VISITORS) {
        const body = Buffer.from(JSON.stringify({ visitor, success: true }));
        visitorAnswers.set(visitor._id, { body, headers: { ...JSON_HEADERS, 'Content-Length': body.length } });
    }
    let calls = 0;
    const requests = [];
    const windows = new Map();
    const pendingTimers = new Set();
    /**
     * Returns the X-RateLimit-* headers to send, or answers 429 itself and returns null.
     * A fixed window opened by the first call, like Rocket.Chat's limiter.
     */
    function applyRateLimit(req, res, limiter) {
        // Trusted as sent, which is why a gateway must overwrite rather than forward it.
        const clientIp = headerValue(req.headers['x-real-ip']) ?? req.socket.remoteAddress ?? '';
        const key = `${VISITORS_INFO_PATH}\u0000${clientIp}`;
        const now = Date.now();
        let window = windows.get(key);
        if (window === undefined || window.resetAt <= now) {
            window = { resetAt: now + limiter.windowMs, count: 0 };
            windows.set(key, window);
        }
        if (window.count >= limiter.limit) {
            const waitSeconds = Math.ceil((window.resetAt - now) / 1000);
            send(res, 429, tooManyRequestsBody(waitSeconds), {
                'X-RateLimit-Limit': String(limiter.limit),
                'X-RateLimit-Remaining': '0',
                'X-RateLimit-Reset': String(window.resetAt),
            });
            return null;
        }
        window.count += 1;
        return {
            'X-RateLimit-Limit': String(limiter.limit),
            'X-RateLimit-Remaining': String(limiter.limit - window.count),
            'X-RateLimit-Reset': String(window.resetAt),
        };
    }
    function handleVisitorsInfo(req, res, query) {
        let limitHeaders;
        if (rateLimit) {
            const headers = applyRateLimit(req, res, rateLimit);
            if (headers === null)
                return;
            limitHeaders = headers;
        }
        const authToken = headerValue(req.headers['x-auth-token']);
        const userId = headerValue(req.headers['x-user-id']);
        const user = userId === undefined ? undefined : USERS.get(userId);
        if (user === undefined || authToken === undefined || user.authToken !== authToken) {
            send(res, 401, UNAUTHORIZED_BODY, limitHeaders);
            return;
        }
        const visitorId = query.get('visitorId');
        if (visitorId === null) {
            send(res, 400, MISSING_VISITOR_ID_BODY, limitHeaders);
            return;
        }
        if (!user.permissions.has(VIEW_L_ROOM)) {
            send(res, 403, FORBIDDEN_BODY, limitHeaders);
            return;
        }
        const answer = visitorAnswers.get(visitorId);
        if (answer === undefined) {
            send(res, 400, VISITOR_NOT_FOUND_BODY, limitHeaders);
            return;
        }
        if (latencyMs > 0) {
            const timer = setTimeout(() => {
                pendingTimers.delete(timer);
                sendPrepared(res, answer, limitHeaders);
            }, latencyMs);
            pendingTimers.add(timer);
            return;
        }
        sendPrepared(res, answer, limitHeaders);
    }
    const server = createServer((req, res) => {
        calls += 1;
        const rawUrl = req.url ?? '/';
        const queryStart = rawUrl.indexOf('?');
        const path = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
        const query = new URLSearchParams(queryStart === -1 ? '' : rawUrl.slice(queryStart + 1));
        const method = req.method ?? 'GET';
        if (record) {
            requests.push({ method, path, query: Object.fromEntries(query), headers: { ...req.headers } });
        }
        if (path === VISITORS_INFO_PATH) {
            if (method !== 'GET') {
                send(res, 405, METHOD_NOT_ALLOWED_BODY, { Allow: 'GET' });
                return;
            }
            handleVisitorsInfo(req, res, query);
            return;
        }
        if (path === INFO_PATH) {
            if (method !== 'GET') {
                send(res, 405, METHOD_NOT_ALLOWED_BODY, { Allow: 'GET' });
                return;
            }
            send(res, 200, INFO_BODY);
            return;
        }
        send(res, 404, NOT_FOUND_BODY);
    });
    // Longer than typical client pools' idle timeouts, so clients, not the server, close idle sockets.
    server.keepAliveTimeout = 65_000;
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
            server.off('error', reject);
            resolve();
        });
    });
    let stopping;
    const address = server.address();
    const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return {
        url: `http://${urlHost}:${address.port}`,
        get calls() {
            return calls;
        },
        requests,
        reset() {
            requests.length = 0;
            calls = 0;
            windows.clear();
        },
        stop() {
            // Idempotent so that a test's afterAll may stop a server the test already stopped.
            stopping ??= new Promise((resolve, reject) => {
                for (const timer of pendingTimers)
                    clearTimeout(timer);
                pendingTimers.clear();
                server.close((err) => (err ? reject(err) : resolve()));
                // Keep-alive sockets would otherwise hold close() open for keepAliveTimeout.
                server.closeAllConnections();
            });
            return stopping;
        },
    };
}
//# sourceMappingURL=upstream.js.map