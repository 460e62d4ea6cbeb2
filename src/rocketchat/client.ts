import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import { badResponse, errorFromResponse, errorFromTransport, GatewayError, quotaTooSmall, rateLimitedLocally, upstreamTimeout } from '../errors.js';
import { statusClass } from '../metrics.js';
import type { CallBudget } from './callBudget.js';
import { Cancellation } from './cancellation.js';
import { Coalescer } from './coalesce.js';
import type { ChatHistoryResponse, ServerInfoResponse, VisitorSearchResponse, WireDepartment, WireErrorBody, WireUser, WireVisitor } from './models.js';
import { RateLimitMemory } from './rateLimits.js';
import { UpstreamPolicy, type BreakerState, type ResilienceOptions } from './resilience.js';
import { DEFAULT_MAX_JSON_DEPTH, parseChatHistory, parseDepartmentList, parseUsersInfo, parseVisitorSearch, parseVisitorsInfo } from './validate.js';
import { recordWireSize } from './wireSize.js';
import type { Context, Span, SpanContext } from '@opentelemetry/api';
import { endSpan, type Tracing } from '../tracing.js';

/** A caller's Rocket.Chat credentials, exactly as the caller sent them. */
export interface Credentials {
  authToken: string;
  userId: string;
}

/** What a per-request loader of one route (DepartmentsAPI, UsersAPI) is built from. */
export interface LoaderOptions {
  client: RocketChatClient;
  /** The caller's credentials, or why they were refused (then nothing goes upstream). */
  credentials: Credentials | { refused: string };
  call: Omit<CallOptions, 'credentials'>;
  /** The operation's upstream calls, shared with its other loaders. */
  budget: CallBudget;
}

/** Who is calling, for one upstream call. */
export interface CallOptions {
  credentials: Credentials;
  /** Sent upstream as `X-Request-Id` so the two sides' logs can be joined. */
  requestId?: string;
  /** The caller's address as the gateway sees it; sent as `X-Real-IP`, Rocket.Chat's rate-limit key. */
  clientIp?: string;
  /** Cancelled when the caller goes away; the call is aborted unless another caller shares it. */
  cancellation?: Cancellation;
  /**
   * The same object for every call of one GraphQL operation, whichever loader makes it: the cache
   * reads what it knows of the caller once per operation (without it, once per options object).
   */
  operation?: OperationScope;
}

/** What the layers under the loaders share about one GraphQL operation. */
export interface OperationScope {
  /** With tracing on: the operation's trace context, parent of its upstream spans. */
  trace?: Context;
}

/** The edge the rest of the gateway depends on; tests swap the upstream behind it. */
export interface RocketChatClient {
  getVisitor(id: string, options: CallOptions): Promise<WireVisitor>;
  /**
   * Departments by id (`department.listByIds`), at most DEPARTMENTS_PER_CALL ids: Rocket.Chat leaves
   * unknown ids out and answers in its own order, so the caller keys the answer by `_id`.
   */
  getDepartments(ids: readonly string[], options: CallOptions): Promise<WireDepartment[]>;
  /** One user (`users.info?userId=`, which matches a username too); NOT_FOUND when there is none. */
  getUser(idOrUsername: string, options: CallOptions): Promise<WireUser>;
  /**
   * One page of a visitor's livechat rooms, newest first (`visitors.chatHistory`); `roomId` is
   * any room of the visitor's the caller can see, checked by Rocket.Chat for access.
   */
  getChatHistory(roomId: string, visitorId: string, page: { offset: number; count: number }, options: CallOptions): Promise<ChatHistoryResponse>;
  /** One page of visitors matching `term` (`visitors.search`), newest first; hits carry seven fields. */
  searchVisitors(term: string, page: { offset: number; count: number }, options: CallOptions): Promise<VisitorSearchResponse>;
  /** Where Rocket.Chat serves a user's avatar (`/avatar/{username}`, `?etag=` when known). */
  avatarUrl(username: string, etag: string | undefined): string;
  /**
   * Before an operation that may make up to `calls` visitor calls for this caller: a RATE_LIMITED
   * refusal when Rocket.Chat's bucket is known to hold fewer, else undefined.
   */
  admit?(calls: number, options: CallOptions): GatewayError | undefined;
  /** Rocket.Chat's version from `/api/info`; rejects while the breaker is open (readiness). */
  serverInfo(signal?: AbortSignal): Promise<ServerInfoResponse>;
  /** The circuit breaker's state, where the client has one (for readiness and metrics). */
  readonly breakerState?: BreakerState;
  /** Subscribes to the breaker's transitions, where the client has one (for the log). */
  onBreakerStateChange?(listener: (state: BreakerState) => void): void;
  /** What the client knows of Rocket.Chat's rate-limit windows, where it keeps any (shared between replicas). */
  readonly rateLimits?: RateLimitMemory;
  close(): Promise<void>;
}

