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
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
import { callerAborted, circuitOpen, GatewayError, upstreamSaturated, upstreamTimeout } from '../errors.js';
import { RetryBudget } from './retryBudget.js';

export interface ResilienceOptions {
  /** Per attempt; used for the timeout error's message (the transport enforces it). */
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
 * The policies every upstream call goes through, outermost first: an overall deadline, retries
 * (idempotent GETs only, bounded by count and by a budget, jittered exponential backoff), a circuit
 * breaker counting only Rocket.Chat's own faults, and a bulkhead bounding calls in flight. Policies
 * decide *whether* to call; codes still come from the error catalogue.
 */
export class UpstreamPolicy {
  readonly #options: ResilienceOptions;
  readonly #deadline: TimeoutPolicy;
  readonly #retry: RetryPolicy;
  readonly #breaker: CircuitBreakerPolicy;
  readonly #bulkhead: BulkheadPolicy;
  readonly #budget: RetryBudget;

  constructor(options: ResilienceOptions) {
    this.#options = options;
    this.#deadline = timeout(options.deadlineMs, TimeoutStrategy.Aggressive);
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

  /** Runs `attempt` under every policy; rejects only with GatewayErrors. */
  async execute<T>(attempt: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw callerAborted();
    this.#budget.deposit();
    let timeouts = 0;
    try {
      return await this.#deadline.execute(
        ({ signal: deadlineSignal }) =>
          this.#retry.execute(async ({ attempt: n, signal: attemptSignal }) => {
            try {
              const outcome = await this.#breaker.execute(
                () => this.#bulkhead.execute(() => this.#answered(attempt, attemptSignal)),
                attemptSignal,
              );
              if ('refusal' in outcome) throw outcome.refusal;
              return outcome.value;
            } catch (err) {
              const failure = this.#asGatewayError(err);
              if (failure.code === 'UPSTREAM_TIMEOUT') timeouts++;
              const again =
                failure.retryable &&
                n < this.#options.retries &&
                !attemptSignal.aborted &&
                // One timeout is bad luck; a second means Rocket.Chat is stuck.
                !(failure.code === 'UPSTREAM_TIMEOUT' && timeouts > 1) &&
                this.#budget.tryWithdraw();
              throw again ? new RetryThis(failure) : failure;
            }
          }, deadlineSignal),
        signal,
      );
    } catch (err) {
      if (err instanceof RetryThis) err = err.failure;
      if (signal?.aborted) throw callerAborted();
      if (err instanceof TaskCancelledError) throw upstreamTimeout(this.#options.deadlineMs, { retryable: false });
      throw this.#asGatewayError(err);
    }
  }

  /**
   * Runs one attempt, turning Rocket.Chat's own refusals (any HTTP answer that is not a fault, such
   * as 404 or 403) into values: for the breaker they prove Rocket.Chat is alive and reset its count.
   */
  async #answered<T>(attempt: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<{ value: T } | { refusal: GatewayError }> {
    // A retry whose backoff outlived the deadline must not reach Rocket.Chat.
    if (signal.aborted) throw callerAborted();
    try {
      return { value: await attempt(signal) };
    } catch (err) {
      const status = err instanceof GatewayError ? (err.extensions.upstream as { status?: unknown } | undefined)?.status : undefined;
      if (err instanceof GatewayError && !err.upstreamFault && typeof status === 'number') return { refusal: err };
      throw err;
    }
  }

  #asGatewayError(err: unknown): GatewayError {
    if (err instanceof GatewayError) return err;
    if (err instanceof BrokenCircuitError) return circuitOpen();
    if (err instanceof BulkheadRejectedError) return upstreamSaturated();
    if (err instanceof TaskCancelledError) return upstreamTimeout(this.#options.deadlineMs, { retryable: false });
    throw err;
  }
}
