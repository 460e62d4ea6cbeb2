import { Redis } from 'ioredis';
/**
 * The shared cache in Redis, so replicas share it. Imported only when REDIS_URL is set (server.ts):
 * merely loading ioredis made V8 promote the gateway's in-flight objects out of the young
 * generation (about 800 KB per scavenge under load, against 50 KB without it; `--trace-gc-nvp`),
 * which cost every request, cache or no cache.
 */
export class RedisStore {
    #redis;
    #log;
    constructor(url, log) {
        this.#log = log;
        // Fail fast while disconnected: a cache that queues commands would add its outage to every query.
        this.#redis = new Redis(url, { lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
        this.#redis.on('error', (err) => this.#log.warn({ err: { message: err.message } }, 'redis cache error; serving without it'));
    }
    /** Resolves once connected (or rejects after the connect timeout); used by start-up and tests. */
    ready() {
        if (this.#redis.status === 'ready')
            return Promise.resolve();
        return new Promise((resolve, reject) => {
            this.#redis.once('ready', () => resolve());
            this.#redis.once('end', () => reject(new Error('redis connection ended')));
        });
    }
    async get(key) {
        try {
            return (await this.#redis.get(key)) ?? undefined;
        }
        catch {
            return undefined;
        }
    }
    async set(key, value, ttlMs) {
        try {
            await this.#redis.set(key, value, 'PX', ttlMs);
        }
        catch {
            // A cache write that fails only costs a future miss.
        }
    }
    async delete(key) {
        try {
            await this.#redis.del(key);
        }
        catch {
            // As above.
        }
    }
    async deletePrefix(prefix) {
        try {
            let cursor = '0';
            do {
                const [next, keys] = await this.#redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 500);
                cursor = next;
                if (keys.length)
                    await this.#redis.unlink(...keys);
            } while (cursor !== '0');
        }
        catch (err) {
            this.#log.warn({ err: { message: err.message } }, 'redis cache eviction failed');
        }
    }
    async close() {
        await this.#redis.quit().catch(() => this.#redis.disconnect());
    }
}
function escapeGlob(text) {
    return text.replace(/[*?[\]\\]/g, '\\$&');
}
//# sourceMappingURL=redisStore.js.map