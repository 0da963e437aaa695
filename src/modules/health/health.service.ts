/**
 * Readiness from named checks. A `required` check that is down makes the instance not ready
 * (load balancers stop sending work); optional ones report without failing readiness.
 */
export interface CheckResult {
  status: 'up' | 'down' | 'degraded' | 'disabled';
  latencyMs?: number;
  detail?: string;
  [extra: string]: unknown;
}

export interface HealthCheck {
  readonly name: string;
  readonly required: boolean;
  check(): Promise<CheckResult>;
}

export class HealthService {
  private readonly checks: HealthCheck[] = [];
  private draining = false;

  constructor(private readonly timeoutMs = 2000) {}

  register(check: HealthCheck): void {
    this.checks.push(check);
  }

  /** During shutdown the instance reports not ready so no new work arrives. */
  setDraining(): void {
    this.draining = true;
  }

  async readiness(): Promise<{ status: 'ready' | 'not_ready'; checks: Record<string, CheckResult> }> {
    const results = await Promise.all(this.checks.map(async (c) => [c, await this.run(c)] as const));
    const checks: Record<string, CheckResult> = {};
    let ready = !this.draining;
    for (const [c, r] of results) {
      checks[c.name] = r;
      if (c.required && r.status === 'down') ready = false;
    }
    if (this.draining) checks.shutdown = { status: 'down', detail: 'draining for shutdown' };
    return { status: ready ? 'ready' : 'not_ready', checks };
  }

  private async run(c: HealthCheck): Promise<CheckResult> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<CheckResult>((resolve) => {
        timer = setTimeout(() => resolve({ status: 'down', detail: `no answer within ${this.timeoutMs} ms` }), this.timeoutMs);
      });
      const r = await Promise.race([c.check(), timeout]);
      return { latencyMs: Math.round((performance.now() - started) * 10) / 10, ...r };
    } catch (err) {
      return { status: 'down', detail: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}
