import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import cors from 'cors';
import type { Config } from '../config.js';
import { createContext, type ContextDeps, type GatewayContext } from '../context.js';
import { ErrorCode, GatewayError, requestRefusal } from '../errors.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import { Cancellation } from '../rocketchat/cancellation.js';
import { BodyTooLargeError, readBody } from './body.js';
import { clientIp } from './clientIp.js';
import { trustedRequest, type PersistedDocuments } from '../persistedDocuments.js';
import { endSpan, traceIds, type Tracing } from '../tracing.js';
import { EXPLORER_PATH, type ExplorerAssets } from '../explorer.js';
import { SINGLE_RESULT_MEDIA_TYPES, type ResponseMediaTypes } from '../responseMediaType.js';

/** GraphQL documents are small; anything larger is a mistake or an attack. */
export const MAX_BODY_BYTES = 100 * 1024;
export const SANDBOX_ORIGIN = 'https://studio.apollographql.com';
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** What the HTTP layer serves, built by gateway.ts. */
export interface HttpParts {
  config: Config;
  log: Logger;
  apollo: ApolloServer<GatewayContext>;
  metrics: GatewayMetrics;
  deps: ContextDeps;
  /** Readiness: Rocket.Chat's version, or why it cannot be had. */
  serverInfo: () => Promise<{ version: string }>;
  /** The cache's health for /readyz, where there is one to report. */
  cacheHealth?: () => Promise<string>;
  /** Trusted documents (PERSISTED_DOCUMENTS), where a manifest is configured. */
  documents?: PersistedDocuments;
  /** A span per HTTP request (tracing.ts); none when tracing is off. */
  tracing?: Tracing;
  /** The local explorer's files (EXPLORER=local), served under /explorer/. */
  explorer?: ExplorerAssets;
  /** The memo of Apollo's media-type negotiation, shared with the gateway's Apollo plugin. */
  mediaTypes: ResponseMediaTypes;
}

export interface HttpServer {
  url: string;
  port: number;
  /** Refuses new connections, waits up to `graceMs` for requests being answered, then closes the rest. */
  close(graceMs: number): Promise<void>;
}

/**
 * The HTTP layer: /graphql (body cap, CORS, request ids, the caching rule, then Apollo Server),
 * /healthz, /readyz and /metrics, with the connection limits. Nothing here builds a part of the
 * gateway; gateway.ts hands them over.
 */
