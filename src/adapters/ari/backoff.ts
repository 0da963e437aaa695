/** Capped exponential backoff with jitter, for reconnect loops that never give up. */
import type { BackoffSettings } from './types.js';

export const DEFAULT_BACKOFF: BackoffSettings = { initialMs: 250, maxMs: 30_000, factor: 2, jitter: 0.5 };

/**
 * Delay before retry number `attempt` (1-based): `initialMs * factor^(attempt-1)`, capped at
 * `maxMs`, of which the `jitter` share is randomised so many service instances do not hammer a
 * restarting Asterisk in lockstep. Never below 0 nor above `maxMs`.
 */
export function backoffDelay(attempt: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(attempt));
  // Exponent bounded so huge attempt counts (days of retrying) do not overflow to Infinity/NaN.
  const raw = settings.initialMs * Math.pow(settings.factor, Math.min(n - 1, 64));
  const capped = Math.min(settings.maxMs, Number.isFinite(raw) ? raw : settings.maxMs);
  const jitter = Math.min(1, Math.max(0, settings.jitter));
  const fixed = capped * (1 - jitter);
  return Math.round(fixed + capped * jitter * random());
}
