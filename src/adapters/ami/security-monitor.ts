/**
 * SIP security monitoring: Asterisk's security events (InvalidAccountID, ChallengeResponseFailed,
 * InvalidPassword, FailedACL) → per-source counting in the domain guard → alert + temporary
 * block, applied through an AclApplier and lifted when it expires.
 */
import type { Logger } from 'pino';
import {
  SipGuard, isSecurityFailureKind, type AclApplier, type BlockEntry, type SecurityAlert, type SecurityPolicy,
} from '../../domain/security/index.js';
import { AmiActionError, isPermissionDenied } from './errors.js';
import { Listeners } from './listeners.js';
import type { AmiClient, AmiEvent, AmiTaskStatus, Unsubscribe } from './types.js';

export interface AmiAddress {
  readonly family: string;
  readonly transport: string;
  readonly address: string;
  readonly port: number | undefined;
}

/** `IPV4/UDP/203.0.113.7/5060`, `IPV6/TCP/2001:db8::1/5061` → parts; undefined when malformed. */
export function parseAmiAddress(text: string | undefined): AmiAddress | undefined {
  const parts = (text ?? '').split('/');
  if (parts.length < 3) return undefined;
  const [family = '', transport = ''] = parts;
  const last = parts[parts.length - 1] ?? '';
  const hasPort = parts.length >= 4 && /^\d+$/.test(last);
  const address = parts.slice(2, hasPort ? -1 : undefined).join('/').replace(/^\[(.*)\]$/, '$1');
  if (!address) return undefined;
  return { family, transport, address, port: hasPort ? Number(last) : undefined };
}

/** What services (REST for operators, alerting) see of SIP security. */
export interface SipSecurity {
  blocked(): BlockEntry[];
  block(address: string, options?: { reason?: string; durationMs?: number }): Promise<BlockEntry>;
  unblock(address: string): Promise<BlockEntry | undefined>;
  onAlert(listener: (alert: SecurityAlert) => void): Unsubscribe;
  onUnblocked(listener: (entry: BlockEntry) => void): Unsubscribe;
  /** Whether the block list in force in Asterisk is the current one (for /readyz). */
  applyStatus(): AmiTaskStatus;
}

