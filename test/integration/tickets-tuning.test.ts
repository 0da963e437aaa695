/**
 * What migration 0007 and the intake rework promise, on real PostgreSQL: ticket numbers from the
 * day's sequence (unique under concurrency, continuing an older counter, growing past six
 * digits), an audit trail and tickets that cannot be deleted, call ids with a fixed shape, and the
 * category's defaults applied at intake.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phoneTicket, world, type World } from './tickets-helpers.js';

let w: World;
beforeAll(async () => {
  w = await world();
});
afterAll(async () => w.close());

const HOUR = 3_600_000;

describe('ticket numbers', () => {
  it('are unique and consecutive within the day when intakes run concurrently', async () => {
    const bodies = await Promise.all(Array.from({ length: 24 }, () => w.intake(w.agent)));
    const numbers = bodies.map((b) => b.ticket.number);
    expect(new Set(numbers).size).toBe(24);
    const day = numbers[0]!.slice(2, 10);
    expect(numbers.every((n) => /^GD\d{14}$/.test(n) && n.slice(2, 10) === day)).toBe(true);
    const seqs = numbers.map((n) => Number(n.slice(10))).sort((a, b) => a - b);
    expect(seqs.at(-1)! - seqs[0]!).toBe(23); // no gaps: nothing rolled back
  });

  it('continue after the numbers a day already issued, grow past six digits, and old sequences are pruned', async () => {
    // A day numbered by the old counter row (before 0007) continues after it.
    await w.sql.query(`INSERT INTO ticket_number_counters (day, last) VALUES ('2030-01-01', 41)`);
    await w.sql.query(`SELECT ticket_number_prepare('2030-01-01'), ticket_number_prepare('2030-01-01')`); // twice is harmless
    expect((await w.sql.query(`SELECT ticket_number_next('2030-01-01') AS n`)).rows[0].n).toBe('GD20300101000042');
    await w.sql.query(`SELECT setval('ticket_numbers.d20300101', 999999)`);
    expect((await w.sql.query(`SELECT ticket_number_next('2030-01-01') AS n`)).rows[0].n).toBe('GD203001011000000');
    // A day that was never prepared fails loudly instead of numbering twice.
    await expect(w.sql.query(`SELECT ticket_number_next('2031-05-05')`)).rejects.toMatchObject({ code: '42P01' });
    expect((await w.sql.query(`SELECT ticket_number_prune('2030-01-02') AS n`)).rows[0].n).toBeGreaterThanOrEqual(1);
    expect((await w.sql.query(`SELECT to_regclass('ticket_numbers.d20300101') AS r`)).rows[0].r).toBeNull();
    // Today's sequence is untouched: intake goes on.
    expect((await w.intake(w.agent)).ticket.number).toMatch(/^GD\d{14}$/);
  });

  it('survive a lost sequence: intake makes it again after the highest number issued', async () => {
    const before = (await w.intake(w.agent)).ticket.number;
    const day = before.slice(2, 10);
    await w.sql.query(`DROP SEQUENCE ticket_numbers.d${day}`);
    const after = (await w.intake(w.agent)).ticket.number;
    expect(Number(after.slice(10))).toBe(Number(before.slice(10)) + 1);
  });
});

describe('the audit trail and tickets are never deleted', () => {
  it('refuses DELETE and TRUNCATE of transitions, and DELETE of tickets (nothing cascades away)', async () => {
    const { ticket } = await w.intake(w.agent);
    await expect(w.sql.query('DELETE FROM ticket_transitions WHERE ticket_id = $1', [ticket.id])).rejects.toThrow(/append-only \(DELETE refused\)/);
    await expect(w.sql.query('UPDATE ticket_transitions SET reason = $2 WHERE ticket_id = $1', [ticket.id, 'x'])).rejects.toThrow(/append-only \(UPDATE refused\)/);
    await expect(w.sql.query('TRUNCATE ticket_transitions CASCADE')).rejects.toThrow(/append-only/);
    await expect(w.sql.query('DELETE FROM tickets WHERE id = $1', [ticket.id])).rejects.toThrow(/never deleted/);
    await expect(w.sql.query('TRUNCATE tickets CASCADE')).rejects.toThrow(/never deleted|append-only/);
    const { rows } = await w.sql.query('SELECT (SELECT count(*)::int FROM tickets WHERE id = $1) AS tickets, (SELECT count(*)::int FROM ticket_transitions WHERE ticket_id = $1) AS transitions', [ticket.id]);
    expect(rows[0]).toEqual({ tickets: 1, transitions: 1 });
  });
});

describe('call ids', () => {
  it('take a UUID or an Asterisk id, nothing else', async () => {
    for (const callId of [randomUUID(), '1700000000.123', 'ast1:1700000000.42']) {
      expect((await w.intake(w.agent, phoneTicket({ callId }))).ticket.callId).toBe(callId);
    }
    for (const callId of ['call 1', '../../etc', 'x'.repeat(129), '来电1', '-leading-dash']) {
      const res = await w.call(w.agent, 'POST', '/tickets', phoneTicket({ callId }));
      expect(res.statusCode, callId).toBe(400);
    }
  });
});

describe('category defaults', () => {
  it('give an intake without urgency or scope the category’s, and its deadlines follow; the agent’s choice wins', async () => {
    const cat = await w.call(w.supervisor, 'POST', '/categories', { code: 'water.outage', name: '停水', scopeDomain: 'public_service', defaultUrgency: 'urgent' });
    expect(cat.statusCode, cat.body).toBe(201);
    const categoryId = cat.json<{ id: string }>().id;
    const at = Date.now();
    const { ticket } = await w.intake(w.agent, phoneTicket({ categoryId, title: '小区停水', content: '整栋楼停水一天了' }));
    expect(ticket).toMatchObject({ categoryId, urgency: 'urgent', urgencyLabel: '紧急', scopeDomain: 'public_service' });
    // Urgent: dispatch within 2 natural hours (normal: 24).
    expect(new Date(ticket.deadlines.dispatchDueAt!).getTime() - at).toBeLessThan(3 * HOUR);
    const history = (await w.call(w.supervisor, 'GET', `/tickets/${ticket.id}/history`)).json<{ items: { action: string; data: { urgency: string } }[] }>().items;
    expect(history[0]).toMatchObject({ action: 'accept', data: { urgency: 'urgent' } });

    const chosen = await w.intake(w.agent, phoneTicket({ categoryId, urgency: 'normal', scopeDomain: 'social_management', title: '小区停水', content: '已经通知了' }));
    expect(chosen.ticket).toMatchObject({ urgency: 'normal', scopeDomain: 'social_management' });
    expect(new Date(chosen.ticket.deadlines.dispatchDueAt!).getTime() - at).toBeGreaterThan(20 * HOUR);
  });

  it('inherit a child item’s scope from its branch, and leave a category without defaults to the usual ones', async () => {
    const root = (await w.call(w.supervisor, 'POST', '/categories', { code: 'env', name: '生态环境', scopeDomain: 'eco_environment' })).json<{ id: string }>().id;
    const leaf = (await w.call(w.supervisor, 'POST', '/categories', { code: 'env.noise', name: '噪音', parentId: root })).json<{ id: string }>().id;
    const { ticket } = await w.intake(w.agent, phoneTicket({ categoryId: leaf, title: '工地夜间施工噪音', content: '凌晨还在施工' }));
    expect(ticket).toMatchObject({ categoryId: leaf, urgency: 'normal', scopeDomain: 'eco_environment' });
  });
});
