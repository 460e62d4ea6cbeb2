import { describe, expect, it, vi } from 'vitest';
import { upstreamTimeout } from '../../../src/errors.js';
import { Cancellation } from '../../../src/rocketchat/cancellation.js';

describe('Cancellation', () => {
  it('tells every listener once, with the reason, and keeps the first reason', () => {
    const c = new Cancellation();
    const a = vi.fn();
    const b = vi.fn();
    c.subscribe(a);
    c.subscribe(b);
    const reason = upstreamTimeout(10);
    c.cancel(reason);
    c.cancel(upstreamTimeout(20));
    expect(a).toHaveBeenCalledExactlyOnceWith(reason);
    expect(b).toHaveBeenCalledExactlyOnceWith(reason);
    expect(c.reason).toBe(reason);
  });

  it('defaults the reason to "aborted" and forgets unsubscribed listeners', () => {
    const c = new Cancellation();
    const gone = vi.fn();
    const stays = vi.fn();
    c.subscribe(gone)();
    c.subscribe(stays);
    c.cancel();
    expect(gone).not.toHaveBeenCalled();
    expect(stays).toHaveBeenCalledOnce();
    expect(c.reason?.extensions.upstream).toEqual({ status: null, error: 'aborted' });
  });

  it('follows an AbortSignal, already aborted or aborted later', () => {
    expect(Cancellation.from(AbortSignal.abort())?.reason?.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
    const controller = new AbortController();
    const c = Cancellation.from(controller.signal)!;
    expect(c.reason).toBeUndefined();
    controller.abort();
    expect(c.reason?.extensions.upstream).toEqual({ status: null, error: 'aborted' });
    expect(Cancellation.from(undefined)).toBeUndefined();
    expect(Cancellation.from(c)).toBe(c);
  });
});
