import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { errorFromResponse, errorFromTransport, GatewayError, upstreamTimeout } from '../../../src/errors.js';
import { Cancellation } from '../../../src/rocketchat/cancellation.js';
import { UpstreamPolicy, type BreakerState, type ResilienceOptions } from '../../../src/rocketchat/resilience.js';
import { deferred, rejection, sleep } from '../../helpers/promises.js';

const OPTIONS: ResilienceOptions = {
  timeoutMs: 50,
  deadlineMs: 300,
  retries: 2,
  retryBudget: 1,
  connections: 2,
  queue: 1,
  breakerThreshold: 3,
  breakerHalfOpenMs: 100,
  retryBaseDelayMs: 1,
};

const policy = (overrides: Partial<ResilienceOptions> = {}) => new UpstreamPolicy({ ...OPTIONS, ...overrides });

const unavailable = () => errorFromResponse(503, { success: false, error: 'Service Unavailable' });
const notFound = () => errorFromResponse(404, undefined);
const refused = () => errorFromTransport(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 50);

/** An attempt that fails with `make()` every time, counting its calls. */
function failing(make: () => GatewayError) {
  return vi.fn(async (_attempt: Cancellation): Promise<string> => {
    throw make();
  });
}

/** An attempt that never answers, but rejects as soon as it is cancelled (as the client's does). */
function hanging() {
  const cancellations: Cancellation[] = [];
  const fn = vi.fn(
    (cancellation: Cancellation) =>
      new Promise<string>((_resolve, reject) => {
        cancellations.push(cancellation);
        cancellation.subscribe(() => reject(new DOMException('This operation was aborted', 'AbortError')));
      }),
  );
  return { fn, cancellations };
}

function upstreamError(err: GatewayError): unknown {
  return (err.extensions.upstream as { error?: unknown } | undefined)?.error;
}

/** Three 503s in one call (retries 2) reach the threshold of 3. */
async function openBreaker(p: UpstreamPolicy): Promise<void> {
  const attempt = failing(unavailable);
  await rejection(p.execute(attempt));
  expect(attempt).toHaveBeenCalledTimes(3);
  expect(p.breakerState).toBe('open');
}

