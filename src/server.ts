import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { HeaderMap } from '@apollo/server';
import cors from 'cors';
import { createApollo, PLACEHOLDER_HEADERS } from './apollo.js';
import type { Config } from './config.js';
import { createContext, type ContextDeps } from './context.js';
import { ErrorCode, GatewayError, requestRefusal } from './errors.js';
import { BodyTooLargeError, readBody } from './http/body.js';
import { clientIp } from './http/clientIp.js';
import { createLogger, type Logger } from './logger.js';
import { HttpRocketChatClient, type RocketChatClient } from './rocketchat/client.js';
import { CachingRocketChatClient } from './cache/CachingRocketChatClient.js';
import { MemoryStore, type CacheStores } from './cache/store.js';
import { memoryApqCache, SlotApqCache } from './cache/apq.js';
import { GatewayMetrics } from './metrics.js';
import { FastPath } from './fastPath.js';
import { Cancellation } from './rocketchat/cancellation.js';
import { buildSchema } from './schema.js';

/** GraphQL documents are small; anything larger is a mistake or an attack. */
export const MAX_BODY_BYTES = 100 * 1024;
export const SANDBOX_ORIGIN = 'https://studio.apollographql.com';
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export interface GatewayOptions {
  /** Defaults to an undici client for `config.rocketChatUrl`. */
  client?: RocketChatClient;
  log?: Logger;
  /** Headers Apollo Sandbox opens with (the demo credentials in demo mode). */
  sandboxHeaders?: Record<string, string>;
}

export interface Gateway {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql */
  url: string;
  port: number;
  client: RocketChatClient;
  /** Graceful: refuses new connections, waits up to `graceMs` for in-flight operations, then closes. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts the HTTP server with GraphQL at /graphql and the health routes. */
export async function createGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const log = options.log ?? createLogger(config.logLevel);
  if (!options.client && !config.rocketChatUrl) throw new Error('createGateway needs config.rocketChatUrl or a client');
  const upstream =
    options.client ??
    new HttpRocketChatClient({
      baseUrl: config.rocketChatUrl!,
      ...config.upstream,
      breakerThreshold: config.breaker.threshold,
      breakerHalfOpenMs: config.breaker.halfOpenMs,
      maxJsonDepth: config.maxJsonDepth,
      observe: (statusClass, seconds) => metrics.upstream(statusClass, seconds),
    });
  const metrics = new GatewayMetrics({ breakerState: () => upstream.breakerState });
  if (upstream instanceof HttpRocketChatClient) {
    upstream.policy.onBreakerStateChange((state) => log.warn({ breaker: state }, `circuit breaker on Rocket.Chat is ${state}`));
  }
  const stores = await createStore(config, log, metrics);
  const sharedRateLimits = await shareRateLimits(config, upstream, log);
  const client = stores.visitors
    ? new CachingRocketChatClient(upstream, stores.visitors, { ttlMs: config.cacheTtlMs, recheckMs: config.cacheRecheckMs }, metrics)
    : upstream;
  const deps: ContextDeps = { client, config, log, onBatch: (size) => metrics.batch(size) };
  const schema = buildSchema();
  const fastPath = new FastPath(schema, config, metrics);
  const apollo = createApollo({
    config,
    schema,
    sandboxHeaders: options.sandboxHeaders ?? PLACEHOLDER_HEADERS,
    metrics,
    apqStore: stores.apq && { cache: stores.apq, ttlSeconds: config.apq.ttlSeconds },
  });
  await apollo.start();

  const allowedOrigins = new Set(config.corsOrigins);
  if (!config.production) allowedOrigins.add(SANDBOX_ORIGIN);
  const corsHandler = cors({
    origin: (origin, done) => done(null, !!origin && (allowedOrigins.has('*') || allowedOrigins.has(origin))),
    methods: ['GET', 'POST', 'OPTIONS'],
    exposedHeaders: ['X-Request-Id'],
    maxAge: 600,
  });

