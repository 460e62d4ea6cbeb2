import { overBudget, responseTooLarge } from '../errors.js';
import { wireSize } from './wireSize.js';

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

/**
 * DataLoader's batch contract for a route with no multi-key form: one call per key, in parallel;
 * the keys past the call budget refused without a call; the answer charged to the byte budget by
 * the size it came in; each failure an Error at its own index.
 */
export function eachWithinBudget<A extends object, T>(
  keys: readonly string[],
  budget: CallBudget,
  call: (key: string) => Promise<A>,
  shape: (answer: A, key: string) => T,
): Promise<(T | Error)[]> {
  const granted = budget.take(keys.length);
  return Promise.all(
    keys.map(async (key, i) => {
      if (i >= granted) return overBudget(budget.max, budget.max, { request: false });
      try {
        const answer = await call(key);
        if (!budget.spendBytes(wireSize(answer))) return responseTooLarge(budget.maxBytes);
        return shape(answer, key);
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    }),
  );
}
