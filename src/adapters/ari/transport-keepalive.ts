/**
 * Our own REST transport: node:http(s) with a keep-alive Agent and a bounded socket pool per node,
 * a deadline on every request (the socket is destroyed when it passes), and typed errors.
 *
 * Why: ari-client opens a new TCP connection per request and sets no timeout; at ~300 calls/s that
 * exceeded Asterisk's `http.conf sessionlimit = 100` and requests hung forever (ari-traces
 * README). Reusing at most `maxSockets` connections keeps us under the session limit by design.
 */
import http from 'node:http';
import https from 'node:https';
import { AriHttpError, ariMessageFrom, ariTimeout, ariUnavailable } from './errors.js';
import { deadline, fillPath, isUnreachable, opName, queryString } from './transport.js';
import type { AriRequest, AriTransport, TransportOptions, TransportStats } from './transport.js';

const MAX_ERROR_BODY = 64 * 1024;

export class KeepAliveTransport implements AriTransport {
  readonly kind = 'keepalive' as const;
  private readonly agent: http.Agent;
  private readonly base: URL;
  private readonly auth: string;
  private inFlight = 0;

  constructor(private readonly opts: TransportOptions) {
    this.base = new URL(opts.url);
    const Agent = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    // lifo: the most recently used socket is the least likely to have been closed by Asterisk's
    // idle timer (http.conf session_keep_alive).
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets, maxFreeSockets: opts.maxSockets, scheduling: 'lifo' });
    this.auth = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
  }

  async prepare(): Promise<void> {
    // Nothing to load: the operations are described in operations.ts.
  }

  stats(): TransportStats {
    let sockets = 0;
    for (const list of Object.values(this.agent.sockets)) sockets += list?.length ?? 0;
    for (const list of Object.values(this.agent.freeSockets)) sockets += list?.length ?? 0;
    return { inFlight: this.inFlight, sockets };
  }

  close(): void {
    this.agent.destroy();
  }

  async send(req: AriRequest): Promise<unknown> {
    try {
      return await this.once(req);
    } catch (err) {
      // A kept-alive socket that the server closed just as we reused it fails before any answer;
      // reads are safe to repeat once (Node's documented pattern for reusedSocket).
      if (req.method === 'GET' && (err as { reusedSocket?: boolean }).reusedSocket === true) return this.once(req);
      throw err;
    }
  }

  private once(req: AriRequest): Promise<unknown> {
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
        protocol: this.base.protocol, hostname: this.base.hostname, port: this.base.port, method: req.method, path, headers, agent: this.agent,
      });
      const timer = deadline(timeoutMs, () => {
        finish(() => reject(ariTimeout(nodeId, name, timeoutMs)));
        request.destroy();
      });
      request.on('error', (err) => {
        const mapped = isUnreachable(err) ? ariUnavailable(nodeId, name, err) : err;
        Object.assign(mapped, { reusedSocket: request.reusedSocket });
        finish(() => reject(mapped));
      });
      request.on('response', (res) => {
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
