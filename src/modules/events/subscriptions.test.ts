import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from './events.js';
import { InProcessBus } from './in-process-bus.js';
import { ManagedSubscriber } from './subscriptions.js';

const ev = (subject: string): EventEnvelope => ({ id: subject, type: 'x.y', subject, occurredAt: '', payload: {} });

describe('ManagedSubscriber', () => {
  it('stops a subscription at once outside shutdown', async () => {
    const bus = new InProcessBus(pino({ level: 'silent' }));
    const subs = new ManagedSubscriber(bus);
    const got: string[] = [];
    const sub = await subs.subscribe('c', 'hotline.>', async (e) => void got.push(e.id));
    await bus.publish(ev('hotline.a'));
    await sub.stop();
    await bus.publish(ev('hotline.b'));
    expect(got).toEqual(['hotline.a']);
  });

  it('during shutdown keeps consumers subscribed until stopAll(), so the final flush reaches them', async () => {
    const bus = new InProcessBus(pino({ level: 'silent' }));
    const subs = new ManagedSubscriber(bus);
    const got: string[] = [];
    const sub = await subs.subscribe('c', 'hotline.>', async (e) => void got.push(e.id));
    subs.hold();
    await sub.stop(); // the module stopped
    await bus.publish(ev('hotline.written-while-stopping'));
    expect(got).toEqual(['hotline.written-while-stopping']);
    await subs.stopAll();
    await bus.publish(ev('hotline.after'));
    expect(got).toHaveLength(1);
    // The consumer name is free again: stopAll() really unsubscribed.
    await expect(bus.subscribe('c', 'hotline.>', async () => undefined)).resolves.toBeDefined();
  });
});
