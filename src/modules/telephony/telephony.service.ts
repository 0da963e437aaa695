/**
 * What operators and supervisors see of the voice platform: phone and trunk registrations (from
 * AMI) and the SIP security block list. Security alerts and phones going on/offline become events.
 */
import type { Logger } from 'pino';
import type { Database } from '../../adapters/db/database.js';
import type { EndpointDirectory, SipSecurity } from '../../adapters/ami/index.js';
import type { EndpointStatus, OutboundRegistration, Unsubscribe } from '../../adapters/ami/types.js';
import type { Principal } from '../../domain/auth.js';
import { NotFoundError, UnavailableError } from '../../domain/errors.js';
import type { BlockEntry } from '../../domain/security/index.js';
import type { OutboxRepository } from '../events/outbox.repository.js';

export interface TelephonyPorts {
  readonly endpoints: EndpointDirectory;
  readonly security: SipSecurity;
}

export class TelephonyService {
  private subscriptions: Unsubscribe[] = [];

  constructor(
    private readonly ports: TelephonyPorts | undefined,
    private readonly db: Database,
    private readonly outbox: OutboxRepository,
    private readonly logger: Logger,
  ) {}

  /** Announces alerts and registration changes through the outbox (so NATS consumers and wallboards see them). */
  start(): void {
    if (!this.ports || this.subscriptions.length) return;
    this.subscriptions = [
      this.ports.security.onAlert((alert) => void this.announce('sip.security_alert', { ...alert })),
      this.ports.endpoints.onChange((c) => {
        if (!c.onlineChanged && !c.contactsChanged) return; // device-state churn belongs to call handling
        void this.announce('telephony.endpoint_status', {
          endpoint: c.current.endpoint, online: c.current.online,
          contacts: c.current.contacts.map((x) => ({ address: x.address, status: x.status })), since: c.current.since.toISOString(),
        });
      }),
    ];
  }

  stop(): void {
    for (const u of this.subscriptions) u();
    this.subscriptions = [];
  }

  endpoints(): EndpointStatus[] {
    return this.require().endpoints.list();
  }

  registrations(): OutboundRegistration[] {
    return this.require().endpoints.registrations();
  }

  blocks(): BlockEntry[] {
    return this.require().security.blocked();
  }

  async block(address: string, reason: string, durationSeconds: number | undefined, actor: Principal): Promise<BlockEntry> {
    const entry = await this.require().security.block(address, { reason: `${reason} (by ${actor.name})`, ...(durationSeconds ? { durationMs: durationSeconds * 1000 } : {}) });
    await this.announce('sip.address_blocked', { ...entry, by: actor.id });
    return entry;
  }

  async unblock(address: string, actor: Principal): Promise<BlockEntry> {
    const entry = await this.require().security.unblock(address);
    if (!entry) throw new NotFoundError('SIP block', address, 'sip_block_not_found');
    await this.announce('sip.address_unblocked', { address, by: actor.id });
    return entry;
  }

  private require(): TelephonyPorts {
    if (!this.ports) throw new UnavailableError('Telephony monitoring is off: set AMI_HOST, AMI_USER and AMI_PASSWORD', 'telephony_disabled');
    return this.ports;
  }

  private async announce(type: string, payload: Record<string, unknown>): Promise<void> {
    try {
      await this.db.transaction().execute((tx) => this.outbox.append(tx, [{ type, payload }]));
    } catch (err) {
      this.logger.error({ err, type }, 'could not record telephony event');
    }
  }
}
