import { Type } from 'typebox';
import { principalOf } from '../../http/auth.js';
import { errorResponses } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import {
  CalendarYearSchema,
  CalendarYearSummarySchema,
  DaySchema,
  DaysQuery,
  DeadlinesQuery,
  DeadlinesSchema,
  PolicyVersionSchema,
  PutCalendarYearBody,
  PutPolicyBody,
  TicketIdParams,
  TicketTimersSchema,
  WorkingHoursBody,
  WorkingHoursSchema,
  YearParams,
} from './sla.schemas.js';
import type { SlaPolicy } from '../../domain/calendar/index.js';
import type { DeadlineAnswer, PolicyVersionView, SlaService } from './sla.service.js';

const WRITE = ['operator', 'admin'] as const;
const READ = ['supervisor', 'operator', 'admin'] as const;

const iso = (d: Date): string => d.toISOString();
// Plain mutable copies for the serializer's types; the content is unchanged.
const policyJson = (v: PolicyVersionView) => ({ ...v, policy: plainPolicy(v.policy) });
function plainPolicy(p: SlaPolicy) {
  return {
    defaults: { ...p.defaults },
    rules: p.rules.map((r) => ({ ...r, limits: { ...r.limits } })),
    warning: { ...p.warning },
    dayEnd: p.dayEnd,
    extension: { maxCount: p.extension.maxCount, maxEach: { ...p.extension.maxEach } },
  };
}
const deadlineJson = (d: DeadlineAnswer) => ({ dueAt: iso(d.dueAt), warnAt: iso(d.warnAt), limit: d.limit, policyVersion: d.policyVersion });

export async function slaRoutes(app: App, opts: { sla: SlaService }): Promise<void> {
  const { sla } = opts;

  app.put('/calendar/years/:year', {
    schema: { tags: ['sla'], summary: 'Load or replace one year of the working-day calendar: holidays and make-up working days (调休) (operator, admin)', params: YearParams, body: PutCalendarYearBody, response: { 200: CalendarYearSchema, ...errorResponses() } },
    config: { auth: { roles: WRITE }, audit: { action: 'calendar.year.replace', resource: 'calendar_year' } },
  }, async (req) => sla.putCalendarYear(req.params.year, req.body, principalOf(req)));

  app.get('/calendar/years', {
    schema: { tags: ['sla'], summary: 'Loaded calendar years', response: { 200: Type.Object({ items: Type.Array(CalendarYearSummarySchema) }), ...errorResponses() } },
    config: { auth: { roles: READ } },
  }, async () => ({ items: await sla.listCalendarYears() }));

  app.get('/calendar/years/:year', {
    schema: { tags: ['sla'], summary: 'One loaded calendar year', params: YearParams, response: { 200: CalendarYearSchema, ...errorResponses(404) } },
    config: { auth: { roles: READ } },
  }, async (req) => sla.getCalendarYear(req.params.year));

  app.get('/calendar/days', {
    schema: { tags: ['sla'], summary: 'Working and non-working days between two dates, with holiday names', querystring: DaysQuery, response: { 200: Type.Object({ items: Type.Array(DaySchema) }), ...errorResponses() } },
    config: { auth: { roles: [] } },
  }, async (req) => ({ items: await sla.calendarDays(req.query.from, req.query.to) }));

  app.get('/calendar/working-hours', {
    schema: { tags: ['sla'], summary: 'Working hours of a working day', response: { 200: WorkingHoursSchema, ...errorResponses() } },
    config: { auth: { roles: READ } },
  }, async () => sla.getWorkingHours());

  app.put('/calendar/working-hours', {
    schema: { tags: ['sla'], summary: 'Set the working hours used by limits in working hours (operator, admin)', body: WorkingHoursBody, response: { 200: WorkingHoursSchema, ...errorResponses() } },
    config: { auth: { roles: WRITE }, audit: { action: 'calendar.working_hours.replace', resource: 'working_hours' } },
  }, async (req) => sla.putWorkingHours(req.body.periods, principalOf(req)));

  app.get('/sla/policy', {
    schema: { tags: ['sla'], summary: 'The SLA policy in force now', response: { 200: PolicyVersionSchema, ...errorResponses() } },
    config: { auth: { roles: READ } },
  }, async () => policyJson(await sla.currentPolicy()));

  app.get('/sla/policy/versions', {
    schema: { tags: ['sla'], summary: 'Every SLA policy version, oldest first (version 0 is the built-in default)', response: { 200: Type.Object({ items: Type.Array(PolicyVersionSchema) }), ...errorResponses() } },
    config: { auth: { roles: READ } },
  }, async () => ({ items: (await sla.listPolicyVersions()).map(policyJson) }));

  app.put('/sla/policy', {
    schema: { tags: ['sla'], summary: 'Store a new SLA policy version: response, dispatch and completion limits per type × urgency, and the warning threshold; it applies to tickets accepted from effectiveFrom on (operator, admin)', body: PutPolicyBody, response: { 200: PolicyVersionSchema, ...errorResponses() } },
    config: { auth: { roles: WRITE }, audit: { action: 'sla.policy.replace', resource: 'sla_policy' } },
  }, async (req) => {
    const { policy, note, effectiveFrom } = req.body;
    return policyJson(await sla.putPolicy(policy, { ...(note === undefined ? {} : { note }), ...(effectiveFrom === undefined ? {} : { effectiveFrom }) }, principalOf(req)));
  });

  app.get('/sla/deadlines', {
    schema: { tags: ['sla'], summary: 'Deadlines a request would get under the current policy and calendar', querystring: DeadlinesQuery, response: { 200: DeadlinesSchema, ...errorResponses() } },
    config: { auth: { roles: [] } },
  }, async (req) => {
    const d = await sla.previewDeadlines({ type: req.query.type, urgency: req.query.urgency, ...(req.query.at === undefined ? {} : { at: req.query.at }) });
    return { dispatch: deadlineJson(d.dispatch), response: deadlineJson(d.response), completion: deadlineJson(d.completion) };
  });

  app.get('/sla/tickets/:id/timers', {
    schema: { tags: ['sla'], summary: "A ticket's running deadline, its pending timers and what fired", params: TicketIdParams, response: { 200: TicketTimersSchema, ...errorResponses() } },
    config: { auth: { roles: READ } },
  }, async (req) => {
    const t = await sla.ticketTimers(req.params.id);
    return {
      timer: t.timer && { stage: t.timer.stage, startedAt: iso(t.timer.startedAt), dueAt: iso(t.timer.dueAt), warnAt: iso(t.timer.warnAt), policyVersion: t.timer.policyVersion },
      jobs: t.jobs.map((j) => ({ id: j.id, task: j.task, runAt: iso(j.runAt), attempts: j.attempts, locked: j.locked })),
      firings: t.firings.map((f) => ({ kind: f.kind, stage: f.stage, dueAt: iso(f.dueAt), outcome: f.outcome, actions: f.actions, instance: f.instance, firedAt: iso(f.firedAt) })),
    };
  });
}
