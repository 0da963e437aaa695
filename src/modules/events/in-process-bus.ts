/**
 * The bus for a single instance without NATS: the outbox relay publishes here and durable-looking
 * subscriptions receive events in order. Subjects match NATS-style (`*` one token, `>` the rest).
 * A consumer that fails makes publish() fail, so the relay keeps the outbox row and retries it with
 * backoff; the retry goes only to the consumers that have not handled the event yet.
 */
import type { Logger } from 'pino';
import { UnavailableError } from '../../domain/errors.js';
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
  /** Consumers that already handled an event whose publish failed for another consumer. */
  private readonly handled = new Map<string, Set<string>>();

  constructor(private readonly logger: Logger) {}

  async publish(event: EventEnvelope): Promise<void> {
    const done = this.handled.get(event.id) ?? new Set<string>();
    const failed: Array<{ consumer: string; err: unknown }> = [];
    for (const [consumer, sub] of this.subs) {
      if (!subjectMatches(sub.filter, event.subject) || done.has(consumer)) continue;
      // Other consumers still get the event; only the failed ones see it again on the retry.
      try {
        await sub.handler(event);
        done.add(consumer);
      } catch (err) {
        failed.push({ consumer, err });
        this.logger.warn({ err, consumer, eventId: event.id, type: event.type }, 'in-process consumer failed; the event will be retried');
      }
    }
    if (failed.length === 0) {
      this.handled.delete(event.id);
      return;
    }
    this.handled.set(event.id, done);
    const first = failed[0]!;
    throw new UnavailableError(
      `in-process consumer ${failed.map((f) => f.consumer).join(', ')} failed: ${first.err instanceof Error ? first.err.message : String(first.err)}`,
      'event_consumer_failed', { cause: first.err },
    );
  }

  async subscribe(consumer: string, filterSubject: string, handler: EventHandler): Promise<{ stop(): Promise<void> }> {
    if (this.subs.has(consumer)) throw new Error(`consumer ${consumer} is already subscribed`);
    this.subs.set(consumer, { filter: filterSubject, handler });
    return { stop: async () => void this.subs.delete(consumer) };
  }
}
