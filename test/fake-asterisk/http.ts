// node:http + ws server speaking ARI under /ari: basic auth (or api_key), swagger documents,
// REST operations from the operation table, and the /ari/events WebSocket.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AsteriskModel } from './model.js';
import { matchOperation } from './operations.js';
import { HANDLERS, type RouteResult } from './routes.js';
import { AriError } from './state.js';
import { apiDeclaration, resourceListing } from './swagger.js';
import type { RecordedRequest } from './types.js';
import { sleep } from './util.js';

export type DelayMatch = (method: string, path: string) => boolean;
/** `request`: wait before handling (the answer is computed late); `response`: compute, then wait (the answer is stale when it arrives). */
export type DelayPhase = 'request' | 'response';

function queryRecord(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of url.searchParams) out[k] = out[k] === undefined ? v : `${out[k]},${v}`;
  return out;
}

function stringifyVar(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export class AriServer {
  readonly requests: RecordedRequest[] = [];
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<Socket>();
  /** Connections closed at once because `sessionLimit` sessions were open. */
  refusedSessions = 0;
  private readonly webSockets = new Set<WebSocket>();
  private delay: { ms: number; match?: DelayMatch; phase: DelayPhase } | null = null;
  private down = false;
  /** Last server error (e.g. the port was taken while down). */
  lastError: Error | null = null;
  port = 0;

  constructor(
    private readonly m: AsteriskModel,
    private readonly username: string,
    private readonly password: string,
    /** http.conf `sessionlimit`: concurrent HTTP sessions (kept-alive and WebSocket ones count). Unset: no limit. */
    private readonly sessionLimit?: number,
  ) {
    this.server = createServer((req, res) => this.onRequest(req, res));
    // http.conf session_keep_alive defaults to 15 s.
    this.server.keepAliveTimeout = 15_000;
    // Keeps a failed re-listen (setDown(false)) from crashing the test process.
    this.server.on('error', (e) => {
      this.lastError = e;
    });
    this.server.on('connection', (s: Socket) => {
      // Asterisk's http.c checks the count when a session starts and, over the limit, logs
      // "HTTP session count exceeded" and closes the connection without reading or answering.
      // (ari-client never calls back for such a request: the traces' requests that "hung".)
      if (this.sessionLimit !== undefined && this.sockets.size >= this.sessionLimit) {
        this.refusedSessions++;
        s.destroy();
        return;
      }
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        this.port = typeof addr === 'object' && addr ? addr.port : port;
        resolve(this.port);
      });
    });
  }

  setDelay(ms: number, match?: DelayMatch, phase: DelayPhase = 'request'): void {
    this.delay = ms > 0 ? { ms, phase, ...(match ? { match } : {}) } : null;
  }

  /** While down the port refuses connections (ECONNREFUSED) and open connections are cut. */
  setDown(down: boolean): void {
    if (down === this.down) return;
    this.down = down;
    if (down) {
      this.server.close();
      this.dropWebSockets();
      for (const s of this.sockets) s.destroy();
    } else {
      this.server.listen(this.port, '127.0.0.1');
    }
  }

  isDown(): boolean {
    return this.down;
  }

  /** Cuts every events WebSocket: abruptly (no close frame) unless a close code is given. */
  dropWebSockets(code?: number): void {
    for (const ws of this.webSockets) {
      this.m.hub.detach(ws);
      if (code === undefined || code === 1005 || code === 1006) ws.terminate();
      else ws.close(code);
    }
    this.webSockets.clear();
  }

  async close(): Promise<void> {
    this.dropWebSockets();
    this.wss.close();
    await new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    for (const s of this.sockets) s.destroy();
  }

  /** Observers of every REST request, with its final status. */
  readonly requestObservers = new Set<(r: RecordedRequest) => void>();

  private record(r: RecordedRequest): void {
    for (const o of this.requestObservers) o(r);
    this.requests.push(r);
    // Bounded for long benchmark runs.
    if (this.requests.length > 110_000) this.requests.splice(0, this.requests.length - 100_000);
  }

  private authorized(req: IncomingMessage, query: Record<string, string>): boolean {
    const expected = `${this.username}:${this.password}`;
    const h = req.headers.authorization;
    if (h?.startsWith('Basic ') && Buffer.from(h.slice(6), 'base64').toString() === expected) return true;
    return query.api_key === expected;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.handle(req, res, Buffer.concat(chunks)).catch((e: unknown) => {
        if (!res.headersSent) this.send(res, { status: 500, json: { message: String(e) } });
      });
    });
  }

  private send(res: ServerResponse, r: RouteResult, extraHeaders: Record<string, string> = {}): void {
    if (res.destroyed) return;
    if (r.binary) {
      res.writeHead(r.status, { 'Content-Type': r.binary.contentType, 'Content-Length': r.binary.data.length, ...extraHeaders });
      res.end(r.binary.data);
    } else if (r.json === undefined) {
      res.writeHead(r.status, extraHeaders);
      res.end();
    } else {
      const body = JSON.stringify(r.json);
      res.writeHead(r.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...extraHeaders });
      res.end(body);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const query = queryRecord(url);
    let body: unknown = null;
    const finish = (r: RouteResult, headers?: Record<string, string>): void => {
      this.send(res, r, headers);
      this.record({ method, path, query, body, status: r.status, ...(r.json !== undefined && !path.startsWith('/ari/api-docs/') ? { response: r.json } : {}) });
    };
    if (!this.authorized(req, query)) {
      finish({ status: 401, json: { error: 'Authentication required' } }, { 'WWW-Authenticate': 'Basic realm="Asterisk REST Interface"' });
      return;
    }
    if (this.delay?.phase === 'request' && (!this.delay.match || this.delay.match(method, path))) await sleep(this.delay.ms);
    if (this.down) {
      res.destroy();
      return;
    }
    const host = req.headers.host ?? `127.0.0.1:${this.port}`;
    const docs = /^\/ari\/api-docs\/(\w+)\.json$/.exec(path);
    if (docs) {
      const basePath = `http://${host}/ari`;
      const doc = docs[1] === 'resources' ? resourceListing(basePath) : apiDeclaration(docs[1]!, basePath);
      finish(doc ? { status: 200, json: doc } : { status: 404, json: { message: 'Resource not found' } });
      return;
    }
    if (raw.length) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        finish({ status: 400, json: { message: 'Invalid JSON body' } });
        return;
      }
    }
    const match = matchOperation(method, path);
    if (!('op' in match)) {
      finish(match.methodMismatch ? { status: 405, json: { message: 'Invalid method' } } : { status: 404, json: { message: 'Resource not found' } });
      return;
    }
    const handler = HANDLERS[`${match.op.resource}.${match.op.nickname}`];
    if (!handler) {
      finish({ status: 501, json: { message: `${match.op.resource}.${match.op.nickname} is not implemented by the fake Asterisk` } });
      return;
    }
    const q: Record<string, string> = { ...query, ...match.pathParams };
    const vars: Record<string, string> = {};
    const bodyObj = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
    if (bodyObj) {
      // ARI reads other body keys as query parameters.
      for (const [k, v] of Object.entries(bodyObj)) if (k !== 'variables' && q[k] === undefined) q[k] = stringifyVar(v);
      const v = bodyObj.variables;
      if (typeof v === 'object' && v !== null) for (const [k, val] of Object.entries(v as Record<string, unknown>)) vars[k] = stringifyVar(val);
    }
    let result: RouteResult;
    try {
      result = handler({ m: this.m, q, vars, body: bodyObj });
    } catch (e) {
      result = e instanceof AriError ? { status: e.status, json: { message: e.message } } : { status: 500, json: { message: e instanceof Error ? e.message : String(e) } };
    }
    if (this.delay?.phase === 'response' && (!this.delay.match || this.delay.match(method, path))) await sleep(this.delay.ms);
    finish(result);
  }

  private rejectUpgrade(socket: Duplex, status: string, body: string): void {
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = queryRecord(url);
    const record = (status: number): void => {
      this.record({ method: 'GET', path: url.pathname, query, body: null, status });
    };
    if (this.down) {
      socket.destroy();
      return;
    }
    if (url.pathname !== '/ari/events') {
      record(404);
      this.rejectUpgrade(socket, '404 Not Found', '{"message":"Resource not found"}');
      return;
    }
    if (!this.authorized(req, query)) {
      record(401);
      this.rejectUpgrade(socket, '401 Unauthorized', '{"error":"Authentication required"}');
      return;
    }
    const apps = (query.app ?? '').split(',').filter(Boolean);
    if (!apps.length) {
      record(400);
      this.rejectUpgrade(socket, '400 Bad Request', '{"message":"Missing param \'app\'"}');
      return;
    }
    const subscribeAll = query.subscribeAll === 'true' || query.subscribeAll === '1';
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      record(101);
      this.webSockets.add(ws);
      this.m.hub.attach(ws, apps, subscribeAll);
      ws.on('error', () => undefined);
      ws.on('close', () => {
        this.webSockets.delete(ws);
        this.m.hub.detach(ws);
      });
    });
  }
}
