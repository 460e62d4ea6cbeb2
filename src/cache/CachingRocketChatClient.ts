import { createHash } from 'node:crypto';
import { GatewayError } from '../errors.js';
import type { GatewayMetrics } from '../metrics.js';
import type { CallOptions, Credentials, RocketChatClient } from '../rocketchat/client.js';
import type { ServerInfoResponse, WireVisitor } from '../rocketchat/models.js';
import type { CacheStore } from './store.js';

const PREFIX = 'lvg:v1:visitor:';

/** Names a caller in the shared store: the user id and a hash of the token, never the token. */
export function callerKey(credentials: Credentials): string {
  const tokenHash = createHash('sha256').update(credentials.authToken).digest('base64url');
  return `${credentials.userId}:${tokenHash}`;
}

/**
 * The optional shared cache, in front of the Rocket.Chat client. Entries are per caller (user id +
 * token hash) and id, so one caller's answer never serves another; errors are never cached; a 401 or
 * 403 for a caller drops that caller's entries, since its rights have changed.
 */
export class CachingRocketChatClient implements RocketChatClient {
  readonly #inner: RocketChatClient;
  readonly #store: CacheStore;
  readonly #ttlMs: number;
  readonly #metrics: GatewayMetrics | undefined;

  constructor(inner: RocketChatClient, store: CacheStore, ttlMs: number, metrics?: GatewayMetrics) {
    this.#inner = inner;
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#metrics = metrics;
  }

  get breakerState() {
    return this.#inner.breakerState;
  }

  async getVisitor(id: string, options: CallOptions): Promise<WireVisitor> {
    const callerPrefix = `${PREFIX}${callerKey(options.credentials)}:`;
    const key = callerPrefix + id;
    const cached = await this.#store.get(key);
    this.#metrics?.cacheLookup(cached !== undefined);
    if (cached !== undefined) return JSON.parse(cached) as WireVisitor;
    try {
      const visitor = await this.#inner.getVisitor(id, options);
      await this.#store.set(key, JSON.stringify(visitor), this.#ttlMs);
      return visitor;
    } catch (err) {
      if (err instanceof GatewayError && (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN')) {
        await this.#store.deletePrefix(callerPrefix);
      }
      throw err;
    }
  }

  admit(calls: number, options: CallOptions): GatewayError | undefined {
    return this.#inner.admit?.(calls, options);
  }

  serverInfo(signal?: AbortSignal): Promise<ServerInfoResponse> {
    return this.#inner.serverInfo(signal);
  }

  async close(): Promise<void> {
    await this.#inner.close();
  }
}
