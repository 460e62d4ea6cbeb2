import { describe, expect, it } from 'vitest';
import { RateLimitMemory } from '../../../src/rocketchat/rateLimits.js';

const NOW = 1_700_000_000_000;

describe('RateLimitMemory', () => {
  it('answers undefined for a bucket it never saw', () => {
    expect(new RateLimitMemory().retryAfter('10.0.0.1:user', NOW)).toBeUndefined();
  });

  it('counts the window down in whole seconds, rounding up', () => {
    const m = new RateLimitMemory();
    m.remember('b', 52, NOW);
    expect(m.retryAfter('b', NOW)).toBe(52);
    expect(m.retryAfter('b', NOW + 1)).toBe(52);
    expect(m.retryAfter('b', NOW + 999)).toBe(52);
    expect(m.retryAfter('b', NOW + 1000)).toBe(51);
    expect(m.retryAfter('b', NOW + 1001)).toBe(51);
    expect(m.retryAfter('b', NOW + 30_500)).toBe(22);
    expect(m.retryAfter('b', NOW + 51_999)).toBe(1);
    expect(m.retryAfter('b', NOW + 51_000)).toBe(1);
  });

  it('forgets the bucket once the window has passed', () => {
    const m = new RateLimitMemory();
    m.remember('b', 5, NOW);
    expect(m.retryAfter('b', NOW + 4_999)).toBe(1);
    expect(m.retryAfter('b', NOW + 5_000)).toBeUndefined();
    // Forgotten for good, even when asked with an earlier clock again.
    expect(m.retryAfter('b', NOW)).toBeUndefined();
  });

  it('does not remember a retryAfter of 0 (or less)', () => {
    const m = new RateLimitMemory();
    m.remember('zero', 0, NOW);
    m.remember('negative', -3, NOW);
    expect(m.retryAfter('zero', NOW)).toBeUndefined();
    expect(m.retryAfter('negative', NOW)).toBeUndefined();
  });

  it('keeps buckets independent', () => {
    const m = new RateLimitMemory();
    m.remember('10.0.0.1:alice', 10, NOW);
    m.remember('10.0.0.2:bob', 3, NOW);
    expect(m.retryAfter('10.0.0.1:alice', NOW)).toBe(10);
    expect(m.retryAfter('10.0.0.2:bob', NOW)).toBe(3);
    expect(m.retryAfter('10.0.0.1:bob', NOW)).toBeUndefined();
    expect(m.retryAfter('10.0.0.2:bob', NOW + 3_000)).toBeUndefined();
    expect(m.retryAfter('10.0.0.1:alice', NOW + 3_000)).toBe(7);
  });

  it('a newer window replaces the older one for the same bucket', () => {
    const m = new RateLimitMemory();
    m.remember('b', 60, NOW);
    m.remember('b', 2, NOW + 1_000);
    expect(m.retryAfter('b', NOW + 1_000)).toBe(2);
    expect(m.retryAfter('b', NOW + 3_000)).toBeUndefined();
  });

  it('uses the current time when none is given', () => {
    const m = new RateLimitMemory();
    m.remember('b', 30);
    const left = m.retryAfter('b');
    expect(left).toBeGreaterThanOrEqual(29);
    expect(left).toBeLessThanOrEqual(30);
  });
});
