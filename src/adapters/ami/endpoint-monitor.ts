/**
 * Streams registration status into the service: on every (re)login it lists endpoints,
 * contacts and outbound registrations (whatever changed while we were disconnected reaches
 * us only through such a listing), then applies live events. Events that
 * arrive while the lists are being fetched are held and applied after the snapshot, so a
 * change during seeding is not overwritten by the older listing.
 */
import type { Logger } from 'pino';
import { AmiActionError } from './errors.js';
import { EndpointRegistry } from './endpoint-registry.js';
import { Listeners } from './listeners.js';
import type { AmiClient, AmiEvent, EndpointStatus, EndpointStatusChange, OutboundRegistration, Unsubscribe } from './types.js';

const TRACKED = new Set(['ContactStatus', 'PeerStatus', 'DeviceStateChange', 'Registry']);

/** What services see of phone and trunk registration. */
export interface EndpointDirectory {
  list(): EndpointStatus[];
  get(endpoint: string): EndpointStatus | undefined;
  registrations(): OutboundRegistration[];
  /** True once the current AMI session's listing has been applied. */
  isSeeded(): boolean;
  onChange(listener: (change: EndpointStatusChange) => void): Unsubscribe;
}

export interface EndpointMonitorOptions {
  /** Wait before retrying a failed listing on the same session. */
  readonly seedRetryMs?: number;
  readonly now?: () => Date;
}

export class EndpointMonitor implements EndpointDirectory {
  private readonly registry = new EndpointRegistry();
  private readonly changes: Listeners<EndpointStatusChange>;
  private held: AmiEvent[] | undefined;
  private heldFor = 0;
  private seededSession = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private unsubscribe: Unsubscribe[] = [];
  private readonly now: () => Date;

  constructor(
    private readonly client: AmiClient,
    private readonly logger: Logger,
    private readonly options: EndpointMonitorOptions = {},
  ) {
    this.changes = new Listeners(logger, 'endpoint status');
    this.now = options.now ?? (() => new Date());
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

  onChange(listener: (change: EndpointStatusChange) => void): Unsubscribe {
    return this.changes.add(listener);
  }

  private handle(event: AmiEvent): void {
    if (!TRACKED.has(event.name)) return;
    if (this.held) {
      this.held.push(event);
      return;
    }
    this.publish(this.registry.apply(event, this.now()));
  }

  private async seed(session: number): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    // Events are state, applied in order: holding all since the session began is safe on retries.
    if (this.heldFor !== session || !this.held) this.held = [];
    this.heldFor = session;
    try {
      const endpoints = await this.listAction('PJSIPShowEndpoints');
      const contacts = await this.listAction('PJSIPShowContacts');
      const registrations = await this.listAction('PJSIPShowRegistrationsOutbound');
      if (this.client.status().session !== session) return;
      const held = this.held ?? [];
      this.held = undefined;
      const changes = this.registry.seed({ endpoints, contacts, registrations }, this.now());
      for (const event of held) changes.push(...this.registry.apply(event, this.now()));
      this.seededSession = session;
      this.logger.info({ session, endpoints: endpoints.length, contacts: contacts.length, registrations: registrations.length }, 'AMI endpoint state seeded');
      this.publish(changes);
    } catch (err) {
      // Keep holding events: the next attempt (or the next session) applies them after its snapshot.
      const retryMs = this.options.seedRetryMs ?? 5000;
      this.logger.warn({ err, session, retryMs }, 'AMI endpoint listing failed');
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
