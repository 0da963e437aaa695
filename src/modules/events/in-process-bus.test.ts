import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from './events.js';
import { InProcessBus, subjectMatches } from './in-process-bus.js';

const ev = (subject: string): EventEnvelope => ({ id: subject, type: 'x.y', subject, occurredAt: '', payload: {} });

describe('in-process bus', () => {
  it('matches NATS wildcards', () => {
    expect(subjectMatches('hotline.>', 'hotline.ticket.created')).toBe(true);
    expect(subjectMatches('hotline.>', 'hotline')).toBe(false);
    expect(subjectMatches('hotline.*.created', 'hotline.ticket.created')).toBe(true);
    expect(subjectMatches('hotline.*.created', 'hotline.ticket.closed')).toBe(false);
    expect(subjectMatches('hotline.dept.*.>', 'hotline.dept.42.ticket.dispatched')).toBe(true);
    expect(subjectMatches('hotline.ticket', 'hotline.ticket.created')).toBe(false);
  });
  it('delivers in order to matching consumers; a failing one fails the publish but not the others', async () => {
    const bus = new InProcessBus(pino({ level: 'silent' }));
    const got: string[] = [];
    await bus.subscribe('other', 'hotline.call.*', async () => undefined);
    const sub = await bus.subscribe('good', 'hotline.ticket.*', async (e) => void got.push(e.subject));
    await bus.publish(ev('hotline.ticket.a'));
    await bus.publish(ev('hotline.call.b'));
    await bus.publish(ev('hotline.ticket.c'));
    expect(got).toEqual(['hotline.ticket.a', 'hotline.ticket.c']);
    await expect(bus.subscribe('good', 'x.>', async () => undefined)).rejects.toThrow(/already subscribed/);
    await sub.stop();
    await bus.publish(ev('hotline.ticket.d'));
    expect(got).toHaveLength(2);
  });

  it('keeps an event a consumer failed on: publish rejects, and the retry reaches only that consumer', async () => {
    const bus = new InProcessBus(pino({ level: 'silent' }));
    const good: string[] = [];
    const flaky: string[] = [];
    let failuresLeft = 2;
    await bus.subscribe('good', 'hotline.>', async (e) => void good.push(e.id));
    await bus.subscribe('flaky', 'hotline.>', async (e) => {
      flaky.push(e.id);
      if (failuresLeft-- > 0) throw new Error('database is down');
    });
    // The relay sees the failure, keeps the outbox row and publishes it again later.
    await expect(bus.publish(ev('hotline.ticket.a'))).rejects.toMatchObject({ code: 'event_consumer_failed', message: expect.stringMatching(/flaky failed: database is down/) });
    await expect(bus.publish(ev('hotline.ticket.a'))).rejects.toThrow(/flaky/);
    await bus.publish(ev('hotline.ticket.a'));
    expect(good).toEqual(['hotline.ticket.a']);
    expect(flaky).toEqual(['hotline.ticket.a', 'hotline.ticket.a', 'hotline.ticket.a']);
    // Once everyone has it, the bookkeeping is gone: a later re-publish is delivered afresh.
    await bus.publish(ev('hotline.ticket.a'));
    expect(good).toHaveLength(2);
  });
});
