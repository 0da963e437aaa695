import { describe, expect, it } from 'vitest';
import { isRetryableDbError, retryDb } from './database.js';

const poolTimeout = () => new Error('timeout exceeded when trying to connect');

describe('retryDb', () => {
  it('retries what certainly did not commit, and nothing else', () => {
    expect(isRetryableDbError(poolTimeout())).toBe(true);
    expect(isRetryableDbError(Object.assign(new Error('could not serialize access'), { code: '40001' }))).toBe(true);
    expect(isRetryableDbError(Object.assign(new Error('deadlock detected'), { code: '40P01' }))).toBe(true);
    // Lost mid-transaction: the COMMIT may have gone through, so running it again could repeat it.
    expect(isRetryableDbError(new Error('Connection terminated unexpectedly'))).toBe(false);
    expect(isRetryableDbError(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isRetryableDbError(undefined)).toBe(false);
  });

  it('runs again until it succeeds, then gives up after the attempts', async () => {
    let calls = 0;
    const retried: number[] = [];
    const value = await retryDb(async () => {
      calls += 1;
      if (calls < 3) throw poolTimeout();
      return 'ok';
    }, { firstDelayMs: 1, onRetry: (_err, attempt) => retried.push(attempt) });
    expect(value).toBe('ok');
    expect(retried).toEqual([1, 2]);

    calls = 0;
    await expect(retryDb(async () => {
      calls += 1;
      throw poolTimeout();
    }, { attempts: 4, firstDelayMs: 1 })).rejects.toThrow(/timeout exceeded/);
    expect(calls).toBe(4);

    calls = 0;
    await expect(retryDb(async () => {
      calls += 1;
      throw new Error('boom');
    }, { firstDelayMs: 1 })).rejects.toThrow('boom');
    expect(calls).toBe(1);
  });
});
