/**
 * Our own REST transport: node:http(s) with a keep-alive Agent and a bounded socket pool per node,
 * a deadline on every request (the socket is destroyed when it passes), and typed errors.
 *
 * Why: ari-client opens a new TCP connection per request and sets no timeout; at ~300 calls/s that
 * exceeded Asterisk's `http.conf sessionlimit = 100` and requests hung forever (ari-traces
 * README). Reusing at most `maxSockets` connections keeps us under the session limit by design.
 *
 * Idle sockets are closed after `idleSocketMs` (default 10 s), below Asterisk's
 * `session_keep_alive` (15 s), so we normally drop a socket before Asterisk does.
 *
 * Repeating a request (any method) once on a fresh socket when a pooled socket failed with
 * ECONNRESET/EPIPE ("socket hang up") before any byte of the answer. Why that is safe for POSTs
 * too, from Asterisk's main/http.c (httpd_helper_thread): a session waits up to
 * session_keep_alive for the first byte of the next request and closes the connection when none
 * came; once it reads a request it answers it (errors are HTTP responses too) before reading
 * another. A pooled socket closed with no answer at all therefore means Asterisk had given up
 * waiting for a request and never read ours. (Should Asterisk instead die while handling it,
 * the retry meets a refused connection and fails as ari_unavailable; the first attempt's effects
 * died with it.) A fresh socket that fails, or any failure after the answer began, is not
 * repeated.
 */
import http from 'node:http';
import https from 'node:https';
import { AriHttpError, ariMessageFrom, ariTimeout, ariUnavailable } from './errors.js';
import { deadline, fillPath, isUnreachable, opName, queryString } from './transport.js';
import type { AriRequest, AriTransport, TransportOptions, TransportStats } from './transport.js';

const MAX_ERROR_BODY = 64 * 1024;
/** Below Asterisk's default http.conf session_keep_alive (15 s). */
export const DEFAULT_IDLE_SOCKET_MS = 10_000;

export class KeepAliveTransport implements AriTransport {
  readonly kind = 'keepalive' as const;
  private readonly agent: http.Agent;
  private readonly base: URL;
  private readonly auth: string;
  private inFlight = 0;
  private retried = 0;

  constructor(private readonly opts: TransportOptions) {
    this.base = new URL(opts.url);
    const Agent = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    // lifo: the most recently used socket is the least likely to have been closed by Asterisk's
    // idle timer (http.conf session_keep_alive). `timeout` closes a pooled socket idle that long
    // (Node's Agent destroys free sockets on their timeout; requests have their own deadline).
    this.agent = new Agent({
      keepAlive: true, maxSockets: opts.maxSockets, maxFreeSockets: opts.maxSockets, scheduling: 'lifo', timeout: opts.idleSocketMs ?? DEFAULT_IDLE_SOCKET_MS,
    });
    this.auth = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
  }

  async prepare(): Promise<void> {
    // Nothing to load: the operations are described in operations.ts.
  }

  stats(): TransportStats {
    let sockets = 0;
    for (const list of Object.values(this.agent.sockets)) sockets += list?.length ?? 0;
    for (const list of Object.values(this.agent.freeSockets)) sockets += list?.length ?? 0;
    return { inFlight: this.inFlight, sockets, retried: this.retried };
  }

  close(): void {
    this.agent.destroy();
  }

  async send(req: AriRequest): Promise<unknown> {
    try {
      return await this.once(req, this.agent);
    } catch (err) {
      // The pooled socket was closed under us before any answer: see the file comment.
      if ((err as { closedUnanswered?: boolean }).closedUnanswered !== true) throw err;
      this.retried++;
      // A one-off connection: the pool may hold more sockets Asterisk closed at the same moment.
      return this.once(req, false);
    }
  }

  private once(req: AriRequest, agent: http.Agent | false): Promise<unknown> {
    const name = opName(req);
    const { nodeId, timeoutMs } = this.opts;
    const basePath = this.base.pathname.replace(/\/$/, '');
    const path = `${basePath}/ari${fillPath(req)}${queryString(req.query)}`;
    const payload = req.body ? JSON.stringify(req.body) : undefined;
    const headers: http.OutgoingHttpHeaders = { authorization: this.auth, accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const mod = this.base.protocol === 'https:' ? https : http;

    return new Promise<unknown>((resolve, reject) => {
      this.inFlight++;
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        timer.clear();
        this.inFlight--;
        fn();
      };
      const request = mod.request({
        protocol: this.base.protocol, hostname: this.base.hostname, port: this.base.port, method: req.method, path, headers, agent,
      });
      let answered = false;
      const timer = deadline(timeoutMs, () => {
        finish(() => reject(ariTimeout(nodeId, name, timeoutMs)));
        request.destroy();
      });
      request.on('error', (err) => {
        const mapped = isUnreachable(err) ? ariUnavailable(nodeId, name, err) : err;
        const code = (err as { code?: unknown }).code;
        const closedUnanswered = agent !== false && request.reusedSocket && !answered && (code === 'ECONNRESET' || code === 'EPIPE');
        Object.assign(mapped, { reusedSocket: request.reusedSocket, closedUnanswered });
        finish(() => reject(mapped));
      });
      request.on('response', (res) => {
        answered = true;
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300 && req.response === 'stream') {
          finish(() => resolve(res));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (status < 300 || size <= MAX_ERROR_BODY) chunks.push(c);
        });
        res.on('error', (err) => finish(() => reject(ariUnavailable(nodeId, name, err))));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          if (status < 200 || status >= 300) {
            finish(() => reject(new AriHttpError(nodeId, name, status, ariMessageFrom(body.toString('utf8')))));
            return;
          }
          finish(() => {
            if (req.response === 'binary') resolve(body);
            else if (req.response === 'void' || body.length === 0) resolve(undefined);
            else {
              try {
                resolve(JSON.parse(body.toString('utf8')));
              } catch (err) {
                reject(new AriHttpError(nodeId, name, 502, `unparseable response: ${(err as Error).message}`));
              }
            }
          });
        });
      });
      request.end(payload);
    });
  }
}
