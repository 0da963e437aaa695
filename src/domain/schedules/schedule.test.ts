import { describe, expect, it } from 'vitest';
import { isOpen, openingStatus, validateExceptionDate, validatePeriods, validateWeekly, type Schedule } from './schedule.js';

// 2026-03-02 is a Monday. Times are Beijing time (UTC+8).
const bj = (local: string) => new Date(`${local}+08:00`);
const office = [{ start: '08:30', end: '12:00' }, { start: '13:30', end: '17:30' }];
const enterprise: Schedule = {
  utcOffsetMinutes: 480,
  weekly: { mon: office, tue: office, wed: office, thu: office, fri: office, sat: [{ start: '09:00', end: '12:00' }] },
  exceptions: [
    { date: '2026-03-04', name: '系统维护', periods: [] },
    { date: '2026-03-08', name: '调休上班', periods: [{ start: '09:00', end: '17:00' }] },
  ],
};

describe('validation', () => {
  it('accepts ordinary hours and a period ending at midnight', () => {
    expect(validateWeekly({ mon: office, sun: [{ start: '20:00', end: '24:00' }] })).toEqual([]);
  });

  it.each([
    [[{ start: '17:00', end: '09:00' }], 'invalid_opening_period'],
    [[{ start: '09:00', end: '09:00' }], 'invalid_opening_period'],
    [[{ start: '9:00', end: '12:00' }], 'invalid_opening_period'],
    [[{ start: '09:00', end: '24:30' }], 'invalid_opening_period'],
    [[{ start: '24:00', end: '24:00' }], 'invalid_opening_period'],
    [[{ start: '09:00', end: '12:00' }, { start: '11:00', end: '13:00' }], 'opening_periods_overlap'],
    [Array.from({ length: 7 }, (_, i) => ({ start: `0${i}:00`, end: `0${i}:30` })), 'too_many_opening_periods'],
  ])('refuses %j with %s', (periods, code) => {
    expect(validatePeriods(periods, 'weekly.mon').map((p) => p.code)).toContain(code);
  });

  it('names unknown days and bad dates', () => {
    expect(validateWeekly({ monday: office })).toEqual([expect.objectContaining({ code: 'unknown_weekday', field: 'weekly.monday' })]);
    expect(validateExceptionDate('2026-02-30')).toEqual([expect.objectContaining({ code: 'invalid_date' })]);
    expect(validateExceptionDate('2026-02-28')).toEqual([]);
  });
});

describe('opening status', () => {
  it('a queue without a schedule is open 7×24', () => {
    expect(openingStatus(null, bj('2026-03-01T03:00:00'))).toEqual({ open: true, alwaysOpen: true });
  });

  it('is open inside a period and says when it closes', () => {
    expect(openingStatus(enterprise, bj('2026-03-02T08:30:00'))).toEqual({ open: true, alwaysOpen: false, closesAt: bj('2026-03-02T12:00:00') });
    expect(isOpen(enterprise, bj('2026-03-02T11:59:59'))).toBe(true);
  });

  it('is closed at the end instant, over lunch and at night, and says when it opens', () => {
    expect(openingStatus(enterprise, bj('2026-03-02T12:00:00'))).toEqual({ open: false, alwaysOpen: false, opensAt: bj('2026-03-02T13:30:00') });
    expect(openingStatus(enterprise, bj('2026-03-02T20:00:00'))).toMatchObject({ open: false, opensAt: bj('2026-03-03T08:30:00') });
  });

  it('follows exceptions: closed days and special hours', () => {
    expect(openingStatus(enterprise, bj('2026-03-04T10:00:00'))).toMatchObject({ open: false, opensAt: bj('2026-03-05T08:30:00') });
    expect(openingStatus(enterprise, bj('2026-03-08T16:00:00'))).toMatchObject({ open: true, closesAt: bj('2026-03-08T17:00:00') });
    // Saturday noon → Sunday is closed except the exception → Sunday 09:00.
    expect(openingStatus(enterprise, bj('2026-03-07T12:30:00'))).toMatchObject({ open: false, opensAt: bj('2026-03-08T09:00:00') });
  });

  it('uses the schedule offset, not the machine time zone', () => {
    // 00:30 UTC = 08:30 Beijing.
    expect(isOpen(enterprise, new Date('2026-03-02T00:30:00Z'))).toBe(true);
    expect(isOpen({ ...enterprise, utcOffsetMinutes: 0 }, new Date('2026-03-02T00:30:00Z'))).toBe(false);
  });

  it('runs a night service across midnight', () => {
    const night: Schedule = { utcOffsetMinutes: 480, weekly: { mon: [{ start: '20:00', end: '24:00' }], tue: [{ start: '00:00', end: '08:00' }] }, exceptions: [] };
    expect(openingStatus(night, bj('2026-03-02T23:00:00'))).toMatchObject({ open: true, closesAt: bj('2026-03-03T08:00:00') });
    expect(isOpen(night, bj('2026-03-03T07:59:00'))).toBe(true);
  });

  it('reports no opening for a schedule without hours', () => {
    expect(openingStatus({ utcOffsetMinutes: 480, weekly: {}, exceptions: [] }, bj('2026-03-02T10:00:00'))).toEqual({ open: false, alwaysOpen: false, opensAt: null });
  });
});
