import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../errors.js';
import { EXAMPLE_CALENDAR_YEARS } from './example-calendar.js';
import { addLimit, formatLimit, parseTimeLimit } from './limits.js';
import {
  DEFAULT_SLA_POLICY,
  checkExtension,
  computeDeadlines,
  extendDeadline,
  limitsFor,
  maxExtendedDueAt,
  parseSlaPolicy,
  slaStatus,
  warnAt,
  type SlaPolicy,
} from './sla.js';
import { WorkingCalendar } from './working-calendar.js';

const bj = (local: string): Date => new Date(`${local}+08:00`);
const cal = new WorkingCalendar({ years: EXAMPLE_CALENDAR_YEARS });

describe('limitsFor', () => {
  it('layers defaults, type rules and urgency rules', () => {
    expect(limitsFor(DEFAULT_SLA_POLICY, 'complaint', 'normal')).toEqual({
      dispatch: { value: 24, unit: 'natural_hours' },
      response: { value: 1, unit: 'working_days' },
      completion: { value: 10, unit: 'working_days' },
    });
    expect(limitsFor(DEFAULT_SLA_POLICY, 'praise', 'normal').completion).toEqual({ value: 5, unit: 'working_days' });
    expect(limitsFor(DEFAULT_SLA_POLICY, 'complaint', 'very_urgent')).toEqual({
      dispatch: { value: 1, unit: 'natural_hours' },
      response: { value: 1, unit: 'natural_hours' },
      completion: { value: 24, unit: 'natural_hours' },
    });
    expect(limitsFor(DEFAULT_SLA_POLICY, 'help', 'urgent').dispatch).toEqual({ value: 2, unit: 'natural_hours' });
  });

  it('lets a rule naming type and urgency win over either alone, whatever the order', () => {
    const policy: SlaPolicy = {
      ...DEFAULT_SLA_POLICY,
      rules: [
        { type: 'report', urgency: 'urgent', limits: { completion: { value: 5, unit: 'working_days' } } },
        ...DEFAULT_SLA_POLICY.rules,
      ],
    };
    expect(limitsFor(policy, 'report', 'urgent').completion).toEqual({ value: 5, unit: 'working_days' });
    expect(limitsFor(policy, 'report', 'normal').completion).toEqual({ value: 15, unit: 'working_days' });
  });
});

describe('computeDeadlines', () => {
  it('computes due and warning instants for a normal complaint accepted on a Monday morning', () => {
    const d = computeDeadlines(DEFAULT_SLA_POLICY, cal, { type: 'complaint', urgency: 'normal', acceptedAt: bj('2025-03-10T10:00') });
    expect(d.dispatch.dueAt).toEqual(bj('2025-03-11T10:00'));
    expect(d.dispatch.warnAt).toEqual(bj('2025-03-11T05:12')); // 80 % of 24 natural hours
    expect(d.completion.dueAt).toEqual(bj('2025-03-24T23:59:59.999'));
    // 6 h on Monday + 10 × 7 h = 76 working hours; 80 % = 60.8 h → 5.8 h into Thursday 20 March.
    expect(d.completion.warnAt).toEqual(bj('2025-03-20T16:18'));
    expect(d.response.dueAt).toEqual(bj('2025-03-11T23:59:59.999'));
  });

  it('counts response and completion from dispatch once known', () => {
    const d = computeDeadlines(DEFAULT_SLA_POLICY, cal, {
      type: 'consultation',
      urgency: 'normal',
      acceptedAt: bj('2025-09-29T16:00'),
      dispatchedAt: bj('2025-09-30T09:00'),
    });
    expect(d.dispatch.from).toEqual(bj('2025-09-29T16:00'));
    // 3 working days after 30 Sep: 9, 10, 11 Oct (11 Oct is a make-up Saturday).
    expect(d.completion.dueAt).toEqual(bj('2025-10-11T23:59:59.999'));
    expect(d.response.dueAt).toEqual(bj('2025-10-09T23:59:59.999'));
  });

  it('gives very urgent matters hours around the clock', () => {
    const d = computeDeadlines(DEFAULT_SLA_POLICY, cal, { type: 'help', urgency: 'very_urgent', acceptedAt: bj('2025-02-01T22:00') });
    expect(d.dispatch.dueAt).toEqual(bj('2025-02-01T23:00'));
    expect(d.completion.dueAt).toEqual(bj('2025-02-02T22:00'));
  });

  it('warns a number of working hours before a working-day deadline', () => {
    const policy: SlaPolicy = { ...DEFAULT_SLA_POLICY, warning: { hoursBefore: 4 } };
    const d = computeDeadlines(policy, cal, { type: 'complaint', urgency: 'normal', acceptedAt: bj('2025-03-10T10:00') });
    // The last working day ends at 17:30; four working hours earlier is 12:00 (lunch excluded).
    expect(d.completion.warnAt).toEqual(bj('2025-03-24T12:00'));
    expect(warnAt({ hoursBefore: 4 }, cal, bj('2025-03-10T10:00'), bj('2025-03-10T12:00'), { value: 2, unit: 'natural_hours' })).toEqual(
      bj('2025-03-10T10:00'),
    );
  });

  it('ends day limits at the end of business when configured', () => {
    const policy: SlaPolicy = { ...DEFAULT_SLA_POLICY, dayEnd: 'end_of_business' };
    const d = computeDeadlines(policy, cal, { type: 'consultation', urgency: 'normal', acceptedAt: bj('2025-12-30T15:00') });
    expect(d.completion.dueAt).toEqual(bj('2026-01-05T17:30'));
  });
});

