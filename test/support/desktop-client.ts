/** A desktop WebSocket client for the desktop tests: a real `ws` socket against a listening app. */
import WebSocket from 'ws';
import type { TestApp } from './app.js';

/** Whatever JSON.parse gives: the tests read message fields freely and assert on them. */
type Parsed = ReturnType<typeof JSON.parse>;

export interface Msg {
  v: number;
  type: string;
  seq?: string;
  at: string;
  [k: string]: Parsed;
}

/** Starts the app's HTTP server on a free port; returns its ws:// base URL. */
export async function listen(t: TestApp): Promise<string> {
  const address = await t.hotline.app.listen({ port: 0, host: '127.0.0.1' });
  return address.replace(/^http/, 'ws');
}

export class DesktopClient {
  readonly messages: Msg[] = [];
  /** Messages already handed out by next(). */
  private taken = new Set<Msg>();
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Answer the server's pings (a live desktop); false simulates a frozen one. */
  answerPings = true;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      this.wake();
    }));
    ws.on('message', (data) => {
      const msg = JSON.parse((data as Buffer).toString('utf8')) as Msg;
      this.messages.push(msg);
      if (msg.type === 'ping' && this.answerPings && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ v: 1, type: 'pong' }));
      this.wake();
    });
  }

  static async open(base: string, headers: Record<string, string> = {}): Promise<DesktopClient> {
    const ws = new WebSocket(`${base}/api/v1/desktop/ws`, { headers });
    const client = new DesktopClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** Opens, says hello (with the token unless the header carries it) and returns the welcome. */
  static async connect(base: string, token: string, opts: { lastSeq?: string; header?: boolean } = {}): Promise<{ client: DesktopClient; welcome: Msg }> {
    const client = await DesktopClient.open(base, opts.header ? { authorization: `Bearer ${token}` } : {});
    client.send({ v: 1, type: 'hello', ...(opts.header ? {} : { token }), ...(opts.lastSeq !== undefined ? { lastSeq: opts.lastSeq } : {}) });
    const welcome = await client.next((m) => m.type === 'welcome', 'welcome');
    return { client, welcome };
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The first message not handed out yet that matches. */
  async next(match: (m: Msg) => boolean, what: string, timeoutMs = 10_000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => !this.taken.has(m) && match(m));
      if (found) {
        this.taken.add(found);
        return found;
      }
      if (this.ws.readyState === this.ws.CLOSED) throw new Error(`socket closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async command(id: string, command: Record<string, unknown>): Promise<Msg> {
    this.send({ v: 1, type: 'command', id, command });
    return this.next((m) => m.type === 'command_result' && m.id === id, `command_result ${id}`);
  }

  /** Log messages (those with a seq) received so far, optionally of one type. */
  logged(type?: string): Msg[] {
    return this.messages.filter((m) => m.seq !== undefined && (type === undefined || m.type === type));
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
