import type { BreakerState } from '../rocketchat/resilience.js';
import { createHash } from 'node:crypto';
import { GatewayError } from '../errors.js';
import type { GatewayMetrics } from '../metrics.js';
import type { CallOptions, Credentials, RocketChatClient } from '../rocketchat/client.js';
import type { ChatHistoryResponse, ServerInfoResponse, VisitorSearchResponse, WireDepartment, WireUser, WireVisitor } from '../rocketchat/models.js';
import type { CacheStore, VisitorEntry } from './store.js';

/** Names a caller in the shared store: the user id and a hash of the token, never the token. */
export function callerKey(credentials: Credentials): string {
  const tokenHash = createHash('sha256').update(credentials.authToken).digest('base64url');
  return `${credentials.userId}:${tokenHash}`;
}

/**
 * Confirmations in flight at once, one per stale caller. Past it a stale caller's lookups each ask
 * Rocket.Chat themselves, which is what they would do without a cache.
 */
const MAX_CONFIRMING = 10_000;

export interface CacheOptions {
  /** How long a visitor stays cached (CACHE_TTL_MS). */
  ttlMs: number;
  /** A cached visitor is served only this long after Rocket.Chat last accepted its caller (CACHE_RECHECK_MS). */
  recheckMs: number;
}

/** One operation's view of its caller, read from the store once and updated as Rocket.Chat answers. */
interface CallerView {
  readonly caller: string;
  generation: string | undefined;
  /** performance.now() until which a cached visitor may be served. */
  freshUntil: number;
  /** Rocket.Chat refused the caller during this operation: its other lookups answer the same. */
  refusal?: GatewayError;
}

/**
 * The options VisitorsAPI builds once per operation and passes with each of its ids; the view
 * rides on them, so the caller's record is read once per operation rather than once per id.
 */
interface BatchOptions extends CallOptions {
  cacheView?: Promise<CallerView | undefined>;
}

/** How a confirming call ended, for the lookups that waited on it. */
type Confirmation = { generation: string; freshUntil: number } | { refusal: GatewayError } | undefined;

/**
 * The optional shared cache, in front of the Rocket.Chat client. Entries are per caller (user id +
 * token hash) and id, so one caller's answer never serves another; errors are never cached.
 *
 * A cached visitor is served only to a caller Rocket.Chat accepted (answered, with these
 * credentials) at most `recheckMs` ago, so a revoked token stops reading the cache within that
 * window. A stale caller's first lookup asks Rocket.Chat and the caller's other lookups meanwhile
 * wait for that one answer, then read the cache. A 401 or 403 retires the caller's generation: the
 * entries it had are never reached again, and nothing looks for them.
 */
export class CachingRocketChatClient implements RocketChatClient {
  readonly #inner: RocketChatClient;
  readonly #store: CacheStore;
  readonly #ttlMs: number;
  readonly #recheckMs: number;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #confirming = new Map<string, Promise<Confirmation>>();

  constructor(inner: RocketChatClient, store: CacheStore, options: CacheOptions, metrics?: GatewayMetrics) {
    this.#inner = inner;
    this.#store = store;
    this.#ttlMs = options.ttlMs;
    this.#recheckMs = options.recheckMs;
    this.#metrics = metrics;
  }

  get breakerState() {
    return this.#inner.breakerState;
  }

