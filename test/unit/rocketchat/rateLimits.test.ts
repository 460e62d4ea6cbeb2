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

  it('learns what a bucket has left from any answer and refuses an operation that cannot fit', () => {
    const m = new RateLimitMemory();
    expect(m.admit('b', 1000, NOW)).toBeUndefined();
    m.observe('b', { 'x-ratelimit-remaining': '4', 'x-ratelimit-reset': String(NOW + 30_000) }, NOW);
    expect(m.admit('b', 4, NOW)).toBeUndefined();
    expect(m.admit('b', 5, NOW)).toEqual({ remaining: 4, retryAfter: 30 });
    // Four left is not spent: single calls still go.
    expect(m.retryAfter('b', NOW)).toBeUndefined();
    // Once the window has passed, anything is admitted again.
    expect(m.admit('b', 5, NOW + 30_000)).toBeUndefined();
  });

  it('takes each call off as it goes, so a spent bucket is known before Rocket.Chat says 429', () => {
    const m = new RateLimitMemory();
    m.observe('b', { 'x-ratelimit-remaining': '2', 'x-ratelimit-reset': String(NOW + 60_000) }, NOW);
    m.spend('b', NOW);
    expect(m.admit('b', 2, NOW)).toEqual({ remaining: 1, retryAfter: 60 });
    m.spend('b', NOW);
    expect(m.retryAfter('b', NOW)).toBe(60);
    // A late answer from earlier in the same window does not give the calls back.
    m.observe('b', { 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': String(NOW + 60_000) }, NOW);
    expect(m.retryAfter('b', NOW)).toBe(60);
    // A new window does.
    m.observe('b', { 'x-ratelimit-remaining': '9', 'x-ratelimit-reset': String(NOW + 120_000) }, NOW + 61_000);
    expect(m.retryAfter('b', NOW + 61_000)).toBeUndefined();
  });

  it('ignores headers that make no sense, and caps a window at an hour', () => {
    const m = new RateLimitMemory();
    for (const headers of [
      { 'x-ratelimit-remaining': '-1', 'x-ratelimit-reset': String(NOW + 1000) },
      { 'x-ratelimit-remaining': 'lots', 'x-ratelimit-reset': String(NOW + 1000) },
      { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW - 1000) },
      { 'x-ratelimit-remaining': '0' },
    ]) {
      m.observe('b', headers, NOW);
      expect(m.retryAfter('b', NOW)).toBeUndefined();
    }
    m.observe('b', { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW + 86_400_000) }, NOW);
    expect(m.retryAfter('b', NOW)).toBe(3600);
  });

  it('tells onLearn what it learned from Rocket.Chat, and takes windows learned elsewhere', () => {
    const heard: unknown[] = [];
    const m = new RateLimitMemory();
    m.onLearn = (bucket, window) => heard.push([bucket, { ...window }]);
    m.remember('b', 10, NOW);
    expect(heard).toEqual([['b', { resetAt: NOW + 10_000, remaining: 0 }]]);
    const other = new RateLimitMemory();
    other.learn('b', { resetAt: NOW + 10_000, remaining: 0 }, NOW);
    expect(other.retryAfter('b', NOW)).toBe(10);
    // What it learns from elsewhere it does not tell again.
    expect(heard).toHaveLength(1);
    // A window already over, or implausibly long, is not taken.
    other.learn('c', { resetAt: NOW - 1, remaining: 0 }, NOW);
    other.learn('d', { resetAt: NOW + 86_400_000, remaining: 0 }, NOW);
    expect(other.retryAfter('c', NOW)).toBeUndefined();
    expect(other.retryAfter('d', NOW)).toBeUndefined();
  });
});
