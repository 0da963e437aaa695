/**
 * The REST transport behind an ARI node. Operations are described once (`AriRequest`: the ARI
 * path and parameters plus ari-client's resource/operation names) and either transport can carry
 * them, so the call layer does not change when the transport does.
 */
import type { TransportKind } from './types.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type QueryValue = string | number | boolean | readonly string[] | undefined;

export interface AriRequest {
  /** ari-client's resource name, e.g. `channels`. */
  readonly resource: string;
  /** ari-client's operation nickname, e.g. `answer`. */
  readonly operation: string;
  readonly method: HttpMethod;
  /** Path under `/ari` with `{name}` placeholders, e.g. `/channels/{channelId}/answer`. */
  readonly path: string;
  readonly pathParams?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** JSON body parameters, e.g. `{ variables: {…} }` as ari-client sends them. */
  readonly body?: Readonly<Record<string, unknown>>;
  readonly response: 'json' | 'void' | 'binary' | 'stream';
}

export interface TransportStats {
  readonly inFlight: number;
  /** Open TCP sockets (keep-alive transport only). */
  readonly sockets?: number;
  /** Requests repeated on a fresh socket after a pooled one was closed under them (keep-alive only). */
  readonly retried?: number;
}

export interface AriTransport {
  readonly kind: TransportKind;
  /** Runs before every (re)connect; the ari-client transport (re)loads the swagger here. */
  prepare(): Promise<void>;
  /** Resolves with parsed JSON, `undefined`, a Buffer or a Readable per `response`. */
  send(req: AriRequest): Promise<unknown>;
  stats(): TransportStats;
  close(): void;
}

export interface TransportOptions {
  readonly nodeId: string;
  /** Base URL without `/ari`. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly timeoutMs: number;
  readonly maxSockets: number;
  /**
   * Keep-alive transport: close a pooled socket after this long unused (default 10 s). Must stay
   * below Asterisk's http.conf `session_keep_alive` (default 15 s, "the number of milliseconds to
   * wait for the next HTTP request over a persistent connection"), so we drop idle sockets before
   * Asterisk does and rarely send on one it is closing.
   */
  readonly idleSocketMs?: number;
}

export const opName = (req: AriRequest): string => `${req.resource}.${req.operation}`;

export function fillPath(req: AriRequest): string {
  return req.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = req.pathParams?.[name];
    if (v === undefined) throw new TypeError(`${opName(req)}: missing path parameter ${name}`);
    return encodeURIComponent(v);
  });
}

/** ARI takes repeated values comma-separated (e.g. several `media` URIs in one play). */
export function queryString(query: AriRequest['query']): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    const s = Array.isArray(v) ? v.join(',') : String(v);
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(s)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Starts a deadline timer that is always cleared: no timer outlives its request. */
export function deadline(ms: number, onTimeout: () => void): { clear(): void } {
  const t = setTimeout(onTimeout, ms);
  return { clear: () => clearTimeout(t) };
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE.has(code);
}
