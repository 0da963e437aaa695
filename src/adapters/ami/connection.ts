/**
 * The AMI client: keeps one logged-in session up forever (capped exponential backoff with
 * jitter; a longer floor after a rejected login so bad credentials never hammer Asterisk),
 * exposes its state for /readyz, runs actions with deadlines, pings to detect dead links, and
 * fans events out.
 */
import type { Logger } from 'pino';
import { DomainError, UnavailableError } from '../../domain/errors.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { Listeners } from './listeners.js';
import { AmiSession } from './session.js';
import type { AmiActionOptions, AmiClient, AmiError, AmiEvent, AmiLinkState, AmiResponse, AmiStatus, Unsubscribe } from './types.js';

export interface AmiConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** Default deadline of an action. */
  readonly actionTimeoutMs: number;
  /** Deadline for TCP connect plus login (default 10 s). */
  readonly connectTimeoutMs?: number;
  readonly backoff?: Partial<BackoffOptions>;
  /** Minimum wait after Asterisk rejected the login (default 30 s). */
  readonly authFailureDelayMs?: number;
  /** Keep-alive Ping period; 0 disables (default 20 s). */
  readonly pingIntervalMs?: number;
  readonly random?: () => number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, jitter: 0.5 };

export class AmiConnection implements AmiClient {
  private session: AmiSession | undefined;
  private state: AmiLinkState = 'down';
  private since = new Date();
  private lastError: AmiError | null = null;
  private failedAttempts = 0;
  private sessionNo = 0;
  private running = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private abortWait: ((reason: DomainError) => void) | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly events: Listeners<AmiEvent>;
  private readonly connected: Listeners<number>;
  private readonly statuses: Listeners<AmiStatus>;
  private readonly backoff: BackoffOptions;

  constructor(
    private readonly options: AmiConnectionOptions,
    private readonly logger: Logger,
  ) {
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.events = new Listeners(logger, 'AMI event');
    this.connected = new Listeners(logger, 'AMI connected');
    this.statuses = new Listeners(logger, 'AMI status');
  }

  /** Starts the connect loop (idempotent). */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.loop = this.run();
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.();
    this.abortWait?.(new UnavailableError('AMI client closed', 'ami_closed'));
    this.stopPing();
    await this.session?.close(Math.min(this.options.actionTimeoutMs, 1000));
    await this.loop;
    this.setState('closed', null);
  }

  status(): AmiStatus {
    return { state: this.state, since: this.since, lastError: this.lastError, failedAttempts: this.failedAttempts, session: this.sessionNo };
  }

  action(name: string, params: Readonly<Record<string, string>> = {}, options: AmiActionOptions = {}): Promise<AmiResponse> {
    const session = this.session;
    if (!session || session.isClosed) {
      return Promise.reject(new UnavailableError(`AMI is not connected (${this.state})`, 'ami_unavailable'));
    }
    return session.action(name, params, options.timeoutMs ?? this.options.actionTimeoutMs);
  }

  onEvent(listener: (event: AmiEvent) => void): Unsubscribe {
    return this.events.add(listener);
  }

  onConnected(listener: (session: number) => void): Unsubscribe {
    return this.connected.add(listener);
  }

  onStatus(listener: (status: AmiStatus) => void): Unsubscribe {
    return this.statuses.add(listener);
  }

  private async run(): Promise<void> {
    const { host, port } = this.options;
    while (!this.stopped) {
      this.setState('connecting', this.lastError);
      let authRejected = false;
      try {
        const closed = new Promise<DomainError>((resolve) => {
          this.abortWait = resolve;
          void AmiSession.open(
            { ...this.options, connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000, logger: this.logger },
            { onEvent: (event) => this.events.emit(event), onClose: resolve },
          ).then((session) => {
            if (this.stopped) {
              void session.close(500);
              return;
            }
            this.session = session;
            this.failedAttempts = 0;
            this.sessionNo += 1;
            this.setState('connected', null);
            this.logger.info({ host, port, session: this.sessionNo }, 'AMI connected');
            this.connected.emit(this.sessionNo);
            this.schedulePing(session);
          }, (err: unknown) => resolve(toDomainError(err)));
        });
        const reason = await closed;
        this.abortWait = undefined;
        this.stopPing();
        this.session = undefined;
        if (this.stopped) break;
        authRejected = reason.code === 'ami_login_failed';
        this.failedAttempts += 1;
        this.setState('down', { code: reason.code, message: reason.message, at: new Date() });
      } catch (err) {
        const e = toDomainError(err);
        this.failedAttempts += 1;
        this.setState('down', { code: e.code, message: e.message, at: new Date() });
      }
      if (this.stopped) break;
      let delay = backoffDelay(this.failedAttempts, this.backoff, this.options.random);
      if (authRejected) delay = Math.max(delay, this.options.authFailureDelayMs ?? 30_000);
      const log = this.failedAttempts <= 1 || authRejected ? this.logger.warn.bind(this.logger) : this.logger.debug.bind(this.logger);
      log({ host, port, error: this.lastError, retryInMs: delay, failedAttempts: this.failedAttempts }, 'AMI down, retrying');
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private schedulePing(session: AmiSession): void {
    const every = this.options.pingIntervalMs ?? 20_000;
    if (every <= 0) return;
    this.pingTimer = setTimeout(() => {
      session.action('Ping', {}, this.options.actionTimeoutMs).then(
        () => { if (!session.isClosed) this.schedulePing(session); },
        (err: unknown) => {
          if (session.isClosed) return;
          const e = toDomainError(err);
          this.logger.warn({ err: e }, 'AMI keep-alive Ping failed, reconnecting');
          session.destroy(new UnavailableError(`AMI keep-alive failed: ${e.message}`, 'ami_ping_failed'));
        },
      );
    }, every);
  }

  private stopPing(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
  }

  private setState(state: AmiLinkState, error: AmiError | null): void {
    const changed = state !== this.state;
    if (changed) this.since = new Date();
    this.state = state;
    this.lastError = error;
    if (changed || error) this.statuses.emit(this.status());
  }
}

function toDomainError(err: unknown): DomainError {
  if (err instanceof DomainError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new UnavailableError(`AMI failure: ${message}`, 'ami_unavailable', { cause: err });
}