export interface SecurityMonitorOptions {
  readonly policy: SecurityPolicy;
  /** Without one, blocks are tracked and alerted but not enforced. */
  readonly applier?: AclApplier;
  readonly clock?: () => number;
  /** Wait before retrying a failed apply (default 5 s; after `Permission denied` 60 s). */
  readonly retryMs?: number;
  readonly forbiddenRetryMs?: number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export class SecurityMonitor implements SipSecurity {
  private readonly guard: SipGuard;
  private readonly alerts: Listeners<SecurityAlert>;
  private readonly unblocked: Listeners<BlockEntry>;
  private readonly clock: () => number;
  private expiryTimer: NodeJS.Timeout | undefined;
  private unsubscribe: Unsubscribe[] = [];
  private applying: Promise<void> | undefined;
  private dirty = true;
  private retryTimer: NodeJS.Timeout | undefined;
  private task: AmiTaskStatus;
  private failuresLogged = 0;

  constructor(
    private readonly client: AmiClient,
    private readonly logger: Logger,
    private readonly options: SecurityMonitorOptions,
  ) {
    this.guard = new SipGuard(options.policy);
    this.alerts = new Listeners(logger, 'security alert');
    this.unblocked = new Listeners(logger, 'security unblock');
    this.clock = options.clock ?? Date.now;
    this.task = { state: options.applier ? 'idle' : 'disabled', since: new Date(this.clock()) };
  }

  start(): void {
    if (this.unsubscribe.length > 0) return;
    this.unsubscribe = [
      this.client.onEvent((event) => this.handle(event)),
      // The ACL reload needs AMI: retry a pending apply on every (re)connect.
      this.client.onConnected(() => { if (this.dirty) void this.apply(); }),
    ];
    if (!this.options.applier) this.logger.warn('no ACL applier configured: SIP blocks are alerted but not enforced');
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  applyStatus(): AmiTaskStatus {
    return this.task;
  }

  blocked(): BlockEntry[] {
    return this.guard.blocked(this.clock());
  }

  async block(address: string, options: { reason?: string; durationMs?: number } = {}): Promise<BlockEntry> {
    const entry = this.guard.block(address, this.clock(), options);
    this.logger.warn({ address: entry.address, until: new Date(entry.expiresAt).toISOString(), reason: entry.reason }, 'SIP source blocked by operator');
    this.changed();
    await this.apply();
    return entry;
  }

  async unblock(address: string): Promise<BlockEntry | undefined> {
    const entry = this.guard.unblock(address);
    if (!entry) return undefined;
    this.logger.info({ address: entry.address }, 'SIP source unblocked by operator');
    this.changed();
    await this.apply();
    return entry;
  }

  onAlert(listener: (alert: SecurityAlert) => void): Unsubscribe {
    return this.alerts.add(listener);
  }

  onUnblocked(listener: (entry: BlockEntry) => void): Unsubscribe {
    return this.unblocked.add(listener);
  }

  /** Resolves when the block list in effect matches the current state (or the last try failed). */
  async settled(): Promise<void> {
    while (this.applying) await this.applying;
  }

  private handle(event: AmiEvent): void {
    if (!isSecurityFailureKind(event.name)) return;
    const remote = parseAmiAddress(event.fields.remoteaddress);
    if (!remote) {
      this.logger.debug({ event: event.name, remoteAddress: event.fields.remoteaddress }, 'security event without a usable RemoteAddress');
      return;
    }
    const result = this.guard.record({
      kind: event.name, address: remote.address, service: event.fields.service ?? 'unknown', at: this.clock(),
      ...(event.fields.accountid ? { accountId: event.fields.accountid } : {}),
    });
    if (result.outcome !== 'blocked') return;
    const { alert } = result;
    this.logger.warn({ address: alert.address, failures: alert.failures, kinds: alert.kinds, services: alert.services, until: new Date(alert.blockedUntil).toISOString() }, 'SIP attack detected: source blocked');
    this.alerts.emit(alert);
    this.changed();
    void this.apply();
  }

  private setTask(next: Omit<AmiTaskStatus, 'since'>): void {
    if (next.state !== this.task.state || next.error?.message !== this.task.error?.message) this.task = { ...next, since: new Date(this.clock()) };
  }

  private changed(): void {
    this.dirty = true;
    this.scheduleExpiry();
  }

  private scheduleExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const next = this.guard.nextExpiry();
    if (next === undefined) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next - this.clock()));
    this.expiryTimer = setTimeout(() => this.expire(), delay);
  }

  private expire(): void {
    const expired = this.guard.expire(this.clock());
    for (const entry of expired) {
      this.logger.info({ address: entry.address }, 'SIP block expired');
      this.unblocked.emit(entry);
    }
    if (expired.length > 0) this.dirty = true;
    this.scheduleExpiry();
    if (expired.length > 0) void this.apply();
  }

  /** Serialised: one apply at a time, and the latest state always gets applied. */
  private apply(): Promise<void> {
    const applier = this.options.applier;
    if (!applier) {
      this.dirty = false;
      return Promise.resolve();
    }
    if (this.applying) return this.applying.then(() => (this.dirty ? this.apply() : undefined));
    this.dirty = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.setTask({ state: 'running' });
    const run = applier.apply(this.guard.blocked(this.clock())).then(() => {
      this.failuresLogged = 0;
      this.setTask({ state: this.dirty ? 'running' : 'ok' });
    }, (err: unknown) => {
      this.dirty = true;
      const forbidden = isPermissionDenied(err);
      const action = err instanceof AmiActionError ? err.action : undefined;
      const retryMs = forbidden ? this.options.forbiddenRetryMs ?? 60_000 : this.options.retryMs ?? 5000;
      this.setTask({
        state: forbidden ? 'forbidden' : 'failed',
        error: { code: forbidden ? 'ami_permission_denied' : 'sip_blocklist_apply_failed', message: err instanceof Error ? err.message : String(err), at: new Date(this.clock()), ...(action ? { action } : {}) },
      });
      if (this.failuresLogged++ === 0) {
        if (forbidden) this.logger.error({ action, retryMs }, `AMI user may not run ${action ?? 'the ACL reload'} (Permission denied): SIP blocks are written but not in force; give it manager.conf write = system`);
        else this.logger.error({ err, retryMs }, 'applying the SIP block list failed; retrying');
      } else {
        this.logger.debug({ err, retryMs }, 'applying the SIP block list failed again');
      }
      // Retried on a timer, on the next change and on every AMI (re)connect.
      if (this.unsubscribe.length > 0) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          if (this.dirty) void this.apply();
        }, retryMs);
      }
    }).finally(() => {
      this.applying = undefined;
    });
    this.applying = run;
    return run;
  }
}
