import { callerAborted } from '../errors.js';
import { Cancellation } from './cancellation.js';
/**
 * Shares one in-flight upstream call among concurrent callers that asked for the same key. Keys
 * carry the caller's identity, so sharing never crosses callers. The shared call is aborted only
 * when every caller waiting on it has gone away.
 */
export class Coalescer {
    #inflight = new Map();
    get size() {
        return this.#inflight.size;
    }
    /** `start` receives the shared call's cancellation; it is cancelled (reason: callerAborted) once nobody waits. */
    run(key, caller, start) {
        const gone = Cancellation.from(caller);
        if (gone?.reason)
            return Promise.reject(callerAborted());
        let shared = this.#inflight.get(key);
        if (!shared) {
            const cancellation = new Cancellation();
            const entry = { cancellation, waiters: 0, promise: start(cancellation) };
            const forget = () => {
                if (this.#inflight.get(key) === entry)
                    this.#inflight.delete(key);
            };
            // Settled either way, the call is forgotten; handling the rejection here also keeps an
            // abandoned call from being reported as unhandled (every waiter attaches its own handlers).
            entry.promise.then(forget, forget);
            this.#inflight.set(key, entry);
            shared = entry;
        }
        const entry = shared;
        entry.waiters++;
        if (!gone)
            return entry.promise;
        return new Promise((resolve, reject) => {
            const leave = () => {
                entry.waiters--;
                if (entry.waiters === 0) {
                    entry.cancellation.cancel(callerAborted());
                    if (this.#inflight.get(key) === entry)
                        this.#inflight.delete(key);
                }
                reject(callerAborted());
            };
            const unsubscribe = gone.subscribe(leave);
            entry.promise.then((value) => {
                unsubscribe();
                resolve(value);
            }, (err) => {
                unsubscribe();
                reject(err);
            });
        });
    }
}
//# sourceMappingURL=coalesce.js.map