/**
 * The desktop module's event consumers:
 * - agent.state_changed → an agent.state desktop message. One consumer shared by all instances
 *   (each event handled by one of them) and idempotent by event id, so each change is recorded once.
 * - desktop messages → this instance's sockets. One consumer per instance, so every instance
 *   sees every message; NATS removes the consumer of an instance that is gone.
 */
import type { Logger } from 'pino';
import type { EventSubscriber } from '../events/events.js';
import type { DesktopHub } from './desktop.hub.js';
import { AGENT_STATE_CONSUMER, type DesktopService, type StoredDesktopMessage } from './desktop.service.js';

/** How long NATS keeps a per-instance consumer that nobody pulls from. */
const FANOUT_INACTIVE_MS = 5 * 60_000;

export async function subscribeDesktopEvents(subscriber: EventSubscriber, deps: {
  readonly prefix: string;
  readonly instanceId: string;
  readonly service: DesktopService;
  readonly hub: DesktopHub;
  readonly logger: Logger;
}): Promise<Array<{ stop(): Promise<void> }>> {
  const { prefix, service, hub, logger } = deps;
  const states = await subscriber.subscribe(AGENT_STATE_CONSUMER, `${prefix}.agent.state_changed`, async (event) => {
    const msg = await service.recordAgentState(event); // throws → redelivered
    if (msg) hub.deliver(msg);
  });
  const fanout = await subscriber.subscribe(`desktop-fanout-${deps.instanceId}`, `${prefix}.desktop.*.message`, async (event) => {
    const msg = asMessage(event.payload);
    if (msg) hub.deliver(msg);
    else logger.warn({ eventId: event.id }, 'malformed desktop message event ignored');
  }, { perInstance: { inactiveThresholdMs: FANOUT_INACTIVE_MS } });
  return [states, fanout];
}

function asMessage(p: Record<string, unknown>): StoredDesktopMessage | undefined {
  const { seq, agentId, at, type, payload } = p;
  if (typeof seq !== 'string' || !/^[0-9]{1,19}$/.test(seq) || typeof agentId !== 'string' || typeof at !== 'string' || typeof type !== 'string') return undefined;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  return { seq, agentId, at, type, payload: payload as Record<string, unknown> };
}
