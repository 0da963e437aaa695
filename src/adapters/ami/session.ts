/**
 * One logged-in AMI connection, over asterisk-manager. The library parses the stream and
 * correlates responses by ActionID; this wrapper adds what it lacks: a deadline on connect,
 * login and every action, unique ActionIDs, list actions (EventList start … Complete), failing
 * pending actions when the socket closes, and never queueing actions while disconnected (the
 * library holds them silently until a later login). Reconnecting is the caller's job
 * (connection.ts): the library's keepConnected() uses fixed 10 s steps and console.log.
 */
import AsteriskManager from 'asterisk-manager';
import type { Logger } from 'pino';
import { TimeoutError, UnavailableError, ValidationError, type DomainError } from '../../domain/errors.js';
import { AmiActionError } from './errors.js';
import { toEvent, toResponse } from './message.js';
import type { AmiEvent, AmiResponse } from './types.js';

type Raw = Record<string, unknown>;
type Manager = ReturnType<typeof AsteriskManager>;

export interface SessionOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
}

export interface SessionHandlers {
  onEvent(event: AmiEvent): void;
  /** Called once when the session ends for any reason. */
  onClose(reason: DomainError): void;
}

interface ListCollector {
  readonly events: AmiEvent[];
  complete(): void;
}

let sessionCounter = 0;

/** Abandons a manager whose socket may still be opening: end it if it ever connects. */
function abandon(mgr: Manager): void {
  mgr.removeAllListeners('managerevent');
  if (mgr.isConnected()) mgr.disconnect();
  else mgr.once('connect', () => mgr.disconnect());
}

export class AmiSession {
  private closed = false;
  private seq = 0;
  private readonly prefix = `hotline-${process.pid}-${++sessionCounter}`;
  private readonly lists = new Map<string, ListCollector>();
  private readonly pending = new Set<(reason: DomainError) => void>();
  private lastSocketError: Error | undefined;

  private constructor(
    private readonly mgr: Manager,
    private readonly handlers: SessionHandlers,
    private readonly logger: Logger,
  ) {
    mgr.on('managerevent', (raw) => this.handleEvent(raw as Raw));
    mgr.on('error', (err) => { this.lastSocketError = err as Error; });
    mgr.on('close', () => {
      const detail = this.lastSocketError ? `: ${this.lastSocketError.message}` : '';
      this.finish(new UnavailableError(`AMI connection lost${detail}`, 'ami_connection_lost'));
    });
  }

