import type { BreakerState } from '../rocketchat/resilience.js';
import { createHash } from 'node:crypto';
import { GatewayError } from '../errors.js';
import type { GatewayMetrics } from '../metrics.js';
import { ROUTES, type CallOptions, type Credentials, type RocketChatClient, type RoutePattern } from '../rocketchat/client.js';
import type { Tracing } from '../tracing.js';
import type { ChatHistoryResponse, ServerInfoResponse, VisitorSearchResponse, WireDepartment, WireUser, WireVisitor } from '../rocketchat/models.js';
import { recordWireSize } from '../rocketchat/wireSize.js';
import type { CacheEntry, CacheStore } from './store.js';

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
  /** A span for each answer the cache gives (tracing.ts); none when tracing is off. */
  tracing?: Tracing;
}

/** One operation's view of its caller, read from the store once and updated as Rocket.Chat answers. */
interface CallerView {
  readonly caller: string;
  generation: string | undefined;
  /** performance.now() until which a cached entry may be served. */
  freshUntil: number;
  /**
   * Rocket.Chat refused the caller during this operation. From then on the operation neither reads
   * nor writes the cache; a 401 answers every other lookup of the operation, a 403 those of its route.
   */
  refusal?: Refusal;
}

interface Refusal {
  error: GatewayError;
  route: Route;
}

/** How a confirming call ended, for the lookups that waited on it. */
type Confirmation = { generation: string; freshUntil: number } | { refusal: Refusal } | undefined;

/** Where one lookup stands before it reads the cache or asks Rocket.Chat. */
type Standing =
  /** The caller is fresh: entries of `generation` may be served. */
  | { view: CallerView; generation: string }
  /**
   * Stale: ask Rocket.Chat. With `confirming`, this lookup's answer is the confirmation the caller's
   * other lookups wait for, and it settles it.
   */
  | { view: CallerView; generation?: undefined; confirming?: Confirming };

/** A confirmation in flight, registered before any other lookup of the caller can look for one. */
interface Confirming {
  pending: Promise<Confirmation>;
  settle(confirmation: Confirmation): void;
}

/** What a route's answers are cached as, and what a success of the route proves about the caller. */
interface Route {
  /** The route's pattern, for the span of a cached answer. */
  pattern: RoutePattern;
  /** Entry ids of the route: a visitor's is its bare id, another route's `<name>:<hash of key>`. */
  entryId(key: string): string;
  /**
   * Whether an answer proves what serving a cached entry needs: these credentials are valid and
   * hold `view-l-room`. visitors.info (a visitor, or `visitor-not-found`, which comes only after
   * the permission check), visitors.search and visitors.chatHistory need that permission;
   * department.listByIds is also open to `view-livechat-departments` and users.info to any
   * logged-in user, so their answers are cached but never count as an acceptance. Otherwise a
   * caller who lost `view-l-room` would go on reading cached visitors as long as agents load.
   */
  confirms: boolean;
  /** Whether NOT_FOUND comes only after the credentials and the permission passed. */
  notFoundAccepts?: boolean;
}

/** Visitor ids are `[A-Za-z0-9_-]`, so a `:` keeps other routes' ids apart from them. */
const hashedId = (name: string) => (key: string) => `${name}:${createHash('sha256').update(key).digest('base64url')}`;

const VISITORS: Route = { pattern: ROUTES.visitorsInfo, entryId: (id) => id, confirms: true, notFoundAccepts: true };
const DEPARTMENTS: Route = { pattern: ROUTES.departmentList, entryId: (id) => `department:${id}`, confirms: false };
const USERS: Route = { pattern: ROUTES.usersInfo, entryId: hashedId('user'), confirms: false };
const CHATS: Route = { pattern: ROUTES.chatHistory, entryId: hashedId('chats'), confirms: true };
const SEARCHES: Route = { pattern: ROUTES.visitorsSearch, entryId: hashedId('search'), confirms: true };

/**
 * The optional shared cache, in front of the Rocket.Chat client. Every route's answers are cached
 * per caller (user id + token hash), route and key, so one caller's answer never serves another;
 * errors are never cached. A department Rocket.Chat left out of a list (deleted) is cached as
 * absent.
 *
 * A cached entry is served only to a caller Rocket.Chat accepted (answered a route that needs
 * `view-l-room`, with these credentials) at most `recheckMs` ago, so a revoked token or a withdrawn
 * permission stops reading the cache within that window. A stale caller's first such lookup asks
 * Rocket.Chat and the caller's other lookups meanwhile wait for that one answer, then read the
 * cache. A 401 or 403 on any route retires the caller's generation: the entries it had are never
 * reached again, and nothing looks for them.
 */
