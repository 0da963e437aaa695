/**
 * A private nats-server process for tests that stop and restart NATS (the shared one on 4222
 * must stay up for everyone else). Same port and store directory across restarts, like a real
 * NATS node coming back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const NATS_SERVER_BIN = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'].find((p) => existsSync(p));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitForPort(port: number, up: boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (open === up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nats-server port ${port} did not become ${up ? 'open' : 'closed'}`);
}

export class TestNatsServer {
  private proc: ChildProcess | undefined;

  private constructor(readonly port: number, private readonly storeDir: string) {}

  static async start(): Promise<TestNatsServer> {
    if (!NATS_SERVER_BIN) throw new Error('nats-server binary not found (apt-get install nats-server)');
    const s = new TestNatsServer(await freePort(), await mkdtemp(path.join(tmpdir(), 'hotline-nats-')));
    await s.up();
    return s;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    this.proc = spawn(NATS_SERVER_BIN!, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: 'ignore' });
    await waitForPort(this.port, true);
  }

  /** Abrupt stop, like a crashed or partitioned NATS node. */
  async down(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = undefined;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
    await waitForPort(this.port, false);
  }

  async stop(): Promise<void> {
    await this.down();
    await rm(this.storeDir, { recursive: true, force: true });
  }
}
