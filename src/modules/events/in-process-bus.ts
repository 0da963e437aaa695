/**
 * The bus for a single instance without NATS: the outbox relay publishes here and durable-looking
 * subscriptions receive events in order. Subjects match NATS-style (`*` one token, `>` the rest).
 */
import type { Logger } from 'pino';
import type { EventEnvelope, EventHandler, EventPublisher, EventSubscriber } from './events.js';

export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

export class InProcessBus implements EventPublisher, EventSubscriber {
  readonly name = 'in-process';
  private readonly subs = new Map<string, { filter: string; handler: EventHandler }>();

  constructor(private readonly logger: Logger) {}

  async publish(event: EventEnvelope): Promise<void> {
    for (const [consumer, sub] of this.subs) {
      if (!subjectMatches(sub.filter, event.subject)) continue;
      // A failing consumer must not block the relay or other consumers; it logs and moves on,
      // as a JetStream consumer would after its redeliveries.
      try {
        await sub.handler(event);
      } catch (err) {
        this.logger.error({ err, consumer, eventId: event.id, type: event.type }, 'in-process consumer failed');
      }
    }
  }

  async subscribe(consumer: string, filterSubject: string, handler: EventHandler): Promise<{ stop(): Promise<void> }> {
    if (this.subs.has(consumer)) throw new Error(`consumer ${consumer} is already subscribed`);
    this.subs.set(consumer, { filter: filterSubject, handler });
    return { stop: async () => void this.subs.delete(consumer) };
  }
}
