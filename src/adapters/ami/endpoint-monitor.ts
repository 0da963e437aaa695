/**
 * Streams registration status into the service: on every (re)login it lists endpoints,
 * contacts and outbound registrations (whatever changed while we were disconnected reaches
 * us only through such a listing), then applies live events. Events that arrive while a
 * listing is in progress are held (bounded) and applied after the snapshot, so a change during
 * seeding is not overwritten by the older listing. Between failed attempts live events are
 * applied directly (the next listing covers them anyway), so nothing is held unbounded.
 *
 * The list actions need the manager.conf `write` class `system` (res_pjsip registers
 * PJSIPShowEndpoints with EVENT_FLAG_SYSTEM). Without it Asterisk answers `Permission denied`:
 * that is reported as state `forbidden` (status(), /readyz, one error log per session) and
 * retried slowly, since a session keeps the classes it logged in with.
 */
import type { Logger } from 'pino';
import { AmiActionError, isPermissionDenied } from './errors.js';
import { EndpointRegistry } from './endpoint-registry.js';
import { Listeners } from './listeners.js';
import type { AmiClient, AmiEvent, AmiTaskStatus, EndpointStatus, EndpointStatusChange, OutboundRegistration, Unsubscribe } from './types.js';

const TRACKED = new Set(['ContactStatus', 'PeerStatus', 'DeviceStateChange', 'Registry']);

/** What services see of phone and trunk registration. */
export interface EndpointDirectory {
  list(): EndpointStatus[];
  get(endpoint: string): EndpointStatus | undefined;
  registrations(): OutboundRegistration[];
  /** True once the current AMI session's listing has been applied. */
  isSeeded(): boolean;
  /** Progress of the listing on the current session (for /readyz). */
  seedStatus(): AmiTaskStatus;
  onChange(listener: (change: EndpointStatusChange) => void): Unsubscribe;
}

export interface EndpointMonitorOptions {
  /** Wait before retrying a failed listing on the same session (default 5 s). */
  readonly seedRetryMs?: number;
  /** Wait before retrying after `Permission denied` (default 60 s). */
  readonly forbiddenRetryMs?: number;
  /** Events held during one listing at most; older ones are dropped and the listing repeated (default 10,000). */
  readonly maxHeldEvents?: number;
  readonly now?: () => Date;
}

export class EndpointMonitor implements EndpointDirectory {
  private readonly registry = new EndpointRegistry();
  private readonly changes: Listeners<EndpointStatusChange>;
  /** Set while a listing is in progress. */
  private held: AmiEvent[] | undefined;
  private heldDropped = 0;
  private attempt = 0;
  private seededSession = 0;
  /** Session whose failure was already logged at error/warn level. */
  private loggedFailureFor = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private unsubscribe: Unsubscribe[] = [];
  private task: AmiTaskStatus;
  private readonly now: () => Date;

  constructor(
    private readonly client: AmiClient,
    private readonly logger: Logger,
    private readonly options: EndpointMonitorOptions = {},
  ) {
    this.changes = new Listeners(logger, 'endpoint status');
    this.now = options.now ?? (() => new Date());
    this.task = { state: 'idle', since: this.now() };
  }

  start(): void {
    if (this.unsubscribe.length > 0) return;
    this.unsubscribe = [
      this.client.onConnected((session) => { void this.seed(session); }),
      this.client.onEvent((event) => this.handle(event)),
    ];
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.attempt++;
    this.held = undefined;
    this.changes.clear();
  }

  list(): EndpointStatus[] {
    return this.registry.list();
  }

  get(endpoint: string): EndpointStatus | undefined {
    return this.registry.get(endpoint);
  }

  registrations(): OutboundRegistration[] {
    return this.registry.registrations();
  }

  isSeeded(): boolean {
    return this.seededSession !== 0 && this.seededSession === this.client.status().session && this.client.status().state === 'connected';
  }

  seedStatus(): AmiTaskStatus {
    return this.task;
  }

  onChange(listener: (change: EndpointStatusChange) => void): Unsubscribe {
    return this.changes.add(listener);
  }