  async function graphql(req: IncomingMessage, res: ServerResponse, requestId: string, search: string) {
    preventSharedCaching(res);
    let body: unknown;
    if (req.method === 'POST') {
      const text = await readBody(req, MAX_BODY_BYTES);
      // Only a real application/json body is parsed (and so may take the fast path): a browser can
      // send text/plain cross-site without a preflight, and Apollo's CSRF prevention must see those.
      if (mediaType(req.headers['content-type']) === 'application/json') {
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          return sendJson(res, 400, requestRefusal(ErrorCode.BAD_REQUEST, 'The request body is not valid JSON.', requestId));
        }
      } else {
        body = text;
      }
    }
    const query = req.method === 'POST' ? (body as { query?: unknown } | undefined)?.query : new URLSearchParams(search).get('query');
    if (typeof query === 'string' && Buffer.byteLength(query) > config.limits.maxQueryBytes) {
      return sendJson(res, 400, requestRefusal(ErrorCode.QUERY_TOO_LARGE, `The query document is over ${config.limits.maxQueryBytes} bytes.`, requestId));
    }
    // Cancelling on disconnect stops upstream calls nobody waits for any more.
    const disconnect = new Cancellation();
    res.once('close', () => res.writableFinished || disconnect.cancel());
    const context = () =>
      createContext(deps, { headers: req.headers, requestId, clientIp: clientIp(req, config.trustProxy), cancellation: disconnect });

