import { callerAborted } from '../errors.js';
import { Cancellation } from './cancellation.js';

/** One shared call as its starter and its joiners see it: a slot for what they share about it. */
export interface SharedCall<A> {
  /** Set by the starter, read by the callers who join (tracing: the attempt span they link to). */
  attachment?: A;
}

interface Shared<T, A> extends SharedCall<A> {
  promise: Promise<T>;
  cancellation: Cancellation;
  waiters: number;
}

/**
 * Shares one in-flight upstream call among concurrent callers that asked for the same key. Keys
 * carry the caller's identity, so sharing never crosses callers. The shared call is aborted only
 * when every caller waiting on it has gone away.
 */
export class Coalescer<T, A = never> {
  // A null-prototype object, not a Map: with a Map here (one set and one delete per upstream call),
  // V8 promoted several hundred KB of request objects to the old generation at every scavenge under
  // load, and scavenges took two to three times as long; with this object, about 40 KB, as
  // Mercurius (`node bench/gc.mjs`). Why the Map did that was not pinned down.
  readonly #inflight: Record<string, Shared<T, A>> = Object.create(null);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /**
   * `start` receives the shared call's cancellation, cancelled (reason: callerAborted) once nobody
   * waits, and the call's shared slot; `joined`, when given, is told of each caller that joins a call
   * already in flight, before it waits.
   */
  run(
    key: string,
    caller: Cancellation | AbortSignal | undefined,
    start: (cancellation: Cancellation, call: SharedCall<A>) => Promise<T>,
    joined?: (call: SharedCall<A>) => void,
  ): Promise<T> {
    const gone = Cancellation.from(caller);
    if (gone?.reason) return Promise.reject(callerAborted());
    let shared = this.#inflight[key];
    if (shared) joined?.(shared);
    else {
      const cancellation = new Cancellation();
      // Every field from the start, so that every entry has one shape; the promise comes from `start`,
      // which is handed the entry itself.
      const entry: Shared<T, A> = { cancellation, waiters: 0, attachment: undefined, promise: undefined as unknown as Promise<T> };
      entry.promise = start(cancellation, entry);
      const forget = () => this.#forget(key, entry);
      // Settled either way, the call is forgotten; handling the rejection here also keeps an
      // abandoned call from being reported as unhandled (every waiter attaches its own handlers).
      entry.promise.then(forget, forget);
      this.#inflight[key] = entry;
      this.#size++;
      shared = entry;
    }
    const entry = shared;
    entry.waiters++;
    if (!gone) return entry.promise;
    return new Promise<T>((resolve, reject) => {
      const leave = () => {
        entry.waiters--;
        if (entry.waiters === 0) {
          entry.cancellation.cancel(callerAborted());
          this.#forget(key, entry);
        }
        reject(callerAborted());
      };
      const unsubscribe = gone.subscribe(leave);
      entry.promise.then(
        (value) => {
          unsubscribe();
          resolve(value);
        },
        (err: unknown) => {
          unsubscribe();
          reject(err);
        },
      );
    });
  }

  #forget(key: string, entry: Shared<T, A>): void {
    if (this.#inflight[key] !== entry) return;
    delete this.#inflight[key];
    this.#size--;
  }
}
