import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ErrorCode } from './errors.js';
import type { BreakerState } from './rocketchat/resilience.js';

/** Client-chosen operation names become a label; past this many distinct ones they count as "other". */
const MAX_OPERATION_NAMES = 100;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** From a cached answer (1 ms) to a call at the end of its deadline (10 s). */
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * Prometheus metrics for one gateway, in its own registry (so two gateways in one process, as in
 * tests, never mix). No label ever holds a credential, a user or a visitor id.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #operations: Counter<'operation' | 'outcome' | 'code'>;
  readonly #operationSeconds: Histogram<'outcome'>;
  readonly #upstreamRequests: Counter<'route' | 'status_class'>;
  readonly #upstreamSeconds: Histogram<'route' | 'status_class'>;
  readonly #persistedQueryMisses: Counter;
  readonly #batchSize: Histogram;
  readonly #cache: Counter<'result'>;
  readonly #refusals: Counter<'limit'>;
  readonly #names = new Set<string>();
  readonly #operationChildren = new Map<string, { count: { inc(): void }; seconds: { observe(v: number): void } }>();
  readonly #upstreamChildren = new Map<string, { count: { inc(): void }; seconds: { observe(v: number): void } }>();

  constructor(options: { breakerState?: () => BreakerState | undefined } = {}) {
    const registers = [this.registry];
    this.#operations = new Counter({
      name: 'gateway_operations_total',
      help: 'GraphQL operations by operation name, outcome (ok, error) and the first error code (none without errors).',
      labelNames: ['operation', 'outcome', 'code'],
      registers,
    });
    this.#operationSeconds = new Histogram({
      name: 'gateway_operation_duration_seconds',
      help: 'Time to answer a GraphQL operation.',
      labelNames: ['outcome'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.#upstreamRequests = new Counter({
      name: 'gateway_upstream_requests_total',
      help: 'Attempts to call Rocket.Chat, by route pattern and status class (2xx, 4xx, 429, 5xx, error, timeout).',
      labelNames: ['route', 'status_class'],
      registers,
    });
    this.#upstreamSeconds = new Histogram({
      name: 'gateway_upstream_request_duration_seconds',
      help: 'Time of one attempt to call Rocket.Chat, by route pattern and status class.',
      labelNames: ['route', 'status_class'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.#persistedQueryMisses = new Counter({
      name: 'gateway_persisted_query_misses_total',
      help: 'Automatic persisted queries asked by hash and not known (PERSISTED_QUERY_NOT_FOUND): the first half of the handshake, not a failed operation.',
      registers,
    });
    this.#batchSize = new Histogram({
      name: 'gateway_dataloader_batch_size',
      help: 'Visitor ids per DataLoader batch (one batch per operation tick).',
      buckets: [1, 2, 5, 10, 20, 50, 100],
      registers,
    });
    this.#cache = new Counter({
      name: 'gateway_cache_lookups_total',
      help: 'Shared cache lookups of Rocket.Chat answers (every route) by result (hit, miss).',
      labelNames: ['result'],
      registers,
    });
    this.#refusals = new Counter({
      name: 'gateway_limit_refusals_total',
      help: 'Operations (or, for connections, sockets) a limit refused: upstream_calls, response_bytes, rate_limit, connections.',
      labelNames: ['limit'],
      registers,
    });
    const breakerState = options.breakerState;
    new Gauge({
      name: 'gateway_breaker_state',
      help: 'Circuit breaker on Rocket.Chat: 0 closed, 1 half-open, 2 open.',
      registers,
      collect() {
        const state = breakerState?.();
        if (state) this.set(BREAKER_VALUE[state]);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** One operation, with the code of its first error (undefined: none); a code outside the catalogue counts as `other`. */
  operation(name: string | null | undefined, firstCode: string | undefined, seconds: number): void {
    const label = this.#label(name);
    const code = firstCode === undefined ? 'none' : KNOWN_CODES.has(firstCode) ? firstCode : 'other';
    const outcome = firstCode === undefined ? 'ok' : 'error';
    const key = `${label}\n${code}`;
    let child = this.#operationChildren.get(key);
    if (!child) {
      child = { count: this.#operations.labels({ operation: label, outcome, code }), seconds: this.#operationSeconds.labels({ outcome }) };
      this.#operationChildren.set(key, child);
    }
    child.count.inc();
    child.seconds.observe(seconds);
  }

  /**
   * A request refused before Apollo saw it (trusted documents): counted as an operation named
   * `other`, since a name the client sent with a document that never ran must not take one of the
   * bounded name labels from the operations that do.
   */
  refusedRequest(code: string, seconds: number): void {
    this.#operations.inc({ operation: 'other', outcome: 'error', code: KNOWN_CODES.has(code) ? code : 'other' });
    this.#operationSeconds.observe({ outcome: 'error' }, seconds);
  }

  /** One attempt; `route` is a route pattern of the client's (a fixed handful). */
  upstream(route: string, statusClass: string, seconds: number): void {
    // Label children are looked up once per route and status class: this runs on every upstream attempt.
    const key = `${route}\n${statusClass}`;
    let child = this.#upstreamChildren.get(key);
    if (!child) {
      child = {
        count: this.#upstreamRequests.labels({ route, status_class: statusClass }),
        seconds: this.#upstreamSeconds.labels({ route, status_class: statusClass }),
      };
      this.#upstreamChildren.set(key, child);
    }
    child.count.inc();
    child.seconds.observe(seconds);
  }

  persistedQueryMiss(): void {
    this.#persistedQueryMisses.inc();
  }

  batch(size: number): void {
    this.#batchSize.observe(size);
  }

  /** An operation an error code of `codes` names a limit for: counted once per limit. */
  refusals(codes: readonly string[]): void {
    for (const code of codes) {
      const limit = LIMIT_OF_CODE[code];
      if (limit) this.#refusals.inc({ limit });
    }
  }

  connectionDropped(): void {
    this.#refusals.inc({ limit: 'connections' });
  }

  cacheLookup(hit: boolean): void {
    this.#cache.inc({ result: hit ? 'hit' : 'miss' });
  }

  #label(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (this.#names.has(name)) return name;
    if (this.#names.size >= MAX_OPERATION_NAMES) return 'other';
    this.#names.add(name);
    return name;
  }
}

/** `200` → `2xx`; 429 kept apart because it means something else than other 4xx. */
export function statusClass(status: number): string {
  return status === 429 ? '429' : (STATUS_CLASSES[Math.floor(status / 100)] ?? `${Math.floor(status / 100)}xx`);
}

/** The `code` label's values besides `none` and `other`: the catalogue. */
const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** The error codes that mean a limit of the gateway's own refused (part of) an operation. */
const LIMIT_OF_CODE: Readonly<Record<string, string>> = Object.assign(Object.create(null), {
  UPSTREAM_BUDGET_EXCEEDED: 'upstream_calls',
  RESPONSE_TOO_LARGE: 'response_bytes',
  RATE_LIMITED: 'rate_limit',
});

const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];
