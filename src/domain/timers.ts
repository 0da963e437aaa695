/**
 * Timers as a dependency of the call flow, so voice tests can run a 30-second queue wait in a
 * fraction of a second. Production uses the real ones (unref'd: a pending announcement never
 * holds the process open at shutdown).
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Every delay multiplied by `scale` (tests). */
export function scaledTimers(scale: number): Timers {
  return {
    setTimeout: (fn, ms) => setTimeout(fn, Math.max(1, Math.round(ms * scale))).unref(),
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  };
}