export interface RocketChatClientOptions extends ResilienceOptions {
  /** Base URL, possibly with a path prefix, without a trailing slash. */
  baseUrl: string;
  /**
   * Told of every attempt: its route pattern (ROUTES), status class (2xx, 4xx, 429, 5xx, error,
   * timeout) and duration.
   */
  observe?: (route: RoutePattern, statusClass: string, seconds: number) => void;
  /** Deepest nesting of a visitor's free-form values (MAX_JSON_DEPTH); deeper is a bad response. */
  maxJsonDepth?: number;
  /** Spans for each attempt, `traceparent` on each request (tracing.ts); none when tracing is off. */
  tracing?: Tracing;
}

/** Rocket.Chat's visitor is a few KiB; anything near this is not a visitor. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

const VISITORS_INFO_PATH = '/api/v1/livechat/visitors.info';
const DEPARTMENT_LIST_PATH = '/api/v1/livechat/department.listByIds';
const USERS_INFO_PATH = '/api/v1/users.info';
const CHAT_HISTORY_PATH = '/api/v1/livechat/visitors.chatHistory';
const VISITORS_SEARCH_PATH = '/api/v1/livechat/visitors.search';
/**
 * Servers before early 2026 silently turned a query-string array of more than 20 items into an
 * object (NEIGHBOURS.md), so no call names more.
 */
export const DEPARTMENTS_PER_CALL = 20;
/** `8.4.1`, `7.0.0-rc.1`, `6.5.0-develop+build.7`. */
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;
const INFO_PATH = '/api/info';

/**
 * The routes the gateway calls, as patterns: what metrics and traces name a call by, never its
 * path (which holds visitor ids and search terms).
 */
export const ROUTES = {
  visitorsInfo: VISITORS_INFO_PATH,
  departmentList: DEPARTMENT_LIST_PATH,
  usersInfo: USERS_INFO_PATH,
  chatHistory: `${CHAT_HISTORY_PATH}/room/:roomId/visitor/:visitorId`,
  visitorsSearch: VISITORS_SEARCH_PATH,
  info: INFO_PATH,
} as const;
export type RoutePattern = (typeof ROUTES)[keyof typeof ROUTES];

interface UpstreamAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** Length of the body on the wire. */
  bytes: number;
}

/**
 * The one place that talks HTTP to Rocket.Chat and the one place that forwards credentials. One
 * undici Pool per process keeps connections warm; every call goes through the resilience policies,
 * every answer through the error catalogue.
 */
export class HttpRocketChatClient implements RocketChatClient {
  readonly #pool: Pool;
  readonly #pathPrefix: string;
  readonly #visitorsInfoPath: string;
  readonly #timeoutMs: number;
  readonly #policy: UpstreamPolicy;
  readonly #rateLimits = new RateLimitMemory();
  readonly #inflight = new Coalescer<WireVisitor, SharedAttempts>();
  readonly #inflightDepartments = new Coalescer<WireDepartment[], SharedAttempts>();
  readonly #inflightUsers = new Coalescer<WireUser, SharedAttempts>();
  readonly #inflightChats = new Coalescer<ChatHistoryResponse, SharedAttempts>();
  readonly #inflightSearches = new Coalescer<VisitorSearchResponse, SharedAttempts>();
  readonly #departmentListPath: string;
  readonly #usersInfoPath: string;
  readonly #avatarBase: string;
  readonly #observe: RocketChatClientOptions['observe'];
  readonly #maxJsonDepth: number;
  readonly #tracing: Tracing | undefined;

