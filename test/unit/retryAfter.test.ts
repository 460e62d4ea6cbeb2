import { describe, expect, it } from 'vitest';
import { commonRetryAfter } from '../../src/apollo.js';

const limited = (retryAfter: unknown) => ({ message: 'x', extensions: { code: 'RATE_LIMITED', retryAfter } });

describe('commonRetryAfter: the Retry-After header of an answer with errors', () => {
  it('every error says when: the latest, in whole seconds', () => {
    expect(commonRetryAfter([limited(3), limited(42), { message: 'open', extensions: { code: 'UPSTREAM_UNAVAILABLE', retryAfter: 1.2 } }])).toBe(42);
    expect(commonRetryAfter([limited(0.4)])).toBe(1);
    expect(commonRetryAfter([limited(0)])).toBe(0);
  });

  it('one error that does not say when (a bad id, a timeout) means no header', () => {
    expect(commonRetryAfter([limited(30), { message: 'bad', extensions: { code: 'BAD_USER_INPUT' } }])).toBeUndefined();
    expect(commonRetryAfter([limited(30), { message: 'no extensions' }])).toBeUndefined();
  });

  it('a retryAfter that is not a finite, non-negative number is no time at all', () => {
    for (const value of ['30', -1, Number.NaN, Number.POSITIVE_INFINITY, null]) expect(commonRetryAfter([limited(value)])).toBeUndefined();
  });
});
