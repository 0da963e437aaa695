/**
 * Shared by the ticket benchmarks: a scratch database, the real app (every feature module, as the
 * server builds it) in a child process listening on 127.0.0.1, a keep-alive HTTP client, and
 * percentiles. The app runs in its own process so the load generator's CPU is not its latency.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';

export const ADMIN = { username: 'benchadmin', password: 'Bench-Admin-Pa55word!' };
export const AGENT_PASSWORD = 'Correct-Horse-9-Battery';

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

export function adminDbUrl(): string {
  return arg('database-url', process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function adminQuery(url: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

export async function databaseExists(adminUrl: string, name: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await c.end();
  }
}

/** Child side: build and listen, then report the port over IPC. */
export async function serveApp(databaseUrl: string, poolSize: number): Promise<void> {
  const { buildApp } = await import('../src/app.js');
  const { loadConfig } = await import('../src/config.js');
  const config = loadConfig({
    NODE_ENV: 'development', DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: String(poolSize), LOG_LEVEL: 'warn',
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'hotline-bench-')), BOOTSTRAP_ADMIN_USER: ADMIN.username, BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    OUTBOX_POLL_MS: '200',
  });
  const hotline = await buildApp({ config, logger: pino({ level: 'warn' }), databaseUrl, jwtSecret: 'bench-secret-bench-secret-bench-secret-01' });
  await hotline.start();
  await hotline.app.listen({ host: '127.0.0.1', port: 0 });
  const address = hotline.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let cpu0 = process.cpuUsage();
  let wall0 = performance.now();
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'cpu-reset') {
      cpu0 = process.cpuUsage();
      wall0 = performance.now();
    } else if (m.cmd === 'cpu') {
      const c = process.cpuUsage(cpu0);
      process.send?.({ kind: 'cpu', pct: Math.round(((c.user + c.system) / 1000 / (performance.now() - wall0)) * 100) });
    } else if (m.cmd === 'stop') {
      void hotline.close().then(() => process.exit(0));
    }
  });
  process.send?.({ kind: 'ready', port });
}

export interface AppProcess {
  readonly base: string;
  readonly child: ChildProcess;
  cpuPct(): Promise<number>;
  resetCpu(): void;
  stop(): Promise<void>;
}

export async function startAppProcess(script: string, databaseUrl: string, poolSize: number): Promise<AppProcess> {
  // The app's log goes to a file, so the report stays readable; its path is printed.
  const logFile = path.join(mkdtempSync(path.join(tmpdir(), 'hotline-bench-log-')), 'app.log');
  const log = openSync(logFile, 'a');
  console.log(`app log: ${logFile}`);
  const child = fork(script, ['--serve', databaseUrl, String(poolSize)], { execArgv: ['--import', 'tsx', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])], stdio: ['ignore', log, log, 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`app process exited with ${code}`)));
    child.on('message', (m: { kind: string; port?: number }) => {
      if (m.kind === 'ready') resolve(m.port!);
    });
  });
  return {
    base: `http://127.0.0.1:${port}`,
    child,
    resetCpu: () => child.send({ cmd: 'cpu-reset' }),
    cpuPct: () => new Promise((resolve) => {
      const on = (m: { kind: string; pct?: number }) => {
        if (m.kind !== 'cpu') return;
        child.off('message', on);
        resolve(m.pct!);
      };
      child.on('message', on);
      child.send({ cmd: 'cpu' });
    }),
    stop: () => new Promise((resolve) => {
      child.removeAllListeners('exit');
      child.once('exit', () => resolve());
      child.send({ cmd: 'stop' });
    }),
  };
}

/** Keep-alive HTTP/1.1 client with a bounded number of sockets. */
export class Client {
  private readonly agent: Agent;
  constructor(private readonly base: string, maxSockets: number) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  send(method: string, url: string, token: string | null, body?: unknown): Promise<{ status: number; body: string; ms: number }> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(`${this.base}${url}`, {
        method, agent: this.agent,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  async json<T>(method: string, url: string, token: string | null, body?: unknown): Promise<T> {
    const res = await this.send(method, url, token, body);
    if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${res.body}`);
    return JSON.parse(res.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Logs in as the bootstrap admin and creates an agent; returns the agent's token. */
export async function agentToken(client: Client, username: string): Promise<string> {
  const admin = (await client.json<{ token: string }>('POST', '/api/v1/auth/login', null, ADMIN)).token;
  await client.json('POST', '/api/v1/users', admin, { username, displayName: username, password: AGENT_PASSWORD, role: 'agent' });
  return (await client.json<{ token: string }>('POST', '/api/v1/auth/login', null, { username, password: AGENT_PASSWORD })).token;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '–');

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