export class CachingRocketChatClient implements RocketChatClient {
  readonly #inner: RocketChatClient;
  readonly #store: CacheStore;
  readonly #ttlMs: number;
  readonly #recheckMs: number;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #tracing: Tracing | undefined;
  readonly #confirming = new Map<string, Promise<Confirmation>>();
  /** Each operation's view of its caller, by CallOptions.operation (or the options object). */
  readonly #views = new WeakMap<object, Promise<CallerView | undefined>>();

  constructor(inner: RocketChatClient, store: CacheStore, options: CacheOptions, metrics?: GatewayMetrics) {
    this.#inner = inner;
    this.#store = store;
    this.#ttlMs = options.ttlMs;
    this.#recheckMs = options.recheckMs;
    this.#tracing = options.tracing;
    this.#metrics = metrics;
  }

  get breakerState() {
    return this.#inner.breakerState;
  }

  getVisitor(id: string, options: CallOptions): Promise<WireVisitor> {
    return this.#lookup(VISITORS, id, options, () => this.#inner.getVisitor(id, options));
  }

  /** Each department is its own entry, so a list call asks Rocket.Chat only for the ones not cached. */
  async getDepartments(ids: readonly string[], options: CallOptions): Promise<WireDepartment[]> {
    const standing = await this.#standing(options, DEPARTMENTS);
    if (standing === undefined) {
      for (let i = 0; i < ids.length; i++) this.#metrics?.cacheLookup(false);
      return this.#inner.getDepartments(ids, options);
    }
    const served: WireDepartment[] = [];
    // Rocket.Chat answers a repeated id once; so does the cache.
    let missing: readonly string[] = ids.length > 1 ? [...new Set(ids)] : ids;
    const unique = missing;
    if (standing.generation !== undefined) {
      const { caller } = standing.view;
      const cached = await Promise.all(unique.map((id) => this.#store.get(caller, standing.generation, DEPARTMENTS.entryId(id))));
      missing = unique.filter((_, i) => cached[i] === undefined);
      for (const value of cached) {
        this.#metrics?.cacheLookup(value !== undefined);
        const department = value === undefined ? null : parseEntry<WireDepartment | null>(value);
        if (department) served.push(department);
      }
      if (missing.length < unique.length) this.#tracing?.cacheHit(options.operation?.trace, DEPARTMENTS.pattern);
    } else for (let i = 0; i < unique.length; i++) this.#metrics?.cacheLookup(false);
    if (missing.length === 0) return served;
    const fetched = await this.#fetch(
      DEPARTMENTS,
      standing,
      () => this.#inner.getDepartments(missing, options),
      (departments) => {
        const byId = new Map(departments.map((department) => [department._id, department]));
        return missing.map((id) => ({ id: DEPARTMENTS.entryId(id), value: JSON.stringify(byId.get(id) ?? null) }));
      },
    );
    return served.length === 0 ? fetched : served.concat(fetched);
  }

  getUser(idOrUsername: string, options: CallOptions): Promise<WireUser> {
    return this.#lookup(USERS, idOrUsername, options, () => this.#inner.getUser(idOrUsername, options));
  }

  getChatHistory(roomId: string, visitorId: string, page: { offset: number; count: number }, options: CallOptions): Promise<ChatHistoryResponse> {
    const key = `${roomId}\n${visitorId}\n${page.offset}\n${page.count}`;
    return this.#lookup(CHATS, key, options, () => this.#inner.getChatHistory(roomId, visitorId, page, options));
  }

  searchVisitors(term: string, page: { offset: number; count: number }, options: CallOptions): Promise<VisitorSearchResponse> {
    const key = `${page.offset}\n${page.count}\n${term}`;
    return this.#lookup(SEARCHES, key, options, () => this.#inner.searchVisitors(term, page, options));
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

  /** One answer of one route: from the cache when the caller is fresh and it is there, else from Rocket.Chat. */
  async #lookup<T extends object>(route: Route, key: string, options: CallOptions, ask: () => Promise<T>): Promise<T> {
    const standing = await this.#standing(options, route);
    if (standing === undefined) {
      this.#metrics?.cacheLookup(false);
      return ask();
    }
    const entryId = route.entryId(key);
    if (standing.generation !== undefined) {
      const cached = await this.#store.get(standing.view.caller, standing.generation, entryId);
      this.#metrics?.cacheLookup(cached !== undefined);
      if (cached !== undefined) {
        this.#tracing?.cacheHit(options.operation?.trace, route.pattern);
        return parseEntry<T>(cached);
      }
    } else this.#metrics?.cacheLookup(false);
    return this.#fetch(route, standing, ask, (value) => [{ id: entryId, value: JSON.stringify(value) }]);
  }

  /**
   * Reads the caller's record once per operation, and waits for a confirmation another lookup of
   * the caller has in flight. Undefined: the store did not answer, and the operation goes without
   * the cache.
   */
  async #standing(options: CallOptions, route: Route): Promise<Standing | undefined> {
    const key = options.operation ?? options;
    let read = this.#views.get(key);
    if (read === undefined) this.#views.set(key, (read = this.#readView(options.credentials)));
    const view = await read;
    if (view === undefined) return undefined;
    if (view.refusal) {
      if (answersSame(view.refusal, route)) throw view.refusal.error;
      return { view };
    }
    if (performance.now() < view.freshUntil) return { view, generation: view.generation! };

    const pending = this.#confirming.get(view.caller);
    if (pending === undefined) {
      if (!route.confirms || this.#confirming.size >= MAX_CONFIRMING) return { view };
      // Registered in the same step as the check above, so the caller's lookups of this tick find it.
      let settle!: (confirmation: Confirmation) => void;
      const confirming = { pending: new Promise<Confirmation>((resolve) => (settle = resolve)), settle };
      this.#confirming.set(view.caller, confirming.pending);
      return { view, confirming };
    }
    const confirmation = await pending;
    if (confirmation === undefined) return { view };
    if ('refusal' in confirmation) {
      view.refusal ??= confirmation.refusal;
      if (answersSame(confirmation.refusal, route)) throw confirmation.refusal.error;
      return { view };
    }
    // The answer waited for is the confirmation, however old it is by now.
    view.generation = confirmation.generation;
    view.freshUntil = Math.max(view.freshUntil, confirmation.freshUntil);
    return { view, generation: confirmation.generation };
  }

  async #readView(credentials: Credentials): Promise<CallerView | undefined> {
    const caller = callerKey(credentials);
    const readAt = performance.now();
    const record = await this.#store.caller(caller);
    if (record === undefined) return undefined;
    return { caller, generation: record.generation, freshUntil: readAt + this.#recheckMs - record.acceptedAgoMs };
  }

  /** Asks Rocket.Chat, caches the answer as `entries` says, and settles the confirmation it stands for. */
  async #fetch<T>(route: Route, standing: Standing, ask: () => Promise<T>, entries: (value: T) => CacheEntry[]): Promise<T> {
    const { view } = standing;
    const confirming = standing.generation === undefined ? standing.confirming : undefined;
    const sentAt = Date.now();
    const startedAt = performance.now();
    let confirmation: Confirmation;
    try {
      const value = await ask();
      if (view.refusal) {
        // Refused meanwhile, on another route or by another lookup: nothing from this operation
        // may record an acceptance or write under a generation.
      } else if (route.confirms) {
        const [entry] = entries(value);
        confirmation = await this.#accepted(view, sentAt, startedAt, entry);
      } else if (view.generation !== undefined) {
        await this.#store.put(view.caller, view.generation, entries(value), this.#ttlMs);
      }
      return value;
    } catch (err) {
      confirmation = await this.#failed(route, view, err, sentAt, startedAt);
      throw err;
    } finally {
      if (confirming) {
        if (this.#confirming.get(view.caller) === confirming.pending) this.#confirming.delete(view.caller);
        confirming.settle(confirmation);
      }
    }
  }

  async #accepted(view: CallerView, sentAt: number, startedAt: number, entry?: CacheEntry): Promise<Confirmation> {
    const generation = await this.#store.accept(view.caller, view.generation, sentAt, this.#ttlMs, entry);
    if (generation === undefined) return undefined;
    const freshUntil = startedAt + this.#recheckMs;
    // A refusal that came in while the store answered wins, for this operation.
    if (view.refusal) return undefined;
    view.generation = generation;
    view.freshUntil = Math.max(view.freshUntil, freshUntil);
    return { generation, freshUntil };
  }

