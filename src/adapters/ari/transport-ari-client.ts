/**
 * REST through ari-client: `connect()` loads Asterisk's swagger documents and builds the
 * operations; we call those generated operations with a deadline.
 *
 * We call the swagger operation one level below ari-client's promise wrapper because the wrapper
 * turns an HTTP error into `new Error(body)` and drops the status, which the call layer needs
 * (404 channel gone vs 409 wrong state). Known weaknesses kept as they are (this is the library's
 * behaviour we benchmark against): a new TCP connection per request, no way to cancel a request
 * whose deadline passed, and a refused connection that never calls back (it ends as a timeout).
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import ariClient from 'ari-client';
import { UnavailableError } from '../../domain/errors.js';
import { AriHttpError, ariMessageFrom, ariTimeout, ariUnavailable } from './errors.js';
import { deadline, isUnreachable, opName } from './transport.js';
import type { AriRequest, AriTransport, TransportOptions, TransportStats } from './transport.js';

interface SwaggerResponse { status?: number; data?: unknown }
type SwaggerOperation = (options: Record<string, unknown>, ok: (r: SwaggerResponse) => void, fail: (r: unknown) => void) => void;
interface SwaggerApis { apis: Record<string, Record<string, unknown> | undefined> }
interface SwaggerAuthorizations {
  readonly authz: Record<string, unknown>;
  add(name: string, auth: unknown): void;
  remove(name: string): boolean;
}
interface SwaggerHttpObject { url: string; headers: Record<string, string> }
interface SwaggerModule {
  authorizations: SwaggerAuthorizations;
}

// The very swagger-client instance ari-client uses (resolved from ari-client's own location).
const requireFromAriClient = createRequire(createRequire(import.meta.url).resolve('ari-client'));
const swagger = requireFromAriClient('swagger-client') as SwaggerModule;

/**
 * swagger-client applies every authorization in one process-wide registry to every request, and
 * ari-client's connect() puts its node's credentials there under `basic-auth`, then loads the
 * swagger documents asynchronously. With several nodes (several accounts) connecting at once,
 * one node's documents were fetched with another's credentials (401, a failed connect). This
 * registry entry runs after `basic-auth` and sets the Authorization header by the request's
 * host:port, so each request carries its own node's account whatever ari-client set last.
 */
const credentialsByHost = new Map<string, string>();
const ROUTER = 'hotline-node-credentials';
const router = {
  apply(obj: SwaggerHttpObject): boolean {
    let host: string | undefined;
    try {
      host = new URL(obj.url).host.toLowerCase();
    } catch {
      return true;
    }
    const header = credentialsByHost.get(host);
    if (header) obj.headers.Authorization = header;
    return true;
  },
};
function installRouter(): void {
  // Registry order is insertion order: keep ours after ari-client's `basic-auth`.
  if (!('basic-auth' in swagger.authorizations.authz)) swagger.authorizations.add('basic-auth', { apply: () => true });
  const keys = Object.keys(swagger.authorizations.authz);
  if (keys[keys.length - 1] !== ROUTER) {
    swagger.authorizations.remove(ROUTER);
    swagger.authorizations.add(ROUTER, router);
  }
}

export class AriClientTransport implements AriTransport {
  readonly kind = 'ari-client' as const;
  private swaggerApi: SwaggerApis | undefined;
  private inFlight = 0;

  constructor(private readonly opts: TransportOptions) {
    credentialsByHost.set(new URL(opts.url).host.toLowerCase(), `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`);
  }

  async prepare(): Promise<void> {
    const { nodeId, url, username, password, timeoutMs } = this.opts;
    installRouter();
    // Loading 13 documents takes longer than one request; allow a few deadlines' worth.
    const loadMs = timeoutMs * 3;
    let timer: { clear(): void } | undefined;
    try {
      const client = await Promise.race([
        ariClient.connect(url, username, password),
        new Promise<never>((_r, reject) => { timer = deadline(loadMs, () => reject(ariTimeout(nodeId, 'connect', loadMs))); }),
      ]);
      this.swaggerApi = (client as unknown as { _swagger: SwaggerApis })._swagger;
    } catch (err) {
      if (err instanceof Error && err.name === 'HostIsNotReachable') throw ariUnavailable(nodeId, 'connect', err);
      throw err;
    } finally {
      timer?.clear();
    }
  }

  stats(): TransportStats {
    return { inFlight: this.inFlight };
  }

  close(): void {
    this.swaggerApi = undefined;
  }

  send(req: AriRequest): Promise<unknown> {
    const name = opName(req);
    const { nodeId, timeoutMs } = this.opts;
    const api = this.swaggerApi;
    if (!api) return Promise.reject(new UnavailableError(`ARI ${name} on node ${nodeId}: not connected`, 'ari_unavailable'));
    const op = api.apis[req.resource]?.[req.operation];
    if (typeof op !== 'function') {
      return Promise.reject(new UnavailableError(`ARI ${name} is not offered by node ${nodeId}`, 'ari_operation_unsupported'));
    }
    const options: Record<string, unknown> = { ...req.pathParams };
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) options[k] = Array.isArray(v) ? v.join(',') : v;
    if (req.body) options.body = JSON.stringify(req.body);

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
      const timer = deadline(timeoutMs, () => finish(() => reject(ariTimeout(nodeId, name, timeoutMs))));
      const ok = (r: SwaggerResponse): void => finish(() => {
        try {
          resolve(decode(req, r.data));
        } catch (err) {
          reject(new AriHttpError(nodeId, name, 502, `unparseable response: ${(err as Error).message}`));
        }
      });
      const fail = (r: unknown): void => finish(() => {
        if (isUnreachable(r)) return reject(ariUnavailable(nodeId, name, r));
        const status = (r as SwaggerResponse | null)?.status ?? 0;
        if (status === 0) return reject(ariUnavailable(nodeId, name, r));
        reject(new AriHttpError(nodeId, name, status, ariMessageFrom(text((r as SwaggerResponse).data))));
      });
      try {
        installRouter();
        (op as SwaggerOperation)(options, ok, fail);
      } catch (err) {
        finish(() => reject(err instanceof Error ? err : new TypeError(`${name}: ${String(err)}`)));
      }
    });
  }
}

function text(data: unknown): string {
  if (data === undefined || data === null) return '';
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return typeof data === 'string' ? data : JSON.stringify(data);
}

function decode(req: AriRequest, data: unknown): unknown {
  if (req.response === 'binary' || req.response === 'stream') {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(text(data), 'binary');
    return req.response === 'stream' ? Readable.from([buf]) : buf;
  }
  if (req.response === 'void') return undefined;
  const s = text(data);
  return s ? JSON.parse(s) : undefined;
}
