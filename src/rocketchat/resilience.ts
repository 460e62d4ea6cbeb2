import { ExponentialBackoff, handleType, retry, type RetryPolicy } from 'cockatiel';
import type { Config } from '../config.js';
import { circuitOpen, GatewayError, upstreamQueueTimeout, upstreamSaturated, upstreamTimeout } from '../errors.js';
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

/** What an attempt that held a connection proved about Rocket.Chat. */
const ANSWERED = 0; // any HTTP answer that is not a fault (a 404 or a 403 too): Rocket.Chat is alive
const FAULT = 1; // a 5xx, no connection, no answer within a whole attempt's timeout
const UNKNOWN = 2; // the caller left, or the call's deadline cut the attempt short: proves nothing
type Outcome = typeof ANSWERED | typeof FAULT | typeof UNKNOWN;

const REFUSED = 0;
const GO = 1;
const TRIAL = 2;
type Admission = typeof REFUSED | typeof GO | typeof TRIAL;

/**
 * The call's deadline reached an attempt: after a wait in the queue it is the queue's doing, else it
 * only cut short an attempt that had less than its own timeout. Neither is Rocket.Chat's fault.
 */
function deadlineReached(queued: boolean, deadlineMs: number): GatewayError {
  return queued ? upstreamQueueTimeout() : upstreamTimeout(deadlineMs, { retryable: false, upstreamFault: false });
}

function outcomeOf(err: unknown): Outcome {
  if (!(err instanceof GatewayError)) return UNKNOWN;
  if (err.upstreamFault) return FAULT;
  const status = err.upstream?.status;
  return typeof status === 'number' ? ANSWERED : UNKNOWN;
}

/**
 * Consecutive faults open it; after `halfOpenMs` one trial call goes through, and its outcome closes
 * or reopens it. Only attempts that held a connection are ever counted, and a trial whose outcome
 * proves nothing (its caller left) hands the trial to the next call instead of deciding. Calls that
 * arrive while the trial runs fail at once rather than wait for it holding a connection slot.
 */
class Breaker {
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  readonly #threshold: number;
  readonly #halfOpenMs: number;
  readonly #listeners: ((state: BreakerState) => void)[] = [];

  constructor(threshold: number, halfOpenMs: number) {
    this.#threshold = threshold;
    this.#halfOpenMs = halfOpenMs;
  }

  get state(): BreakerState {
    return this.#state;
  }