describe('UpstreamPolicy', () => {
  const unhandled = vi.fn();
  beforeEach(() => {
    unhandled.mockReset();
    process.on('unhandledRejection', unhandled);
  });
  afterEach(async () => {
    await sleep(0);
    process.off('unhandledRejection', unhandled);
    expect(unhandled).not.toHaveBeenCalled();
  });

  describe('pass-through and retries', () => {
    it('passes a success through, with one attempt', async () => {
      const p = policy();
      const attempt = vi.fn(async (_s: Cancellation) => ({ id: 'v1' }));
      await expect(p.execute(attempt)).resolves.toEqual({ id: 'v1' });
      expect(attempt).toHaveBeenCalledTimes(1);
      expect(attempt.mock.calls[0]?.[0]).toBeInstanceOf(Cancellation);
      expect(p.breakerState).toBe('closed');
    });

    it('retries a 503 up to `retries` times, then rejects with the 503 itself', async () => {
      const p = policy();
      const attempt = failing(unavailable);
      const err = await rejection(p.execute(attempt));
      expect(attempt).toHaveBeenCalledTimes(3);
      expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(err.extensions.upstream).toEqual({ status: 503, error: 'Service Unavailable' });
    });

    it('succeeds when a retry succeeds', async () => {
      const p = policy();
      const attempt = vi
        .fn<(s: Cancellation) => Promise<string>>()
        .mockRejectedValueOnce(unavailable())
        .mockRejectedValueOnce(refused())
        .mockResolvedValueOnce('ok');
      await expect(p.execute(attempt)).resolves.toBe('ok');
      expect(attempt).toHaveBeenCalledTimes(3);
    });

    it('retries a refused connection too', async () => {
      const attempt = failing(refused);
      const err = await rejection(policy({ breakerThreshold: 100 }).execute(attempt));
      expect(attempt).toHaveBeenCalledTimes(3);
      expect(err.extensions.upstream).toEqual({ status: null, error: 'ECONNREFUSED' });
    });

    it('does not retry with retries 0', async () => {
      const attempt = failing(unavailable);
      await rejection(policy({ retries: 0 }).execute(attempt));
      expect(attempt).toHaveBeenCalledTimes(1);
    });

    it('never retries a 404', async () => {
      const p = policy({ retries: 5 });
      const attempt = failing(notFound);
      const err = await rejection(p.execute(attempt));
      expect(attempt).toHaveBeenCalledTimes(1);
      expect(err.code).toBe('UPSTREAM_ERROR');
      expect(err.extensions.upstream).toEqual({ status: 404, error: null });
    });

    it('never retries a 429', async () => {
      const attempt = failing(() => errorFromResponse(429, { success: false, error: 'error-too-many-requests' }));
      const err = await rejection(policy({ retries: 5 }).execute(attempt));
      expect(attempt).toHaveBeenCalledTimes(1);
      expect(err.code).toBe('RATE_LIMITED');
    });

    it('retries a timeout only once, even with retries 5', async () => {
      const p = policy({ retries: 5, breakerThreshold: 100 });
      const attempt = failing(() => upstreamTimeout(50));
      const err = await rejection(p.execute(attempt));
      expect(attempt).toHaveBeenCalledTimes(2);
      expect(err.code).toBe('UPSTREAM_TIMEOUT');
    });

    it('counts timeouts per call, not across calls', async () => {
      const p = policy({ retries: 5, breakerThreshold: 100 });
      const first = vi.fn<(s: Cancellation) => Promise<string>>().mockRejectedValueOnce(upstreamTimeout(50)).mockResolvedValueOnce('one');
      await expect(p.execute(first)).resolves.toBe('one');
      const second = vi.fn<(s: Cancellation) => Promise<string>>().mockRejectedValueOnce(upstreamTimeout(50)).mockResolvedValueOnce('two');
      await expect(p.execute(second)).resolves.toBe('two');
      expect(second).toHaveBeenCalledTimes(2);
    });
  });

  describe('circuit breaker', () => {
    it('opens after `breakerThreshold` consecutive faults and then fails fast without calling', async () => {
      const p = policy();
      await openBreaker(p);
      const attempt = vi.fn(async (_s: Cancellation) => 'should not run');
      const err = await rejection(p.execute(attempt));
      expect(attempt).not.toHaveBeenCalled();
      expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(err.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(upstreamError(err)).toBe('circuit-open');
    });

    it('counts faults across calls', async () => {
      const p = policy({ retries: 0 });
      const attempt = failing(refused);
      await rejection(p.execute(attempt));
      await rejection(p.execute(attempt));
      expect(p.breakerState).toBe('closed');
      await rejection(p.execute(attempt));
      expect(p.breakerState).toBe('open');
      expect(attempt).toHaveBeenCalledTimes(3);
    });

    it('a success resets the consecutive count', async () => {
      const p = policy({ retries: 0 });
      const attempt = failing(unavailable);
      await rejection(p.execute(attempt));
      await rejection(p.execute(attempt));
      await p.execute(async () => 'ok');
      await rejection(p.execute(attempt));
      await rejection(p.execute(attempt));
      expect(p.breakerState).toBe('closed');
    });

    it('goes half-open after the pause, and a successful trial closes it', async () => {
      const p = policy();
      await openBreaker(p);
      await sleep(OPTIONS.breakerHalfOpenMs + 20);
      const trial = deferred<string>();
      const attempt = vi.fn((_s: Cancellation) => trial.promise);
      const result = p.execute(attempt);
      await vi.waitFor(() => expect(attempt).toHaveBeenCalledTimes(1));
      expect(p.breakerState).toBe('half-open');
      trial.resolve('back');
      await expect(result).resolves.toBe('back');
      expect(p.breakerState).toBe('closed');
      const next = vi.fn(async (_s: Cancellation) => 'next');
      await expect(p.execute(next)).resolves.toBe('next');
      expect(next).toHaveBeenCalledTimes(1);
    });

    it('a failed half-open trial opens it again', async () => {
      const p = policy();
      await openBreaker(p);
      await sleep(OPTIONS.breakerHalfOpenMs + 20);
      const trial = failing(unavailable);
      const err = await rejection(p.execute(trial));
      expect(p.breakerState).toBe('open');
      // The trial fault is not retried through the open breaker into upstream again.
      expect(trial).toHaveBeenCalledTimes(1);
      expect(['circuit-open', 'Service Unavailable']).toContain(upstreamError(err));
      const after = vi.fn(async (_s: Cancellation) => 'x');
      expect(upstreamError(await rejection(p.execute(after)))).toBe('circuit-open');
      expect(after).not.toHaveBeenCalled();
    });

    it('is never opened by 4xx answers', async () => {
      const p = policy();
      const attempt = failing(notFound);
      for (let i = 0; i < 10; i++) await rejection(p.execute(attempt));
      const forbidden = failing(() => errorFromResponse(403, { success: false, error: 'unauthorized' }));
      for (let i = 0; i < 5; i++) await rejection(p.execute(forbidden));
      expect(p.breakerState).toBe('closed');
      expect(attempt).toHaveBeenCalledTimes(10);
      await expect(p.execute(async () => 'still open for business')).resolves.toBe('still open for business');
    });

    it('tells listeners open, then half-open, then closed', async () => {
      const p = policy();
      const states: BreakerState[] = [];
      p.onBreakerStateChange((s) => states.push(s));
      await openBreaker(p);
      expect(states).toEqual(['open']);
      await sleep(OPTIONS.breakerHalfOpenMs + 20);
      await expect(p.execute(async () => 'ok')).resolves.toBe('ok');
      expect(states).toEqual(['open', 'half-open', 'closed']);
    });
  });

  describe('bulkhead', () => {
    it('admits `connections` + `queue` calls and refuses the next at once', async () => {
      const p = policy();
      const gates = [deferred<string>(), deferred<string>(), deferred<string>()];
      const started: number[] = [];
      const calls = gates.map((gate, i) =>
        p.execute(() => {
          started.push(i);
          return gate.promise;
        }),
      );
      await vi.waitFor(() => expect(started).toHaveLength(2));
      await sleep(5);
      expect(started).toEqual([0, 1]); // the third waits in the queue
      const fourth = vi.fn(async (_s: Cancellation) => 'no room');
      const err = await rejection(p.execute(fourth));
      expect(fourth).not.toHaveBeenCalled();
      expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(upstreamError(err)).toBe('bulkhead-full');
      // Not a fault: the breaker stays closed.
      expect(p.breakerState).toBe('closed');
      gates.forEach((g, i) => g.resolve(`r${i}`));
      await expect(Promise.all(calls)).resolves.toEqual(['r0', 'r1', 'r2']);
      expect(started).toEqual([0, 1, 2]);
    });

    it('frees its slots when calls finish', async () => {
      const p = policy({ connections: 1, queue: 0 });
      const gate = deferred<string>();
      const first = p.execute(() => gate.promise);
      expect(upstreamError(await rejection(p.execute(async () => 'x')))).toBe('bulkhead-full');
      gate.resolve('done');
      await first;
      await expect(p.execute(async () => 'y')).resolves.toBe('y');
    });
  });

  describe('order: the bulkhead first, then the breaker and the attempt timeout', () => {
    /** An attempt that answers `value` after `ms`, however it is cancelled. */
    const answersAfter = (ms: number, value: string) => vi.fn(async (_s: Cancellation) => (await sleep(ms), value));

    it('times an attempt from the moment it holds a slot, not from when its call queued', async () => {
      const p = policy({ connections: 1, queue: 5, timeoutMs: 60, deadlineMs: 1000, retries: 0, breakerThreshold: 1 });
      const startedAt = performance.now();
      const first = p.execute(answersAfter(40, 'one'));
      const second = p.execute(answersAfter(40, 'two'));
      const { fn: third, cancellations } = hanging();
      const stuck = p.execute(third);
      // The second waited 40 ms and ran 40: 80 ms after it was asked for, and 40 into its own 60.
      await expect(first).resolves.toBe('one');
      await expect(second).resolves.toBe('two');
      const err = await rejection(stuck);
      const elapsed = performance.now() - startedAt;
      expect(err.code).toBe('UPSTREAM_TIMEOUT');
      expect(err.message).toContain('60 ms');
      // The third's 60 ms began when the second let go of the slot, about 80 ms in.
      expect(elapsed).toBeGreaterThanOrEqual(80 + 60 - 10);
      expect(third).toHaveBeenCalledTimes(1);
      expect(cancellations[0]?.reason).toBe(err);
      // That timeout was Rocket.Chat's (a whole attempt's time): with a threshold of 1 it opens the breaker.
      expect(p.breakerState).toBe('open');
    });

    it('a call whose deadline passes while queued answers queue-timeout: never attempted, never retried, never a fault', async () => {
      // The attempt timeout is longer than the deadline, so the deadline is all that can end a call.
      const p = policy({ connections: 1, queue: 3, timeoutMs: 1000, deadlineMs: 100, retries: 2, breakerThreshold: 1 });
      const gate = deferred<string>();
      // Deaf to its cancellation, it holds the only slot until the gate opens, past every deadline.
      const holder = vi.fn((_s: Cancellation) => gate.promise);
      const held = rejection(p.execute(holder));
      const queued = [failing(unavailable), failing(unavailable), failing(unavailable)];
      const startedAt = performance.now();
      const waits = queued.map((fn) => p.execute(fn));
      const errors = await Promise.all(waits.map(rejection));
      const elapsed = performance.now() - startedAt;
      for (const err of errors) {
        expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
        expect(err.extensions.upstream).toStrictEqual({ status: null, error: 'queue-timeout' });
        expect(err.retryable).toBe(false);
        expect(err.upstreamFault).toBe(false);
      }
      expect(elapsed).toBeGreaterThanOrEqual(90);
      expect(elapsed).toBeLessThan(100 + 100);
      for (const fn of queued) expect(fn).not.toHaveBeenCalled();
      // The holder's own call ended at its deadline too, cut short: that proves nothing about Rocket.Chat either.
      const cut = await held;
      expect(cut.code).toBe('UPSTREAM_TIMEOUT');
      expect(cut.upstreamFault).toBe(false);
      expect(p.breakerState).toBe('closed');

      // Their places in the queue were given back at once: three more may wait while the slot is still held.
      const gate2 = [deferred<string>(), deferred<string>(), deferred<string>()];
      const again = gate2.map((g) => p.execute(() => g.promise));
      const full = vi.fn(async (_s: Cancellation) => 'no room');
      expect(upstreamError(await rejection(p.execute(full)))).toBe('bulkhead-full');
      expect(full).not.toHaveBeenCalled();
      gate.resolve('late');
      gate2.forEach((g, i) => g.resolve(`again${i}`));
      await expect(Promise.all(again)).resolves.toEqual(['again0', 'again1', 'again2']);
      expect(p.breakerState).toBe('closed');
    });

    it('an attempt that leaves the queue with less than its timeout gets what is left; cut short, it is the queue’s timeout, not a fault', async () => {
      const p = policy({ connections: 1, queue: 5, timeoutMs: 200, deadlineMs: 250, retries: 2, breakerThreshold: 1 });
      const first = p.execute(answersAfter(150, 'one'));
      const { fn, cancellations } = hanging();
      const startedAt = performance.now();
      const err = await rejection(p.execute(fn));
      const elapsed = performance.now() - startedAt;
      await expect(first).resolves.toBe('one');
      expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(upstreamError(err)).toBe('queue-timeout');
      expect(err.retryable).toBe(false);
      expect(err.upstreamFault).toBe(false);
      expect(elapsed).toBeGreaterThanOrEqual(240);
      expect(elapsed).toBeLessThan(250 + 100);
      expect(fn).toHaveBeenCalledTimes(1);
      expect(cancellations[0]?.reason).toBe(err);
      expect(p.breakerState).toBe('closed');
    });

    it('a caller that leaves while queued gives its place back and its attempt never runs', async () => {
      const p = policy({ connections: 1, queue: 1, timeoutMs: 1000, deadlineMs: 2000 });
      const gate = deferred<string>();
      const held = p.execute(() => gate.promise);
      const caller = new AbortController();
      const never = vi.fn(async (_s: Cancellation) => 'never');
      const leaving = p.execute(never, caller.signal);
      caller.abort();
      expect(upstreamError(await rejection(leaving))).toBe('aborted');
      const next = p.execute(async () => 'next'); // takes the place the leaver gave back
      gate.resolve('held');
      await expect(held).resolves.toBe('held');
      await expect(next).resolves.toBe('next');
      expect(never).not.toHaveBeenCalled();
      expect(p.breakerState).toBe('closed');
    });

    it('calls queued when the breaker opens are refused as circuit-open when their turn comes, never run', async () => {
      const p = policy({ connections: 1, queue: 5000, retries: 0, breakerThreshold: 1, breakerHalfOpenMs: 60_000, timeoutMs: 1000, deadlineMs: 5000 });
      const gate = deferred<string>();
      const held = rejection(p.execute(() => gate.promise));
      // Thousands in the queue: refusing them all unwinds in a loop, not in a stack of calls.
      const queued = vi.fn(async (_s: Cancellation) => 'should not run');
      const waits = Array.from({ length: 4000 }, () => rejection(p.execute(queued)));
      gate.reject(unavailable());
      expect((await held).code).toBe('UPSTREAM_UNAVAILABLE');
      expect(p.breakerState).toBe('open');
      const errors = await Promise.all(waits);
      expect(errors.every((e) => upstreamError(e) === 'circuit-open')).toBe(true);
      expect(queued).not.toHaveBeenCalled();
      // An open breaker refuses before the queue, too.
      const late = vi.fn(async (_s: Cancellation) => 'x');
      expect(upstreamError(await rejection(p.execute(late)))).toBe('circuit-open');
      expect(late).not.toHaveBeenCalled();
    });

    it('a half-open trial is a single call: calls during it fail at once, without waiting for it', async () => {
      const p = policy();
      await openBreaker(p);
      await sleep(OPTIONS.breakerHalfOpenMs + 20);
      const trial = deferred<string>();
      const trialAttempt = vi.fn((_s: Cancellation) => trial.promise);
      const result = p.execute(trialAttempt);
      expect(p.breakerState).toBe('half-open');
      const others = Array.from({ length: 3 }, () => vi.fn(async (_s: Cancellation) => 'other'));
      const startedAt = performance.now();
      const refused = await Promise.all(others.map((fn) => rejection(p.execute(fn))));
      expect(performance.now() - startedAt).toBeLessThan(20);
      expect(refused.map(upstreamError)).toEqual(['circuit-open', 'circuit-open', 'circuit-open']);
      for (const fn of others) expect(fn).not.toHaveBeenCalled();
      expect(trialAttempt).toHaveBeenCalledTimes(1);
      trial.resolve('back');
      await expect(result).resolves.toBe('back');
      expect(p.breakerState).toBe('closed');
    });

    it('a trial whose caller leaves decides nothing: the next call is the trial', async () => {
      const p = policy();
      const states: BreakerState[] = [];
      await openBreaker(p);
      p.onBreakerStateChange((s) => states.push(s));
      await sleep(OPTIONS.breakerHalfOpenMs + 20);
      const caller = new AbortController();
      const { fn } = hanging();
      const leaving = p.execute(fn, caller.signal);
      expect(p.breakerState).toBe('half-open');
      caller.abort();
      expect(upstreamError(await rejection(leaving))).toBe('aborted');
      expect(p.breakerState).toBe('open');
      // No new pause: the trial passes straight to the next call, whose answer closes the breaker.
      await expect(p.execute(async () => 'next')).resolves.toBe('next');
      expect(p.breakerState).toBe('closed');
      expect(states).toEqual(['half-open', 'open', 'half-open', 'closed']);
    });
  });

  describe('deadline and aborts', () => {
    it('ends a call that never answers with UPSTREAM_TIMEOUT at the deadline, aborting its attempt', async () => {
      // An attempt timeout longer than the deadline: the deadline governs.
      const p = policy({ timeoutMs: 1000 });
      const { fn, cancellations } = hanging();
      const startedAt = performance.now();
      const err = await rejection(p.execute(fn));
      const elapsed = performance.now() - startedAt;
      expect(err.code).toBe('UPSTREAM_TIMEOUT');
      expect(err.extensions.upstream).toEqual({ status: null, error: 'timeout' });
      expect(err.message).toContain('300');
      expect(err.retryable).toBe(false);
      expect(elapsed).toBeGreaterThanOrEqual(OPTIONS.deadlineMs - 10);
      expect(elapsed).toBeLessThan(OPTIONS.deadlineMs + 150);
      expect(fn).toHaveBeenCalledTimes(1);
      expect(cancellations[0]?.reason).toBeDefined();
    });

    it('times out each attempt at timeoutMs, retries a timeout once, then answers UPSTREAM_TIMEOUT', async () => {
      const p = policy({ timeoutMs: 40, deadlineMs: 1000, retries: 5 });
      const { fn, cancellations } = hanging();
      const startedAt = performance.now();
      const err = await rejection(p.execute(fn));
      const elapsed = performance.now() - startedAt;
      expect(err.code).toBe('UPSTREAM_TIMEOUT');
      expect(err.message).toContain('40 ms');
      expect(fn).toHaveBeenCalledTimes(2);
      expect(cancellations.every((s) => s.reason !== undefined)).toBe(true);
      expect(elapsed).toBeGreaterThanOrEqual(75);
      expect(elapsed).toBeLessThan(400);
    });

    it('ends at the deadline even when the attempt ignores its cancellation', async () => {
      const p = policy({ deadlineMs: 80 });
      const startedAt = performance.now();
      const err = await rejection(p.execute(() => new Promise<string>(() => undefined)));
      expect(err.code).toBe('UPSTREAM_TIMEOUT');
      expect(performance.now() - startedAt).toBeLessThan(80 + 150);
    });

    it('counts the deadline across retries and backoffs', async () => {
      const p = policy({ deadlineMs: 120, retries: 5, breakerThreshold: 100, retryBaseDelayMs: 30 });
      const startedAt = performance.now();
      const starts: { at: number; cancelledAtStart: boolean; cancellation: Cancellation }[] = [];
      const attempt = vi.fn(async (cancellation: Cancellation): Promise<string> => {
        starts.push({ at: performance.now() - startedAt, cancelledAtStart: cancellation.reason !== undefined, cancellation });
        await sleep(30);
        throw unavailable();
      });
      const err = await rejection(p.execute(attempt));
      const elapsed = performance.now() - startedAt;
      expect(err.code).toBe('UPSTREAM_TIMEOUT');
      expect(elapsed).toBeGreaterThanOrEqual(110);
      expect(elapsed).toBeLessThan(120 + 150);
      expect(starts.length).toBeGreaterThanOrEqual(2); // it did retry within the deadline
      await sleep(120);
      // Whatever the retry loop does after the deadline, it never starts upstream work with a live cancellation.
      for (const s of starts.filter((x) => x.at >= 125)) expect(s.cancelledAtStart).toBe(true);
    });

    it('rejects with "aborted" when the caller aborts, and aborts the attempt', async () => {
      const p = policy();
      const { fn, cancellations } = hanging();
      const caller = new AbortController();
      const startedAt = performance.now();
      const result = p.execute(fn, caller.signal);
      setTimeout(() => caller.abort(), 20);
      const err = await rejection(result);
      expect(performance.now() - startedAt).toBeLessThan(OPTIONS.deadlineMs);
      expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(err.extensions.upstream).toEqual({ status: null, error: 'aborted' });
      expect(cancellations[0]?.reason).toBeDefined();
      expect(p.breakerState).toBe('closed');
    });

    it('rejects with "aborted" for a signal that is already aborted', async () => {
      const p = policy();
      const { fn } = hanging();
      const err = await rejection(p.execute(fn, AbortSignal.abort()));
      expect(err.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(upstreamError(err)).toBe('aborted');
    });

    it('does not retry after the caller aborted', async () => {
      const p = policy({ retries: 5, breakerThreshold: 100 });
      const caller = new AbortController();
      const attempt = vi.fn(async (_s: Cancellation): Promise<string> => {
        caller.abort();
        throw unavailable();
      });
      const err = await rejection(p.execute(attempt, caller.signal));
      expect(upstreamError(err)).toBe('aborted');
      await sleep(20);
      expect(attempt).toHaveBeenCalledTimes(1);
    });
  });

  describe('retry budget', () => {
    it('stops retrying once the reserve of 10 is spent (retryBudget 0)', async () => {
      const p = policy({ retryBudget: 0, breakerThreshold: 10_000 });
      const attemptsPerCall: number[] = [];
      for (let i = 0; i < 8; i++) {
        const attempt = failing(unavailable);
        await rejection(p.execute(attempt));
        attemptsPerCall.push(attempt.mock.calls.length);
      }
      // 5 calls × 2 retries spend the 10 tokens; later calls get one attempt each.
      expect(attemptsPerCall).toEqual([3, 3, 3, 3, 3, 1, 1, 1]);
    });

    it('keeps a fully failing upstream within reserve + ratio × calls extra attempts', async () => {
      const ratio = 0.5;
      const p = policy({ retryBudget: ratio, breakerThreshold: 10_000 });
      const attempt = failing(unavailable);
      const calls = 40;
      for (let i = 0; i < calls; i++) await rejection(p.execute(attempt));
      const retries = attempt.mock.calls.length - calls;
      expect(retries).toBeLessThanOrEqual(10 + ratio * calls);
      expect(retries).toBeGreaterThan(10);
    });

    it('does not spend the budget on answers that are not retried', async () => {
      const p = policy({ retryBudget: 0, breakerThreshold: 10_000 });
      for (let i = 0; i < 20; i++) await rejection(p.execute(failing(notFound)));
      const attempt = failing(unavailable);
      await rejection(p.execute(attempt));
      expect(attempt).toHaveBeenCalledTimes(3);
    });
  });
});
