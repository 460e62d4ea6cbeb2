/**
 * The upstream calls one operation may still make (MAX_UPSTREAM_CALLS), shared by every loader of
 * the operation: the estimate before execution (limits.ts) should keep it from running out, and
 * this is the second line when the estimate was wrong.
 */
export class CallBudget {
  readonly max: number;
  #used = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Calls handed to the client so far (shared and cached ones included). */
  get used(): number {
    return this.#used;
  }

  /** Takes up to `wanted` calls; returns how many were granted. */
  take(wanted: number): number {
    const granted = Math.max(0, Math.min(wanted, this.max - this.#used));
    this.#used += granted;
    return granted;
  }
}
