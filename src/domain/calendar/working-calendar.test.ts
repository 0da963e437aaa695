import { afterEach, describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../errors.js';
import { parseCalendarYear } from './calendar-data.js';
import { EXAMPLE_CALENDAR_2025, EXAMPLE_CALENDAR_YEARS } from './example-calendar.js';
import { WorkingCalendar } from './working-calendar.js';

/** An instant given as Beijing local time. */
const bj = (local: string): Date => new Date(`${local}+08:00`);
const cal = new WorkingCalendar({ years: EXAMPLE_CALENDAR_YEARS });

describe('working days', () => {
  it('knows weekends, holidays and make-up working days', () => {
    expect(cal.isWorkingDay('2025-03-10')).toBe(true); // Monday
    expect(cal.isWorkingDay('2025-03-08')).toBe(false); // Saturday
    expect(cal.dayInfo('2025-01-28')).toEqual({ date: '2025-01-28', working: false, reason: 'holiday', name: '春节' });
    expect(cal.dayInfo('2025-01-26')).toEqual({ date: '2025-01-26', working: true, reason: 'make_up_workday', name: '春节调休' });
    expect(cal.isWorkingDay('2025-10-08')).toBe(false); // 国庆中秋 eighth day, a Wednesday
    expect(cal.isWorkingDay('2025-10-11')).toBe(true); // make-up Saturday
  });

  it('takes the local day of an instant, not the UTC day', () => {
    // 00:30 Monday in Beijing is still Sunday in UTC.
    expect(cal.isWorkingDay(new Date('2025-03-09T16:30:00Z'))).toBe(true);
    // 07:59 Saturday in Beijing is 23:59 Friday in UTC.
    expect(cal.isWorkingDay(new Date('2025-03-07T23:59:00Z'))).toBe(false);
  });

  it('finds the next working day across a long holiday', () => {
    expect(cal.nextWorkingDay('2025-09-30')).toBe('2025-10-09');
    expect(cal.nextWorkingDay('2025-12-31')).toBe('2026-01-04');
  });
});

describe('addWorkingDays', () => {
  it('does not count the start day and skips the Spring Festival, counting the make-up Sunday', () => {
    // Friday 2025-01-24: Sat no, Sun 26 (调休) 1, Mon 27 2, 28 Jan–4 Feb holiday, Wed 5 Feb 3.
    expect(cal.addWorkingDays(bj('2025-01-24T10:00'), 3)).toEqual(bj('2025-02-05T23:59:59.999'));
    expect(cal.addWorkingDays(bj('2025-01-24T10:00'), 3, 'end_of_business')).toEqual(bj('2025-02-05T17:30'));
    expect(cal.addWorkingDays(bj('2025-01-24T10:00'), 3, 'same_time')).toEqual(bj('2025-02-05T10:00'));
  });

  it('crosses the year end and the 2026 New Year holiday with its make-up Sunday', () => {
    // Wed 31 Dec 1; 1–3 Jan holiday; Sun 4 Jan (调休) 2; Mon 5 Jan 3.
    expect(cal.addWorkingDays(bj('2025-12-30T15:00'), 3)).toEqual(bj('2026-01-05T23:59:59.999'));
  });

  it('counts a holiday that runs into a weekend and the make-up Saturday after it', () => {
    // 2024 Labour Day: 1–5 May (Wed–Sun) off, Saturday 11 May worked.
    expect(cal.addWorkingDays(bj('2024-04-30T09:00'), 5)).toEqual(bj('2024-05-10T23:59:59.999'));
    expect(cal.addWorkingDays(bj('2024-04-30T09:00'), 6)).toEqual(bj('2024-05-11T23:59:59.999'));
  });

  it('starts counting after a weekend or holiday day', () => {
    expect(cal.addWorkingDays(bj('2025-10-04T11:00'), 1, 'end_of_business')).toEqual(bj('2025-10-09T17:30'));
    expect(cal.addWorkingDays(bj('2025-03-10T08:00'), 0)).toEqual(bj('2025-03-10T23:59:59.999'));
  });

  it('rejects fractional or negative day counts', () => {
    expect(() => cal.addWorkingDays(bj('2025-03-10T08:00'), 1.5)).toThrow(ValidationError);
    expect(() => cal.addWorkingDays(bj('2025-03-10T08:00'), -1)).toThrow(ValidationError);
  });
});

describe('natural days and hours', () => {
  it('ends natural days at the end of the local day', () => {
    expect(cal.addNaturalDays(bj('2025-01-24T22:00'), 3)).toEqual(bj('2025-01-27T23:59:59.999'));
    expect(cal.addNaturalHours(bj('2025-01-24T22:00'), 2.5)).toEqual(bj('2025-01-25T00:30'));
  });
});

describe('working hours', () => {
  it('crosses the lunch break', () => {
    expect(cal.addWorkingHours(bj('2025-03-10T11:00'), 2)).toEqual(bj('2025-03-10T14:30'));
    expect(cal.addWorkingHours(bj('2025-03-10T12:30'), 0.5)).toEqual(bj('2025-03-10T14:00'));
  });

  it('ends exactly at the end of a period rather than at the start of the next', () => {
    expect(cal.addWorkingHours(bj('2025-03-10T09:00'), 3)).toEqual(bj('2025-03-10T12:00'));
    expect(cal.addWorkingHours(bj('2025-03-10T09:00'), 7)).toEqual(bj('2025-03-10T17:30'));
  });

  it('crosses the night and the weekend', () => {
    expect(cal.addWorkingHours(bj('2025-03-10T20:00'), 1)).toEqual(bj('2025-03-11T10:00'));
    expect(cal.addWorkingHours(bj('2025-03-07T16:30'), 2)).toEqual(bj('2025-03-10T10:00'));
  });

  it('crosses a holiday', () => {
    expect(cal.addWorkingHours(bj('2025-09-30T17:00'), 1)).toEqual(bj('2025-10-09T09:30'));
  });

  it('measures working time between two instants', () => {
    expect(cal.workingHoursBetween(bj('2025-03-07T16:00'), bj('2025-03-10T10:00'))).toBe(2.5);
    expect(cal.workingHoursBetween(bj('2025-03-10T08:00'), bj('2025-03-10T20:00'))).toBe(7);
    expect(cal.workingHoursBetween(bj('2025-03-10T12:10'), bj('2025-03-10T13:20'))).toBe(0);
    expect(cal.workingHoursBetween(bj('2025-03-11T10:00'), bj('2025-03-10T10:00'))).toBe(0);
    // 30 Sep 16:00 → 9 Oct 10:00: 1.5 h + 1 h, eight holiday days in between.
    expect(cal.workingHoursBetween(bj('2025-09-30T16:00'), bj('2025-10-09T10:00'))).toBe(2.5);
    expect(cal.workingDaysBetween(bj('2025-09-30T16:00'), bj('2025-10-11T10:00'))).toBe(3);
  });

  it('is the inverse of addWorkingHours', () => {
    for (const start of ['2025-03-07T16:45', '2025-01-24T11:59', '2025-12-31T17:00']) {
      for (const hours of [0.25, 1, 3.5, 7, 30]) {
        const end = cal.addWorkingHours(bj(start), hours);
        expect(cal.workingHoursBetween(bj(start), end)).toBeCloseTo(hours, 9);
      }
    }
  });

  it('accepts custom working hours and validates them', () => {
    const long = new WorkingCalendar({ workingHours: [{ start: '08:30', end: '12:00' }, { start: '14:00', end: '18:00' }] });
    expect(long.addWorkingHours(bj('2025-03-10T11:00'), 2)).toEqual(bj('2025-03-10T15:00'));
    expect(() => new WorkingCalendar({ workingHours: [{ start: '09:00', end: '12:00' }, { start: '11:00', end: '13:00' }] })).toThrow(
      expect.objectContaining({ code: 'invalid_working_hours' }),
    );
    expect(() => new WorkingCalendar({ workingHours: [{ start: '9:00', end: '12:00' }] })).toThrow(ValidationError);
    expect(() => new WorkingCalendar({ workingHours: [] })).toThrow(ValidationError);
  });
});

describe('time zone independence', () => {
  const original = process.env['TZ'];
  afterEach(() => {
    if (original === undefined) delete process.env['TZ'];
    else process.env['TZ'] = original;
  });

  it('gives the same answers whatever the process time zone is', () => {
    const probe = (): string[] => [
      cal.addWorkingDays(bj('2025-01-24T10:00'), 3).toISOString(),
      cal.addWorkingHours(bj('2025-03-07T16:30'), 2).toISOString(),
      String(cal.isWorkingDay(new Date('2025-03-09T16:30:00Z'))),
      String(cal.workingHoursBetween(bj('2025-09-30T16:00'), bj('2025-10-09T10:00'))),
    ];
    const results = ['UTC', 'America/Los_Angeles', 'Pacific/Kiritimati', 'Asia/Shanghai'].map((tz) => {
      process.env['TZ'] = tz;
      return probe();
    });
    for (const r of results) expect(r).toEqual(results[0]);
    expect(results[0]![0]).toBe('2025-02-05T15:59:59.999Z');
  });
});

describe('calendar data', () => {
  it('validates and normalises a year', () => {
    const y = parseCalendarYear({ year: 2025, holidays: [{ date: '2025-10-02', name: ' 国庆节 ' }, { date: '2025-10-01', name: '国庆节' }] });
    expect(y).toEqual({
      year: 2025,
      holidays: [{ date: '2025-10-01', name: '国庆节' }, { date: '2025-10-02', name: '国庆节' }],
      workdays: [],
    });
  });

  it('lists every problem at once', () => {
    try {
      parseCalendarYear({
        year: 2025,
        holidays: [{ date: '2025-02-30', name: '春节' }, { date: '2025-05-01', name: '' }, { date: '2023-05-01', name: '劳动节' }],
        workdays: [{ date: '2025-05-01', name: '调休' }, { date: '2025-03-12', name: '调休' }],
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      const issues = (e as ValidationError).details?.['issues'] as { path: string }[];
      expect(issues.map((i) => i.path)).toEqual([
        'holidays[0].date',
        'holidays[1].name',
        'holidays[2].date',
        'workdays[0].date', // listed twice
        'workdays[0].date', // 1 May 2025 is a Thursday
        'workdays[1].date', // a Wednesday
      ]);
    }
  });

  it('accepts dates reaching into the neighbouring December or January only', () => {
    expect(() => parseCalendarYear({ year: 2018, holidays: [{ date: '2017-12-30', name: '元旦' }] })).not.toThrow();
    expect(() => parseCalendarYear({ year: 2018, holidays: [{ date: '2017-11-30', name: '元旦' }] })).toThrow(ValidationError);
    expect(() => parseCalendarYear({ year: 'x' })).toThrow(ValidationError);
    expect(() => parseCalendarYear(null)).toThrow(ValidationError);
  });

  it('refuses the same year twice and contradicting years', () => {
    expect(() => new WorkingCalendar({ years: [EXAMPLE_CALENDAR_2025, EXAMPLE_CALENDAR_2025] })).toThrow(
      expect.objectContaining({ code: 'calendar_conflict' }),
    );
    const y2026 = { year: 2026, holidays: [{ date: '2025-12-31', name: '元旦' }], workdays: [] };
    const y2025 = { year: 2025, holidays: [], workdays: [{ date: '2025-12-27', name: '调休' }] };
    expect(() => new WorkingCalendar({ years: [y2025, { ...y2026, workdays: [] }] })).not.toThrow();
    const clash = { year: 2026, holidays: [{ date: '2025-12-27', name: '元旦' }], workdays: [] };
    expect(() => new WorkingCalendar({ years: [y2025, clash] })).toThrow(expect.objectContaining({ code: 'calendar_conflict' }));
  });

  it('falls back to weekdays for a missing year, or refuses when told to', () => {
    expect(cal.missingYears(2025, 2027)).toEqual([2027]);
    expect(cal.isWorkingDay('2027-01-01')).toBe(true); // unknown holiday: counted as a Friday
    const strict = new WorkingCalendar({ years: EXAMPLE_CALENDAR_YEARS, missingYear: 'throw' });
    expect(() => strict.isWorkingDay('2027-01-04')).toThrow(ConflictError);
    expect(() => strict.addWorkingDays(bj('2026-12-30T10:00'), 3)).toThrow(expect.objectContaining({ code: 'calendar_year_missing' }));
    const loaded = strict.withYears([{ year: 2027, holidays: [{ date: '2027-01-01', name: '元旦' }], workdays: [] }]);
    expect(loaded.addWorkingDays(bj('2026-12-30T10:00'), 3)).toEqual(bj('2027-01-05T23:59:59.999'));
    expect(loaded.coversYear(2027)).toBe(true);
  });
});
