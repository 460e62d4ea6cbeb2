import { LRUCache } from 'lru-cache';
import { Redis } from 'ioredis';
export class MemoryStore {
    #lru;
    constructor(maxEntries = 10_000) {
        this.#lru = new LRUCache({ max: maxEntries, ttlAutopurge: false, allowStale: false });
    }
    async get(key) {
        return this.#lru.get(key);
    }
    async set(key, value, ttlMs) {
        this.#lru.set(key, value, { ttl: ttlMs });
    }
    async delete(key) {
        this.#lru.delete(key);
    }
    async deletePrefix(prefix) {
        for (const key of [...this.#lru.keys()])
            if (key.startsWith(prefix))
                this.#lru.delete(key);
    }
    async close() {
        this.#lru.clear();
    }
}
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
//# sourceMappingURL=store.js.map