import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { Coalescer } from '../../../src/rocketchat/coalesce.js';
import { Cancellation } from '../../../src/rocketchat/cancellation.js';
import { deferred } from '../../helpers/promises.js';

/** Lets pending promise callbacks and macrotask-queued rejection checks run. */
const flush = () => new Promise<void>((r) => setTimeout(r, 0));

function expectAborted(err: unknown): void {
  expect(err).toBeInstanceOf(GatewayError);
  const e = err as GatewayError;
  expect(e.code).toBe('UPSTREAM_UNAVAILABLE');
  expect(e.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
  expect(e.extensions.upstream).toEqual({ status: null, error: 'aborted' });
}

describe('Coalescer', () => {
  const unhandled = vi.fn();
  beforeEach(() => {
    unhandled.mockReset();
    process.on('unhandledRejection', unhandled);
  });
  afterEach(async () => {
    await flush();
    process.off('unhandledRejection', unhandled);
    expect(unhandled).not.toHaveBeenCalled();
  });

  it('treats keys that name object properties as ordinary keys', async () => {
    const c = new Coalescer<string>();
    const keys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', ''];
    const gates = keys.map(() => deferred<string>());
    const started = keys.map((key, i) => c.run(key, undefined, () => gates[i]!.promise));
    expect(c.size).toBe(keys.length);
    // A second caller of each key shares the first one's call.
    const again = keys.map((key) => c.run(key, undefined, () => Promise.reject(new Error(`second start for ${key}`))));
    gates.forEach((g, i) => g.resolve(`value ${i}`));
    expect(await Promise.all(started)).toEqual(keys.map((_, i) => `value ${i}`));
    expect(await Promise.all(again)).toEqual(keys.map((_, i) => `value ${i}`));
    await flush();
    expect(c.size).toBe(0);
  });

  it('shares one start() call among concurrent callers of the same key', async () => {
    const c = new Coalescer<string>();
    const d = deferred<string>();
    const start = vi.fn(() => d.promise);
    const a = c.run('k', undefined, start);
    const b = c.run('k', new AbortController().signal, start);
    const third = c.run('k', undefined, start);
    expect(start).toHaveBeenCalledTimes(1);
    expect(c.size).toBe(1);
    d.resolve('value');
    await expect(Promise.all([a, b, third])).resolves.toEqual(['value', 'value', 'value']);
  });

  it('does not share between different keys', async () => {
    const c = new Coalescer<string>();
    const start = vi.fn((_call: Cancellation) => Promise.resolve('x'));
    const p1 = c.run('user1:id', undefined, async (s) => `one:${await start(s)}`);
    const p2 = c.run('user2:id', undefined, async (s) => `two:${await start(s)}`);
    expect(start).toHaveBeenCalledTimes(2);
    expect(c.size).toBe(2);
    await expect(p1).resolves.toBe('one:x');
    await expect(p2).resolves.toBe('two:x');
  });

  it('forgets the entry once it settles, so a later call starts anew', async () => {
    const c = new Coalescer<number>();
    let n = 0;
    const start = vi.fn(async () => ++n);
    await expect(c.run('k', undefined, start)).resolves.toBe(1);
    expect(c.size).toBe(0);
    await expect(c.run('k', undefined, start)).resolves.toBe(2);
    expect(start).toHaveBeenCalledTimes(2);
    expect(c.size).toBe(0);
  });

  it('forgets the entry after a rejection too', async () => {
    const c = new Coalescer<number>();
    const start = vi.fn().mockRejectedValueOnce(new Error('boom')).mockResolvedValueOnce(7);
    await expect(c.run('k', undefined, start)).rejects.toThrow('boom');
    expect(c.size).toBe(0);
    await expect(c.run('k', undefined, start)).resolves.toBe(7);
    expect(start).toHaveBeenCalledTimes(2);
  });

  it('rejects a waiter whose signal aborts, while the others still get the value', async () => {
    const c = new Coalescer<string>();
    const d = deferred<string>();
    let upstream: Cancellation | undefined;
    const start = vi.fn((call: Cancellation) => {
      upstream = call;
      return d.promise;
    });
    const leaving = new AbortController();
    const staying = new AbortController();
    const p1 = c.run('k', leaving.signal, start);
    const p2 = c.run('k', staying.signal, start);
    const p3 = c.run('k', undefined, start);
    const r1 = p1.catch((e: unknown) => e);
    leaving.abort();
    expectAborted(await r1);
    expect(upstream?.reason).toBeUndefined();
    expect(c.size).toBe(1);
    d.resolve('v');
    await expect(p2).resolves.toBe('v');
    await expect(p3).resolves.toBe('v');
    expect(start).toHaveBeenCalledTimes(1);
  });

  it('aborts the shared call only when every waiter has left', async () => {
    const c = new Coalescer<string>();
    const d = deferred<string>();
    let upstream: Cancellation | undefined;
    const start = (call: Cancellation) => {
      upstream = call;
      call.subscribe(() => d.reject(new Error('upstream aborted')));
      return d.promise;
    };
    const a = new AbortController();
    const b = new AbortController();
    const pa = c.run('k', a.signal, start).catch((e: unknown) => e);
    const pb = c.run('k', b.signal, start).catch((e: unknown) => e);
    a.abort();
    expectAborted(await pa);
    expect(upstream?.reason).toBeUndefined();
    b.abort();
    expectAborted(await pb);
    expect(upstream?.reason?.extensions.upstream).toEqual({ status: null, error: 'aborted' });
    // The abandoned call is forgotten at once: a new caller starts a fresh one.
    expect(c.size).toBe(0);
    const fresh = vi.fn(async () => 'fresh');
    await expect(c.run('k', undefined, fresh)).resolves.toBe('fresh');
    expect(fresh).toHaveBeenCalledTimes(1);
  });

  it('tells each caller that joins of the call it joins, with what the starter attached, and tells no one else', async () => {
    const coalescer = new Coalescer<string, { by: string }>();
    const answer = deferred<string>();
    const joins: Array<{ by: string } | undefined> = [];
    const started: string[] = [];
    const start = (name: string) => (_c: Cancellation, call: { attachment?: { by: string } }) => {
      started.push(name);
      call.attachment = { by: name };
      return answer.promise;
    };
    const join = (call: { attachment?: { by: string } }) => joins.push(call.attachment);
    const first = coalescer.run('k', undefined, start('first'), join);
    const second = coalescer.run('k', undefined, start('second'), join);
    const gone = new Cancellation();
    gone.cancel(new GatewayError('gone', 'UPSTREAM_UNAVAILABLE'));
    const refused = coalescer.run('k', gone, start('gone'), join);
    answer.resolve('v');
    expect(await Promise.all([first, second])).toEqual(['v', 'v']);
    await expect(refused).rejects.toBeInstanceOf(GatewayError);
    expect(started).toEqual(['first']);
    // The starter is not told; the caller already gone joined nothing.
    expect(joins).toEqual([{ by: 'first' }]);
  });

  it('rejects an already-aborted signal without calling start', async () => {
    const c = new Coalescer<string>();
    const start = vi.fn(async () => 'never');
    const err = await c.run('k', AbortSignal.abort(), start).catch((e: unknown) => e);
    expectAborted(err);
    expect(start).not.toHaveBeenCalled();
    expect(c.size).toBe(0);
  });

  it('propagates a rejection to every waiter', async () => {
    const c = new Coalescer<string>();
    const d = deferred<string>();
    const start = vi.fn(() => d.promise);
    const failure = new Error('upstream down');
    const waiters = [c.run('k', undefined, start), c.run('k', new AbortController().signal, start), c.run('k', new AbortController().signal, start)].map((p) =>
      p.then(
        () => 'resolved',
        (e: unknown) => e,
      ),
    );
    d.reject(failure);
    const results = await Promise.all(waiters);
    expect(results).toEqual([failure, failure, failure]);
    expect(start).toHaveBeenCalledTimes(1);
    expect(c.size).toBe(0);
  });

  it('leaves no unhandled rejection when every waiter abandoned a call that later fails', async () => {
    const c = new Coalescer<string>();
    const d = deferred<string>();
    const a = new AbortController();
    const p = c.run('k', a.signal, () => d.promise).catch((e: unknown) => e);
    a.abort();
    expectAborted(await p);
    d.reject(new Error('late failure'));
    await flush();
    await flush();
    expect(unhandled).not.toHaveBeenCalled();
  });

  it('leaves no unhandled rejection when a signal-less waiter handles the rejection', async () => {
    const c = new Coalescer<string>();
    const d = deferred<string>();
    const p = c.run('k', undefined, () => d.promise);
    const q = c.run('k', new AbortController().signal, () => d.promise);
    d.reject(new Error('fail'));
    await expect(p).rejects.toThrow('fail');
    await expect(q).rejects.toThrow('fail');
    await flush();
    expect(unhandled).not.toHaveBeenCalled();
  });
});
