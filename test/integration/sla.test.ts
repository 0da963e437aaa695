/**
 * SLA configuration on real PostgreSQL: the working-day calendar (holidays, 调休), working hours,
 * versioned policies, deadlines computed from them, validation errors, and the cache of another
 * instance following a change through NOTIFY.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXAMPLE_CALENDAR_2025 } from '../../src/domain/calendar/index.js';
import { createSlaModule } from '../../src/modules/sla/sla.module.js';
import type { SlaService } from '../../src/modules/sla/sla.service.js';
import { createSharedDatabase, startInstance, TestClock, type Instance } from '../support/sla.js';

// Near the real time: sessions are checked against the database clock. Deadlines below give their own start.
const clock = new TestClock(new Date());
const modules = [createSlaModule({ worker: false, resolveTickets: () => undefined })];
let db: { url: string; drop(): Promise<void> };
let app: Instance;
let operator: string;
let supervisor: string;
let agent: string;

const api = (method: 'GET' | 'PUT', url: string, token: string, payload?: unknown) =>
  app.hotline.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
const slaOf = (i: Instance) => i.hotline.modules.get('sla')!.exports!['sla'] as SlaService;
const calendar2025 = { holidays: EXAMPLE_CALENDAR_2025.holidays, workdays: EXAMPLE_CALENDAR_2025.workdays };

beforeAll(async () => {
  db = await createSharedDatabase();
  app = await startInstance(db.url, { clock, modules });
  operator = await app.userToken('ops1', 'operator');
  supervisor = await app.userToken('sup1', 'supervisor');
  agent = await app.userToken('agent1', 'agent');
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('working-day calendar', () => {
  it('operators load a year; supervisors read it; others may not change it', async () => {
    const put = await api('PUT', '/calendar/years/2025', operator, calendar2025);
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ year: 2025, holidays: EXAMPLE_CALENDAR_2025.holidays, workdays: EXAMPLE_CALENDAR_2025.workdays });

    expect((await api('PUT', '/calendar/years/2025', supervisor, calendar2025)).json()).toMatchObject({ status: 403, code: 'role_forbidden' });
    expect((await api('GET', '/calendar/years', agent)).statusCode).toBe(403);
    const list = await api('GET', '/calendar/years', supervisor);
    expect(list.json().items).toEqual([expect.objectContaining({ year: 2025, holidays: EXAMPLE_CALENDAR_2025.holidays.length, workdays: 5 })]);
    expect((await api('GET', '/calendar/years/2024', supervisor)).json()).toMatchObject({ status: 404, code: 'calendar_year_not_found' });
  });

  it('lists working and non-working days with holiday and 调休 names', async () => {
    const res = await api('GET', '/calendar/days?from=2025-01-25&to=2025-02-09', agent);
    expect(res.statusCode).toBe(200);
    const days = new Map<string, unknown>(res.json<{ items: { date: string }[] }>().items.map((d) => [d.date, d]));
    expect(days.size).toBe(16);
    expect(days.get('2025-01-25')).toEqual({ date: '2025-01-25', working: false, reason: 'weekend', name: null, loaded: true });
    expect(days.get('2025-01-26')).toEqual({ date: '2025-01-26', working: true, reason: 'make_up_workday', name: '春节调休', loaded: true });
    expect(days.get('2025-01-29')).toEqual({ date: '2025-01-29', working: false, reason: 'holiday', name: '春节', loaded: true });
    expect(days.get('2025-02-05')).toEqual({ date: '2025-02-05', working: true, reason: 'weekday', name: null, loaded: true });
    expect(days.get('2025-02-08')).toEqual({ date: '2025-02-08', working: true, reason: 'make_up_workday', name: '春节调休', loaded: true });
    const unknownYear = await api('GET', '/calendar/days?from=2027-01-01&to=2027-01-01', agent);
    expect(unknownYear.json().items[0]).toMatchObject({ working: true, loaded: false });
  });

  it('refuses bad calendars with problem details and keeps the stored year', async () => {
    const cases: [unknown, string, string?][] = [
      [{ holidays: [], workdays: [{ date: '2025-02-07', name: '周五' }] }, 'invalid_calendar', 'workdays[0].date'],
      [{ holidays: [{ date: '2025-02-30', name: '假日' }], workdays: [] }, 'invalid_calendar', 'holidays[0].date'],
      [{ holidays: [{ date: '2025-10-01', name: '国庆节' }], workdays: [{ date: '2025-10-01', name: '国庆节' }] }, 'invalid_calendar', 'workdays[0].date'],
      [{ holidays: [{ date: '2023-05-01', name: '劳动节' }], workdays: [] }, 'invalid_calendar', 'holidays[0].date'],
      [{ holidays: [{ date: '2025-05-01', name: ' ' }], workdays: [] }, 'invalid_calendar', 'holidays[0].name'],
      [{ year: 2024, holidays: [], workdays: [] }, 'calendar_year_mismatch'],
      [{ holidays: [], workdays: [], extra: true }, 'validation_failed'],
      [{ holidays: 'none', workdays: [] }, 'validation_failed'],
    ];
    for (const [body, code, path] of cases) {
      const res = await api('PUT', '/calendar/years/2025', operator, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const p = res.json();
      expect(p.code, JSON.stringify(body)).toBe(code);
      if (path) expect((p.issues as { path: string }[]).map((i) => i.path)).toContain(path);
    }
    expect((await api('PUT', '/calendar/years/1800', operator, calendar2025)).json().code).toBe('validation_failed');
    expect((await api('GET', '/calendar/years/2025', supervisor)).json().holidays).toEqual(EXAMPLE_CALENDAR_2025.holidays);
  });

  it('refuses bad day ranges', async () => {
    expect((await api('GET', '/calendar/days?from=2025-02-09&to=2025-02-01', agent)).json().code).toBe('invalid_date_range');
    expect((await api('GET', '/calendar/days?from=2025-01-01&to=2026-06-01', agent)).json().code).toBe('date_range_too_long');
    expect((await api('GET', '/calendar/days?from=2025-13-01&to=2025-12-01', agent)).json().code).toBe('invalid_date');
  });

  it('another instance sees a change at once (NOTIFY), not only after its cache expires', async () => {
    const other = await startInstance(db.url, { clock, modules: [createSlaModule({ worker: false, cacheTtlMs: 3_600_000, resolveTickets: () => undefined })] });
    try {
      const day = async () => (await other.hotline.app.inject({ method: 'GET', url: '/api/v1/calendar/days?from=2025-12-31&to=2025-12-31', headers: { authorization: `Bearer ${agent}` } })).json().items[0];
      expect(await day()).toMatchObject({ working: true, reason: 'weekday' });
      const changed = await api('PUT', '/calendar/years/2025', operator, { ...calendar2025, holidays: [...calendar2025.holidays, { date: '2025-12-31', name: '除夕测试' }] });
      expect(changed.statusCode).toBe(200);
      await vi.waitFor(async () => expect(await day()).toMatchObject({ working: false, reason: 'holiday', name: '除夕测试' }), { timeout: 5000, interval: 50 });
    } finally {
      await other.close();
      await api('PUT', '/calendar/years/2025', operator, calendar2025);
    }
  });
});

describe('deadlines on the calendar', () => {
  it('count working days across the Spring Festival holiday and its 调休 Sunday', async () => {
    // Friday 2025-01-24 10:00: Sun 01-26 is a make-up working day, 01-28..02-04 are 春节.
    const res = await api('GET', '/sla/deadlines?type=help&urgency=normal&at=2025-01-24T02:00:00.000Z', agent);
    expect(res.statusCode).toBe(200);
    const d = res.json();
    expect(d.completion).toMatchObject({ dueAt: '2025-02-07T15:59:59.999Z', limit: { value: 5, unit: 'working_days' }, policyVersion: 0 });
    expect(d.dispatch).toMatchObject({ dueAt: '2025-01-25T02:00:00.000Z', warnAt: '2025-01-24T21:12:00.000Z', limit: { value: 24, unit: 'natural_hours' } });
    expect(new Date(d.completion.warnAt).getTime()).toBeLessThan(new Date(d.completion.dueAt).getTime());
  });

  it('count a 调休 Saturday as a working day', async () => {
    // Friday 2025-02-07 10:00; Saturday 02-08 is a make-up working day: 3 working days end Tuesday, not Wednesday.
    const d = (await api('GET', '/sla/deadlines?type=consultation&urgency=normal&at=2025-02-07T02:00:00.000Z', agent)).json();
    expect(d.completion.dueAt).toBe('2025-02-11T15:59:59.999Z');
    // The same request a week later has no make-up day: Friday + 3 working days = Wednesday.
    const later = (await api('GET', '/sla/deadlines?type=consultation&urgency=normal&at=2025-02-14T02:00:00.000Z', agent)).json();
    expect(later.completion.dueAt).toBe('2025-02-19T15:59:59.999Z');
  });

  it('refuses unknown request types and urgencies', async () => {
    expect((await api('GET', '/sla/deadlines?type=gossip&urgency=normal', agent)).json().code).toBe('validation_failed');
    expect((await api('GET', '/sla/deadlines?type=help&urgency=whenever', agent)).json().code).toBe('validation_failed');
  });
});

describe('SLA policy', () => {
  it('is the built-in default until operators store one', async () => {
    const res = await api('GET', '/sla/policy', supervisor);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ version: 0, policy: { defaults: { completion: { value: 5, unit: 'working_days' } }, warning: { fraction: 0.8 } } });
  });

  it('refuses invalid policies with problem details', async () => {
    const cases: [unknown, string][] = [
      [{ policy: { warning: { fraction: 1.5 } } }, 'invalid_sla_policy'],
      [{ policy: { warning: { fraction: 0.5, hoursBefore: 2 } } }, 'invalid_sla_policy'],
      [{ policy: { defaults: { dispatch: { value: 1, unit: 'natural_hours' }, response: { value: 1, unit: 'working_days' } } } }, 'invalid_sla_policy'],
      [{ policy: { rules: [{ type: 'help', limits: { completion: { value: 1.5, unit: 'working_days' } } }] } }, 'invalid_time_limit'],
      [{ policy: { rules: [{ urgency: 'urgent', limits: { dispatch: { value: 0, unit: 'natural_hours' } } }] } }, 'invalid_time_limit'],
      [{ policy: { rules: [{ type: 'help', limits: { completion: { value: 2, unit: 'fortnights' } } }] } }, 'validation_failed'],
      [{ policy: { rules: [{ type: 'gossip', limits: {} }] } }, 'validation_failed'],
      [{ policy: {}, effectiveFrom: '2020-01-01T00:00:00.000Z' }, 'policy_effective_in_past'],
    ];
    for (const [body, code] of cases) {
      const res = await api('PUT', '/sla/policy', operator, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code, JSON.stringify(body)).toBe(code);
    }
    expect((await api('PUT', '/sla/policy', supervisor, { policy: {} })).statusCode).toBe(403);
    expect((await api('GET', '/sla/policy', supervisor)).json().version).toBe(0);
  });

  it('is versioned: a change applies to tickets accepted afterwards', async () => {
    const acceptedBefore = clock.now();
    clock.advance(60_000);
    const put = await api('PUT', '/sla/policy', operator, {
      policy: { rules: [{ type: 'help', limits: { dispatch: { value: 2, unit: 'working_hours' }, completion: { value: 2, unit: 'working_days' } } }], warning: { hoursBefore: 1 } },
      note: '求助类两个工作日办结',
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ version: 1, note: '求助类两个工作日办结', effectiveFrom: clock.now().toISOString() });
    expect((await api('GET', '/sla/policy/versions', supervisor)).json<{ items: { version: number }[] }>().items.map((v) => v.version)).toEqual([0, 1]);

    const sla = slaOf(app);
    const at = new Date('2025-02-05T02:00:00Z'); // Wednesday 10:00, dispatched
    const old = await sla.deadlinesFor({ type: 'help', urgency: 'normal', stage: 'completion', at, acceptedAt: acceptedBefore });
    const current = await sla.deadlinesFor({ type: 'help', urgency: 'normal', stage: 'completion', at, acceptedAt: clock.now() });
    // 5 working days from Wednesday include the make-up Saturday 02-08.
    expect(old).toMatchObject({ policyVersion: 0, limit: { value: 5, unit: 'working_days' }, dueAt: new Date('2025-02-11T15:59:59.999Z') });
    expect(current).toMatchObject({ policyVersion: 1, limit: { value: 2, unit: 'working_days' }, dueAt: new Date('2025-02-07T15:59:59.999Z') });
  });

  it('counts working hours into a 调休 Saturday, with the working hours operators set', async () => {
    const sla = slaOf(app);
    const friday = new Date('2025-02-07T08:30:00Z'); // 16:30, one working hour left (until 17:30)
    const q = { type: 'help', urgency: 'normal', stage: 'dispatch', at: friday, acceptedAt: clock.now() } as const; // policy version 1: 2 working hours
    expect((await sla.deadlinesFor(q)).dueAt).toEqual(new Date('2025-02-08T02:00:00Z'));

    const bad = await api('PUT', '/calendar/working-hours', operator, { periods: [{ start: '08:00', end: '12:00' }, { start: '11:00', end: '18:00' }] });
    expect(bad.json()).toMatchObject({ status: 400, code: 'invalid_working_hours' });
    expect((await api('PUT', '/calendar/working-hours', operator, { periods: [{ start: '18:00', end: '08:00' }] })).json().code).toBe('invalid_working_hours');
    const ok = await api('PUT', '/calendar/working-hours', operator, { periods: [{ start: '08:00', end: '12:00' }, { start: '14:00', end: '18:00' }] });
    expect(ok.statusCode).toBe(200);
    expect((await api('GET', '/calendar/working-hours', supervisor)).json().periods).toEqual([{ start: '08:00', end: '12:00' }, { start: '14:00', end: '18:00' }]);
    // 16:30–18:00 on Friday, then 08:00–08:30 on the make-up Saturday.
    expect((await sla.deadlinesFor(q)).dueAt).toEqual(new Date('2025-02-08T00:30:00Z'));
  });
});
