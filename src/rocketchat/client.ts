import { createHash } from 'node:crypto';
import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import {
  badResponse,
  callerAborted,
  circuitOpen,
  errorFromResponse,
  errorFromTransport,
  GatewayError,
  rateLimitedLocally,
} from '../errors.js';
import { statusClass } from '../metrics.js';
import type { Cancellation } from './cancellation.js';
import { Coalescer } from './coalesce.js';
import type { ServerInfoResponse, WireErrorBody, WireVisitor } from './models.js';
import { RateLimitMemory } from './rateLimits.js';
import { UpstreamPolicy, type BreakerState, type ResilienceOptions } from './resilience.js';
import { parseVisitorsInfo } from './validate.js';

/** A caller's Rocket.Chat credentials, exactly as the caller sent them. */
export interface Credentials {
  authToken: string;
  userId: string;
}

/** Who is calling, for one upstream call. */
export interface CallOptions {
  credentials: Credentials;
  /** Identifies the caller in shared state (user id + token hash); see `callerKey`. */
  callerKey: string;
  /** Sent upstream as `X-Request-Id` so the two sides' logs can be joined. */
  requestId?: string;
  /** The caller's address as the gateway sees it; sent as `X-Real-IP`, Rocket.Chat's rate-limit key. */
  clientIp?: string;
  /** Cancelled when the caller goes away; the call is aborted unless another caller shares it. */
  cancellation?: Cancellation;
}

/** The edge the rest of the gateway depends on; tests swap the upstream behind it. */
export interface RocketChatClient {
  getVisitor(id: string, options: CallOptions): Promise<WireVisitor>;
  /** Rocket.Chat's version from `/api/info`; rejects while the breaker is open (readiness). */
  serverInfo(signal?: AbortSignal): Promise<ServerInfoResponse>;
  /** The circuit breaker's state, where the client has one (for readiness and metrics). */
  readonly breakerState?: BreakerState;
  close(): Promise<void>;
}

export interface RocketChatClientOptions extends ResilienceOptions {
  /** Base URL, possibly with a path prefix, without a trailing slash. */
  baseUrl: string;
  /** Told of every attempt: its status class (2xx, 4xx, 429, 5xx, error, timeout) and duration. */
  observe?: (statusClass: string, seconds: number) => void;
}

/** Rocket.Chat's visitor is a few KiB; anything near this is not a visitor. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

const VISITORS_INFO_PATH = '/api/v1/livechat/visitors.info';
const INFO_PATH = '/api/info';

/** The key for everything shared across requests: the user id and a hash of the token, never the token. */
export function callerKey(credentials: Credentials): string {
  const tokenHash = createHash('sha256').update(credentials.authToken).digest('base64url');
  return `${credentials.userId}:${tokenHash}`;
}

interface UpstreamAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/**
 * The one place that talks HTTP to Rocket.Chat and the one place that forwards credentials. One
 * undici Pool per process keeps connections warm; every call goes through the resilience policies,
 * every answer through the error catalogue.
 */
export class HttpRocketChatClient implements RocketChatClient {
  readonly #pool: Pool;
  readonly #pathPrefix: string;
  readonly #timeoutMs: number;
  readonly #policy: UpstreamPolicy;
  readonly #rateLimits = new RateLimitMemory();
  readonly #inflight = new Coalescer<WireVisitor>();
  readonly #observe: RocketChatClientOptions['observe'];

