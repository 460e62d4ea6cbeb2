import { z } from 'zod';
import { tracingRequested } from './tracing.js';

/**
 * Every environment variable the gateway reads, parsed and validated once at start-up. A bad value
 * stops the process with a message naming the variable (see index.ts), rather than failing later
 * on the first request.
 */
const int = (min: number, max: number, fallback: number) => {
  const allowed = `must be a whole number from ${min} to ${max}`;
  return z.string().regex(/^\d+$/, allowed).transform(Number).pipe(z.number().min(min, allowed).max(max, allowed)).default(fallback);
};

/** One of `values`, with the message every variable's refusal uses: what is allowed. */
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(', ')}` });

const flag = oneOf(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const bool = (fallback: boolean) => flag.default(fallback);

/** `*`, or an origin as a browser sends it: http(s), a host name or address and a port, nothing after. */
const origin = (value: string) => {
  if (value === '*') return true;
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return /^https?:$/.test(url.protocol) && url.origin === value && /^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])$/.test(url.hostname);
};
const origins = z
  .string()
  .default('')
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .refine((list) => list.every(origin), {
    error: (issue) =>
      `each entry must be an origin (scheme://host[:port], no path or trailing slash, as https://console.example.org) or *; ${JSON.stringify((issue.input as string[]).find((v) => !origin(v)))} is not`,
  });

const rocketChatUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .refine((v) => {
    if (!URL.canParse(v)) return true; // already reported by z.url()
    const u = new URL(v);
    return !u.search && !u.hash && !u.username && !u.password;
  }, 'must not contain a query string, fragment or credentials')
  // Rocket.Chat may live under a path prefix (https://host/chat); keep it, without a trailing slash.
  .transform((v) => v.replace(/\/+$/, ''));

