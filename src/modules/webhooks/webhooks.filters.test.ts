import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retryDelayMs } from './webhooks.backoff.js';
import { departmentOfSubject, isValidEventPattern, matchesAny } from './webhooks.filters.js';

describe('event filters', () => {
  it('accepts types and NATS-style patterns only', () => {
    for (const p of ['ticket.dispatched', 'ticket.*', 'ticket.>', '>', '*.dispatched']) expect(isValidEventPattern(p)).toBe(true);
    for (const p of ['', 'Ticket.x', 'ticket.', 'ticket.>.x', 'ticket..x', 'ticket dispatched', '>.x']) expect(isValidEventPattern(p)).toBe(false);
  });

  it('matches event types', () => {
    expect(matchesAny(['ticket.*'], 'ticket.dispatched')).toBe(true);
    expect(matchesAny(['ticket.dispatched'], 'ticket.returned')).toBe(false);
    expect(matchesAny(['ticket.replied', 'ticket.closed'], 'ticket.closed')).toBe(true);
    expect(matchesAny(['>'], 'ticket.sla_warning')).toBe(true);
    expect(matchesAny(['call.*'], 'ticket.dispatched')).toBe(false);
  });

  it('reads the department from a department subject of this prefix only', () => {
    const id = '6f1c1a52-4a38-4a0f-9a4e-8f0b0d2f3c11';
    expect(departmentOfSubject(`hotline.dept.${id}.ticket.dispatched`, 'hotline')).toBe(id);
    expect(departmentOfSubject(`other.dept.${id}.ticket.dispatched`, 'hotline')).toBeUndefined();
    expect(departmentOfSubject('hotline.ticket.dispatched', 'hotline')).toBeUndefined();
    expect(departmentOfSubject('hotline.dept.not-a-uuid.ticket.x', 'hotline')).toBeUndefined();
  });
});

describe('retry backoff', () => {
  const s = { baseDelayMs: 1000, maxDelayMs: 60_000 };
  it('doubles per attempt with jitter in [half, full], capped', () => {
    expect(retryDelayMs(1, s, () => 0)).toBe(500);
    expect(retryDelayMs(1, s, () => 1)).toBe(1000);
    expect(retryDelayMs(3, s, () => 1)).toBe(4000);
    expect(retryDelayMs(3, s, () => 0)).toBe(2000);
    expect(retryDelayMs(20, s, () => 1)).toBe(60_000);
  });
  it('honours Retry-After up to the cap', () => {
    expect(retryDelayMs(1, s, () => 0, 30_000)).toBe(30_000);
    expect(retryDelayMs(1, s, () => 0, 600_000)).toBe(60_000);
    const now = new Date('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
