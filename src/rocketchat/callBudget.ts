/**
 * What one operation may still spend, shared by every loader of the operation: upstream calls
 * (MAX_UPSTREAM_CALLS; the estimate before execution in limits.ts should keep it from running
 * out, and this is the second line when the estimate was wrong) and bytes of upstream JSON in the
 * answer (MAX_RESPONSE_BYTES), so no route's answers can make the response unbounded.
 */
export class CallBudget {
  readonly max: number;
  readonly maxBytes: number;
  #used = 0;
  #bytes = 0;

  constructor(max: number, maxBytes = Number.POSITIVE_INFINITY) {
    this.max = max;
    this.maxBytes = maxBytes;
  }

  /** Takes `bytes` of the response budget; false, taking nothing, when they would not fit. */
  spendBytes(bytes: number): boolean {
    if (this.#bytes + bytes > this.maxBytes) return false;
    this.#bytes += bytes;
    return true;
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