  constructor(options: RocketChatClientOptions) {
    const url = new URL(options.baseUrl);
    this.#pathPrefix = url.pathname.replace(/\/+$/, '');
    this.#visitorsInfoPath = `${this.#pathPrefix}${VISITORS_INFO_PATH}?visitorId=`;
    this.#departmentListPath = `${this.#pathPrefix}${DEPARTMENT_LIST_PATH}?`;
    this.#usersInfoPath = `${this.#pathPrefix}${USERS_INFO_PATH}?userId=`;
    this.#avatarBase = `${url.origin}${this.#pathPrefix}/avatar/`;
    this.#timeoutMs = options.timeoutMs;
    this.#policy = new UpstreamPolicy(options);
    this.#observe = options.observe;
    this.#maxJsonDepth = options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
    this.#tracing = options.tracing;
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

  get breakerState(): BreakerState {
    return this.#policy.breakerState;
  }

  get rateLimits(): RateLimitMemory {
    return this.#rateLimits;
  }

  onBreakerStateChange(listener: (state: BreakerState) => void): void {
    this.#policy.onBreakerStateChange(listener);
  }

  admit(calls: number, options: CallOptions): GatewayError | undefined {
    const refused = this.#rateLimits.admit(rateLimitBucket(options), calls);
    return refused && quotaTooSmall(calls, refused.remaining, refused.retryAfter);
  }

  getVisitor(id: string, options: CallOptions): Promise<WireVisitor> {
    const path = this.#visitorsInfoPath + encodeURIComponent(id);
    return this.#call(ROUTES.visitorsInfo, rateLimitBucket(options), id, path, options, this.#inflight, (answer) => {
      const visitor = parseVisitorsInfo(answer.status, answer.headers, answer.body, this.#maxJsonDepth);
      // Someone else's visitor (a proxy's cache keyed without the query, a mix-up upstream) must
      // not be served, nor cached, as this one; the reason never names the other id.
      if (visitor._id !== id) throw badResponse(answer.status, 'visitor._id is not the id asked for');
      recordWireSize(visitor, answer.bytes);
      return visitor;
    });
  }

