/**
 * A Rocket.Chat-compatible stand-in for `visitors.info`, `department.listByIds`, `users.info`,
 * `visitors.chatHistory` and `visitors.search`, so the gateway can be demoed, tested and benchmarked
 * without a real server. Status codes, bodies and check order follow shared/upstream/BEHAVIOR.md
 * and NEIGHBOURS.md; anything not listed there is kept minimal on purpose.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WireDepartment, WireVisitor } from '../rocketchat/models.js';
import { DEMO_DEPARTMENTS } from './departments.js';
import { DEMO_USER_RECORDS, userAsSeenBy } from './users.js';
import { DEMO_CHATS, type DemoChat } from './chats.js';
import { DEMO_CREDENTIALS, DEMO_LIMITED_CREDENTIALS, DEMO_VISITORS } from './visitors.js';

export interface DemoUpstreamOptions {
  host?: string;
  port?: number;
  /** Rocket.Chat's default limiter: `limit` calls per `windowMs` per (route, client IP). Off when undefined/false. */
  rateLimit?: { limit: number; windowMs: number } | false;
  /** Added latency per visitors.info answer, in ms (for benchmarks). Default 0. */
  latencyMs?: number;
  /** Record every request (method, path, query, headers) in `requests`. Default false (benchmarks run millions). */
  record?: boolean;
  visitors?: readonly WireVisitor[];
  departments?: readonly WireDepartment[];
  chats?: readonly DemoChat[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The last value of each parameter; `search` has them all (repeated `ids[]`). */
  query: Record<string, string>;
  /** The query string as sent, without the `?`. */
  search: string;
  headers: IncomingHttpHeaders;
}

export interface DemoUpstream {
  url: string;
  /** Number of requests answered, recorded or not. */
  readonly calls: number;
  readonly requests: RecordedRequest[];
  reset(): void;
  stop(): Promise<void>;
}

const VISITORS_INFO_PATH = '/api/v1/livechat/visitors.info';
const INFO_PATH = '/api/info';
const DEPARTMENT_LIST_PATH = '/api/v1/livechat/department.listByIds';
const USERS_INFO_PATH = '/api/v1/users.info';
const CHAT_HISTORY_PREFIX = '/api/v1/livechat/visitors.chatHistory/room/';
const VISITORS_SEARCH_PATH = '/api/v1/livechat/visitors.search';
const CHAT_HISTORY_ROUTE = /^\/api\/v1\/livechat\/visitors\.chatHistory\/room\/([^/]+)\/visitor\/([^/]+)$/;
const VIEW_L_ROOM = 'view-l-room';
const VIEW_DEPARTMENTS = 'view-livechat-departments';
/** Rocket.Chat refuses longer query-string arrays (NEIGHBOURS.md). */
const MAX_QUERY_ARRAY = 500;

const JSON_HEADERS = { 'Content-Type': 'application/json' } as const;

// Bodies are fixed strings, so encode them once rather than on every request.
const INFO_BODY = Buffer.from('{"version":"8.4.1","success":true}');
const UNAUTHORIZED_BODY = Buffer.from('{"status":"error","message":"You must be logged in to do this."}');
const MISSING_VISITOR_ID_BODY = Buffer.from(
  '{"success":false,"error":"must have required property \'visitorId\' [invalid-params]","errorType":"invalid-params"}',
);
const FORBIDDEN_BODY = Buffer.from('{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}');
const VISITOR_NOT_FOUND_BODY = Buffer.from('{"success":false,"error":"visitor-not-found"}');
const NOT_FOUND_BODY = Buffer.from('{"success":false,"error":"Not found"}');
const IDS_REQUIRED_BODY = Buffer.from('{"success":false,"error":"The \'ids\' param is required"}');
const IDS_NOT_ARRAY_BODY = Buffer.from('{"success":false,"error":"The \'ids\' param must be an array"}');
const INVALID_QUERY_BODY = Buffer.from('{"success":false,"error":"Invalid query parameters"}');
const USER_NOT_FOUND_BODY = Buffer.from('{"success":false,"error":"User not found."}');
const INVALID_ROOM_BODY = Buffer.from('{"success":false,"error":"invalid-room"}');
const MISSING_TERM_BODY = Buffer.from('{"success":false,"error":"must have required property \'term\' [invalid-params]","errorType":"invalid-params"}');
const UNKNOWN_PARAMS_BODY = Buffer.from('{"success":false,"error":"must NOT have additional properties [invalid-params]","errorType":"invalid-params"}');
const USERS_INFO_PARAMS_BODY = Buffer.from('{"success":false,"error":"must match exactly one schema in oneOf [invalid-params]","errorType":"invalid-params"}');
const METHOD_NOT_ALLOWED_BODY = Buffer.from('{"success":false,"error":"Method not allowed"}');

