import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/modules/events/events.js';
import { world, type World } from './tickets-helpers.js';

let w: World;
beforeAll(async () => {
  w = await world({}, { withNats: true });
});
afterAll(async () => w.close());

describe('ticket events on NATS JetStream', () => {
  it('delivers a dispatch to the department’s own subject and the hotline-wide one', async () => {
    const deptA = await w.dept('nats-a');
    const deptB = await w.dept('nats-b');
    // Each test run has its own subject prefix (test/support/app.ts); the department events show it.
    const root = (await w.sql.query("SELECT split_part(subject, '.', 1) AS p FROM outbox ORDER BY seq DESC LIMIT 1")).rows[0].p as string;
    const forA: EventEnvelope[] = [];
    const forB: EventEnvelope[] = [];
    const all: EventEnvelope[] = [];
    const subs = await Promise.all([
      w.t.hotline.events.subscriber.subscribe('dept-a-inbox', `${root}.dept.${deptA}.>`, async (e) => { forA.push(e); }),
      w.t.hotline.events.subscriber.subscribe('dept-b-inbox', `${root}.dept.${deptB}.>`, async (e) => { forB.push(e); }),
      w.t.hotline.events.subscriber.subscribe('ticket-watch', `${root}.ticket.>`, async (e) => { all.push(e); }),
    ]);
    const { ticket } = await w.intake(w.agent);
    expect((await w.act(w.agent, ticket.id, 'dispatch', { mainDepartmentId: deptA })).statusCode).toBe(200);
    for (let i = 0; i < 100 && (forA.length < 1 || all.length < 2); i++) await new Promise((r) => setTimeout(r, 50));
    await Promise.all(subs.map((s) => s.stop()));
    expect(forA.map((e) => [e.type, e.subject])).toEqual([['ticket.dispatched', `${root}.dept.${deptA}.ticket.dispatched`]]);
    expect(forA[0]?.payload).toMatchObject({ ticketId: ticket.id, mainDepartmentId: deptA, status: 'dispatched' });
    expect(forB).toEqual([]);
    expect(all.filter((e) => e.payload['ticketId'] === ticket.id).map((e) => e.type)).toEqual(['ticket.accepted', 'ticket.dispatched']);
  });
});
