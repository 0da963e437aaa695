/**
 * Shared by the call benchmarks: the real service in a child process, wired over ARI to a fake
 * Asterisk in the benchmark's process (which plays the callers and the agents' phones), a fresh
 * database, and the operator's set-up through the REST API: one 7×24 queue and N agents.
 *
 * The child answers IPC probes: `mem` (after a full GC: heap and RSS), `cpu`, `calls` (live
 * sessions and bound keys in the call router, ACD counters).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Client } from './tickets-support.js';
import { ADMIN, AGENT_PASSWORD } from './tickets-support.js';

export interface CallsAppProcess {
  readonly base: string;
  readonly child: ChildProcess;
  probe<T>(cmd: 'mem' | 'cpu' | 'cpu-reset' | 'calls'): Promise<T>;
  stop(): Promise<void>;
}

export interface Mem { heapUsed: number; rss: number }
export interface CallsProbe { sessions: number; boundKeys: number; acd: { passes: number; offers: number; failures: number } }

/** Child side: build the app on the database and the fake Asterisk, listen, report over IPC. */
export async function serveCallsApp(databaseUrl: string, ariUrl: string, poolSize: number): Promise<void> {
  const { buildApp } = await import('../src/app.js');
  const { loadConfig } = await import('../src/config.js');
  const config = loadConfig({
    NODE_ENV: 'development', DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: String(poolSize), LOG_LEVEL: 'warn',
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'hotline-bench-')), BOOTSTRAP_ADMIN_USER: ADMIN.username, BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    ARI_URL: ariUrl, ARI_USER: 'hotline', ARI_PASSWORD: 'secret', ARI_NODE_IDS: 'ast1', OUTBOX_POLL_MS: '200',
    // Hundreds of agents sign in from one address here.
    LOGIN_RATE_LIMIT_PER_ADDRESS_MAX: '10000',
  });
  // Cheap password hashing for the 500 benchmark agents; everything else is as in production.
  const hotline = await buildApp({ config, logger: pino({ level: 'warn' }), databaseUrl, jwtSecret: 'bench-secret-bench-secret-bench-secret-01', scrypt: { N: 1024, r: 8, p: 1 } });
  await hotline.start();
  await hotline.app.listen({ host: '127.0.0.1', port: 0 });
  const address = hotline.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let cpu0 = process.cpuUsage();
  let wall0 = performance.now();
  const calls = hotline.modules.get('calls')!.exports as { router: { size: number; boundKeys: number }; acd: { stats: CallsProbe['acd'] } };
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'mem') {
      (globalThis as { gc?: () => void }).gc?.();
      const u = process.memoryUsage();
      process.send?.({ kind: 'mem', value: { heapUsed: u.heapUsed, rss: u.rss } });
    } else if (m.cmd === 'cpu-reset') {
      cpu0 = process.cpuUsage();
      wall0 = performance.now();
      process.send?.({ kind: 'cpu-reset', value: null });
    } else if (m.cmd === 'cpu') {
      const c = process.cpuUsage(cpu0);
      process.send?.({ kind: 'cpu', value: Math.round(((c.user + c.system) / 1000 / (performance.now() - wall0)) * 100) });
    } else if (m.cmd === 'calls') {
      process.send?.({ kind: 'calls', value: { sessions: calls.router.size, boundKeys: calls.router.boundKeys, acd: { ...calls.acd.stats } } });
    } else if (m.cmd === 'stop') {
      void hotline.close().then(() => process.exit(0));
    }
  });
  process.send?.({ kind: 'ready', port });
}

export async function startCallsApp(script: string, databaseUrl: string, ariUrl: string, poolSize: number): Promise<CallsAppProcess> {
  const logFile = path.join(mkdtempSync(path.join(tmpdir(), 'hotline-bench-log-')), 'app.log');
  const log = openSync(logFile, 'a');
  console.log(`app log: ${logFile}`);
  const child = fork(script, ['--serve', databaseUrl, ariUrl, String(poolSize)], { execArgv: ['--import', 'tsx', '--expose-gc', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])], stdio: ['ignore', log, log, 'ipc'] });
  // A benchmark that fails must not leave its service running.
  process.once('exit', () => child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`app process exited with ${code}; see ${logFile}`)));
    child.on('message', (m: { kind: string; port?: number }) => {
      if (m.kind === 'ready') resolve(m.port!);
    });
  });
  return {
    base: `http://127.0.0.1:${port}`,
    child,
    probe: <T>(cmd: string) => new Promise<T>((resolve) => {
      const on = (m: { kind: string; value: T }) => {
        if (m.kind !== cmd) return;
        child.off('message', on);
        resolve(m.value);
      };
      child.on('message', on);
      child.send({ cmd });
    }),
    stop: () => new Promise((resolve) => {
      child.removeAllListeners('exit');
      child.once('exit', () => resolve());
      child.send({ cmd: 'stop' });
    }),
  };
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  }));
}

export interface CentreSetup {
  readonly admin: string;
  readonly queueId: string;
  readonly agents: { id: string; token: string; extension: string }[];
}

/** One 7×24 queue ("general") and `n` agents with extensions 1000…, logged out. */
export async function setupCentre(client: Client, n: number, queue: Record<string, unknown> = {}): Promise<CentreSetup> {
  const admin = (await client.json<{ token: string }>('POST', '/api/v1/auth/login', null, ADMIN)).token;
  const q = await client.json<{ id: string }>('POST', '/api/v1/queues', admin, {
    code: 'general', name: '综合', maxWaitSeconds: 600, ringTimeoutSeconds: 10, wrapUpSeconds: 1, announcementIntervalSeconds: 60, callbackOfferSeconds: null, ...queue,
  });
  const agents: CentreSetup['agents'] = [];
  await pool(Array.from({ length: n }, (_, i) => i), 16, async (i) => {
    const extension = String(1000 + i);
    const user = await client.json<{ id: string }>('POST', '/api/v1/users', admin, { username: `agent${extension}`, displayName: `座席${extension}`, password: AGENT_PASSWORD, role: 'agent' });
    await client.json('POST', '/api/v1/agents', admin, { userId: user.id, extension });
    const token = (await client.json<{ token: string }>('POST', '/api/v1/auth/login', null, { username: `agent${extension}`, password: AGENT_PASSWORD })).token;
    agents.push({ id: user.id, token, extension });
  });
  agents.sort((a, b) => a.extension.localeCompare(b.extension));
  return { admin, queueId: q.id, agents };
}

export function mb(bytes: number): string {
  return (bytes / 1_048_576).toFixed(1);
}
