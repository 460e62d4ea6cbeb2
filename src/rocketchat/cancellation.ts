import { callerAborted, type GatewayError } from '../errors.js';

/**
 * "Nobody wants this answer any more", with the catalogue error that says why. It does what an
 * AbortSignal would for the gateway's own plumbing (the caller disconnecting, a shared call losing its
 * last waiter) at a fraction of the cost: one is made per request and per upstream call, and an
 * AbortController with its event listeners is the dearest object on that path. Only undici, at the
 * edge, gets a real AbortSignal.
 */
export class Cancellation {
  reason: GatewayError | undefined;
  #listeners: Set<(reason: GatewayError) => void> | undefined;

  /** Follows an AbortSignal, for callers that have one. */
  static from(signal: AbortSignal | Cancellation | undefined): Cancellation | undefined {
    if (!signal || signal instanceof Cancellation) return signal;
    const cancellation = new Cancellation();
    if (signal.aborted) cancellation.cancel(callerAborted());
    else signal.addEventListener('abort', () => cancellation.cancel(callerAborted()), { once: true });
    return cancellation;
  }

  cancel(reason: GatewayError = callerAborted()): void {
    if (this.reason) return;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const listener of listeners) listener(reason);
  }

  /** Calls `listener` once on cancellation; returns the way to stop listening. */
  subscribe(listener: (reason: GatewayError) => void): () => void {
    (this.#listeners ??= new Set()).add(listener);
    return () => this.#listeners?.delete(listener);
  }
}
