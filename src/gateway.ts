import { createApollo, PLACEHOLDER_HEADERS } from './apollo.js';
import type { Config } from './config.js';
import type { ContextDeps } from './context.js';
import { createLogger, type Logger } from './logger.js';
import { HttpRocketChatClient, type RocketChatClient } from './rocketchat/client.js';
import { CachingRocketChatClient } from './cache/CachingRocketChatClient.js';
import { MemoryStore, type CacheStores } from './cache/store.js';
import { memoryApqCache, SlotApqCache } from './cache/apq.js';
import { startHttpServer } from './http/server.js';
import { GatewayMetrics } from './metrics.js';
import { buildSchema } from './schema.js';
import { loadPersistedDocuments } from './persistedDocuments.js';
import type { Tracing } from './tracing.js';
import { ExplorerAssets } from './explorer.js';
import { ResponseMediaTypes } from './responseMediaType.js';

export interface GatewayOptions {
  /** Defaults to an undici client for `config.rocketChatUrl`. */
  client?: RocketChatClient;
  log?: Logger;
  /** Headers Apollo Sandbox opens with (the demo credentials in demo mode). */
  sandboxHeaders?: Record<string, string>;
  /** Spans for requests, operations and upstream calls (tracing.ts); none: tracing off. */
  tracing?: Tracing;
}

export interface Gateway {
  /** The GraphQL endpoint, e.g. http://localhost:4000/graphql */
  url: string;
  port: number;
  client: RocketChatClient;
  /** Graceful: refuses new connections, waits up to `graceMs` for in-flight operations, then closes. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Wiring only: builds the parts (the Rocket.Chat client, metrics, stores, schema, Apollo Server)
 * and hands them to the HTTP layer (http/server.ts), which serves GraphQL at /graphql and the
 * health routes.
 */
export async function createGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const log = options.log ?? createLogger(config.logLevel);
  if (!options.client && !config.rocketChatUrl) throw new Error('createGateway needs config.rocketChatUrl or a client');
  // Before anything opens a connection: a bad manifest stops start-up with nothing to close.
  const schema = buildSchema();
  const documents =
    config.persistedDocuments &&
    (await loadPersistedDocuments(config.persistedDocuments.path, {
      schema,
      maxQueryBytes: config.limits.maxQueryBytes,
      only: config.persistedDocuments.only,
    }));
  if (documents) log.info({ documents: documents.size, only: documents.only }, 'trusted documents loaded from PERSISTED_DOCUMENTS');
  const upstream =
    options.client ??
    new HttpRocketChatClient({
      baseUrl: config.rocketChatUrl!,
      ...config.upstream,
      breakerThreshold: config.breaker.threshold,
      breakerHalfOpenMs: config.breaker.halfOpenMs,
      maxJsonDepth: config.maxJsonDepth,
      tracing: options.tracing,
      observe: (route, statusClass, seconds) => metrics.upstream(route, statusClass, seconds),
    });
  const metrics = new GatewayMetrics({ breakerState: () => upstream.breakerState });
  upstream.onBreakerStateChange?.((state) => log.warn({ breaker: state }, `circuit breaker on Rocket.Chat is ${state}`));
  const stores = await createStore(config, log, metrics);
  const sharedRateLimits = await shareRateLimits(config, upstream, log);
  const client = stores.visitors
    ? new CachingRocketChatClient(upstream, stores.visitors, { ttlMs: config.cacheTtlMs, recheckMs: config.cacheRecheckMs, tracing: options.tracing }, metrics)
    : upstream;
  const deps: ContextDeps = { client, config, log, onBatch: (size) => metrics.batch(size) };
  // One memo of the response's media type: the HTTP layer checks Accept with it, Apollo's plugin sets the type from it.
  const mediaTypes = new ResponseMediaTypes();
  const apollo = createApollo({
    config,
    schema,
    sandboxHeaders: options.sandboxHeaders ?? PLACEHOLDER_HEADERS,
    metrics,
    apqStore: stores.apq && { cache: stores.apq, ttlSeconds: config.apq.ttlSeconds },
    tracing: options.tracing,
    mediaTypes,
  });
  await apollo.start();

  const http = await startHttpServer({
    config,
    log,
    apollo,
    metrics,
    deps,
    serverInfo: () => client.serverInfo(),
    cacheHealth: stores.health,
    documents,
    tracing: options.tracing,
    explorer: !config.production && config.explorer === 'local' ? new ExplorerAssets() : undefined,
    mediaTypes,
  });

  return {
    url: http.url,
    port: http.port,
    client,
    async stop(graceMs = config.shutdownGraceMs) {
      await http.close(graceMs);
      await apollo.stop();
      if (!options.client) await client.close();
      await stores.close();
      await sharedRateLimits?.close();
    },
  };
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
  if (!config.redisUrl || !upstream.rateLimits) return undefined;
  const { SharedRateLimits } = await import('./cache/sharedRateLimits.js');
  return new SharedRateLimits({
    url: config.redisUrl,
    memory: upstream.rateLimits,
    log,
    timeoutMs: config.redisTimeoutMs,
    lowWater: config.maxUpstreamCalls,
  });
}
