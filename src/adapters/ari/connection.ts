/**
 * One node's connection: the event WebSocket (which registers our Stasis apps), a reconnect loop
 * that never gives up (capped exponential backoff with jitter), a heartbeat that detects a dead
 * peer, and a resync after every (re)connect.
 *
 * The socket is our own `ws` client rather than ari-client's `start()`: that one retries on its
 * own, gives up after 10 attempts, and would race this loop; its message handler also throws on
 * event types missing from the swagger. ari-client still does the REST side when chosen.
 */
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { backoffDelay } from './backoff.js';
import type { AriTransport } from './transport.js';
import type { BackoffSettings, ConnectionState, NodeHealth } from './types.js';

const noop = (): void => {};

export interface ConnectionOptions {
  readonly nodeId: string;
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly apps: readonly string[];
  readonly transport: AriTransport;
  readonly backoff: BackoffSettings;
  readonly heartbeatMs: number;
  readonly downAfterMs: number;
  /** Deadline for the WebSocket upgrade. */
  readonly connectTimeoutMs: number;
  readonly log: Logger;
  readonly onMessage: (data: unknown) => void;
  /** Re-registration and resync; a failure drops the socket and counts as a failed attempt. */
  readonly onConnected: (reason: 'connect' | 'reconnect') => Promise<void>;
  readonly onState: (health: NodeHealth) => void;
  readonly random?: () => number;
  readonly now?: () => number;
}

export class AriConnection {
  private state: ConnectionState = 'connecting';
  private since: number;
  private lastError: string | undefined;
  private attempts = 0;
  /** Failed attempts since the node was last connected (for logs and `down`). */
  private disconnectedSince: number;
  private everConnected = false;
  private stopped = true;
  private ws: WebSocket | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private firstConnect: { resolve: () => void; promise: Promise<void> } | undefined;
  private readonly now: () => number;

  constructor(private readonly o: ConnectionOptions) {
    this.now = o.now ?? Date.now;
    this.since = this.now();
    this.disconnectedSince = this.since;
  }

  health(): NodeHealth {
    return {
      nodeId: this.o.nodeId, state: this.state, since: new Date(this.since).toISOString(),
      lastError: this.lastError, attempts: this.attempts, transport: this.o.transport.kind,
    };
  }

  /** Listeners on the current event socket (constant while connected; leak checks). */
  socketListeners(): number {
    const ws = this.ws;
    if (!ws) return 0;
    return ws.eventNames().reduce((n, name) => n + ws.listenerCount(name), 0);
  }

