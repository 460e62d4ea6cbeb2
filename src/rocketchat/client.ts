import { Pool, errors as undiciErrors } from 'undici';
import { ExponentialBackoff, handleWhen, retry, type IPolicy } from 'cockatiel';
import {
  badResponse,
  errorFromResponse,
  errorFromTransport,
  GatewayError,
  upstreamTimeout,
} from '../errors.js';
import type { ServerInfoResponse, WireErrorBody, WireVisitor } from './models.js';
import { parseVisitorsInfo } from './validate.js';

/** A caller's Rocket.Chat credentials, exactly as the caller sent them. */
export interface Credentials {
  authToken: string;
  userId: string;
}

/** Who is calling, for one upstream call. */
export interface CallOptions {
  credentials: Credentials;
  /** Sent upstream as `X-Request-Id` so the two sides' logs can be joined. */
  requestId?: string;
  /** Aborts the call when the caller goes away. */
  signal?: AbortSignal;
}

/** The edge the rest of the gateway depends on; tests swap the upstream behind it, not this interface. */
export interface RocketChatClient {
  getVisitor(id: string, options: CallOptions): Promise<WireVisitor>;
  serverInfo(signal?: AbortSignal): Promise<ServerInfoResponse>;
  close(): Promise<void>;
}

export interface RocketChatClientOptions {
  /** Base URL, possibly with a path prefix, without a trailing slash. */
  baseUrl: string;
  /** Per-attempt deadline covering connect, headers and the whole body. */
  timeoutMs: number;
  /** Further attempts after a retryable failure (connection error, 500/502/503/504, one timeout). */
  retries: number;
  /** Keep-alive connections in the process-wide pool. */
  connections: number;
  /** First backoff delay; tests shorten it. */
  retryBaseDelayMs?: number;
}

/** Rocket.Chat's visitor is a few KiB; anything near this is not a visitor. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

interface UpstreamAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

const VISITORS_INFO_PATH = '/api/v1/livechat/visitors.info';
const INFO_PATH = '/api/info';

/**
 * The one place that talks HTTP to Rocket.Chat and the one place that forwards credentials.
 * One undici Pool per process keeps connections warm; every answer goes through the error catalogue.
 */
export class HttpRocketChatClient implements RocketChatClient {
  readonly #pool: Pool;
  readonly #pathPrefix: string;
  readonly #timeoutMs: number;
  readonly #retry: IPolicy;

  constructor(options: RocketChatClientOptions) {
    const url = new URL(options.baseUrl);
    this.#pathPrefix = url.pathname.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs;
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
    this.#retry = retry(
      handleWhen((err) => err instanceof GatewayError && err.retryable),
      {
        maxAttempts: options.retries,
        backoff: new ExponentialBackoff({ initialDelay: options.retryBaseDelayMs ?? 50, maxDelay: 1000 }),
      },
    );
  }

  async getVisitor(id: string, options: CallOptions): Promise<WireVisitor> {
    const path = `${this.#pathPrefix}${VISITORS_INFO_PATH}?${new URLSearchParams({ visitorId: id })}`;
    const headers: Record<string, string> = {
      accept: 'application/json',
      'x-auth-token': options.credentials.authToken,
      'x-user-id': options.credentials.userId,
    };
    if (options.requestId) headers['x-request-id'] = options.requestId;

    let timeouts = 0;
    return this.#retry.execute(async () => {
      try {
        const res = await this.#get(path, headers, options.signal);
        return parseVisitorsInfo(res.status, res.headers, res.body);
      } catch (err) {
        // A second timeout means the upstream is stuck, not unlucky: stop retrying.
        if (err instanceof GatewayError && err.code === 'UPSTREAM_TIMEOUT' && ++timeouts > 1) {
          throw upstreamTimeout(this.#timeoutMs, { retryable: false });
        }
        throw err;
      }
    }, options.signal);
  }

  async serverInfo(signal?: AbortSignal): Promise<ServerInfoResponse> {
    const { status, body } = await this.#get(`${this.#pathPrefix}${INFO_PATH}`, { accept: 'application/json' }, signal);
    if (status !== 200) throw errorFromResponse(status, body as WireErrorBody | undefined);
    const info = body as Partial<ServerInfoResponse> | undefined;
    if (!info || typeof info.version !== 'string') throw badResponse(status, 'no version in /api/info');
    return { version: info.version, success: true };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  /** One attempt: status plus parsed JSON body, or a catalogue error. Never follows redirects. */
  async #get(
    path: string,
    headers: Record<string, string>,
    callerSignal: AbortSignal | undefined,
  ): Promise<UpstreamAnswer> {
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, deadline]) : deadline;
    let status = 0;
    let resHeaders: UpstreamAnswer['headers'];
    let text: string;
    try {
      const res = await this.#pool.request({ method: 'GET', path, headers, signal });
      status = res.statusCode;
      resHeaders = res.headers;
      const length = Number(res.headers['content-length']);
      if (length > MAX_RESPONSE_BYTES) {
        res.body.destroy();
        throw badResponse(status, `body of ${length} bytes is over the ${MAX_RESPONSE_BYTES}-byte cap`);
      }
      text = await res.body.text();
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      if (deadline.aborted) throw upstreamTimeout(this.#timeoutMs);
      if (callerSignal?.aborted) throw errorFromTransport(err, this.#timeoutMs);
      if (err instanceof undiciErrors.ResponseExceededMaxSizeError) {
        throw badResponse(200, `body over the ${MAX_RESPONSE_BYTES}-byte cap`);
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
