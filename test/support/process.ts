/** Runs the real server as a child process, the way `npm start` does. */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface ServerProcess {
  readonly proc: ChildProcess;
  readonly port: number;
  output(): string;
  exited: Promise<number | null>;
  waitReady(timeoutMs?: number): Promise<void>;
}

export function startServer(env: Record<string, string>, port: number): ServerProcess {
  // A clean environment: only what the test gives, plus PATH/HOME for the tools.
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc, port, exited,
    output: () => out,
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let exitedEarly = false;
      void exited.then(() => (exitedEarly = true));
      while (Date.now() < deadline && !exitedEarly) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/readyz`);
          if (res.status === 200) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`server not ready (exited: ${exitedEarly}):\n${out.slice(-3000)}`);
    },
  };
}