  /** Starts the loop; resolves at the first successful connect + resync, or after `waitMs`. */
  start(waitMs = 0): Promise<void> {
    if (!this.stopped) return this.firstConnect?.promise ?? Promise.resolve();
    this.stopped = false;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => { resolve = r; });
    this.firstConnect = { resolve, promise };
    this.loop = this.run();
    if (waitMs <= 0) return promise;
    let t: NodeJS.Timeout | undefined;
    return Promise.race([promise, new Promise<void>((r) => { t = setTimeout(r, waitMs); })]).finally(() => clearTimeout(t));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.firstConnect?.resolve();
    this.wake?.();
    this.ws?.close(1000, 'stopping');
    this.ws?.terminate();
    await this.loop;
    this.o.transport.close();
    this.setState('down', 'stopped');
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let ws: WebSocket | undefined;
      try {
        await this.o.transport.prepare();
        if (this.stopped) break;
        ws = await this.open();
        if (this.stopped) break;
        const closed = this.watch(ws);
        const reason = this.everConnected ? 'reconnect' : 'connect';
        await this.o.onConnected(reason);
        this.everConnected = true;
        this.attempts = 0;
        this.lastError = undefined;
        this.setState('connected');
        this.o.log.info({ nodeId: this.o.nodeId, reason }, 'ARI connected');
        this.firstConnect?.resolve();
        const why = await closed;
        if (this.stopped) break;
        this.disconnectedSince = this.now();
        this.lastError = why;
        this.setState('reconnecting', why);
        this.o.log.warn({ nodeId: this.o.nodeId, why }, 'ARI event socket closed; reconnecting');
      } catch (err) {
        ws?.terminate();
        if (this.stopped) break;
        this.attempts++;
        this.lastError = err instanceof Error ? err.message : String(err);
        const down = this.now() - this.disconnectedSince >= this.o.downAfterMs;
        this.setState(down ? 'down' : this.everConnected ? 'reconnecting' : 'connecting', this.lastError);
        this.o.log.warn({ nodeId: this.o.nodeId, attempt: this.attempts, err: this.lastError }, 'ARI connect failed');
      }
      await this.sleep(backoffDelay(this.attempts + 1, this.o.backoff, this.o.random));
    }
  }

  private open(): Promise<WebSocket> {
    const base = new URL(this.o.url);
    const proto = base.protocol === 'https:' ? 'wss:' : 'ws:';
    const apps = this.o.apps.map(encodeURIComponent).join(',');
    const key = `${encodeURIComponent(this.o.username)}:${encodeURIComponent(this.o.password)}`;
    // api_key as ari-client sends it (works on every Asterisk), plus Basic auth.
    const url = `${proto}//${base.host}${base.pathname.replace(/\/$/, '')}/ari/events?app=${apps}&api_key=${key}`;
    const auth = `Basic ${Buffer.from(`${this.o.username}:${this.o.password}`).toString('base64')}`;
    return new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url, { headers: { authorization: auth }, handshakeTimeout: this.o.connectTimeoutMs, perMessageDeflate: false });
      this.ws = ws;
      // Permanent: ws may still emit 'error' after terminate() (aborted handshake).
      ws.on('error', noop);
      const fail = (err: Error): void => {
        cleanup();
        ws.terminate();
        reject(err);
      };
      const onError = (err: Error): void => fail(err);
      const onUnexpected = (_req: unknown, res: { statusCode?: number }): void => fail(new Error(`event socket upgrade answered ${res.statusCode ?? 0}`));
      const onClose = (code: number): void => fail(new Error(`event socket closed during upgrade (${code})`));
      const onOpen = (): void => {
        cleanup();
        resolve(ws);
      };
      const cleanup = (): void => {
        ws.off('error', onError);
        ws.off('unexpected-response', onUnexpected);
        ws.off('close', onClose);
        ws.off('open', onOpen);
      };
      ws.on('error', onError);
      ws.on('unexpected-response', onUnexpected);
      ws.on('close', onClose);
      ws.on('open', onOpen);
    });
  }

  /**
   * Wires messages and the heartbeat; resolves with the reason when the socket closes. Asterisk
   * answers WebSocket PINGs with PONGs (res_http_websocket.c, ast_websocket_read), so a missing
   * pong means a dead peer or a half-open TCP connection that no close event would reveal.
   */
  private watch(ws: WebSocket): Promise<string> {
    return new Promise<string>((resolve) => {
      let alive = true;
      const beat = setInterval(() => {
        if (!alive) {
          ws.terminate();
          return;
        }
        alive = false;
        // ping() throws on a socket that is already closing; the close handler takes over then.
        if (ws.readyState === WebSocket.OPEN) ws.ping();
      }, this.o.heartbeatMs);
      let lastError: string | undefined;
      ws.on('pong', () => { alive = true; });
      ws.on('message', (data: WebSocket.RawData) => {
        alive = true;
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
        } catch (err) {
          this.o.log.warn({ nodeId: this.o.nodeId, err }, 'unparseable ARI event dropped');
          return;
        }
        this.o.onMessage(parsed);
      });
      ws.on('error', (err) => { lastError = err.message; });
      ws.once('close', (code: number) => {
        clearInterval(beat);
        ws.removeAllListeners();
        ws.on('error', noop);
        if (this.ws === ws) this.ws = undefined;
        resolve(lastError ?? (alive ? `event socket closed (${code})` : 'heartbeat lost'));
      });
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(this.sleepTimer);
        this.sleepTimer = undefined;
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      this.sleepTimer = setTimeout(done, ms);
    });
  }

  private setState(state: ConnectionState, error?: string): void {
    if (error !== undefined) this.lastError = error;
    if (state === this.state && state !== 'connected') {
      this.o.onState(this.health());
      return;
    }
    this.state = state;
    this.since = this.now();
    this.o.onState(this.health());
  }
}
