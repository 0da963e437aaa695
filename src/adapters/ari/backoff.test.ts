import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';

const s = { initialMs: 100, maxMs: 5_000, factor: 2, jitter: 0 };

describe('backoffDelay', () => {
  it('grows exponentially from initialMs and is capped at maxMs', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, s))).toEqual([100, 200, 400, 800, 1600, 3200, 5000]);
    expect(backoffDelay(50, s)).toBe(5000);
  });

  it('stays finite and capped after days of retrying', () => {
    for (const n of [1_000, 1e6, Number.MAX_SAFE_INTEGER]) {
      const d = backoffDelay(n, DEFAULT_BACKOFF, () => 0.999);
      expect(Number.isFinite(d)).toBe(true);
      expect(d).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxMs);
    }
  });

  it('randomises only the jitter share of the delay', () => {
    const j = { ...s, jitter: 0.5 };
    expect(backoffDelay(3, j, () => 0)).toBe(200); // 400 * (1 - 0.5)
    expect(backoffDelay(3, j, () => 1)).toBe(400);
    const seen = new Set(Array.from({ length: 50 }, (_, i) => backoffDelay(3, j, () => i / 50)));
    expect(seen.size).toBeGreaterThan(20);
    for (const d of seen) expect(d).toBeGreaterThanOrEqual(200);
  });

  it('treats attempt numbers below 1 as the first attempt', () => {
    expect(backoffDelay(0, s)).toBe(100);
    expect(backoffDelay(-3, s)).toBe(100);
  });
});
