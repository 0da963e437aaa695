/**
 * Failure counts per key over a sliding time window. Pure: callers pass the time, so tests (and
 * replays) control the clock. Memory is bounded by pruning on every write and by `maxKeys`
 * (a flood from many spoofed sources evicts the oldest keys instead of growing without end).
 */
export class SlidingWindowCounter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {
    if (!(windowMs > 0)) throw new RangeError('windowMs must be positive');
  }

  /** Records one hit at `now` and returns the number of hits for `key` inside the window. */
  hit(key: string, now: number): number {
    const list = this.prune(key, now) ?? [];
    list.push(now);
    // Re-insert so Map order stays "least recently hit first" for eviction.
    this.hits.delete(key);
    this.hits.set(key, list);
    while (this.hits.size > this.maxKeys) {
      const oldest = this.hits.keys().next().value;
      if (oldest === undefined) break;
      this.hits.delete(oldest);
    }
    return list.length;
  }

  count(key: string, now: number): number {
    return this.prune(key, now)?.length ?? 0;
  }

  reset(key: string): void {
    this.hits.delete(key);
  }

  /** Drops every key whose hits have all left the window. */
  sweep(now: number): void {
    for (const key of [...this.hits.keys()]) this.prune(key, now);
  }

  get size(): number {
    return this.hits.size;
  }

  private prune(key: string, now: number): number[] | undefined {
    const list = this.hits.get(key);
    if (!list) return undefined;
    const from = now - this.windowMs;
    let drop = 0;
    while (drop < list.length && (list[drop] ?? 0) <= from) drop++;
    if (drop > 0) list.splice(0, drop);
    if (list.length === 0) {
      this.hits.delete(key);
      return undefined;
    }
    return list;
  }
}
