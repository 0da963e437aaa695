import { Type } from 'typebox';
import { principalOf } from '../../http/auth.js';
import { errorResponses, IdParams } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import {
  CreateScheduleBody, ExceptionParams, ExceptionSchema, ListSchedulesQuery, OpeningStatusSchema, PutExceptionBody, SchedulePage, ScheduleSchema,
  StatusQuery, UpdateScheduleBody,
} from './schedules.schemas.js';
import type { SchedulesService } from './schedules.service.js';
import { CONFIG_MANAGERS, CONFIG_READERS } from './skills.service.js';

const MANAGE = { roles: CONFIG_MANAGERS };
const READ = { roles: CONFIG_READERS };

export async function schedulesRoutes(app: App, opts: { schedules: SchedulesService }): Promise<void> {
  const { schedules } = opts;

  app.post('/schedules', {
    schema: { tags: ['acd'], summary: 'Create an opening schedule for specialist queues', body: CreateScheduleBody, response: { 201: ScheduleSchema, ...errorResponses(409) } },
    config: { auth: MANAGE, audit: { action: 'schedule.create', resource: 'schedule' } },
  }, async (req, reply) => reply.code(201).send(await schedules.create(req.body, principalOf(req))));

  app.get('/schedules', {
    schema: { tags: ['acd'], summary: 'List schedules with their coming exceptions', querystring: ListSchedulesQuery, response: { 200: SchedulePage, ...errorResponses() } },
    config: { auth: READ },
  }, async (req) => {
    const items = await schedules.list(req.query, principalOf(req));
    return { items, next: items.length === req.query.limit ? items.at(-1)!.code : null };
  });

  app.get('/schedules/:id', {
    schema: { tags: ['acd'], summary: 'Get a schedule with its coming exceptions', params: IdParams, response: { 200: ScheduleSchema, ...errorResponses(404) } },
    config: { auth: READ },
  }, async (req) => schedules.get(req.params.id, principalOf(req)));

  app.patch('/schedules/:id', {
    schema: { tags: ['acd'], summary: 'Change the hours, rename or (de)activate a schedule', params: IdParams, body: UpdateScheduleBody, response: { 200: ScheduleSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'schedule.update', resource: 'schedule' } },
  }, async (req) => schedules.update(req.params.id, req.body, principalOf(req)));

  app.delete('/schedules/:id', {
    schema: { tags: ['acd'], summary: 'Deactivate a schedule; refused while an active queue follows it', params: IdParams, response: { 200: ScheduleSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'schedule.deactivate', resource: 'schedule' } },
  }, async (req) => schedules.update(req.params.id, { active: false }, principalOf(req)));

  app.put('/schedules/:id/exceptions/:date', {
    schema: { tags: ['acd'], summary: 'Set a holiday (no periods = closed) or special hours for a date', params: ExceptionParams, body: PutExceptionBody, response: { 200: ExceptionSchema, ...errorResponses(404) } },
    config: { auth: MANAGE, audit: { action: 'schedule.exception.put', resource: 'schedule' } },
  }, async (req) => schedules.putException(req.params.id, req.params.date, req.body, principalOf(req)));

  app.delete('/schedules/:id/exceptions/:date', {
    schema: { tags: ['acd'], summary: 'Remove the exception of a date', params: ExceptionParams, response: { 204: Type.Null(), ...errorResponses(404) } },
    config: { auth: MANAGE, audit: { action: 'schedule.exception.delete', resource: 'schedule' } },
  }, async (req, reply) => {
    await schedules.deleteException(req.params.id, req.params.date, principalOf(req));
    return reply.code(204).send(null);
  });

  app.get('/schedules/:id/status', {
    schema: { tags: ['acd'], summary: 'Whether the schedule is open now (or at `at`) and when that changes', params: IdParams, querystring: StatusQuery, response: { 200: OpeningStatusSchema, ...errorResponses(404) } },
    config: { auth: READ },
  }, async (req) => schedules.status(req.params.id, req.query.at ? new Date(req.query.at) : undefined, principalOf(req)));
}