describe('slaStatus', () => {
  const due = bj('2025-03-24T17:30');
  const warn = bj('2025-03-20T16:12');
  it('is ok, then warning, then overdue strictly after the deadline', () => {
    expect(slaStatus(bj('2025-03-20T16:11'), due, warn)).toBe('ok');
    expect(slaStatus(warn, due, warn)).toBe('warning');
    expect(slaStatus(due, due, warn)).toBe('warning');
    expect(slaStatus(new Date(due.getTime() + 1), due, warn)).toBe('overdue');
    expect(slaStatus(bj('2025-03-25T09:00'), due)).toBe('overdue');
    expect(slaStatus(bj('2025-03-25T09:00'), null)).toBe('ok');
  });
});

describe('extensions', () => {
  const currentDueAt = bj('2025-09-26T23:59:59.999');
  it('moves a deadline by working days across a holiday', () => {
    // Sunday 28 Sep (调休) 1, 29 Sep 2, 30 Sep 3, 1–8 Oct off, 9 Oct 4.
    expect(extendDeadline(DEFAULT_SLA_POLICY, cal, currentDueAt, { value: 3, unit: 'working_days' })).toEqual(bj('2025-09-30T23:59:59.999'));
    expect(extendDeadline(DEFAULT_SLA_POLICY, cal, currentDueAt, { value: 4, unit: 'working_days' })).toEqual(bj('2025-10-09T23:59:59.999'));
  });

  it('limits how long and how often', () => {
    // Ten working days: 28, 29, 30 Sep, 9, 10, 11 (Saturday, 调休), 13, 14, 15, 16 Oct.
    expect(maxExtendedDueAt(DEFAULT_SLA_POLICY, cal, { currentDueAt, extensionCount: 0 })).toEqual(bj('2025-10-16T23:59:59.999'));
    expect(() => checkExtension(DEFAULT_SLA_POLICY, cal, { currentDueAt, extensionCount: 1, requestedDueAt: bj('2025-10-16T12:00') })).not.toThrow();
    expect(() => checkExtension(DEFAULT_SLA_POLICY, cal, { currentDueAt, extensionCount: 0, requestedDueAt: bj('2025-10-17T09:00') })).toThrow(
      expect.objectContaining({ code: 'extension_too_long' }),
    );
    expect(() => checkExtension(DEFAULT_SLA_POLICY, cal, { currentDueAt, extensionCount: 0, requestedDueAt: bj('2025-09-26T12:00') })).toThrow(
      expect.objectContaining({ code: 'extension_not_later_than_deadline' }),
    );
    expect(() => checkExtension(DEFAULT_SLA_POLICY, cal, { currentDueAt, extensionCount: 2, requestedDueAt: bj('2025-10-09T12:00') })).toThrow(
      ConflictError,
    );
  });
});

describe('limits and policy validation', () => {
  it('parses limits and rejects nonsense', () => {
    expect(parseTimeLimit({ value: 1.5, unit: 'working_hours' })).toEqual({ value: 1.5, unit: 'working_hours' });
    expect(formatLimit({ value: 15, unit: 'working_days' })).toBe('15工作日');
    for (const bad of [null, { value: 0, unit: 'working_days' }, { value: 1.5, unit: 'working_days' }, { value: 3, unit: 'weeks' }, { value: 400, unit: 'natural_days' }]) {
      expect(() => parseTimeLimit(bad)).toThrow(ValidationError);
    }
    expect(addLimit(cal, bj('2025-03-10T10:00'), { value: 2, unit: 'natural_days' })).toEqual(bj('2025-03-12T23:59:59.999'));
  });

  it('parses an operator policy, filling defaults', () => {
    const p = parseSlaPolicy({
      rules: [{ type: 'complaint', limits: { completion: { value: 7, unit: 'working_days' } } }],
      warning: { hoursBefore: 8 },
      extension: { maxCount: 1, maxEach: { value: 15, unit: 'working_days' } },
    });
    expect(p.defaults).toEqual(DEFAULT_SLA_POLICY.defaults);
    expect(limitsFor(p, 'complaint', 'urgent').completion).toEqual({ value: 7, unit: 'working_days' });
    expect(p.warning).toEqual({ hoursBefore: 8 });
    expect(p.extension.maxCount).toBe(1);
    expect(parseSlaPolicy({})).toEqual(DEFAULT_SLA_POLICY);
  });

  it('rejects broken policies with the path of the problem', () => {
    const bad: unknown[] = [
      { defaults: { dispatch: { value: 1, unit: 'natural_hours' } } },
      { rules: [{ type: 'gossip', limits: {} }] },
      { rules: [{ limits: { handling: { value: 1, unit: 'working_days' } } }] },
      { warning: { fraction: 1.2 } },
      { warning: { fraction: 0.5, hoursBefore: 2 } },
      { dayEnd: 'noon' },
      { extension: { maxCount: -1, maxEach: { value: 1, unit: 'working_days' } } },
      [],
    ];
    for (const input of bad) expect(() => parseSlaPolicy(input), JSON.stringify(input)).toThrow(ValidationError);
  });
});
