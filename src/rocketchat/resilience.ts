import {
  BrokenCircuitError,
  BulkheadRejectedError,
  bulkhead,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleType,
  handleWhen,
  retry,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
  type RetryPolicy,
} from 'cockatiel';
import { callerAborted, circuitOpen, GatewayError, upstreamSaturated, upstreamTimeout } from '../errors.js';
import { RetryBudget } from './retryBudget.js';

export interface ResilienceOptions {
  /** Per attempt: connect, headers and the whole body. */
  timeoutMs: number;
  /** Per call, across attempts and backoffs. */
  deadlineMs: number;
  retries: number;
  retryBudget: number;
  /** Calls in flight at once, and how many may queue behind them. */
  connections: number;
  queue: number;
  breakerThreshold: number;
  breakerHalfOpenMs: number;
  /** First backoff delay; jittered, doubling up to a second. */
  retryBaseDelayMs?: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** Marks a failure the retry policy should try again; never escapes this module. */
class RetryThis extends Error {
  constructor(readonly failure: GatewayError) {
    super(failure.message);
  }
}

/**
 * The policies every upstream call goes through, outermost first: an overall deadline (timers and
 * abort signals, cheaper per call than a policy object), retries
 * (idempotent GETs only, bounded by count and by a budget, jittered exponential backoff), a circuit
 * breaker counting only Rocket.Chat's own faults, and a bulkhead bounding calls in flight. Policies
 * decide *whether* to call; codes still come from the error catalogue.
 */
export class UpstreamPolicy {
  readonly #options: ResilienceOptions;
  readonly #retry: RetryPolicy;
  readonly #breaker: CircuitBreakerPolicy;
  readonly #bulkhead: BulkheadPolicy;
  readonly #budget: RetryBudget;

  constructor(options: ResilienceOptions) {
    this.#options = options;
    this.#retry = retry(handleType(RetryThis), {
      maxAttempts: options.retries,
      backoff: new ExponentialBackoff({ initialDelay: options.retryBaseDelayMs ?? 50, maxDelay: 1000 }),
    });
    this.#breaker = circuitBreaker(
      handleWhen((err) => err instanceof GatewayError && err.upstreamFault),
      { halfOpenAfter: options.breakerHalfOpenMs, breaker: new ConsecutiveBreaker(options.breakerThreshold) },
    );
    this.#bulkhead = bulkhead(options.connections, options.queue);
    this.#budget = new RetryBudget(options.retryBudget);
  }

  get breakerState(): BreakerState {
    switch (this.#breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'open';
    }
  }

  /** Subscribes to breaker transitions (for logs and metrics). */
  onBreakerStateChange(listener: (state: BreakerState) => void): void {
    this.#breaker.onStateChange(() => listener(this.breakerState));
  }

  /**
   * Runs `attempt` under every policy; rejects only with GatewayErrors. Each attempt gets a signal
   * that aborts at its own timeout, at the call's deadline or when the caller leaves, whichever
   * comes first; its `reason` is the catalogue error to answer with.
   */
  async execute<T>(attempt: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal | AbortController): Promise<T> {
    // The caller may hand over the call's controller itself (the coalescer does): one controller less.
    const owned = signal instanceof AbortController ? signal : undefined;
    const callerSignal = owned ? undefined : (signal as AbortSignal | undefined);
    if (owned?.signal.aborted || callerSignal?.aborted) throw callerAborted();
    this.#budget.deposit();
    const { timeoutMs, deadlineMs } = this.#options;
    const deadlineAt = performance.now() + deadlineMs;
    // One controller for the whole call: the deadline or the caller ends it, and with it any backoff.
    const call = owned ?? new AbortController();
    const pastDeadline = () => upstreamTimeout(deadlineMs, { retryable: false });
    const deadline = setTimeout(() => call.abort(pastDeadline()), deadlineMs);
    const onCallerGone = () => call.abort(callerAborted());
    callerSignal?.addEventListener('abort', onCallerGone, { once: true });
    const ended = new Promise<never>((_, reject) => call.signal.addEventListener('abort', () => reject(call.signal.reason), { once: true }));
    ended.catch(() => undefined);

    let timeouts = 0;
    const run = this.#retry.execute(async ({ attempt: n }) => {
      if (call.signal.aborted) throw call.signal.reason;
      const one = new AbortController();
      const remaining = Math.max(0, deadlineAt - performance.now());
      const timer =
        remaining < timeoutMs
          ? setTimeout(() => one.abort(pastDeadline()), remaining)
          : setTimeout(() => one.abort(upstreamTimeout(timeoutMs)), timeoutMs);
      const onCallEnded = () => one.abort(call.signal.reason);
      call.signal.addEventListener('abort', onCallEnded, { once: true });
      try {
        const outcome = await this.#breaker.execute(() => this.#bulkhead.execute(() => this.#answered(attempt, one.signal)));
        if ('refusal' in outcome) throw outcome.refusal;
        return outcome.value;
      } catch (err) {
        const failure = this.#asGatewayError(err);
        if (failure.code === 'UPSTREAM_TIMEOUT') timeouts++;
        const again =
          failure.retryable &&
          n < this.#options.retries &&
          !call.signal.aborted &&
          // One timeout is bad luck; a second means Rocket.Chat is stuck.
          !(failure.code === 'UPSTREAM_TIMEOUT' && timeouts > 1) &&
          this.#budget.tryWithdraw();
        throw again ? new RetryThis(failure) : failure;
      } finally {
        clearTimeout(timer);
        call.signal.removeEventListener('abort', onCallEnded);
      }
    });
    try {
      return await Promise.race([run, ended]);
    } catch (err) {
      throw this.#asGatewayError(err instanceof RetryThis ? err.failure : err);
    } finally {
      clearTimeout(deadline);
      callerSignal?.removeEventListener('abort', onCallerGone);
      run.catch(() => undefined);
    }
  }

  /**
   * Runs one attempt, turning Rocket.Chat's own refusals (any HTTP answer that is not a fault, such
   * as 404 or 403) into values: for the breaker they prove Rocket.Chat is alive and reset its count.
   */
  async #answered<T>(attempt: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<{ value: T } | { refusal: GatewayError }> {
    // A retry whose backoff outlived the deadline must not reach Rocket.Chat.
    if (signal.aborted) throw signal.reason;
    try {
      return { value: await attempt(signal) };
    } catch (err) {
      // Whatever the attempt threw on abort, the signal's reason is the catalogue's answer.
      if (signal.aborted) throw signal.reason;
      const status = err instanceof GatewayError ? (err.extensions.upstream as { status?: unknown } | undefined)?.status : undefined;
      if (err instanceof GatewayError && !err.upstreamFault && typeof status === 'number') return { refusal: err };
      throw err;
    }
  }

  #asGatewayError(err: unknown): GatewayError {
    if (err instanceof GatewayError) return err;
    if (err instanceof BrokenCircuitError) return circuitOpen();
    if (err instanceof BulkheadRejectedError) return upstreamSaturated();
    throw err;
  }
}