  getDepartments(ids: readonly string[], options: CallOptions): Promise<WireDepartment[]> {
    if (ids.length === 0) return Promise.resolve([]);
    if (ids.length > DEPARTMENTS_PER_CALL) return Promise.reject(new RangeError(`at most ${DEPARTMENTS_PER_CALL} departments per call`));
    // `ids[]=` even for one id: a lone `ids=X` reaches the handler as a string and is refused.
    const sorted = [...ids].sort();
    const path = this.#departmentListPath + sorted.map((id) => `ids[]=${encodeURIComponent(id)}`).join('&');
    // Rocket.Chat counts each route pattern on its own.
    const bucket = `${DEPARTMENT_LIST_PATH}|${rateLimitBucket(options)}`;
    return this.#call(ROUTES.departmentList, bucket, sorted.join(','), path, options, this.#inflightDepartments, (answer) =>
      sized(parseDepartmentList(answer.status, answer.headers, answer.body), answer),
    );
  }

  getUser(idOrUsername: string, options: CallOptions): Promise<WireUser> {
    const path = this.#usersInfoPath + encodeURIComponent(idOrUsername);
    const bucket = `${USERS_INFO_PATH}|${rateLimitBucket(options)}`;
    return this.#call(ROUTES.usersInfo, bucket, idOrUsername, path, options, this.#inflightUsers, (answer) => {
      const user = parseUsersInfo(answer.status, answer.headers, answer.body);
      // users.info matches the key against `_id` or `username`; any other user is not this one.
      if (user._id !== idOrUsername && user.username !== idOrUsername) throw badResponse(answer.status, 'user is not the one asked for');
      return sized(user, answer);
    });
  }

  getChatHistory(roomId: string, visitorId: string, page: { offset: number; count: number }, options: CallOptions): Promise<ChatHistoryResponse> {
    const path =
      `${this.#pathPrefix}${CHAT_HISTORY_PATH}/room/${encodeURIComponent(roomId)}/visitor/${encodeURIComponent(visitorId)}` +
      `?offset=${page.offset}&count=${page.count}`;
    // Rocket.Chat's limiter counts the route pattern, not each room and visitor.
    const bucket = `${CHAT_HISTORY_PATH}|${rateLimitBucket(options)}`;
    const key = `${roomId}\n${visitorId}\n${page.offset}\n${page.count}`;
    return this.#call(ROUTES.chatHistory, bucket, key, path, options, this.#inflightChats, (answer) =>
      sized(parseChatHistory(answer.status, answer.headers, answer.body), answer),
    );
  }

  searchVisitors(term: string, page: { offset: number; count: number }, options: CallOptions): Promise<VisitorSearchResponse> {
    const path = `${this.#pathPrefix}${VISITORS_SEARCH_PATH}?term=${encodeURIComponent(term)}&offset=${page.offset}&count=${page.count}`;
    const bucket = `${VISITORS_SEARCH_PATH}|${rateLimitBucket(options)}`;
    return this.#call(ROUTES.visitorsSearch, bucket, `${page.offset}\n${page.count}\n${term}`, path, options, this.#inflightSearches, (answer) =>
      sized(parseVisitorSearch(answer.status, answer.headers, answer.body, this.#maxJsonDepth), answer),
    );
  }

  /**
   * One call of one route for one caller: refused at once while the route's rate-limit window is
   * known to be spent, shared with the same caller's identical call in flight, run through the
   * resilience policy, and its answer read for the window and turned by `parse` into a value or a
   * catalogue error.
   */
  #call<T>(
    route: RoutePattern,
    bucket: string,
    key: string,
    path: string,
    options: CallOptions,
    inflight: Coalescer<T, SharedAttempts>,
    parse: (answer: UpstreamAnswer) => T,
  ): Promise<T> {
    const wait = this.#rateLimits.retryAfter(bucket);
    if (wait !== undefined) return Promise.reject(rateLimitedLocally(wait));
    const { credentials, clientIp, requestId } = options;
    const headers = callHeaders(credentials, requestId, clientIp);
    const interpret = (answer: UpstreamAnswer): T => {
      this.#rateLimits.observe(bucket, answer.headers);
      try {
        return parse(answer);
      } catch (err) {
        if (err instanceof GatewayError && err.code === 'RATE_LIMITED') this.#rateLimits.remember(bucket, err.retryAfter ?? 0);
        throw err;
      }
    };
    // The in-flight key never leaves this process and lives only while the call does, so it may hold
    // the token itself: tokens are visible ASCII (context.ts), so the newlines keep the parts apart.
    const inflightKey = `${credentials.userId}\n${credentials.authToken}\n${key}`;
    if (this.#tracing) return this.#tracedCall(this.#tracing, route, bucket, path, headers, inflightKey, options, inflight, interpret);
    return inflight.run(inflightKey, options.cancellation, (shared) =>
      this.#policy.execute((attempt) => {
        this.#rateLimits.spend(bucket);
        return this.#get(route, path, headers, attempt, interpret);
      }, shared),
    );
  }

  /** #call's last step with tracing on: a span per attempt, and one per caller joining a shared call. */
  #tracedCall<T>(
    tracing: Tracing,
    route: RoutePattern,
    bucket: string,
    path: string,
    headers: Record<string, string>,
    inflightKey: string,
    options: CallOptions,
    inflight: Coalescer<T, SharedAttempts>,
    interpret: (answer: UpstreamAnswer) => T,
  ): Promise<T> {
    const parent = options.operation?.trace;
    let waiting: Span | undefined;
    const result = inflight.run(
      inflightKey,
      options.cancellation,
      (shared, call) => {
        const attempts: SharedAttempts = (call.attachment = { waiters: [] });
        let retry = 0;
        return this.#policy.execute((attempt) => {
          this.#rateLimits.spend(bucket);
          const traced = tracing.attempt(parent, route, retry++, headers, attempts.waiters);
          attempts.span = traced.span;
          const answer = this.#get(route, path, traced.headers, attempt, (raw) => {
            traced.span.setAttribute('http.response.status_code', raw.status);
            return interpret(raw);
          });
          answer.then(
            () => endSpan(traced.span),
            (err: unknown) => endSpan(traced.span, failureOf(err)),
          );
          return answer;
        }, shared);
      },
      (call) => {
        const attempts = call.attachment!;
        waiting = tracing.coalesced(parent, route, attempts.span);
        // Attempts that start later (a retry, one still queued for a connection) link to this waiter too.
        if (attempts.waiters.length < MAX_LINKED_WAITERS) attempts.waiters.push(waiting.spanContext());
      },
    );
    const span = waiting;
    if (span) {
      result.then(
        () => endSpan(span),
        (err: unknown) => endSpan(span, failureOf(err)),
      );
    }
    return result;
  }

  avatarUrl(username: string, etag: string | undefined): string {
    return `${this.#avatarBase}${encodeURIComponent(username)}${etag ? `?etag=${encodeURIComponent(etag)}` : ''}`;
  }

  async serverInfo(signal?: AbortSignal): Promise<ServerInfoResponse> {
    if (this.#policy.breakerState === 'open') throw this.#policy.circuitOpen();
    const attempt = Cancellation.from(signal) ?? new Cancellation();
    const timer = setTimeout(() => attempt.cancel(upstreamTimeout(this.#timeoutMs)), this.#timeoutMs);
    try {
      return await this.#get(ROUTES.info, `${this.#pathPrefix}${INFO_PATH}`, { accept: 'application/json' }, attempt, (answer) => {
        if (answer.status !== 200) throw errorFromResponse(answer.status, answer.body as WireErrorBody | undefined);
        const info = answer.body as Partial<ServerInfoResponse> | undefined;
        // /readyz repeats the version to anyone who asks: only something shaped like one.
        if (!info || typeof info.version !== 'string' || !VERSION.test(info.version)) throw badResponse(answer.status, 'no version in /api/info');
        return { version: info.version, success: true };
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  /** One attempt: a GET whose answer `interpret` turns into a value or a catalogue error. */
  #get<T>(route: RoutePattern, path: string, headers: Record<string, string>, attempt: Cancellation, interpret: (answer: UpstreamAnswer) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pool.dispatch({ method: 'GET', path, headers }, new AttemptHandler(route, attempt, interpret, resolve, reject, this.#timeoutMs, this.#observe));
    });
  }
}

/** With tracing on, a shared call's current attempt span and the spans of the callers waiting on it. */
interface SharedAttempts {
  span?: Span;
  waiters: SpanContext[];
}

/** Links one attempt span carries to waiters at most: a span is exported whole, so its links are bounded. */
const MAX_LINKED_WAITERS = 32;

/** What a span says of a failed call: the catalogue's code only, never Rocket.Chat's words or body. */
function failureOf(err: unknown): { code: string } {
  return { code: err instanceof GatewayError ? err.code : 'INTERNAL_SERVER_ERROR' };
}

/** Notes how many bytes of JSON `value` came from, for the response budget (wireSize.ts). */
function sized<T extends object>(value: T, answer: UpstreamAnswer): T {
  recordWireSize(value, answer.bytes);
  return value;
}

/** The one place credentials are put on a request: the caller's own two headers, and nothing else of theirs. */
function callHeaders(credentials: Credentials, requestId: string | undefined, clientIp: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'x-auth-token': credentials.authToken,
    'x-user-id': credentials.userId,
  };
  if (requestId) headers['x-request-id'] = requestId;
  if (clientIp) headers['x-real-ip'] = clientIp;
  return headers;
}

/** Rocket.Chat's limiter counts per client IP; the user is in the key because some users bypass it. */
function rateLimitBucket({ clientIp, credentials }: CallOptions): string {
  return `${clientIp ?? ''}|${credentials.userId}`;
}

/**
 * Gathers one answer straight from undici's dispatcher and settles the attempt's promise: status,
 * headers and parsed JSON body, or a catalogue error. `pool.request` would wrap every answer in a
 * Readable stream only for the gateway to read it whole, and an AbortSignal per attempt would cost
 * more than the rest of the attempt's own work; at one upstream call per operation both showed in
 * the gateway's CPU profile. Never follows redirects.
 */
class AttemptHandler<T> implements Dispatcher.DispatchHandler {
  readonly #route: RoutePattern;
  readonly #attempt: Cancellation;
  readonly #interpret: (answer: UpstreamAnswer) => T;
  readonly #resolve: (value: T) => void;
  readonly #reject: (reason: unknown) => void;
  readonly #timeoutMs: number;
  readonly #observe: RocketChatClientOptions['observe'];
  readonly #started: number;
  readonly #stopListening: () => void;
  #controller: Dispatcher.DispatchController | undefined;
  #status = 0;
  #headers: UpstreamAnswer['headers'] = {};
  #chunks: Buffer[] = [];
  #settled = false;

  constructor(
    route: RoutePattern,
    attempt: Cancellation,
    interpret: (answer: UpstreamAnswer) => T,
    resolve: (value: T) => void,
    reject: (reason: unknown) => void,
    timeoutMs: number,
    observe: RocketChatClientOptions['observe'],
  ) {
    this.#route = route;
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
      if (this.#controller) this.#controller.abort(reason);
      else this.#fail(reason);
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#attempt.reason) controller.abort(this.#attempt.reason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: UpstreamAnswer['headers']): void {
    this.#status = statusCode;
    this.#headers = headers;
    const length = Number(headers['content-length']);
    if (length > MAX_RESPONSE_BYTES) {
      controller.abort(badResponse(statusCode, `body of ${length} bytes is over the ${MAX_RESPONSE_BYTES}-byte cap`));
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    const status = this.#status;
    const chunks = this.#chunks;
    const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const text = buffer.toString('utf8');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // An HTML error page from a proxy in front of Rocket.Chat still deserves its status's row.
      if (status === 200) return this.#fail(badResponse(status, 'body is not JSON'));
    }
    let value: T;
    try {
      value = this.#interpret({ status, headers: this.#headers, body, bytes: buffer.length });
    } catch (err) {
      return this.#fail(err);
    }
    if (this.#settle()) {
      this.#observe?.(this.#route, statusClass(status), (performance.now() - this.#started) / 1000);
      this.#resolve(value);
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.#fail(this.#asGatewayError(err));
  }

  #asGatewayError(err: Error): GatewayError {
    if (err instanceof GatewayError) return err;
    // Timed out, past the deadline, or the caller left: the attempt's reason says which.
    if (this.#attempt.reason) return this.#attempt.reason;
    if (err instanceof undiciErrors.ResponseExceededMaxSizeError) {
      return badResponse(this.#status || 200, `body over the ${MAX_RESPONSE_BYTES}-byte cap`);
    }
    // The answer began and then stopped: a FIN and a RST mid-body look alike, and both leave a
    // body that cannot be trusted, so neither is retried as a connection failure would be.
    if (this.#status !== 0) return badResponse(this.#status, 'truncated body');
    return errorFromTransport(err, this.#timeoutMs);
  }

  #fail(err: unknown): void {
    if (!this.#settle()) return;
    if (this.#observe) {
      const upstream = err instanceof GatewayError ? err.upstream : undefined;
      const cls = upstream?.status ? statusClass(upstream.status) : err instanceof GatewayError && err.code === 'UPSTREAM_TIMEOUT' ? 'timeout' : 'error';
      this.#observe(this.#route, cls, (performance.now() - this.#started) / 1000);
    }
    this.#reject(err);
  }

  /** True the first time: an attempt settles once, whichever of answer, error or abort comes first. */
  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#stopListening();
    return true;
  }
}
