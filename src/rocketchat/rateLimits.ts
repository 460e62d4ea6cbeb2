import { LRUCache } from 'lru-cache';

/** What is known of one bucket: when its window reopens, and how many calls it has left until then. */
export interface RateWindow {
  /** Epoch milliseconds. */
  resetAt: number;
  remaining: number;
}

/** A window longer than this is not believed: a wrong clock or header must not lock a caller out for long. */
const LONGEST_WINDOW_MS = 3_600_000;

/**
 * Remembers Rocket.Chat's rate-limit windows. Rocket.Chat says on every limited answer how many
 * calls the bucket has left (`X-RateLimit-Remaining`) and when it refills (`X-RateLimit-Reset`,
 * epoch ms); once it has said 429 (or 0 left) the gateway answers RATE_LIMITED itself until the
 * window reopens, and an operation that needs more calls than are left is refused before it
 * starts instead of spending the rest of the bucket and failing half-way. Rocket.Chat counts per
 * (route, client IP); the key is the client IP the gateway sent plus the user, because users
 * holding `api-bypass-rate-limit` are never limited.
 *
 * `onLearn` hears the window after every answer that spoke of it, so replicas can share them (see
 * cache/sharedRateLimits.ts); `learn` takes one from elsewhere.
 */
export class RateLimitMemory {
  readonly #windows = new LRUCache<string, RateWindow>({ max: 10_000, ttlAutopurge: false, ttl: LONGEST_WINDOW_MS });
  onLearn: ((bucket: string, window: RateWindow) => void) | undefined;

  /** Seconds until a spent bucket reopens, or undefined when calls may go. */
  retryAfter(bucket: string, now = Date.now()): number | undefined {
    const window = this.#current(bucket, now);
    if (!window || window.remaining > 0) return undefined;
    return secondsUntil(window.resetAt, now);
  }

  /** A 429: nothing is left until `retryAfterSeconds` from now. */
  remember(bucket: string, retryAfterSeconds: number, now = Date.now()): void {
    if (retryAfterSeconds > 0) this.#set(bucket, { resetAt: now + Math.min(retryAfterSeconds * 1000, LONGEST_WINDOW_MS), remaining: 0 });
  }

  /**
   * Reads the X-RateLimit-* headers of any answer; an answer without them changes nothing. Within
   * one window the lower count wins: answers arrive out of order, and the calls sent since are
   * already taken off (`spend`).
   */
  observe(bucket: string, headers: Record<string, string | string[] | undefined>, now = Date.now()): void {
    const remainingHeader = headers['x-ratelimit-remaining'];
    if (remainingHeader === undefined) return;
    const remaining = Number(first(remainingHeader));
    const resetAt = Number(first(headers['x-ratelimit-reset']));
    if (!Number.isSafeInteger(remaining) || remaining < 0 || !Number.isFinite(resetAt) || resetAt <= now) return;
    const known = this.#current(bucket, now);
    if (known && known.resetAt === resetAt && known.remaining <= remaining) this.onLearn?.(bucket, known);
    else this.#set(bucket, { resetAt: Math.min(resetAt, now + LONGEST_WINDOW_MS), remaining });
  }

  /** One call is about to go to Rocket.Chat: it comes off the known remainder until an answer tells the count. */
  spend(bucket: string, now = Date.now()): void {
    const window = this.#current(bucket, now);
    if (window && window.remaining > 0) window.remaining -= 1;
  }

  /**
   * Whether an operation that may make `calls` calls fits in what the bucket has left: undefined,
   * or what is left and when it refills. A bucket never heard of admits anything. Nothing is
   * reserved here: each call is taken off as it goes (`spend`), so an operation admitted a moment
   * ago is already counted by the time the next one asks, unless both ask in the same tick.
   */
  admit(bucket: string, calls: number, now = Date.now()): { remaining: number; retryAfter: number } | undefined {
    const window = this.#current(bucket, now);
    if (!window || calls <= window.remaining) return undefined;
    return { remaining: window.remaining, retryAfter: secondsUntil(window.resetAt, now) };
  }

  /** A window another replica learned; kept unless this one knows a later or tighter one. */
  learn(bucket: string, window: RateWindow, now = Date.now()): void {
    if (window.resetAt <= now || window.resetAt > now + LONGEST_WINDOW_MS || !(window.remaining >= 0)) return;
    const known = this.#current(bucket, now);
    if (known && known.resetAt >= window.resetAt && known.remaining <= window.remaining) return;
    this.#windows.set(bucket, { resetAt: window.resetAt, remaining: window.remaining });
  }

  #current(bucket: string, now: number): RateWindow | undefined {
    // Every upstream call asks (spend, retryAfter); most gateways never hear of a window at all.
    if (this.#windows.size === 0) return undefined;
    const window = this.#windows.get(bucket);
    if (window === undefined) return undefined;
    if (window.resetAt <= now) {
      this.#windows.delete(bucket);
      return undefined;
    }
    return window;
  }

  #set(bucket: string, window: RateWindow): void {
    this.#windows.set(bucket, window);
    this.onLearn?.(bucket, window);
  }
}

function secondsUntil(at: number, now: number): number {
  return Math.max(1, Math.ceil((at - now) / 1000));
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
