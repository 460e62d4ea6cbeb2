import { callerAborted } from '../errors.js';

interface Shared<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

/**
 * Shares one in-flight upstream call among concurrent callers that asked for the same key. Keys
 * carry the caller's identity, so sharing never crosses callers. The shared call is aborted only
 * when every caller waiting on it has gone away.
 */
export class Coalescer<T> {
  readonly #inflight = new Map<string, Shared<T>>();

  get size(): number {
    return this.#inflight.size;
  }

  /** `start` receives the shared call's controller; it is aborted (reason: callerAborted) once nobody waits. */
  run(key: string, signal: AbortSignal | undefined, start: (call: AbortController) => Promise<T>): Promise<T> {
    if (signal?.aborted) return Promise.reject(callerAborted());
    let shared = this.#inflight.get(key);
    if (!shared) {
      const controller = new AbortController();
      const entry: Shared<T> = { controller, waiters: 0, promise: undefined as unknown as Promise<T> };
      entry.promise = start(controller).finally(() => {
        if (this.#inflight.get(key) === entry) this.#inflight.delete(key);
      });
      // Every waiter attaches its own handlers; this one only keeps an abandoned call from being "unhandled".
      entry.promise.catch(() => undefined);
      this.#inflight.set(key, entry);
      shared = entry;
    }
    const entry = shared;
    entry.waiters++;
    if (!signal) return entry.promise;
    return new Promise<T>((resolve, reject) => {
      const leave = () => {
        entry.waiters--;
        if (entry.waiters === 0) {
          entry.controller.abort(callerAborted());
          if (this.#inflight.get(key) === entry) this.#inflight.delete(key);
        }
        reject(callerAborted());
      };
      signal.addEventListener('abort', leave, { once: true });
      entry.promise.then(
        (value) => {
          signal.removeEventListener('abort', leave);
          resolve(value);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', leave);
          reject(err);
        },
      );
    });
  }
}
