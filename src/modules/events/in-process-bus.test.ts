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
  it('delivers in order to matching consumers and survives a failing one', async () => {
    const bus = new InProcessBus(pino({ level: 'silent' }));
    const got: string[] = [];
    await bus.subscribe('bad', 'hotline.>', async () => { throw new Error('boom'); });
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
});
