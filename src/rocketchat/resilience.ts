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
import type { Config } from '../config.js';
import { circuitOpen, GatewayError, upstreamSaturated, upstreamTimeout } from '../errors.js';
import { Cancellation } from './cancellation.js';
import { RetryBudget } from './retryBudget.js';

/** The upstream settings of config.ts (documented there), plus the breaker's. */
export type ResilienceOptions = Omit<Config['upstream'], 'concurrencyPerRequest'> & {
  breakerThreshold: number;
  breakerHalfOpenMs: number;
  /** First backoff delay; jittered, doubling up to a second. Tests shorten it. */
  retryBaseDelayMs?: number;
};

export type BreakerState = 'closed' | 'open' | 'half-open';

/** One try at the call; it should stop its work once `attempt` is cancelled. */
export type Attempt<T> = (attempt: Cancellation) => Promise<T>;

/** Marks a failure the retry policy should try again; never escapes this module. */
class RetryThis extends Error {
  constructor(readonly failure: GatewayError) {
    super(failure.message);
  }
}

/**
 * The policies every upstream call goes through, outermost first: an overall deadline (timers and
 * cancellations, cheaper per call than a policy object), retries (idempotent GETs only, bounded by
 * count and by a budget, jittered exponential backoff), a circuit breaker counting only Rocket.Chat's
 * own faults, and a bulkhead bounding calls in flight. Policies decide *whether* to call; codes still
 * come from the error catalogue.
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
   * Runs `attempt` under every policy; rejects only with GatewayErrors. Each attempt gets a
   * cancellation that fires at its own timeout, at the call's deadline or when the call is cancelled
   * (the caller left), whichever comes first; its `reason` is the catalogue error to answer with.
   */
  async execute<T>(attempt: Attempt<T>, cancel?: Cancellation | AbortSignal): Promise<T> {
    const cancellation = Cancellation.from(cancel);
    if (cancellation?.reason) throw cancellation.reason;
    this.#budget.deposit();
    const startedAt = performance.now();
    let failure: GatewayError;
    try {
      return await this.#first(attempt, cancellation);
    } catch (err) {
      failure = this.#asGatewayError(err);
    }
    if (!this.#worthRetrying(failure, 0, failure.code === 'UPSTREAM_TIMEOUT' ? 1 : 0, cancellation?.reason)) throw failure;
    return this.#retrying(attempt, cancellation, startedAt, failure);
  }

  /**
   * The first attempt runs on its own: most calls need nothing more, and the retry loop is set up
   * only once an attempt has failed in a way worth retrying. Its timeout (or the deadline, if that
   * comes first) and the call's cancellation cancel it and end the wait, even for an attempt deaf to
   * its cancellation.
   */
  #first<T>(attempt: Attempt<T>, cancellation: Cancellation | undefined): Promise<T> {
    const { timeoutMs, deadlineMs } = this.#options;
    return new Promise<T>((resolve, reject) => {
      const one = new Cancellation();
      const stop = (reason: GatewayError) => {
        settle();
        one.cancel(reason);
        reject(reason);
      };
      const unsubscribe = cancellation?.subscribe(stop);
      const timer =
        deadlineMs < timeoutMs
          ? setTimeout(() => stop(upstreamTimeout(deadlineMs, { retryable: false })), deadlineMs)
          : setTimeout(() => stop(upstreamTimeout(timeoutMs)), timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        unsubscribe?.();
      };
      this.#once(attempt, one).then(
        (value) => {
          settle();
          resolve(value);
        },
        (err: unknown) => {
          settle();
          reject(err);
        },
      );
    });
  }

  /**
   * Attempts after the first failed one, under cockatiel's retry (backoff from the first failure on)
   * and the call's deadline: ending the call (deadline or cancellation) aborts the attempt in flight
   * and, through the race below, any backoff, so no answer comes after the deadline.
   */
  async #retrying<T>(
    attempt: Attempt<T>,
    cancellation: Cancellation | undefined,
    startedAt: number,
    firstFailure: GatewayError,
  ): Promise<T> {
    const { timeoutMs, deadlineMs } = this.#options;
    const deadlineAt = startedAt + deadlineMs;
    const pastDeadline = () => upstreamTimeout(deadlineMs, { retryable: false });
    let endedBy: GatewayError | undefined;
    let current: Cancellation | undefined;
    let rejectEnded!: (reason: GatewayError) => void;
    const ended = new Promise<never>((_, reject) => (rejectEnded = reject));
    ended.catch(() => undefined);
    const end = (reason: GatewayError) => {
      if (endedBy) return;
      endedBy = reason;
      current?.cancel(reason);
      rejectEnded(reason);
    };
    const deadline = setTimeout(() => end(pastDeadline()), Math.max(0, deadlineAt - performance.now()));
    const unsubscribe = cancellation?.subscribe(end);

    let timeouts = firstFailure.code === 'UPSTREAM_TIMEOUT' ? 1 : 0;
    const run = this.#retry.execute(async ({ attempt: n }) => {
      // Attempt 0 is the one that already failed: replaying its failure lets cockatiel back off first.
      if (n === 0) throw new RetryThis(firstFailure);
      if (endedBy) throw endedBy;
      const one = new Cancellation();
      current = one;
      const remaining = Math.max(0, deadlineAt - performance.now());
      const timer =
        remaining < timeoutMs
          ? setTimeout(() => one.cancel(pastDeadline()), remaining)
          : setTimeout(() => one.cancel(upstreamTimeout(timeoutMs)), timeoutMs);
      try {
        return await this.#once(attempt, one);
      } catch (err) {
        const failure = this.#asGatewayError(err);
        if (failure.code === 'UPSTREAM_TIMEOUT') timeouts++;
        throw this.#worthRetrying(failure, n, timeouts, endedBy) ? new RetryThis(failure) : failure;
      } finally {
        clearTimeout(timer);
        current = undefined;
      }
    });
    try {
      return await Promise.race([run, ended]);
    } catch (err) {
      throw this.#asGatewayError(err instanceof RetryThis ? err.failure : err);
    } finally {
      clearTimeout(deadline);
      unsubscribe?.();
      run.catch(() => undefined);
    }
  }

  /** One attempt through the breaker and the bulkhead. */
  async #once<T>(attempt: Attempt<T>, one: Cancellation): Promise<T> {
    const outcome = await this.#breaker.execute(() => this.#bulkhead.execute(() => this.#answered(attempt, one)));
    if ('refusal' in outcome) throw outcome.refusal;
    return outcome.value;
  }

  /** Attempt `n` (0-based) failed: may another go? Spends a retry-budget token when it may. */
  #worthRetrying(failure: GatewayError, n: number, timeouts: number, ended: GatewayError | undefined): boolean {
    return (
      failure.retryable &&
      n < this.#options.retries &&
      !ended &&
      // One timeout is bad luck; a second means Rocket.Chat is stuck.
      !(failure.code === 'UPSTREAM_TIMEOUT' && timeouts > 1) &&
      this.#budget.tryWithdraw()
    );
  }

  /**
   * Runs one attempt, turning Rocket.Chat's own refusals (any HTTP answer that is not a fault, such
   * as 404 or 403) into values: for the breaker they prove Rocket.Chat is alive and reset its count.
   */
  async #answered<T>(attempt: Attempt<T>, one: Cancellation): Promise<{ value: T } | { refusal: GatewayError }> {
    // A retry whose backoff outlived the deadline must not reach Rocket.Chat.
    if (one.reason) throw one.reason;
    try {
      return { value: await attempt(one) };
    } catch (err) {
      // Whatever the attempt threw on cancellation, its reason is the catalogue's answer.
      if (one.reason) throw one.reason;
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
