import { z } from 'zod';
/**
 * Every environment variable the gateway reads, parsed and validated once at start-up. A bad value
 * stops the process with a message naming the variable (see index.ts), rather than failing later
 * on the first request.
 */
const int = (min, max, fallback) => z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min).max(max))
    .default(fallback);
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const bool = (fallback) => flag.default(fallback);
const csv = z
    .string()
    .default('')
    .transform((v) => v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean));
const rocketChatUrl = z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .refine((v) => {
    if (!URL.canParse(v))
        return true; // already reported by z.url()
    const u = new URL(v);
    return !u.search && !u.hash && !u.username && !u.password;
}, 'must not contain a query string, fragment or credentials')
    // Rocket.Chat may live under a path prefix (https://host/chat); keep it, without a trailing slash.
    .transform((v) => v.replace(/\/+$/, ''));
const EnvSchema = z.object({
    ROCKETCHAT_URL: rocketChatUrl.optional(),
    PORT: int(0, 65535, 4000),
    HOST: z.string().min(1).default('0.0.0.0'),
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
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
    CORS_ORIGINS: csv,
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    TRUST_PROXY: bool(false),
    CACHE_TTL_MS: int(0, 86_400_000, 0),
    REDIS_URL: z
        .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
        .optional(),
    SHUTDOWN_GRACE_MS: int(0, 600_000, 10_000),
    INTROSPECTION: flag.optional(),
});
export class ConfigError extends Error {
    name = 'ConfigError';
}
/** Empty strings count as unset, as they do in most shells' `VAR= cmd`. */
function withoutEmpty(env) {
    const out = {};
    for (const [k, v] of Object.entries(env))
        if (v !== undefined && v !== '')
            out[k] = v;
    return out;
}
/** A password in a URL must not reach stderr or a log collector through an error message. */
function withoutUserInfo(value) {
    return value?.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
}
export function loadConfig(env = process.env) {
    const parsed = EnvSchema.safeParse(withoutEmpty(env));
    if (!parsed.success) {
        const lines = parsed.error.issues.map((i) => {
            const name = String(i.path[0] ?? 'environment');
            return `${name}: ${i.message} (got ${JSON.stringify(withoutUserInfo(env[name]) ?? null)})`;
        });
        throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
    }
    const e = parsed.data;
    const production = e.NODE_ENV === 'production';
    return {
        rocketChatUrl: e.ROCKETCHAT_URL,
        port: e.PORT,
        host: e.HOST,
        production,
        nodeEnv: e.NODE_ENV,
        upstream: {
            timeoutMs: e.UPSTREAM_TIMEOUT_MS,
            deadlineMs: Math.max(e.UPSTREAM_DEADLINE_MS, e.UPSTREAM_TIMEOUT_MS),
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
    };
}
//# sourceMappingURL=config.js.map