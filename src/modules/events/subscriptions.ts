/**
 * The subscriber the composition root hands to feature modules. During shutdown a module's
 * stop() leaves its subscriptions running: modules stop (and may write events while stopping)
 * before the final outbox flush, and the in-process bus delivers only to consumers subscribed at
 * that moment. The composition root ends every subscription after the flush, with stopAll().
 */
import type { EventHandler, EventSubscriber, SubscribeOptions } from './events.js';

type Subscription = { stop(): Promise<void> };

export class ManagedSubscriber implements EventSubscriber {
  private readonly live = new Set<Subscription>();
  private holding = false;

  constructor(private readonly inner: EventSubscriber) {}

  async subscribe(consumer: string, filterSubject: string, handler: EventHandler, options?: SubscribeOptions): Promise<Subscription> {
    const sub = await this.inner.subscribe(consumer, filterSubject, handler, options);
    this.live.add(sub);
    return {
      stop: async () => {
        if (this.holding || !this.live.delete(sub)) return; // ended by stopAll(), after the flush
        await sub.stop();
      },
    };
  }

  /** Shutdown began: from now on only stopAll() ends subscriptions. */
  hold(): void {
    this.holding = true;
  }

  /** Ends every subscription still running, newest first. */
  async stopAll(): Promise<void> {
    const subs = [...this.live].reverse();
    this.live.clear();
    for (const s of subs) await s.stop();
  }
}