    if (req.method === 'POST' && fastPath.accepts(body)) {
      const answer = await fastPath.run(body, context());
      const accept = req.headers.accept;
      res.writeHead(answer.status, {
        'content-type':
          accept && accept.includes('application/graphql-response+json') && !/application\/json\s*(,|$)/.test(accept)
            ? 'application/graphql-response+json; charset=utf-8'
            : 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(answer.body),
        ...(answer.headers && Object.fromEntries(answer.headers)),
      });
      res.end(answer.body);
      return;
    }

    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const answer = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context: async () => context(),
    });
    for (const [name, value] of answer.headers) res.setHeader(name, value);
    res.statusCode = answer.status ?? 200;
    if (answer.body.kind === 'complete') {
      res.end(res.statusCode >= 400 ? refusedBeforePlugins(answer.body.string, requestId) : answer.body.string);
      return;
    }
    for await (const chunk of answer.body.asyncIterator) res.write(chunk);
    res.end();
  }

  // Redis trouble is reported but never fails readiness: queries answer without the cache.
  /**
   * Apollo refuses some requests before any plugin runs (a batch, CSRF, a body it cannot use), so
   * the plugin that puts the request id on every error never sees them: it is added here, and the
   * refusal logged, as every other error is. Only on error answers, whose bodies are small.
   */
  function refusedBeforePlugins(text: string, requestId: string): string {
    if (text.includes('"requestId"')) return text;
    let body: { errors?: Array<{ message?: unknown; extensions?: Record<string, unknown> }> };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return text;
    }
    if (!Array.isArray(body.errors)) return text;
    for (const error of body.errors) error.extensions = { ...error.extensions, requestId };
    log.info({ requestId, codes: body.errors.map((e) => e.extensions?.code) }, 'request refused before execution');
    return JSON.stringify(body);
  }

  async function readyz(res: ServerResponse) {
    const health = stores.health?.();
    try {
      const info = await client.serverInfo();
      sendJson(res, 200, { status: 'ready', upstream: { version: info.version }, cache: await health });
    } catch (err) {
      const reason = err instanceof GatewayError ? err.upstream?.error : undefined;
      sendJson(res, 503, { status: 'unavailable', reason: reason ?? 'upstream-error', cache: await health });
    }
  }

  // Requests being answered; shutdown waits for these, not for idle keep-alive sockets.
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const server = createServer(
    {
      // Longer than a load balancer's idle timeout (60 s on the common ones), so the balancer, not
      // the gateway, closes idle keep-alive connections and never sends on one being closed.
      keepAliveTimeout: config.http.keepAliveTimeoutMs,
      // A connection that has not sent its headers by then is dropped: idle sockets cannot pile up.
      headersTimeout: config.http.headersTimeoutMs,
      requestTimeout: config.http.requestTimeoutMs,
      // Node checks those two timeouts only this often (30 s by default), which would let idle
      // sockets sit far past their deadline.
      connectionsCheckingInterval: Math.min(1000, config.http.headersTimeoutMs),
    },
    (req, res) => {
    inFlight++;
    res.once('close', () => {
      if (--inFlight === 0) drained?.();
    });
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && REQUEST_ID_PATTERN.test(incomingId) ? incomingId : randomUUID();
    res.setHeader('x-request-id', requestId);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const search = q < 0 ? '' : url.slice(q);

    const handle = async () => {
      switch (pathname) {
        case '/graphql':
          // CORS concerns browsers, which always send Origin; server-to-server calls skip the middleware.
          if (req.headers.origin !== undefined) {
            await new Promise<void>((next) => corsHandler(req, res, () => next()));
            if (res.writableEnded) return; // a CORS preflight was answered
          }
          return graphql(req, res, requestId, search);
        case '/healthz':
          return sendJson(res, 200, { status: 'ok' });
        case '/readyz':
          return readyz(res);
        case '/metrics': {
          const text = await metrics.registry.metrics();
          res.setHeader('content-type', metrics.registry.contentType);
          return res.end(text);
        }
        default:
          return sendJson(res, 404, { error: 'Not found. GraphQL is served at /graphql.' });
      }
    };
    handle().catch((err: unknown) => {
      if (err instanceof BodyTooLargeError) {
        res.setHeader('connection', 'close');
        return sendJson(res, 413, requestRefusal(ErrorCode.PAYLOAD_TOO_LARGE, `Request body over ${MAX_BODY_BYTES} bytes.`, requestId));
      }
      log.error({ err, requestId }, 'unhandled error in the HTTP handler');
      if (!res.headersSent) {
        sendJson(res, 500, requestRefusal(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error', requestId));
      } else {
        res.destroy();
      }
    });
  });

  // Past this many open sockets Node closes each new one at once, so file descriptors stay for the
  // callers already connected; a refused client sees its connection reset and can retry elsewhere.
  server.maxConnections = config.http.maxConnections;
  server.on('drop', () => metrics.connectionDropped());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;

  return {
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}/graphql`,
    port,
    client,
    async stop(graceMs = config.shutdownGraceMs) {
      // Stop accepting; let in-flight operations finish; then drop the keep-alive sockets.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const idle = new Promise<void>((resolve) => {
        drained = resolve;
        if (inFlight === 0) resolve();
      });
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([idle, grace]);
      server.closeAllConnections();
      await closed;
      await apollo.stop();
      if (!options.client) await client.close();
      await stores.close();
      await sharedRateLimits?.close();
    },
  };
}

/**
 * Every GraphQL answer is one caller's data, read with that caller's credentials: no cache may
 * store it (`no-store`; `private` too, for caches that ignore it), and one that does anyway must
 * tell callers apart by the credential headers (and Accept, which picks the media type). A GET
 * is as personal as a POST here, so the rule holds whatever the method.
 */
function preventSharedCaching(res: ServerResponse): void {
  res.setHeader('cache-control', 'private, no-store');
  const vary = res.getHeader('vary');
  res.setHeader('vary', vary ? `${String(vary)}, ${VARY}` : VARY);
}

const VARY = 'Accept, X-Auth-Token, X-User-Id';

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * Visitors (only when CACHE_TTL_MS > 0) and persisted queries: in process memory, or in Redis when
 * REDIS_URL is set so replicas share them. Each is bounded on its own (see cache/).
 */
async function createStore(config: Config, log: Logger, metrics: GatewayMetrics): Promise<CacheStores> {
  if (!config.redisUrl) {
    const visitors = config.cacheTtlMs > 0 ? new MemoryStore() : undefined;
    return { visitors, apq: memoryApqCache(config.apq.memoryBytes), close: async () => visitors?.close() };
  }
  const { RedisStore } = await import('./cache/redisStore.js');
  const redis = new RedisStore({ url: config.redisUrl, timeoutMs: config.redisTimeoutMs, log, registry: metrics.registry });
  return {
    visitors: config.cacheTtlMs > 0 ? redis : undefined,
    apq: new SlotApqCache(redis, config.apq.redisSlots, config.apq.ttlSeconds),
    health: () => redis.health(),
    close: () => redis.close(),
  };
}

/** With REDIS_URL, replicas tell each other the rate-limit windows they learn (cache/sharedRateLimits.ts). */
async function shareRateLimits(config: Config, upstream: RocketChatClient, log: Logger) {
  if (!config.redisUrl || !(upstream instanceof HttpRocketChatClient)) return undefined;
  const { SharedRateLimits } = await import('./cache/sharedRateLimits.js');
  return new SharedRateLimits({
    url: config.redisUrl,
    memory: upstream.rateLimits,
    log,
    timeoutMs: config.redisTimeoutMs,
    lowWater: config.maxUpstreamCalls,
  });
}