  private handle(event: AmiEvent): void {
    if (!TRACKED.has(event.name)) return;
    if (this.held) {
      if (this.held.length >= (this.options.maxHeldEvents ?? 10_000)) {
        this.held.shift();
        this.heldDropped++;
      }
      this.held.push(event);
      return;
    }
    this.publish(this.registry.apply(event, this.now()));
  }

  private setTask(next: Omit<AmiTaskStatus, 'since'>): void {
    if (next.state !== this.task.state || next.error?.message !== this.task.error?.message) this.task = { ...next, since: this.now() };
  }

  private async seed(session: number): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const attempt = ++this.attempt;
    // Everything that happened before these requests is in their answers: hold only what follows.
    this.held = [];
    this.heldDropped = 0;
    this.setTask({ state: 'running' });
    try {
      const endpoints = await this.listAction('PJSIPShowEndpoints');
      const contacts = await this.listAction('PJSIPShowContacts');
      const registrations = await this.listAction('PJSIPShowRegistrationsOutbound');
      if (attempt !== this.attempt) return;
      if (this.client.status().session !== session) {
        this.held = undefined;
        return;
      }
      const held = this.held ?? [];
      const dropped = this.heldDropped;
      this.held = undefined;
      const changes = this.registry.seed({ endpoints, contacts, registrations }, this.now());
      for (const event of held) changes.push(...this.registry.apply(event, this.now()));
      this.seededSession = session;
      this.setTask({ state: 'ok' });
      this.logger.info({ session, endpoints: endpoints.length, contacts: contacts.length, registrations: registrations.length }, 'AMI endpoint state seeded');
      this.publish(changes);
      if (dropped > 0) {
        // The oldest held events are lost: only a new listing restores a trustworthy state.
        this.logger.warn({ session, dropped }, 'too many AMI events during the endpoint listing; listing again');
        this.retryTimer = setTimeout(() => { void this.seed(session); }, 0);
      }
    } catch (err) {
      if (attempt !== this.attempt) return;
      // Events held so far are newer than the registry: apply them, then stop holding.
      const held = this.held ?? [];
      this.held = undefined;
      for (const event of held) this.publish(this.registry.apply(event, this.now()));
      const forbidden = isPermissionDenied(err);
      const action = err instanceof AmiActionError ? err.action : undefined;
      const message = err instanceof Error ? err.message : String(err);
      const retryMs = forbidden ? this.options.forbiddenRetryMs ?? 60_000 : this.options.seedRetryMs ?? 5000;
      this.setTask({
        state: forbidden ? 'forbidden' : 'failed',
        error: { code: forbidden ? 'ami_permission_denied' : 'ami_seed_failed', message, at: this.now(), ...(action ? { action } : {}) },
      });
      const first = this.loggedFailureFor !== session;
      this.loggedFailureFor = session;
      if (forbidden && first) {
        this.logger.error({ session, action, retryMs }, `AMI user may not run ${action ?? 'the PJSIP list actions'} (Permission denied): give it manager.conf write = system,reporting; until then endpoint state is not seeded`);
      } else if (first) {
        this.logger.warn({ err, session, retryMs }, 'AMI endpoint listing failed');
      } else {
        this.logger.debug({ err, session, retryMs }, 'AMI endpoint listing failed again');
      }
      const current = this.client.status();
      if (current.session === session && current.state === 'connected') {
        this.retryTimer = setTimeout(() => { void this.seed(session); }, retryMs);
      }
    }
  }

  /** A list action; Asterisk answers `Error: No … found` instead of an empty list. */
  private async listAction(action: string): Promise<readonly AmiEvent[]> {
    try {
      return (await this.client.action(action)).events;
    } catch (err) {
      if (err instanceof AmiActionError && /^no .*found/i.test(err.response.message ?? '')) return [];
      throw err;
    }
  }

  private publish(changes: readonly EndpointStatusChange[]): void {
    for (const change of changes) this.changes.emit(change);
  }
}
