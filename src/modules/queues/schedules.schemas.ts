import { Type } from 'typebox';
import { Uuid } from '../../http/schemas.js';
import { Code, Name } from './skills.schemas.js';

const Clock = Type.String({ pattern: '^[0-9]{2}:[0-9]{2}$', description: 'HH:MM local; 24:00 as an end closes at midnight' });
export const PeriodSchema = Type.Object({ start: Clock, end: Clock }, { additionalProperties: false });
const Periods = Type.Array(PeriodSchema, { maxItems: 12 });
export const LocalDate = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'YYYY-MM-DD local' });
// Day names are checked by the domain so that a misspelt day gets its own code.
const Weekly = Type.Record(Type.String({ maxLength: 16 }), Periods, { description: 'sun … sat → opening periods; a day left out is closed' });

export const ExceptionSchema = Type.Object({ date: Type.String(), name: Type.String(), periods: Type.Array(PeriodSchema) });

export const ScheduleSchema = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  utcOffsetMinutes: Type.Integer(),
  weekly: Type.Record(Type.String(), Type.Array(PeriodSchema)),
  exceptions: Type.Array(ExceptionSchema, { description: 'Exceptions from today on' }),
  active: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const CreateScheduleBody = Type.Object({
  code: Code,
  name: Name,
  utcOffsetMinutes: Type.Optional(Type.Integer({ minimum: -720, maximum: 840, description: 'Default 480 (Beijing time)' })),
  weekly: Weekly,
}, { additionalProperties: false });

export const UpdateScheduleBody = Type.Object({
  name: Type.Optional(Name),
  utcOffsetMinutes: Type.Optional(Type.Integer({ minimum: -720, maximum: 840 })),
  weekly: Type.Optional(Weekly),
  active: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

export const ListSchedulesQuery = Type.Object({
  active: Type.Optional(Type.Boolean()),
  after: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 100 }),
}, { additionalProperties: false });
export const SchedulePage = Type.Object({ items: Type.Array(ScheduleSchema), next: Type.Union([Type.String(), Type.Null()]) });

export const ExceptionParams = Type.Object({ id: Uuid, date: LocalDate });
export const PutExceptionBody = Type.Object({
  name: Name,
  periods: Type.Optional(Type.Array(PeriodSchema, { maxItems: 12, description: 'Empty or absent = closed all day' })),
}, { additionalProperties: false });

export const StatusQuery = Type.Object({ at: Type.Optional(Type.String({ format: 'date-time' })) }, { additionalProperties: false });
export const OpeningStatusSchema = Type.Object({
  open: Type.Boolean(),
  alwaysOpen: Type.Boolean(),
  closesAt: Type.Optional(Type.String({ format: 'date-time' })),
  opensAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
});
