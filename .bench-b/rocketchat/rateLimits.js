import { LRUCache } from 'lru-cache';
/**
 * Remembers Rocket.Chat's rate-limit windows, so that once it has said 429 the gateway answers
 * RATE_LIMITED itself until the window reopens, instead of spending calls that will only be refused.
 * Rocket.Chat counts per (route, client IP); the key is the client IP the gateway sent, plus the user,
 * because users holding `api-bypass-rate-limit` are never limited.
 */
export class RateLimitMemory {
    #windows = new LRUCache({ max: 10_000, ttlAutopurge: false, ttl: 3_600_000 });
    /** Seconds until the bucket reopens, or undefined when calls may go. */
    retryAfter(bucket, now = Date.now()) {
        const resetAt = this.#windows.get(bucket);
        if (resetAt === undefined)
            return undefined;
        if (resetAt <= now) {
            this.#windows.delete(bucket);
            return undefined;
        }
        return Math.ceil((resetAt - now) / 1000);
    }
    remember(bucket, retryAfterSeconds, now = Date.now()) {
        if (retryAfterSeconds > 0)
            this.#windows.set(bucket, now + retryAfterSeconds * 1000);
    }
}
//# sourceMappingURL=rateLimits.js.map