import { describe, expect, it } from 'vitest';
import { KeyedSerialQueue } from './serial-queue.js';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('KeyedSerialQueue', () => {
  it('runs one key in submission order, one task at a time, even with uneven task durations', async () => {
    const q = new KeyedSerialQueue(() => {});
    const seen: number[] = [];
    let running = 0;
    let maxRunning = 0;
    for (let i = 0; i < 100; i++) {
      q.push('a', async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await tick((i * 7) % 3);
        seen.push(i);
        running--;
      });
    }
    await q.idle();
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(maxRunning).toBe(1);
  });

  it('runs different keys concurrently', async () => {
    const q = new KeyedSerialQueue(() => {});
    let running = 0;
    let maxRunning = 0;
    for (let k = 0; k < 10; k++) {
      q.push(`k${k}`, async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await tick(5);
        running--;
      });
    }
    await q.idle();
    expect(maxRunning).toBe(10);
  });

  it('reports a failing task and continues with the next one of the same key', async () => {
    const errors: [unknown, string][] = [];
    const q = new KeyedSerialQueue((err, key) => errors.push([err, key]));
    const seen: string[] = [];
    q.push('a', () => { throw new Error('boom'); });
    q.push('a', async () => { await tick(1); throw new Error('async boom'); });
    q.push('a', () => { seen.push('after'); });
    await q.idle();
    expect(seen).toEqual(['after']);
    expect(errors.map(([e, k]) => [(e as Error).message, k])).toEqual([['boom', 'a'], ['async boom', 'a']]);
  });

  it('keeps no entry for a key once its work is done', async () => {
    const q = new KeyedSerialQueue(() => {});
    for (let i = 0; i < 1000; i++) q.push(`call-${i}`, async () => { await Promise.resolve(); });
    expect(q.size).toBeGreaterThan(0);
    await q.idle();
    expect(q.size).toBe(0);
  });

  it('accepts work pushed from inside a running task of the same key, after the current one', async () => {
    const q = new KeyedSerialQueue(() => {});
    const seen: string[] = [];
    q.push('a', () => {
      q.push('a', () => { seen.push('inner'); });
      seen.push('outer');
    });
    await q.idle();
    expect(seen).toEqual(['outer', 'inner']);
  });
});