export async function startHttpServer({
  config,
  log,
  apollo,
  metrics,
  deps,
  serverInfo,
  cacheHealth,
  documents,
  tracing,
  explorer,
  mediaTypes,
}: HttpParts): Promise<HttpServer> {
  const allowedOrigins = new Set(config.corsOrigins);
  if (!config.production) allowedOrigins.add(SANDBOX_ORIGIN);
  const corsHandler = cors({
    origin: (origin, done) => done(null, !!origin && (allowedOrigins.has('*') || allowedOrigins.has(origin))),
    methods: ['GET', 'POST', 'OPTIONS'],
    exposedHeaders: ['X-Request-Id'],
    maxAge: 600,
  });

  async function graphql(req: IncomingMessage, res: ServerResponse, requestId: string, search: string) {
    const traced = tracing?.request(req.method ?? 'GET', '/graphql', req.headers);
    if (traced) {
      res.once('close', () => {
        traced.span.setAttribute('http.response.status_code', res.statusCode);
        endSpan(traced.span, res.statusCode >= 500 || !res.writableFinished ? { code: res.writableFinished ? String(res.statusCode) : 'aborted' } : undefined);
      });
    }
    preventSharedCaching(res);
    let body: unknown;
    if (req.method === 'POST') {
      const text = await readBody(req, MAX_BODY_BYTES);
      // Only a real application/json body is parsed: a browser can send text/plain cross-site
      // without a preflight, and Apollo's CSRF prevention must see those as they came.
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
    if (documents && (req.method === 'POST' || req.method === 'GET')) {
      const started = performance.now();
      const trusted = trustedRequest(documents, req.method === 'POST', body, search);
      if ('code' in trusted) {
        metrics.refusedRequest(trusted.code, (performance.now() - started) / 1000);
        log.info({ requestId, ...traceIds(traced?.context), codes: [trusted.code] }, 'request refused before execution');
        return sendJson(res, 400, requestRefusal(trusted.code, trusted.message, requestId));
      }
      ({ body, search } = trusted);
    }
    // Apollo refuses an unacceptable Accept with 406 only after executing the operation: refused
    // here first, so that an answer nobody can read costs no Rocket.Chat call. A GET that accepts
    // HTML is left to Apollo, which serves it the landing page.
    const accept = req.headers.accept;
    if (!mediaTypes.acceptable(accept) && (req.method === 'POST' || !/text\/html/i.test(accept ?? ''))) {
      return sendJson(
        res,
        406,
        requestRefusal(
          ErrorCode.BAD_REQUEST,
          `No media type in Accept can be answered; send one of ${SINGLE_RESULT_MEDIA_TYPES.map((t) => t.split(';')[0]).join(', ')}.`,
          requestId,
        ),
      );
    }
    const query = req.method === 'POST' ? (body as { query?: unknown } | undefined)?.query : new URLSearchParams(search).get('query');
    // A UTF-16 code unit is at most 3 bytes of UTF-8, so only a long query needs counting.
    if (typeof query === 'string' && query.length * 3 > config.limits.maxQueryBytes && Buffer.byteLength(query) > config.limits.maxQueryBytes) {
      return sendJson(res, 400, requestRefusal(ErrorCode.QUERY_TOO_LARGE, `The query document is over ${config.limits.maxQueryBytes} bytes.`, requestId));
    }
    // Cancelling on disconnect stops upstream calls nobody waits for any more.
    const disconnect = new Cancellation();
    res.on('close', () => res.writableFinished || disconnect.cancel());
    const headers = new HeaderMap();
    for (const name in req.headers) {
      const value = req.headers[name];
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const answer = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
      context: async () =>
        createContext(deps, { headers: req.headers, requestId, clientIp: clientIp(req, config.trustProxy), cancellation: disconnect, trace: traced?.context }),
    });
    const outgoing: Record<string, string | number> = {};
    for (const [name, value] of answer.headers) outgoing[name] = value;
    const status = answer.status ?? 200;
    if (answer.body.kind === 'complete') {
      const text = status < 400 ? answer.body.string : refusedBeforePlugins(answer.body.string, requestId);
      // writeHead sends the head at once: without a length the answer would go chunked.
      outgoing['content-length'] = Buffer.byteLength(text);
      res.writeHead(status < 400 ? status : statusFor(status, String(outgoing['content-type'] ?? ''), text), outgoing).end(text);
      return;
    }
    res.writeHead(status, outgoing);
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
    const health = cacheHealth?.();
    try {
      const info = await serverInfo();
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
          default: {
            const asset =
              explorer && pathname.startsWith(EXPLORER_PATH) && (req.method === 'GET' || req.method === 'HEAD')
                ? explorer.get(pathname.slice(EXPLORER_PATH.length))
                : undefined;
            if (asset) {
              // The installed packages' own files: the same for every caller, so caches may keep them.
              res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'public, max-age=3600' });
              return res.end(req.method === 'HEAD' ? undefined : asset.body);
            }
            return sendJson(res, 404, { error: 'Not found. GraphQL is served at /graphql.' });
          }
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
    },
  );

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
    async close(graceMs) {
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
    },
  };
}

/**
 * The codes of a request that was well formed and still could not run: a document that does not
 * parse or validate, variables that do not coerce, no such operation, a limit of the gateway's.
 * A body that is not a GraphQL request at all (BAD_REQUEST), a body or document over its size,
 * and a rate limit keep their 4xx.
 */
const WELL_FORMED_REFUSALS = new Set<unknown>([
  ErrorCode.GRAPHQL_PARSE_FAILED,
  ErrorCode.GRAPHQL_VALIDATION_FAILED,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.OPERATION_RESOLUTION_FAILURE,
  ErrorCode.UPSTREAM_BUDGET_EXCEEDED,
]);

/**
 * GraphQL over HTTP: a client that accepts only `application/json` cannot tell a GraphQL error
 * from a broken proxy by status, so a well-formed request answers 200 with its errors there; one
 * that accepts `application/graphql-response+json` (Apollo Client, urql, graphql-request) gets
 * the 400. Read only on error answers, whose bodies are small.
 */
function statusFor(status: number, contentType: string, text: string): number {
  if (status !== 400 || !contentType.startsWith('application/json')) return status;
  let body: { errors?: Array<{ extensions?: { code?: unknown } }> };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return status;
  }
  const errors = body.errors;
  return Array.isArray(errors) && errors.length > 0 && errors.every((e) => WELL_FORMED_REFUSALS.has(e.extensions?.code)) ? 200 : status;
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
