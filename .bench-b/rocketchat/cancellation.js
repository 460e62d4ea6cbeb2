import { callerAborted } from '../errors.js';
/**
 * "Nobody wants this answer any more", with the catalogue error that says why. It does what an
 * AbortSignal would for the gateway's own plumbing (the caller disconnecting, a shared call losing its
 * last waiter) at a fraction of the cost: one is made per request and per upstream call, and an
 * AbortController with its event listeners is the dearest object on that path. Only undici, at the
 * edge, gets a real AbortSignal.
 */
export class Cancellation {
    reason;
    // Nearly always one listener: kept in a field, with a Set only for the rare second one.
    #listener;
    #more;
    /** Follows an AbortSignal, for callers that have one. */
    static from(signal) {
        if (!signal || signal instanceof Cancellation)
            return signal;
        const cancellation = new Cancellation();
        if (signal.aborted)
            cancellation.cancel(callerAborted());
        else
            signal.addEventListener('abort', () => cancellation.cancel(callerAborted()), { once: true });
        return cancellation;
    }
    cancel(reason = callerAborted()) {
        if (this.reason)
            return;
        this.reason = reason;
        const [first, more] = [this.#listener, this.#more];
        this.#listener = undefined;
        this.#more = undefined;
        first?.(reason);
        if (more)
            for (const listener of more)
                listener(reason);
    }
    /** Calls `listener` once on cancellation; returns the way to stop listening. */
    subscribe(listener) {
        if (!this.#listener) {
            this.#listener = listener;
            return () => {
                if (this.#listener === listener)
                    this.#listener = undefined;
            };
        }
        (this.#more ??= new Set()).add(listener);
        return () => this.#more?.delete(listener);
    }
}
//# sourceMappingURL=cancellation.js.map