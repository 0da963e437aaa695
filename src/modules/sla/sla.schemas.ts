import { Type } from 'typebox';
import { LIMIT_UNITS } from '../../domain/calendar/index.js';
import { REQUEST_TYPES, SLA_STAGES, URGENCY_LEVELS } from '../../domain/tickets/index.js';
import { Uuid } from '../../http/schemas.js';

// Structure only: dates, names, ranges and conflicts are checked by the domain parsers, whose
// problem details list every issue with its path.
const CalendarDay = Type.Object({
  date: Type.String({ description: 'Local date YYYY-MM-DD (Asia/Shanghai)', maxLength: 10 }),
  name: Type.String({ description: 'e.g. 春节, 国庆节调休', maxLength: 50 }),
}, { additionalProperties: false });

export const YearParams = Type.Object({ year: Type.Integer({ minimum: 1990, maximum: 2200 }) });

export const PutCalendarYearBody = Type.Object({
  year: Type.Optional(Type.Integer({ description: 'If given, must equal the year in the path' })),
  holidays: Type.Array(CalendarDay, { maxItems: 120, description: 'Statutory holidays (放假)' }),
  workdays: Type.Array(CalendarDay, { maxItems: 60, description: 'Make-up working days on weekends (调休上班)' }),
}, { additionalProperties: false });

export const CalendarYearSchema = Type.Object({
  year: Type.Integer(),
  holidays: Type.Array(CalendarDay),
  workdays: Type.Array(CalendarDay),
  updatedBy: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const CalendarYearSummarySchema = Type.Object({
  year: Type.Integer(),
  holidays: Type.Integer({ description: 'Number of holidays' }),
  workdays: Type.Integer({ description: 'Number of make-up working days' }),
  updatedBy: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const DaysQuery = Type.Object({
  from: Type.String({ description: 'First local date YYYY-MM-DD' }),
  to: Type.String({ description: 'Last local date YYYY-MM-DD (at most 366 days)' }),
}, { additionalProperties: false });

export const DaySchema = Type.Object({
  date: Type.String(),
  working: Type.Boolean(),
  reason: Type.Enum(['weekday', 'make_up_workday', 'weekend', 'holiday'] as const, { description: 'make_up_workday = 调休上班' }),
  name: Type.Union([Type.String(), Type.Null()]),
  loaded: Type.Boolean({ description: 'Whether the official calendar of that year is loaded (if not, holidays are unknown)' }),
});

const WorkingPeriod = Type.Object({
  start: Type.String({ description: 'HH:MM local', maxLength: 5 }),
  end: Type.String({ description: 'HH:MM local, after start; 24:00 allowed', maxLength: 5 }),
}, { additionalProperties: false });

export const WorkingHoursBody = Type.Object({ periods: Type.Array(WorkingPeriod, { minItems: 1, maxItems: 8 }) }, { additionalProperties: false });

export const WorkingHoursSchema = Type.Object({
  periods: Type.Array(WorkingPeriod),
  updatedBy: Type.Union([Type.String(), Type.Null()]),
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const TimeLimit = Type.Object({
  value: Type.Number({ description: 'Whole for day units' }),
  unit: Type.Enum(LIMIT_UNITS, { description: '自然小时 / 工作小时 / 工作日 / 自然日' }),
}, { additionalProperties: false });

const StageLimits = Type.Object({
  dispatch: Type.Optional(TimeLimit),
  response: Type.Optional(TimeLimit),
  completion: Type.Optional(TimeLimit),
}, { additionalProperties: false, description: '派单 dispatch, 响应/签收 response, 办结 completion' });

const SlaPolicySchema = Type.Object({
  defaults: Type.Optional(StageLimits),
  rules: Type.Optional(Type.Array(Type.Object({
    type: Type.Optional(Type.Enum(REQUEST_TYPES)),
    urgency: Type.Optional(Type.Enum(URGENCY_LEVELS)),
    limits: StageLimits,
  }, { additionalProperties: false }), { maxItems: 100, description: 'Later and more specific rules win: type, then urgency, then both' })),
  warning: Type.Optional(Type.Object({
    fraction: Type.Optional(Type.Number({ description: 'Warn at this share of the limit, e.g. 0.8' })),
    hoursBefore: Type.Optional(Type.Number({ description: 'Warn this many (working) hours before the deadline' })),
  }, { additionalProperties: false })),
  dayEnd: Type.Optional(Type.Enum(['end_of_day', 'end_of_business', 'same_time'] as const)),
  extension: Type.Optional(Type.Object({ maxCount: Type.Integer(), maxEach: TimeLimit }, { additionalProperties: false })),
}, { additionalProperties: false });

export const PutPolicyBody = Type.Object({
  policy: SlaPolicySchema,
  note: Type.Optional(Type.String({ maxLength: 500 })),
  effectiveFrom: Type.Optional(Type.String({ format: 'date-time', description: 'Defaults to now; never in the past' })),
}, { additionalProperties: false });

export const PolicyVersionSchema = Type.Object({
  version: Type.Integer({ description: '0 = built-in default' }),
  effectiveFrom: Type.String({ format: 'date-time' }),
  note: Type.Union([Type.String(), Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  policy: SlaPolicySchema,
});

export const DeadlinesQuery = Type.Object({
  type: Type.Enum(REQUEST_TYPES),
  urgency: Type.Enum(URGENCY_LEVELS, { default: 'normal' }),
  at: Type.Optional(Type.String({ format: 'date-time', description: 'Start of the stage; defaults to now' })),
}, { additionalProperties: false });

const DeadlineSchema = Type.Object({
  dueAt: Type.String({ format: 'date-time' }),
  warnAt: Type.String({ format: 'date-time' }),
  limit: TimeLimit,
  policyVersion: Type.Integer(),
});

export const DeadlinesSchema = Type.Object({ dispatch: DeadlineSchema, response: DeadlineSchema, completion: DeadlineSchema });

export const TicketTimersSchema = Type.Object({
  timer: Type.Union([Type.Object({
    stage: Type.Enum(SLA_STAGES),
    startedAt: Type.String({ format: 'date-time' }),
    dueAt: Type.String({ format: 'date-time' }),
    warnAt: Type.String({ format: 'date-time' }),
    policyVersion: Type.Integer(),
  }), Type.Null()]),
  jobs: Type.Array(Type.Object({ id: Type.String(), task: Type.String(), runAt: Type.String({ format: 'date-time' }), attempts: Type.Integer(), locked: Type.Boolean() })),
  firings: Type.Array(Type.Object({
    kind: Type.Enum(['warning', 'overdue'] as const),
    stage: Type.Enum(SLA_STAGES),
    dueAt: Type.String({ format: 'date-time' }),
    outcome: Type.Enum(['applied', 'stale', 'not_applicable', 'early'] as const),
    actions: Type.Array(Type.String()),
    instance: Type.String(),
    firedAt: Type.String({ format: 'date-time' }),
  })),
});

export const TicketIdParams = Type.Object({ id: Uuid });