  onStateChange(listener: (state: BreakerState) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Whole seconds until the breaker lets a trial call through: the rest of the pause while open;
   * while a trial runs, 1 (its outcome decides within one attempt, and a client asking again in a
   * second finds the breaker closed or the pause restarted).
   */
  retryAfterSeconds(): number {
    if (this.#state !== 'open') return 1;
    return Math.max(1, Math.ceil((this.#openedAt + this.#halfOpenMs - performance.now()) / 1000));
  }

  /** Would refuse a call now: checked before a call queues, so a refused one never waits. */
  refusing(): boolean {
    return this.#state !== 'closed' && (this.#state === 'half-open' || performance.now() - this.#openedAt < this.#halfOpenMs);
  }

  /** Asked by an attempt that holds a connection slot; the first one after the pause is the trial. */
  admit(): Admission {
    if (this.#state === 'closed') return GO;
    if (this.refusing()) return REFUSED;
    this.#set('half-open');
    return TRIAL;
  }

  record(outcome: Outcome, trial: boolean): void {
    if (trial) {
      if (outcome === ANSWERED) {
        this.#failures = 0;
        this.#set('closed');
      } else {
        // A fault restarts the pause; an unknown outcome leaves it over, so the next call is the trial.
        if (outcome === FAULT) this.#openedAt = performance.now();
        this.#set('open');
      }
      return;
    }
    // Calls admitted before the breaker opened may end after it: they no longer count.
    if (this.#state !== 'closed') return;
    if (outcome === ANSWERED) this.#failures = 0;
    else if (outcome === FAULT && ++this.#failures >= this.#threshold) {
      this.#openedAt = performance.now();
      this.#set('open');
    }
  }

  #set(state: BreakerState): void {
    this.#state = state;
    for (const listener of this.#listeners) listener(state);
  }
}

/**
 * At most `connections` attempts hold a connection slot, and at most `queue` calls wait for one, in
 * order. A waiter is a function that takes the slot when it is handed one, or answers false to
 * hand it on (the breaker refused it meanwhile); a waiter that gives up leaves the queue at once,
 * so a call past its deadline never keeps a place another could use.
 */
class Bulkhead {
  #free: number;
  readonly #queue: number;
  readonly #waiting = new Set<() => boolean>();

  constructor(connections: number, queue: number) {
    this.#free = connections;
    this.#queue = queue;
  }

  tryAcquire(): boolean {
    if (this.#free === 0) return false;
    this.#free--;
    return true;
  }

  /** False when the queue is full. */
  wait(waiter: () => boolean): boolean {
    if (this.#waiting.size >= this.#queue) return false;
    this.#waiting.add(waiter);
    return true;
  }

  leave(waiter: () => boolean): void {
    this.#waiting.delete(waiter);
  }

  release(): void {
    // A loop, not a chain of calls: a whole queue refused by an open breaker unwinds in one frame.
    if (this.#waiting.size > 0) {
      for (const waiter of this.#waiting) {
        this.#waiting.delete(waiter);
        if (waiter()) return;
      }
    }
    this.#free++;
  }
}

/**
 * The policies every upstream call goes through, outermost first: an overall deadline, retries
 * (idempotent GETs only, bounded by count and by a budget, jittered exponential backoff), a
 * bulkhead bounding calls in flight, and, for each attempt that holds a connection, a circuit
 * breaker counting only Rocket.Chat's own faults and the attempt's own timeout. Policies decide
 * *whether* to call; codes still come from the error catalogue.
 *
 * The bulkhead comes before the breaker and the attempt's timeout, so time spent waiting in the
 * gateway's own queue is bounded by the call's deadline alone and is never taken for Rocket.Chat
 * being slow: under a burst larger than the pool, queued calls used to time out as upstream faults
 * and open the breaker on a healthy Rocket.Chat. The breaker and the bulkhead are this module's own
 * (cockatiel's bulkhead keeps a cancelled call queued, and its half-open breaker makes every other
 * call wait for the trial); retries and backoff are cockatiel's.
 */
export class UpstreamPolicy {
  readonly #options: ResilienceOptions;
  readonly #retry: RetryPolicy;
  readonly #breaker: Breaker;
  readonly #bulkhead: Bulkhead;
  readonly #budget: RetryBudget;

  constructor(options: ResilienceOptions) {
    this.#options = options;
    this.#retry = retry(handleType(RetryThis), {
      maxAttempts: options.retries,
      backoff: new ExponentialBackoff({ initialDelay: options.retryBaseDelayMs ?? 50, maxDelay: 1000 }),
    });
    this.#breaker = new Breaker(options.breakerThreshold, options.breakerHalfOpenMs);
    this.#bulkhead = new Bulkhead(options.connections, options.queue);
    this.#budget = new RetryBudget(options.retryBudget);
  }

  /** The refusal a call gets while the breaker is open, with the seconds until its trial call. */
  circuitOpen(): GatewayError {
    return circuitOpen(this.#breaker.retryAfterSeconds());
  }

  get breakerState(): BreakerState {
    return this.#breaker.state;
  }

  /** Subscribes to breaker transitions (for logs and metrics). */
  onBreakerStateChange(listener: (state: BreakerState) => void): void {
    this.#breaker.onStateChange(listener);
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
    const deadlineAt = performance.now() + this.#options.deadlineMs;
    let failure: GatewayError;
    try {
      // Most calls need nothing more than this: the retry loop is set up only once an attempt has
      // failed in a way worth retrying.
      return await this.#attempt(attempt, cancellation, deadlineAt);
    } catch (err) {
      failure = this.#asGatewayError(err);
    }
    if (!this.#worthRetrying(failure, 0, failure.code === 'UPSTREAM_TIMEOUT' ? 1 : 0, cancellation?.reason !== undefined, deadlineAt)) throw failure;
    return this.#retrying(attempt, cancellation, deadlineAt, failure);
  }

  /**
   * One attempt: a place in the bulkhead (at once, or in its queue until the call's deadline), then
   * the breaker's go-ahead, then the attempt itself under its timeout, counted from that moment. The
   * timeout, the deadline or the call's cancellation cancels the attempt and ends the wait, even for
   * an attempt deaf to its cancellation; its slot is freed only when the attempt really ends.
   */
  #attempt<T>(attempt: Attempt<T>, call: Cancellation | undefined, deadlineAt: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (call?.reason) return reject(call.reason);
      const breaker = this.#breaker;
      if (breaker.refusing()) return reject(circuitOpen(breaker.retryAfterSeconds()));
      const bulkhead = this.#bulkhead;
      const { timeoutMs, deadlineMs } = this.#options;
      const one = new Cancellation();
      let timer: NodeJS.Timeout | undefined;
      let queued = false;
      let admitted = false;
      let trial = false;
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        unsubscribe?.();
        return true;
      };
      const stop = (reason: GatewayError): void => {
        if (!settle()) return;
        if (admitted) breaker.record(reason.upstreamFault ? FAULT : UNKNOWN, trial);
        else bulkhead.leave(start);
        one.cancel(reason);
        reject(reason);
      };
      const start = (): boolean => {
        const remaining = deadlineAt - performance.now();
        const admission = remaining > 0 ? breaker.admit() : REFUSED;
        if (admission === REFUSED) {
          if (settle()) reject(remaining > 0 ? circuitOpen(breaker.retryAfterSeconds()) : deadlineReached(queued, deadlineMs));
          return false;
        }
        clearTimeout(timer);
        admitted = true;
        trial = admission === TRIAL;
        // Counted from here, holding a connection: only now is Rocket.Chat the one keeping us waiting.
        // With less than that left before the deadline, the attempt gets what remains.
        timer =
          remaining < timeoutMs
            ? setTimeout(() => stop(deadlineReached(queued, deadlineMs)), remaining)
            : setTimeout(() => stop(upstreamTimeout(timeoutMs)), timeoutMs);
        let pending: Promise<T>;
        try {
          pending = attempt(one);
        } catch (err) {
          pending = Promise.reject(err);
        }
        // The outcome is recorded before the slot passes on, so the next in line meets the breaker
        // this answer leaves behind.
        pending.then(
          (value) => {
            const first = settle();
            if (first) breaker.record(ANSWERED, trial);
            bulkhead.release();
            if (first) resolve(value);
          },
          (err: unknown) => {
            const first = settle();
            if (first) breaker.record(outcomeOf(err), trial);
            bulkhead.release();
            if (first) reject(err);
          },
        );
        return true;
      };
      const unsubscribe = call?.subscribe(stop);
      if (bulkhead.tryAcquire()) {
        if (!start()) bulkhead.release();
      } else if (bulkhead.wait(start)) {
        queued = true;
        timer = setTimeout(() => stop(upstreamQueueTimeout()), Math.max(0, deadlineAt - performance.now()));
      } else {
        settle();
        reject(upstreamSaturated());
      }
    });
  }

  /**
   * Attempts after the first failed one, under cockatiel's retry (backoff from the first failure on)
   * and the call's deadline. An attempt enforces the deadline itself (it alone knows whether it is
   * still queued); the timer here ends a backoff, and a deadline passed during an attempt stops any
   * further retry, so no answer comes after the deadline.
   */
  async #retrying<T>(attempt: Attempt<T>, cancellation: Cancellation | undefined, deadlineAt: number, firstFailure: GatewayError): Promise<T> {
    const pastDeadline = () => upstreamTimeout(this.#options.deadlineMs, { retryable: false });
    let endedBy: GatewayError | undefined;
    let attempting = false;
    let rejectEnded!: (reason: GatewayError) => void;
    const ended = new Promise<never>((_, reject) => (rejectEnded = reject));
    ended.catch(() => undefined);
    const end = (reason: GatewayError) => {
      if (endedBy) return;
      endedBy = reason;
      rejectEnded(reason);
    };
    let deadlinePassed = false;
    const deadline = setTimeout(
      () => {
        deadlinePassed = true;
        if (!attempting) end(pastDeadline());
      },
      Math.max(0, deadlineAt - performance.now()),
    );
    const unsubscribe = cancellation?.subscribe(end);

    let timeouts = firstFailure.code === 'UPSTREAM_TIMEOUT' ? 1 : 0;
    const run = this.#retry.execute(async ({ attempt: n }) => {
      // Attempt 0 is the one that already failed: replaying its failure lets cockatiel back off first.
      if (n === 0) throw new RetryThis(firstFailure);
      // A retry whose backoff outlived the deadline must not reach Rocket.Chat.
      if (endedBy) throw endedBy;
      if (deadlinePassed) throw pastDeadline();
      attempting = true;
      try {
        return await this.#attempt(attempt, cancellation, deadlineAt);
      } catch (err) {
        const failure = this.#asGatewayError(err);
        if (failure.code === 'UPSTREAM_TIMEOUT') timeouts++;
        throw this.#worthRetrying(failure, n, timeouts, endedBy !== undefined || deadlinePassed, deadlineAt) ? new RetryThis(failure) : failure;
      } finally {
        attempting = false;
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

  /** Attempt `n` (0-based) failed: may another go? Spends a retry-budget token when it may. */
  #worthRetrying(failure: GatewayError, n: number, timeouts: number, ended: boolean, deadlineAt: number): boolean {
    return (
      failure.retryable &&
      n < this.#options.retries &&
      !ended &&
      performance.now() < deadlineAt &&
      // One timeout is bad luck; a second means Rocket.Chat is stuck.
      !(failure.code === 'UPSTREAM_TIMEOUT' && timeouts > 1) &&
      this.#budget.tryWithdraw()
    );
  }

  #asGatewayError(err: unknown): GatewayError {
    if (err instanceof GatewayError) return err;
    throw err;
  }
}
