import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../../src/rocketchat/retryBudget.js';

/** Withdraws until refused; returns how many retries were granted. */
function drain(budget: RetryBudget): number {
  let n = 0;
  while (budget.tryWithdraw()) {
    n++;
    if (n > 10_000) throw new Error('budget never ran out');
  }
  return n;
}

describe('RetryBudget', () => {
  it('starts with the default reserve of 10 tokens', () => {
    expect(drain(new RetryBudget(0.1))).toBe(10);
  });

  it('starts with a custom reserve', () => {
    expect(drain(new RetryBudget(0.5, 3))).toBe(3);
  });

  it('refuses withdrawals below one token', () => {
    const budget = new RetryBudget(0.5, 2);
    expect(drain(budget)).toBe(2);
    expect(budget.tryWithdraw()).toBe(false);
    budget.deposit(); // 0.5 token: still less than one retry
    expect(budget.tryWithdraw()).toBe(false);
    budget.deposit(); // 1 token
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('accrues `ratio` per deposit', () => {
    const budget = new RetryBudget(0.25, 10);
    drain(budget);
    for (let i = 0; i < 8; i++) budget.deposit();
    expect(drain(budget)).toBe(2);
  });

  it('caps deposits at the reserve', () => {
    const budget = new RetryBudget(1, 5);
    for (let i = 0; i < 100; i++) budget.deposit();
    expect(drain(budget)).toBe(5);
    budget.tryWithdraw();
    budget.deposit();
    budget.deposit();
    expect(drain(budget)).toBe(2);
  });

  it('with a ratio of 0 grants nothing beyond the reserve', () => {
    const budget = new RetryBudget(0, 10);
    expect(drain(budget)).toBe(10);
    for (let i = 0; i < 50; i++) budget.deposit();
    expect(budget.tryWithdraw()).toBe(false);
  });

  it.each([
    [0.1, 10, 1000],
    [0.2, 10, 500],
    [0.5, 3, 200],
    [1, 10, 100],
  ])('bounds amplification: ratio %d, reserve %d, %d calls each retrying greedily', (ratio, reserve, calls) => {
    const budget = new RetryBudget(ratio, reserve);
    let retries = 0;
    for (let i = 0; i < calls; i++) {
      budget.deposit();
      // A fully failing upstream: every call retries as often as the budget lets it.
      while (budget.tryWithdraw()) retries++;
    }
    expect(retries).toBeLessThanOrEqual(reserve + ratio * calls);
    // and the budget really is used, not simply refusing everything
    expect(retries).toBeGreaterThanOrEqual(Math.floor(reserve + ratio * calls) - 1);
  });

  it('bounds amplification with two retries per call at most', () => {
    const ratio = 0.1;
    const reserve = 10;
    const calls = 1000;
    const budget = new RetryBudget(ratio, reserve);
    let attempts = 0;
    for (let i = 0; i < calls; i++) {
      budget.deposit();
      attempts++;
      for (let r = 0; r < 2 && budget.tryWithdraw(); r++) attempts++;
    }
    expect(attempts - calls).toBeLessThanOrEqual(reserve + ratio * calls);
    expect(attempts).toBeLessThanOrEqual(1.2 * calls);
  });
});
