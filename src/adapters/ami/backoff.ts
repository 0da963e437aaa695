/** Reconnect delays: exponential from `initialMs`, capped at `maxMs`, with "equal jitter". */
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  /** 0 = no jitter; 0.5 = the delay varies between 50 % and 100 % of the nominal value. */
  readonly jitter: number;
}

export function backoffDelay(failures: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(exp * (1 - jitter * random()));
}
