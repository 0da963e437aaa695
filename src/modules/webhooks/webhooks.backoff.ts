/** When to try a failed delivery again: exponential backoff with jitter, capped. */
export interface BackoffSettings {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Delay after the `attempt`-th failed attempt (1-based): base · 2^(attempt-1), capped, then
 * "equal jitter" (half fixed, half random) so receivers recovering from an outage are not hit
 * by every hotline instance at once. A receiver's Retry-After is honoured up to the cap.
 */
export function retryDelayMs(attempt: number, s: BackoffSettings, random: () => number = Math.random, retryAfterMs?: number): number {
  const exp = Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  const jittered = exp / 2 + (exp / 2) * random();
  const floor = retryAfterMs !== undefined ? Math.min(retryAfterMs, s.maxDelayMs) : 0;
  return Math.round(Math.max(jittered, floor));
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