function tooManyRequestsBody(waitSeconds: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      success: false,
      error: `Error, too many requests. Please slow down. You must wait ${waitSeconds} seconds before trying this endpoint again. [error-too-many-requests]`,
    }),
  );
}

interface DemoUser {
  authToken: string;
  permissions: ReadonlySet<string>;
}

const USERS: ReadonlyMap<string, DemoUser> = new Map([
  [DEMO_CREDENTIALS.userId, { authToken: DEMO_CREDENTIALS.authToken, permissions: new Set([VIEW_L_ROOM]) }],
  [DEMO_LIMITED_CREDENTIALS.userId, { authToken: DEMO_LIMITED_CREDENTIALS.authToken, permissions: new Set<string>() }],
]);

interface RateWindow {
  resetAt: number;
  count: number;
}

function send(res: ServerResponse, status: number, body: Buffer, extraHeaders?: Record<string, string>): void {
  res.writeHead(status, { ...JSON_HEADERS, ...extraHeaders, 'Content-Length': body.length });
  res.end(body);
}

interface PreparedAnswer {
  body: Buffer;
  headers: Readonly<Record<string, string | number>>;
}

function sendPrepared(res: ServerResponse, answer: PreparedAnswer, extraHeaders?: Record<string, string>): void {
  res.writeHead(200, extraHeaders ? { ...answer.headers, ...extraHeaders } : answer.headers);
  res.end(answer.body);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The demo user whose id and token the request carries, and its id, if any. */
function authenticatedWithId(req: IncomingMessage): { userId: string; user: DemoUser } | undefined {
  const userId = headerValue(req.headers['x-user-id']);
  const user = authenticated(req);
  return user && userId ? { userId, user } : undefined;
}

/** The demo user whose id and token the request carries, if any. */
function authenticated(req: IncomingMessage): DemoUser | undefined {
  const authToken = headerValue(req.headers['x-auth-token']);
  const userId = headerValue(req.headers['x-user-id']);
  const user = userId === undefined ? undefined : USERS.get(userId);
  return user === undefined || authToken === undefined || user.authToken !== authToken ? undefined : user;
}

export async function startDemoUpstream(options: DemoUpstreamOptions = {}): Promise<DemoUpstream> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const rateLimit = options.rateLimit || undefined;
  const latencyMs = options.latencyMs ?? 0;
  const record = options.record ?? false;

  // Serialised once up front: this is the path benchmarks hammer.
  const visitorAnswers = new Map<string, PreparedAnswer>();
  for (const visitor of options.visitors ?? DEMO_VISITORS) {
    const body = Buffer.from(JSON.stringify({ visitor, success: true }));
    visitorAnswers.set(visitor._id, { body, headers: { ...JSON_HEADERS, 'Content-Length': body.length } });
  }

  const departments = options.departments ?? DEMO_DEPARTMENTS;
  const chats = options.chats ?? DEMO_CHATS;
  const searchable = options.visitors ?? DEMO_VISITORS;
  let calls = 0;
  const requests: RecordedRequest[] = [];
  const windows = new Map<string, RateWindow>();
  const pendingTimers = new Set<NodeJS.Timeout>();

  /**
   * Returns the X-RateLimit-* headers to send, or answers 429 itself and returns null.
   * A fixed window opened by the first call, like Rocket.Chat's limiter.
   */
  function applyRateLimit(
    req: IncomingMessage,
    res: ServerResponse,
    limiter: { limit: number; windowMs: number },
    route: string,
  ): Record<string, string> | null {
    // Trusted as sent, which is why a gateway must overwrite rather than forward it.
    const clientIp = headerValue(req.headers['x-real-ip']) ?? req.socket.remoteAddress ?? '';
    const key = `${route}\u0000${clientIp}`;
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

  function handleVisitorsInfo(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    let limitHeaders: Record<string, string> | undefined;
    if (rateLimit) {
      const headers = applyRateLimit(req, res, rateLimit, VISITORS_INFO_PATH);
      if (headers === null) return;
      limitHeaders = headers;
    }

    const user = authenticated(req);
    if (user === undefined) {
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

  /**
   * `department.listByIds`: `ids[]=a&ids[]=b` or `ids=a&ids=b` is an array, a lone `ids=a` a string
   * (refused); the answer keeps the store's order, names each known department once and leaves
   * unknown ids out.
   */
  function handleDepartmentList(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    // NEIGHBOURS.md's order: authentication, rate limit, parameters, permission.
    const user = authenticated(req);
    if (user === undefined) return send(res, 401, UNAUTHORIZED_BODY);
    let limitHeaders: Record<string, string> | undefined;
    if (rateLimit) {
      const headers = applyRateLimit(req, res, rateLimit, DEPARTMENT_LIST_PATH);
      if (headers === null) return;
      limitHeaders = headers;
    }
    const bracketed = query.getAll('ids[]');
    const plain = query.getAll('ids');
    if (bracketed.length === 0 && plain.length === 0) return send(res, 400, IDS_REQUIRED_BODY, limitHeaders);
    if (bracketed.length === 0 && plain.length === 1) return send(res, 400, IDS_NOT_ARRAY_BODY, limitHeaders);
    const ids = new Set([...bracketed, ...plain]);
    if (bracketed.length + plain.length > MAX_QUERY_ARRAY) return send(res, 400, INVALID_QUERY_BODY, limitHeaders);
    if (!user.permissions.has(VIEW_DEPARTMENTS) && !user.permissions.has(VIEW_L_ROOM)) return send(res, 403, FORBIDDEN_BODY, limitHeaders);
    const found = departments.filter((d) => ids.has(d._id));
    const body = Buffer.from(JSON.stringify({ departments: found, success: true }));
    send(res, 200, body, limitHeaders);
  }

  /**
   * `users.info`: exactly one of `userId` and `username`, each matching either field; nothing else
   * allowed; an unknown user is 400 `User not found.`; e-mails and roles only for oneself or a
   * caller with `view-full-other-user-info`.
   */
  function handleUsersInfo(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    const found = authenticatedWithId(req);
    if (found === undefined) return send(res, 401, UNAUTHORIZED_BODY);
    let limitHeaders: Record<string, string> | undefined;
    if (rateLimit) {
      const headers = applyRateLimit(req, res, rateLimit, USERS_INFO_PATH);
      if (headers === null) return;
      limitHeaders = headers;
    }
    const keys = [...query.keys()];
    const lookup = query.get('userId') ?? query.get('username');
    if (keys.length !== 1 || lookup === null || !['userId', 'username'].includes(keys[0]!)) return send(res, 400, USERS_INFO_PARAMS_BODY, limitHeaders);
    const user = DEMO_USER_RECORDS.find((u) => u._id === lookup || u.username === lookup);
    if (!user) return send(res, 400, USER_NOT_FOUND_BODY, limitHeaders);
    const body = Buffer.from(JSON.stringify({ user: userAsSeenBy(user, found.userId, found.user.permissions), success: true }));
    send(res, 200, body, limitHeaders);
  }

  /**
   * `visitors.chatHistory/room/:roomId/visitor/:visitorId`: the room is an access check only (any
   * livechat room; `invalid-room` otherwise); only offset, count and sort; newest first; count
   * capped at 100.
   */
  function handleChatHistory(req: IncomingMessage, res: ServerResponse, roomId: string, visitorId: string, query: URLSearchParams): void {
    const user = authenticated(req);
    if (user === undefined) return send(res, 401, UNAUTHORIZED_BODY);
    let limitHeaders: Record<string, string> | undefined;
    if (rateLimit) {
      const headers = applyRateLimit(req, res, rateLimit, CHAT_HISTORY_PREFIX);
      if (headers === null) return;
      limitHeaders = headers;
    }
    if ([...query.keys()].some((k) => !['offset', 'count', 'sort'].includes(k))) return send(res, 400, UNKNOWN_PARAMS_BODY, limitHeaders);
    if (!user.permissions.has(VIEW_L_ROOM)) return send(res, 403, FORBIDDEN_BODY, limitHeaders);
    if (!chats.some((c) => c._id === roomId && c.t === 'l')) return send(res, 400, INVALID_ROOM_BODY, limitHeaders);
    const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
    const count = Math.min(100, Math.max(0, Number(query.get('count') ?? 50) || 0));
    const history = chats.filter((c) => c.v._id === visitorId).sort((a, b) => (b.ts ?? '').localeCompare(a.ts ?? ''));
    const page = history.slice(offset, offset + count);
    const body = Buffer.from(JSON.stringify({ history: page, count: page.length, offset, total: history.length, success: true }));
    send(res, 200, body, limitHeaders);
  }

  /**
   * `visitors.search`: only term, offset, count and sort; equality on an e-mail address or a phone
   * number, a case-insensitive substring of the name or username; disabled visitors left out;
   * newest first; only the seven search fields come back.
   */
  function handleVisitorsSearch(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    const user = authenticated(req);
    if (user === undefined) return send(res, 401, UNAUTHORIZED_BODY);
    let limitHeaders: Record<string, string> | undefined;
    if (rateLimit) {
      const headers = applyRateLimit(req, res, rateLimit, VISITORS_SEARCH_PATH);
      if (headers === null) return;
      limitHeaders = headers;
    }
    if ([...query.keys()].some((k) => !['term', 'offset', 'count', 'sort'].includes(k))) return send(res, 400, UNKNOWN_PARAMS_BODY, limitHeaders);
    const term = query.get('term');
    if (!term) return send(res, 400, MISSING_TERM_BODY, limitHeaders);
    if (!user.permissions.has(VIEW_L_ROOM)) return send(res, 403, FORBIDDEN_BODY, limitHeaders);
    const lower = term.toLowerCase();
    const matches = searchable
      .filter(
        (v) =>
          !v.disabled &&
          ((v.visitorEmails ?? []).some((e) => e.address === term) ||
            (v.phone ?? []).some((p) => p.phoneNumber === term) ||
            (v.name ?? '').toLowerCase().includes(lower) ||
            (v.username ?? '').toLowerCase().includes(lower)),
      )
      .sort((a, b) => (b.ts ?? '').localeCompare(a.ts ?? ''));
    const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
    const count = Math.min(100, Math.max(0, Number(query.get('count') ?? 50) || 0));
    const page = matches.slice(offset, offset + count).map(({ _id, username, name, phone, livechatData, visitorEmails, lastChat }) => ({
      _id,
      username,
      name,
      phone,
      livechatData,
      visitorEmails,
      lastChat,
    }));
    const body = Buffer.from(JSON.stringify({ visitors: page, count: page.length, offset, total: matches.length, success: true }));
    send(res, 200, body, limitHeaders);
  }

  const server = createServer((req, res) => {
    calls += 1;
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const path = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
    const query = new URLSearchParams(queryStart === -1 ? '' : rawUrl.slice(queryStart + 1));
    const method = req.method ?? 'GET';

    if (record) {
      requests.push({
        method,
        path,
        query: Object.fromEntries(query),
        search: queryStart === -1 ? '' : rawUrl.slice(queryStart + 1),
        headers: { ...req.headers },
      });
    }

    if (path === VISITORS_INFO_PATH) {
      if (method !== 'GET') {
        send(res, 405, METHOD_NOT_ALLOWED_BODY, { Allow: 'GET' });
        return;
      }
      handleVisitorsInfo(req, res, query);
      return;
    }

    if (path === DEPARTMENT_LIST_PATH) {
      if (method !== 'GET') {
        send(res, 405, METHOD_NOT_ALLOWED_BODY, { Allow: 'GET' });
        return;
      }
      handleDepartmentList(req, res, query);
      return;
    }

    if (path === USERS_INFO_PATH) {
      if (method !== 'GET') {
        send(res, 405, METHOD_NOT_ALLOWED_BODY, { Allow: 'GET' });
        return;
      }
      handleUsersInfo(req, res, query);
      return;
    }

    const chatHistory = path.startsWith(CHAT_HISTORY_PREFIX) ? CHAT_HISTORY_ROUTE.exec(path) : null;
    if (chatHistory) {
      if (method !== 'GET') {
        send(res, 405, METHOD_NOT_ALLOWED_BODY, { Allow: 'GET' });
        return;
      }
      handleChatHistory(req, res, decodeURIComponent(chatHistory[1]!), decodeURIComponent(chatHistory[2]!), query);
      return;
    }

    if (path === VISITORS_SEARCH_PATH) {
      if (method !== 'GET') {
        send(res, 405, METHOD_NOT_ALLOWED_BODY, { Allow: 'GET' });
        return;
      }
      handleVisitorsSearch(req, res, query);
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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  const address = server.address() as AddressInfo;
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
      stopping ??= new Promise<void>((resolve, reject) => {
        for (const timer of pendingTimers) clearTimeout(timer);
        pendingTimers.clear();
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets would otherwise hold close() open for keepAliveTimeout.
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