  async getVisitor(id: string, options: CallOptions): Promise<WireVisitor> {
    const batch = options as BatchOptions;
    const view = await (batch.cacheView ??= this.#readView(options.credentials));
    if (view === undefined) {
      // The store did not answer: this operation goes without the cache.
      this.#metrics?.cacheLookup(false);
      return this.#inner.getVisitor(id, options);
    }
    if (view.refusal) throw view.refusal;
    if (performance.now() < view.freshUntil) return this.#cachedOrFetch(id, options, view, view.generation!);

    const pending = this.#confirming.get(view.caller);
    if (pending === undefined) return this.#fetch(id, options, view, true);
    const confirmation = await pending;
    if (confirmation === undefined) {
      this.#metrics?.cacheLookup(false);
      return this.#fetch(id, options, view, false);
    }
    if ('refusal' in confirmation) {
      view.refusal = confirmation.refusal;
      throw confirmation.refusal;
    }
    // The answer waited for is the confirmation, however old it is by now.
    view.generation = confirmation.generation;
    view.freshUntil = Math.max(view.freshUntil, confirmation.freshUntil);
    return this.#cachedOrFetch(id, options, view, confirmation.generation);
  }

  /**
   * Departments go to Rocket.Chat every time: the cache's generations and rechecks are built
   * around visitors, and a department list is one call per 20 departments an operation needs.
   */
  getDepartments(ids: readonly string[], options: CallOptions): Promise<WireDepartment[]> {
    return this.#inner.getDepartments(ids, options);
  }

  /** Users go to Rocket.Chat every time too, for the same reason as departments. */
  getUser(idOrUsername: string, options: CallOptions): Promise<WireUser> {
    return this.#inner.getUser(idOrUsername, options);
  }

  /** Chat history goes to Rocket.Chat every time: a console pages through it, and it changes while chats run. */
  getChatHistory(roomId: string, visitorId: string, page: { offset: number; count: number }, options: CallOptions): Promise<ChatHistoryResponse> {
    return this.#inner.getChatHistory(roomId, visitorId, page, options);
  }

  /** Searches go to Rocket.Chat every time: their answers depend on the term and change as visitors come. */
  searchVisitors(term: string, page: { offset: number; count: number }, options: CallOptions): Promise<VisitorSearchResponse> {
    return this.#inner.searchVisitors(term, page, options);
  }

  avatarUrl(username: string, etag: string | undefined): string {
    return this.#inner.avatarUrl(username, etag);
  }

  get rateLimits() {
    return this.#inner.rateLimits;
  }

  onBreakerStateChange(listener: (state: BreakerState) => void): void {
    this.#inner.onBreakerStateChange?.(listener);
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

  async #readView(credentials: Credentials): Promise<CallerView | undefined> {
    const caller = callerKey(credentials);
    const readAt = performance.now();
    const record = await this.#store.caller(caller);
    if (record === undefined) return undefined;
    return { caller, generation: record.generation, freshUntil: readAt + this.#recheckMs - record.acceptedAgoMs };
  }

  async #cachedOrFetch(id: string, options: CallOptions, view: CallerView, generation: string): Promise<WireVisitor> {
    const cached = await this.#store.get(view.caller, generation, id);
    this.#metrics?.cacheLookup(cached !== undefined);
    if (cached !== undefined) return JSON.parse(cached) as WireVisitor;
    return this.#fetch(id, options, view, false);
  }

  /** Asks Rocket.Chat; with `confirms`, the caller's other lookups wait for this answer meanwhile. */
  async #fetch(id: string, options: CallOptions, view: CallerView, confirms: boolean): Promise<WireVisitor> {
    let settle: ((confirmation: Confirmation) => void) | undefined;
    let pending: Promise<Confirmation> | undefined;
    if (confirms) {
      this.#metrics?.cacheLookup(false);
      if (this.#confirming.size < MAX_CONFIRMING) {
        pending = new Promise<Confirmation>((resolve) => (settle = resolve));
        this.#confirming.set(view.caller, pending);
      }
    }
    const sentAt = Date.now();
    const startedAt = performance.now();
    let confirmation: Confirmation;
    try {
      const visitor = await this.#inner.getVisitor(id, options);
      confirmation = await this.#accepted(view, sentAt, startedAt, { id, value: JSON.stringify(visitor) });
      return visitor;
    } catch (err) {
      confirmation = await this.#failed(view, err, sentAt, startedAt);
      throw err;
    } finally {
      if (pending) {
        if (this.#confirming.get(view.caller) === pending) this.#confirming.delete(view.caller);
        settle!(confirmation);
      }
    }
  }

  async #accepted(view: CallerView, sentAt: number, startedAt: number, entry?: VisitorEntry): Promise<Confirmation> {
    const generation = await this.#store.accept(view.caller, view.generation, sentAt, this.#ttlMs, entry);
    if (generation === undefined) return undefined;
    const freshUntil = startedAt + this.#recheckMs;
    if (!view.refusal) {
      view.generation = generation;
      view.freshUntil = Math.max(view.freshUntil, freshUntil);
    }
    return { generation, freshUntil };
  }

  async #failed(view: CallerView, err: unknown, sentAt: number, startedAt: number): Promise<Confirmation> {
    if (!(err instanceof GatewayError)) return undefined;
    if (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN') {
      const first = view.refusal === undefined;
      view.refusal = err;
      view.generation = undefined;
      view.freshUntil = -Infinity;
      if (first) await this.#store.refuse(view.caller);
      return { refusal: err };
    }
    // Rocket.Chat checks the credentials and the permission before it looks for the visitor.
    if (err.code === 'NOT_FOUND') return this.#accepted(view, sentAt, startedAt);
    return undefined;
  }
}