  /** Connects and logs in, or rejects (ami_unavailable, ami_login_failed, ami_connect_timeout). */
  static open(options: SessionOptions, handlers: SessionHandlers): Promise<AmiSession> {
    const { host, port, username, password, connectTimeoutMs, logger } = options;
    return new Promise((resolve, reject) => {
      // No port argument: the library would connect and log in on its own, without a deadline.
      const mgr = AsteriskManager(undefined, host, username, password, true);
      let settled = false;
      let socketError: Error | undefined;
      const onError = (err: unknown): void => { socketError = err as Error; };
      const onClose = (): void => fail(new UnavailableError(
        `AMI ${host}:${port} unavailable: ${socketError?.message ?? 'connection closed before login'}`, 'ami_unavailable', { cause: socketError },
      ));
      const timer = setTimeout(() => fail(new TimeoutError(`AMI ${host}:${port} did not accept a login within ${connectTimeoutMs} ms`, 'ami_connect_timeout')), connectTimeoutMs);
      function fail(error: DomainError): void {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        mgr.removeListener('close', onClose);
        abandon(mgr);
        reject(error);
      }
      mgr.on('error', onError);
      mgr.on('close', onClose);
      mgr.connect(port, host, () => {
        if (settled) return;
        mgr.login((err) => {
          if (settled) return;
          if (err) {
            const message = typeof err.message === 'string' ? err.message : 'login rejected';
            fail(new UnavailableError(`AMI login as '${username}' failed: ${message}`, 'ami_login_failed'));
            return;
          }
          settled = true;
          clearTimeout(timer);
          mgr.removeListener('close', onClose);
          mgr.removeListener('error', onError);
          const session = new AmiSession(mgr, handlers, logger);
          // asterisk-manager sends `Event: on` at login, but Asterisk reads `Events`: ask explicitly.
          session.action('Events', { EventMask: 'on' }, connectTimeoutMs).then(() => resolve(session), (e: unknown) => {
            session.destroy(new UnavailableError('AMI refused to turn events on', 'ami_unavailable', { cause: e }));
            reject(e instanceof Error ? e : new Error(String(e)));
          });
        });
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  action(name: string, params: Readonly<Record<string, string>>, timeoutMs: number): Promise<AmiResponse> {
    if (this.closed) return Promise.reject(new UnavailableError('AMI is not connected', 'ami_unavailable'));
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries(params)) {
      // A CR or LF would end the header and smuggle in another one.
      if (/[\r\n]/.test(key) || /[\r\n]/.test(value)) {
        return Promise.reject(new ValidationError(`AMI parameter ${key} contains a line break`, { key }, 'ami_invalid_parameter'));
      }
      if (key.toLowerCase() === 'actionid' || key.toLowerCase() === 'action') continue;
      fields[key.toLowerCase()] = value;
    }
    const id = `${this.prefix}-${++this.seq}`;
    return new Promise<AmiResponse>((resolve, reject) => {
      let done = false;
      const finish = (error: DomainError | undefined, value?: AmiResponse): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.pending.delete(finish);
        this.lists.delete(id);
        this.mgr.removeListener(id, onResponse);
        if (error) reject(error);
        else resolve(value!);
      };
      const timer = setTimeout(() => finish(new TimeoutError(`AMI action ${name} did not complete within ${timeoutMs} ms`, 'ami_timeout')), timeoutMs);
      const onResponse = (...args: unknown[]): void => {
        const response = toResponse((args[1] ?? args[0] ?? {}) as Raw);
        if (response.response.toLowerCase() === 'error') {
          finish(new AmiActionError(name, response));
        } else if (response.fields.eventlist?.toLowerCase() === 'start') {
          const events: AmiEvent[] = [];
          this.lists.set(id, { events, complete: () => finish(undefined, { ...response, events }) });
        } else {
          finish(undefined, response);
        }
      };
      this.pending.add(finish);
      this.mgr.action({ ...fields, action: name, actionid: id }, onResponse);
    });
  }

  /** Logs off politely (bounded wait) and closes the socket. */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    try {
      await this.action('Logoff', {}, timeoutMs);
    } catch {
      // Asterisk answers Goodbye and hangs up; a missing answer changes nothing here.
    }
    this.destroy(new UnavailableError('AMI connection closed', 'ami_closed'));
  }

  /** Drops the connection at once (e.g. a keep-alive Ping went unanswered). */
  destroy(reason: DomainError): void {
    if (this.closed) return;
    abandon(this.mgr);
    this.finish(reason);
  }

  private handleEvent(raw: Raw): void {
    if (this.closed) return;
    const event = toEvent(raw, new Date());
    if (!event) return;
    const list = event.actionId ? this.lists.get(event.actionId) : undefined;
    if (list) {
      const marker = event.fields.eventlist?.toLowerCase();
      if (marker === 'complete' || marker === 'cancelled') list.complete();
      else list.events.push(event);
      return;
    }
    try {
      this.handlers.onEvent(event);
    } catch (err) {
      this.logger.error({ err, event: event.name }, 'AMI event handler failed');
    }
  }

  private finish(reason: DomainError): void {
    if (this.closed) return;
    this.closed = true;
    for (const fail of [...this.pending]) fail(reason);
    this.lists.clear();
    this.handlers.onClose(reason);
  }
}