  constructor(options: RocketChatClientOptions) {
    const url = new URL(options.baseUrl);
    this.#pathPrefix = url.pathname.replace(/\/+$/, '');
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

  get breakerState(): BreakerState {
    return this.#policy.breakerState;
  }

  get policy(): UpstreamPolicy {
    return this.#policy;
  }

  getVisitor(id: string, options: CallOptions): Promise<WireVisitor> {
    const bucket = `${options.clientIp ?? ''}|${options.credentials.userId}`;
    const wait = this.#rateLimits.retryAfter(bucket);
    if (wait !== undefined) return Promise.reject(rateLimitedLocally(wait));

    const path = `${this.#pathPrefix}${VISITORS_INFO_PATH}?${new URLSearchParams({ visitorId: id })}`;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'x-auth-token': options.credentials.authToken,
      'x-user-id': options.credentials.userId,
    };
    if (options.requestId) headers['x-request-id'] = options.requestId;
    if (options.clientIp) headers['x-real-ip'] = options.clientIp;

    return this.#inflight.run(`${options.callerKey}\n${id}`, options.cancellation, (shared) =>
      this.#policy
        .execute(async (signal) => {
          const answer = await this.#get(path, headers, signal);
          return parseVisitorsInfo(answer.status, answer.headers, answer.body);
        }, shared)
        .catch((err: unknown) => {
          if (err instanceof GatewayError && err.code === 'RATE_LIMITED') {
            this.#rateLimits.remember(bucket, Number(err.extensions.retryAfter ?? 0));
          }
          throw err;
        }),
    );
  }

  async serverInfo(signal?: AbortSignal): Promise<ServerInfoResponse> {
    if (this.#policy.breakerState === 'open') throw circuitOpen();
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const answer = await this.#get(`${this.#pathPrefix}${INFO_PATH}`, { accept: 'application/json' }, signal ? AbortSignal.any([signal, timeout]) : timeout);
    if (answer.status !== 200) throw errorFromResponse(answer.status, answer.body as WireErrorBody | undefined);
    const info = answer.body as Partial<ServerInfoResponse> | undefined;
    if (!info || typeof info.version !== 'string') throw badResponse(answer.status, 'no version in /api/info');
    return { version: info.version, success: true };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  /** One attempt, observed for metrics. */
  async #get(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<UpstreamAnswer> {
    if (!this.#observe) return this.#attempt(path, headers, signal);
    const started = performance.now();
    try {
      const answer = await this.#attempt(path, headers, signal);
      this.#observe(statusClass(answer.status), (performance.now() - started) / 1000);
      return answer;
    } catch (err) {
      const upstream = err instanceof GatewayError ? (err.extensions.upstream as { status: number | null } | undefined) : undefined;
      const cls = upstream?.status ? statusClass(upstream.status) : err instanceof GatewayError && err.code === 'UPSTREAM_TIMEOUT' ? 'timeout' : 'error';
      this.#observe(cls, (performance.now() - started) / 1000);
      throw err;
    }
  }

  /** One attempt: status, headers and parsed JSON body, or a catalogue error. Never follows redirects. */
  async #attempt(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<UpstreamAnswer> {
    let status = 0;
    let resHeaders: UpstreamAnswer['headers'] = {};
    let text: string;
    try {
      const res = await getText(this.#pool, path, headers, signal, (answered) => {
        status = answered;
      });
      resHeaders = res.headers;
      text = res.text;
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      // Timed out, past the deadline, or the caller left: the signal's reason says which.
      if (signal.aborted) throw signal.reason instanceof GatewayError ? signal.reason : callerAborted();
      if (err instanceof undiciErrors.ResponseExceededMaxSizeError) {
        throw badResponse(status || 200, `body over the ${MAX_RESPONSE_BYTES}-byte cap`);
      }
      // The answer began and then stopped: a FIN and a RST mid-body look alike, and both leave a
      // body that cannot be trusted, so neither is retried as a connection failure would be.
      if (status !== 0) throw badResponse(status, 'truncated body');
      throw errorFromTransport(err, this.#timeoutMs);
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // An HTML error page from a proxy in front of Rocket.Chat still deserves its status's row.
      if (status !== 200) return { status, headers: resHeaders, body: undefined };
      throw badResponse(status, 'body is not JSON');
    }
    return { status, headers: resHeaders, body };
  }
}

/**
 * One GET through the pool's dispatcher, the body gathered as a string. `pool.request` would wrap
 * every answer in a Readable stream only for the gateway to read it whole; at one upstream call per
 * operation that stream is a measurable share of the gateway's own CPU time.
 */
function getText(
  pool: Pool,
  path: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  onStatus: (status: number) => void,
): Promise<{ headers: UpstreamAnswer['headers']; text: string }> {
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let answerHeaders: UpstreamAnswer['headers'] = {};
    const chunks: Buffer[] = [];
    const onAbort = () => controller?.abort(signal.reason as Error);
    const done = () => signal.removeEventListener('abort', onAbort);
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    pool.dispatch(
      { method: 'GET', path, headers },
      {
        onRequestStart(c) {
          controller = c;
        },
        onResponseStart(c, statusCode, responseHeaders) {
          onStatus(statusCode);
          answerHeaders = responseHeaders;
          const length = Number(responseHeaders['content-length']);
          if (length > MAX_RESPONSE_BYTES) {
            c.abort(badResponse(statusCode, `body of ${length} bytes is over the ${MAX_RESPONSE_BYTES}-byte cap`));
          }
        },
        onResponseData(_c, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          done();
          resolve({ headers: answerHeaders, text: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8') });
        },
        onResponseError(_c, error) {
          done();
          reject(error);
        },
      },
    );
  });
}
