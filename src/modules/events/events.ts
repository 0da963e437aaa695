/**
 * The event contract. Every state change is announced by one event, written to the outbox in
 * the same transaction as the change, then relayed to NATS JetStream (or the in-process bus)
 * with `Nats-Msg-Id` = `id`. Consumers de-duplicate by `id`.
 */
export interface EventEnvelope<P = Record<string, unknown>> {
  /** UUID; also the JetStream message id, so a re-publish is dropped by the server. */
  readonly id: string;
  /** Dotted type such as `ticket.dispatched`; the subject is `<prefix>.<type>` unless given. */
  readonly type: string;
  readonly subject: string;
  readonly occurredAt: string;
  readonly payload: P;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a service hands to a repository to store in the outbox. */
export interface NewEvent<P = Record<string, unknown>> {
  readonly type: string;
  readonly payload: P;
  /** Extra subjects such as `hotline.dept.<id>.ticket.dispatched`; each gets its own row. */
  readonly subject?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Transport the outbox relay publishes through (JetStream or in-process). */
export interface EventPublisher {
  publish(event: EventEnvelope): Promise<void>;
  readonly name: string;
}

export type EventHandler = (event: EventEnvelope) => Promise<void>;

export interface SubscribeOptions {
  /**
   * A consumer of this instance alone (name it per instance) that sees only events published
   * from now on, for fan-out to every instance; NATS removes it once idle this long (a dead
   * instance's consumer does not pile up) and stop() deletes it.
   */
  readonly perInstance?: { readonly inactiveThresholdMs: number };
}

/** Durable subscription: at-least-once delivery; combine with `IdempotentConsumer` for exactly-once effects. */
export interface EventSubscriber {
  subscribe(consumer: string, filterSubject: string, handler: EventHandler, options?: SubscribeOptions): Promise<{ stop(): Promise<void> }>;
}

const TYPE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;
export function assertEventType(type: string): void {
  if (!TYPE.test(type)) throw new Error(`event type '${type}' must be dotted lower-case, e.g. ticket.dispatched`);
}
