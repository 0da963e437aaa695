/**
 * EXAMPLE data for tests and local development: the public holidays and make-up working days of
 * 2024–2026 as transcribed from the State Council notices (国务院办公厅关于部分节假日安排的通知).
 * Not authoritative: operators load the official calendar through the API every year.
 */
import type { CalendarDay, CalendarYear } from './calendar-data.js';
import { formatLocalDate, parseLocalDate } from './local-date.js';

function span(from: string, to: string, name: string): CalendarDay[] {
  const days: CalendarDay[] = [];
  const last = parseLocalDate(to)!;
  for (let day = parseLocalDate(from)!; day <= last; day++) days.push({ date: formatLocalDate(day), name });
  return days;
}

const day = (date: string, name: string): CalendarDay => ({ date, name });

export const EXAMPLE_CALENDAR_2024: CalendarYear = {
  year: 2024,
  holidays: [
    day('2024-01-01', '元旦'),
    ...span('2024-02-10', '2024-02-17', '春节'),
    ...span('2024-04-04', '2024-04-06', '清明节'),
    ...span('2024-05-01', '2024-05-05', '劳动节'),
    day('2024-06-10', '端午节'),
    ...span('2024-09-15', '2024-09-17', '中秋节'),
    ...span('2024-10-01', '2024-10-07', '国庆节'),
  ],
  workdays: [
    day('2024-02-04', '春节调休'),
    day('2024-02-18', '春节调休'),
    day('2024-04-07', '清明节调休'),
    day('2024-04-28', '劳动节调休'),
    day('2024-05-11', '劳动节调休'),
    day('2024-09-14', '中秋节调休'),
    day('2024-09-29', '国庆节调休'),
    day('2024-10-12', '国庆节调休'),
  ],
};

export const EXAMPLE_CALENDAR_2025: CalendarYear = {
  year: 2025,
  holidays: [
    day('2025-01-01', '元旦'),
    ...span('2025-01-28', '2025-02-04', '春节'),
    ...span('2025-04-04', '2025-04-06', '清明节'),
    ...span('2025-05-01', '2025-05-05', '劳动节'),
    ...span('2025-05-31', '2025-06-02', '端午节'),
    ...span('2025-10-01', '2025-10-08', '国庆节、中秋节'),
  ],
  workdays: [
    day('2025-01-26', '春节调休'),
    day('2025-02-08', '春节调休'),
    day('2025-04-27', '劳动节调休'),
    day('2025-09-28', '国庆节调休'),
    day('2025-10-11', '国庆节调休'),
  ],
};

export const EXAMPLE_CALENDAR_2026: CalendarYear = {
  year: 2026,
  holidays: [
    ...span('2026-01-01', '2026-01-03', '元旦'),
    ...span('2026-02-15', '2026-02-23', '春节'),
    ...span('2026-04-04', '2026-04-06', '清明节'),
    ...span('2026-05-01', '2026-05-05', '劳动节'),
    ...span('2026-06-19', '2026-06-21', '端午节'),
    ...span('2026-09-25', '2026-09-27', '中秋节'),
    ...span('2026-10-01', '2026-10-07', '国庆节'),
  ],
  workdays: [
    day('2026-01-04', '元旦调休'),
    day('2026-02-14', '春节调休'),
    day('2026-02-28', '春节调休'),
    day('2026-05-09', '劳动节调休'),
    day('2026-09-20', '国庆节调休'),
    day('2026-10-10', '国庆节调休'),
  ],
};

export const EXAMPLE_CALENDAR_YEARS: readonly CalendarYear[] = [EXAMPLE_CALENDAR_2024, EXAMPLE_CALENDAR_2025, EXAMPLE_CALENDAR_2026];