  async #failed(route: Route, view: CallerView, err: unknown, sentAt: number, startedAt: number): Promise<Confirmation> {
    if (!(err instanceof GatewayError)) return undefined;
    // A refusal on any route retires everything cached for the caller: a chat history's per-room
    // refusal too, which costs the caller a confirming call rather than risk a stale permission.
    if (err.code === 'UNAUTHENTICATED' || err.code === 'FORBIDDEN') {
      const first = view.refusal === undefined;
      const refusal = { error: err, route };
      view.refusal ??= refusal;
      view.generation = undefined;
      view.freshUntil = -Infinity;
      if (first) await this.#store.refuse(view.caller);
      return { refusal };
    }
    if (err.code === 'NOT_FOUND' && route.notFoundAccepts) return this.#accepted(view, sentAt, startedAt);
    return undefined;
  }
}

/**
 * Whether a lookup of `route` answers with the operation's refusal rather than asking: an invalid
 * token is invalid for every route, a missing permission only for the route that wants it.
 */
function answersSame(refusal: Refusal, route: Route): boolean {
  return refusal.error.code === 'UNAUTHENTICATED' || refusal.route === route;
}

/** A cached answer, its size for the response budget taken from the entry rather than measured again. */
function parseEntry<T>(value: string): T {
  const parsed = JSON.parse(value) as T;
  if (parsed !== null && typeof parsed === 'object') recordWireSize(parsed, value.length);
  return parsed;
}
