/**
 * NATS JetStream behind the EventPublisher/EventSubscriber ports. The connection retries
 * forever (also when NATS is down at start-up); the stream is created or updated at start;
 * every publish carries `Nats-Msg-Id` = event id so the server drops re-publishes.
 */
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { UnavailableError } from '../../domain/errors.js';
import type { EventEnvelope, EventHandler, EventPublisher, EventSubscriber, SubscribeOptions } from '../../modules/events/events.js';

export interface NatsOptions {
  readonly url: string;
  readonly stream: string;
  readonly subjectPrefix: string;
  readonly publishTimeoutMs?: number;
  /** JetStream's de-duplication window; a re-publish within it is dropped. */
  readonly duplicateWindowMs?: number;
  readonly name?: string;
}

export type NatsState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export class NatsEventBus implements EventPublisher, EventSubscriber {
  readonly name = 'nats';
  private state: NatsState = 'connecting';
  private lastError: string | undefined;
  private streamReady = false;

  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private closing = false;
  private wakeOpen: (() => void) | undefined;
  private resolveConnected!: () => void;
  /** Resolves at the first connection, or at shutdown if there never was one. */
  private readonly connected = new Promise<void>((resolve) => (this.resolveConnected = resolve));
  readonly ready: Promise<void>;

  /**
   * Returns at once and connects in the background, retrying forever: the service starts even
   * while NATS is down, and the outbox relay holds events until it is back.
   */
  constructor(private readonly options: NatsOptions, private readonly logger: Logger) {
    this.ready = this.open();
    this.ready.catch((err: unknown) => {
      this.lastError = (err as Error).message;
      this.logger.error({ err }, 'NATS connection gave up');
    });
  }

  /** First connection: our own loop, so that shutdown can cancel it while NATS is down. */
  private async open(): Promise<void> {
    let nc: NatsConnection | undefined;
    for (let attempt = 0; !nc; attempt++) {
      if (this.closing) return;
      try {
        nc = await connect({ servers: this.options.url, name: this.options.name ?? 'hotline', maxReconnectAttempts: -1, reconnectTimeWait: 1000, timeout: 5000 });
      } catch (err) {
        this.lastError = (err as Error).message;
        if (attempt === 0) this.logger.warn({ err }, 'NATS is not reachable; retrying in the background');
        await new Promise<void>((resolve) => {
          this.wakeOpen = resolve;
          setTimeout(resolve, Math.min(10_000, 250 * 2 ** Math.min(attempt, 6))).unref();
        });
      }
    }
    if (this.closing) {
      await nc.close();
      return;
    }
    this.nc = nc;
    this.js = jetstream(nc, { timeout: this.timeout() });
    this.state = 'connected';
    this.watch(nc);
    this.resolveConnected();
    await this.ensureStream();
    this.logger.info({ server: nc.getServer(), stream: this.options.stream }, 'NATS JetStream connected');
  }

  private watch(nc: NatsConnection): void {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnecting') this.state = 'reconnecting';
        else if (s.type === 'reconnect') {
          this.state = 'connected';
          this.logger.info('NATS reconnected');
        } else if (s.type === 'error') this.lastError = String(s.error);
      }
    })();
    void nc.closed().then((err) => {
      this.state = 'closed';
      if (err) this.lastError = err.message;
    });
  }

  /** Creates the stream, or updates its subjects and limits to what this build expects. */
  async ensureStream(): Promise<void> {
    const config = {
      name: this.options.stream,
      subjects: [`${this.options.subjectPrefix}.>`],
      duplicate_window: (this.options.duplicateWindowMs ?? 2 * 60 * 60 * 1000) * 1_000_000, // ns
    };
    const jsm = await this.manager();
    try {
      await jsm.streams.info(this.options.stream);
      await jsm.streams.update(this.options.stream, config);
    } catch (err) {
      if (!/stream not found/i.test((err as Error).message)) throw err;
      await jsm.streams.add(config);
      this.logger.info({ stream: this.options.stream }, 'JetStream stream created');
    }
    this.streamReady = true;
  }

  status(): { state: NatsState; lastError: string | undefined; server: string | undefined } {
    return { state: this.state, lastError: this.lastError, server: this.state === 'connected' ? this.nc?.getServer() : undefined };
  }

  async publish(event: EventEnvelope): Promise<void> {
    if (this.state !== 'connected' || !this.js) throw new UnavailableError(`NATS is ${this.state}`, 'nats_unavailable');
    if (!this.streamReady) await this.ensureStream();
    const h = natsHeaders();
    h.set('Nats-Msg-Id', event.id);
    h.set('Hotline-Event-Type', event.type);
    for (const [k, v] of Object.entries(event.headers ?? {})) h.set(k, v);
    await this.js.publish(event.subject, JSON.stringify(event), { msgID: event.id, headers: h });
  }

  /**
   * A durable pull consumer. Returns at once, also while NATS is down: the consumer is created and
   * consumed in the background as soon as NATS is reachable, and again after any failure, so a
   * module's start() never waits for NATS. A handler error naks the message for redelivery.
   * `perInstance`: new events only, removed by NATS when idle and by stop(); if NATS removed it
   * while this instance was cut off, it is created again.
   */
  async subscribe(consumer: string, filterSubject: string, handler: EventHandler, options: SubscribeOptions = {}): Promise<{ stop(): Promise<void> }> {
    const durable = consumer.replace(/[^A-Za-z0-9_-]/g, '_');
    let stopped = false;
    let messages: ConsumerMessages | undefined;
    let requestStop!: () => void;
    // Ends every wait below: for the first connection (which may never come) and between retries.
    const stopSignal = new Promise<void>((resolve) => (requestStop = resolve));
    const done = (async () => {
      for (let failures = 0; ;) {
        await Promise.race([this.connected, stopSignal]);
        if (stopped || this.closing) return;
        try {
          if (!this.streamReady) await this.ensureStream();
          await this.ensureConsumer(durable, filterSubject, options);
          const c = await this.js!.consumers.get(this.options.stream, durable);
          messages = await c.consume({ max_messages: 100, ...(options.perInstance ? { abort_on_missing_resource: true } : {}) });
          if (stopped) {
            await messages.close();
            return;
          }
          if (failures > 0) this.logger.info({ consumer, afterFailures: failures }, 'NATS consumer subscribed');
          failures = 0;
          for await (const m of messages) {
            try {
              await handler(m.json<EventEnvelope>());
              m.ack();
            } catch (err) {
              this.logger.warn({ err, consumer, seq: m.seq }, 'event handler failed; will be redelivered');
              m.nak(1000);
            }
          }
          if (stopped || this.closing) return;
          throw new Error('the consumer stopped delivering');
        } catch (err) {
          if (stopped || this.closing) return;
          failures += 1;
          const delay = Math.min(10_000, 250 * 2 ** Math.min(failures - 1, 6));
          this.logger.warn({ err, consumer, retryInMs: delay }, 'NATS consumer not running; retrying');
          await Promise.race([stopSignal, new Promise<void>((resolve) => setTimeout(resolve, delay).unref())]);
        }
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        requestStop();
        await messages?.close();
        await done;
        if (options.perInstance && this.state === 'connected') {
          await this.manager().then((jsm) => jsm.consumers.delete(this.options.stream, durable))
            .catch((err: unknown) => this.logger.debug({ err, consumer }, 'per-instance consumer not deleted; NATS removes it when idle'));
        }
      },
    };
  }

  private async ensureConsumer(durable: string, filterSubject: string, options: SubscribeOptions): Promise<void> {
    const jsm = await this.manager();
    try {
      await jsm.consumers.info(this.options.stream, durable);
    } catch (err) {
      if (!/consumer not found/i.test((err as Error).message)) throw err;
      const perInstance = options.perInstance;
      await jsm.consumers.add(this.options.stream, {
        durable_name: durable,
        filter_subject: filterSubject,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: perInstance ? DeliverPolicy.New : DeliverPolicy.All,
        ack_wait: 30_000_000_000,
        max_deliver: perInstance ? 5 : -1,
        ...(perInstance ? { inactive_threshold: perInstance.inactiveThresholdMs * 1_000_000 } : {}),
      });
    }
  }

  /** Graceful: flushes pending publishes and acks, then closes. */
  async drain(): Promise<void> {
    this.closing = true;
    this.wakeOpen?.();
    this.resolveConnected();
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    try {
      await nc.drain();
    } catch {
      await nc.close();
    }
  }

  /** Created on first use after connecting, so a failed attempt is retried by the next caller. */
  private async manager(): Promise<JetStreamManager> {
    if (this.jsm) return this.jsm;
    if (!this.nc || this.state !== 'connected') throw new UnavailableError('NATS is not connected yet', 'nats_unavailable');
    this.jsm = await jetstreamManager(this.nc, { timeout: this.timeout() });
    return this.jsm;
  }

  private timeout(): number {
    return this.options.publishTimeoutMs ?? 5000;
  }
}