const EnvSchema = z.object({
  ROCKETCHAT_URL: rocketChatUrl.optional(),
  PORT: int(0, 65535, 4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  NODE_ENV: oneOf(['development', 'production', 'test']).default('development'),
  UPSTREAM_TIMEOUT_MS: int(1, 120_000, 3000),
  UPSTREAM_DEADLINE_MS: int(1, 600_000, 8000),
  UPSTREAM_RETRIES: int(0, 5, 2),
  UPSTREAM_RETRY_BUDGET: z
    .string()
    .regex(/^\d*\.?\d+$/, 'must be a number from 0 to 1')
    .transform(Number)
    .pipe(z.number().min(0).max(1))
    .default(0.1),
  UPSTREAM_CONNECTIONS: int(1, 1024, 64),
  UPSTREAM_QUEUE: int(0, 100_000, 256),
  BREAKER_THRESHOLD: int(1, 10_000, 5),
  BREAKER_HALF_OPEN_MS: int(1, 3_600_000, 10_000),
  UPSTREAM_CONCURRENCY_PER_REQUEST: int(1, 256, 10),
  MAX_IDS: int(1, 1000, 100),
  MAX_DEPTH: int(1, 100, 6),
  MAX_ALIASES: int(0, 1000, 15),
  MAX_ROOT_FIELDS: int(1, 1000, 20),
  MAX_DIRECTIVES: int(0, 1000, 10),
  MAX_COST: int(1, 1_000_000, 5000),
  MAX_TOKENS: int(1, 1_000_000, 2000),
  MAX_QUERY_BYTES: int(1, 100 * 1024, 16 * 1024),
  CORS_ORIGINS: origins,
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: bool(false),
  CACHE_TTL_MS: int(0, 86_400_000, 0),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  SHUTDOWN_GRACE_MS: int(0, 600_000, 10_000),
  INTROSPECTION: flag.optional(),
  MAX_UPSTREAM_CALLS: int(1, 100_000, 120),
  MAX_RESPONSE_BYTES: int(1024, 1024 * 1024 * 1024, 4 * 1024 * 1024),
  MAX_JSON_DEPTH: int(1, 1000, 20),
  DOCUMENT_CACHE_BYTES: int(0, 4 * 1024 * 1024 * 1024, 64 * 1024 * 1024),
  APQ_MEMORY_BYTES: int(0, 4 * 1024 * 1024 * 1024, 8 * 1024 * 1024),
  APQ_TTL_SECONDS: int(1, 7 * 86_400, 3600),
  APQ_REDIS_SLOTS: int(1, 10_000_000, 4096),
  REDIS_TIMEOUT_MS: int(1, 10_000, 50),
  CACHE_RECHECK_MS: int(0, 86_400_000, 5000),
  MAX_CONNECTIONS: int(1, 1_000_000, 4096),
  HTTP_HEADERS_TIMEOUT_MS: int(1, 600_000, 10_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(1, 600_000, 65_000),
  HTTP_REQUEST_TIMEOUT_MS: int(1, 600_000, 30_000),
  EXPLORER: oneOf(['sandbox', 'local']).optional(),
  DEMO_RATE_LIMIT: z
    .string()
    .regex(/^\d+\/\d+$/, "must be calls/seconds, as 10/60 (Rocket.Chat's default limiter)")
    .transform((v) => v.split('/').map(Number) as [number, number])
    .refine(([calls, seconds]) => calls >= 1 && calls <= 1_000_000 && seconds >= 1 && seconds <= 86_400, {
      error: 'must be calls/seconds with 1 to 1000000 calls in 1 to 86400 seconds',
    })
    .optional(),
  PERSISTED_DOCUMENTS: z.string().optional(),
  PERSISTED_DOCUMENTS_ONLY: flag.optional(),
});

/** Every variable the gateway reads (besides OpenTelemetry's own), for `.env.example` and its test. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

export interface Config {
  /** Undefined: start the embedded demo upstream and use it. */
  rocketChatUrl: string | undefined;
  port: number;
  host: string;
  production: boolean;
  nodeEnv: 'development' | 'production' | 'test';
  upstream: {
    /** Per attempt: connect, headers and the whole body. */
    timeoutMs: number;
    /** Per call, across all its attempts and backoffs. */
    deadlineMs: number;
    retries: number;
    /** Retries allowed per first attempt, on top of a small reserve (a retry budget, as Envoy's). */
    retryBudget: number;
    /** Most calls in flight to Rocket.Chat (the pool's connections, and the bulkhead). */
    connections: number;
    /** Calls that may wait for a free connection before the bulkhead refuses more. */
    queue: number;
    /** How many upstream calls one operation may have in flight at once. */
    concurrencyPerRequest: number;
  };
  breaker: { threshold: number; halfOpenMs: number };
  maxIds: number;
  /** Operation limits, checked before execution (see limits.ts). */
  limits: {
    maxDepth: number;
    maxAliases: number;
    maxRootFields: number;
    maxDirectives: number;
    maxCost: number;
    maxTokens: number;
    maxQueryBytes: number;
  };
  corsOrigins: string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  trustProxy: boolean;
  introspection: boolean;
  /** 0: no shared cache. Otherwise how long a visitor stays cached, per caller. */
  cacheTtlMs: number;
  /** Shared cache (and persisted queries) in Redis instead of process memory. */
  redisUrl: string | undefined;
  /** How long shutdown waits for in-flight operations. */
  shutdownGraceMs: number;
  /** Most Rocket.Chat calls one operation may cause (estimated before execution, counted during it). */
  maxUpstreamCalls: number;
  /** Most bytes of upstream data one response may carry. */
  maxResponseBytes: number;
  /** Deepest nesting of a visitor's free-form JSON (`livechatData`, `externalIds.metadata`). */
  maxJsonDepth: number;
  /** Bytes (estimated) of parsed, validated and compiled documents kept per cache. */
  documentCacheBytes: number;
  apq: {
    /** Bytes of automatic persisted queries kept in process memory (without Redis). */
    memoryBytes: number;
    ttlSeconds: number;
    /** Keys Redis may hold for persisted queries: a fixed table, so a flood overwrites, never grows. */
    redisSlots: number;
  };
  /** Deadline of every Redis command; past it the lookup is a miss. */
  redisTimeoutMs: number;
  /** A cached visitor is served only this long after Rocket.Chat last accepted its caller. */
  cacheRecheckMs: number;
  /**
   * Trusted documents: the manifest's path, and whether only its documents run (default: in
   * production). Undefined without PERSISTED_DOCUMENTS.
   */
  persistedDocuments: { path: string; only: boolean } | undefined;
  /** Whether the OTEL_* variables ask for traces (tracing.ts); the SDK reads them itself. */
  tracing: boolean;
  /**
   * What a browser opening /graphql gets outside production: Apollo Sandbox (from Apollo's CDN) or
   * GraphiQL served from the gateway's own packages (EXPLORER=local).
   */
  explorer: 'sandbox' | 'local';
  /** The embedded demo's Rocket.Chat limiter (DEMO_RATE_LIMIT); off when undefined. */
  demoRateLimit: { limit: number; windowMs: number } | undefined;
  http: {
    maxConnections: number;
    headersTimeoutMs: number;
    keepAliveTimeoutMs: number;
    requestTimeoutMs: number;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Empty strings count as unset, as they do in most shells' `VAR= cmd`. */
function withoutEmpty(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

/** A password in a URL must not reach stderr or a log collector through an error message. */
function withoutUserInfo(value: string | undefined): string | undefined {
  return value?.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? 'environment');
      return `${name}: ${i.message} (got ${JSON.stringify(withoutUserInfo(env[name]) ?? null)})`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  // Values that are each valid but cannot work together, in the same style as the ones above.
  const conflicts: string[] = [];
  // Node refuses to start a server whose headers may take longer than the whole request.
  if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
    conflicts.push(
      `HTTP_HEADERS_TIMEOUT_MS: must not be more than HTTP_REQUEST_TIMEOUT_MS (got ${e.HTTP_HEADERS_TIMEOUT_MS} and ${e.HTTP_REQUEST_TIMEOUT_MS})`,
    );
  }
  // A deadline shorter than one attempt would cut every slow attempt short of its own timeout.
  if (e.UPSTREAM_DEADLINE_MS < e.UPSTREAM_TIMEOUT_MS) {
    conflicts.push(`UPSTREAM_DEADLINE_MS: must be at least UPSTREAM_TIMEOUT_MS (got ${e.UPSTREAM_DEADLINE_MS} and ${e.UPSTREAM_TIMEOUT_MS})`);
  }
  if (e.PERSISTED_DOCUMENTS_ONLY && e.PERSISTED_DOCUMENTS === undefined) {
    conflicts.push('PERSISTED_DOCUMENTS_ONLY: needs PERSISTED_DOCUMENTS, the manifest whose documents alone may run (got "true" without it)');
  }
  if (e.DEMO_RATE_LIMIT && e.ROCKETCHAT_URL) {
    conflicts.push(
      `DEMO_RATE_LIMIT: applies to the embedded demo only, which does not run with ROCKETCHAT_URL set (got ${JSON.stringify(env.DEMO_RATE_LIMIT)})`,
    );
  }
  if (e.EXPLORER === 'local' && e.NODE_ENV === 'production') {
    conflicts.push('EXPLORER: has no effect in production, whose landing page offers no explorer (got "local")');
  }
  if (conflicts.length) throw new ConfigError(`Invalid configuration:\n  ${conflicts.join('\n  ')}`);
  const production = e.NODE_ENV === 'production';
  return {
    rocketChatUrl: e.ROCKETCHAT_URL,
    port: e.PORT,
    host: e.HOST,
    production,
    nodeEnv: e.NODE_ENV,
    upstream: {
      timeoutMs: e.UPSTREAM_TIMEOUT_MS,
      deadlineMs: e.UPSTREAM_DEADLINE_MS,
      retries: e.UPSTREAM_RETRIES,
      retryBudget: e.UPSTREAM_RETRY_BUDGET,
      connections: e.UPSTREAM_CONNECTIONS,
      queue: e.UPSTREAM_QUEUE,
      concurrencyPerRequest: e.UPSTREAM_CONCURRENCY_PER_REQUEST,
    },
    breaker: { threshold: e.BREAKER_THRESHOLD, halfOpenMs: e.BREAKER_HALF_OPEN_MS },
    maxIds: e.MAX_IDS,
    limits: {
      maxDepth: e.MAX_DEPTH,
      maxAliases: e.MAX_ALIASES,
      maxRootFields: e.MAX_ROOT_FIELDS,
      maxDirectives: e.MAX_DIRECTIVES,
      maxCost: e.MAX_COST,
      maxTokens: e.MAX_TOKENS,
      maxQueryBytes: e.MAX_QUERY_BYTES,
    },
    corsOrigins: e.CORS_ORIGINS,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY,
    introspection: e.INTROSPECTION ?? !production,
    cacheTtlMs: e.CACHE_TTL_MS,
    redisUrl: e.REDIS_URL,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    maxUpstreamCalls: e.MAX_UPSTREAM_CALLS,
    maxResponseBytes: e.MAX_RESPONSE_BYTES,
    maxJsonDepth: e.MAX_JSON_DEPTH,
    documentCacheBytes: e.DOCUMENT_CACHE_BYTES,
    apq: { memoryBytes: e.APQ_MEMORY_BYTES, ttlSeconds: e.APQ_TTL_SECONDS, redisSlots: e.APQ_REDIS_SLOTS },
    redisTimeoutMs: e.REDIS_TIMEOUT_MS,
    cacheRecheckMs: e.CACHE_RECHECK_MS,
    persistedDocuments: e.PERSISTED_DOCUMENTS === undefined ? undefined : { path: e.PERSISTED_DOCUMENTS, only: e.PERSISTED_DOCUMENTS_ONLY ?? production },
    tracing: tracingRequested(env),
    explorer: e.EXPLORER ?? 'sandbox',
    demoRateLimit: e.DEMO_RATE_LIMIT && { limit: e.DEMO_RATE_LIMIT[0], windowMs: e.DEMO_RATE_LIMIT[1] * 1000 },
    http: {
      maxConnections: e.MAX_CONNECTIONS,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    },
  };
}
