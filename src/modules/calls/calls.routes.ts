import { Type } from 'typebox';
import { principalOf } from '../../http/auth.js';
import { errorResponses, IdParams } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import { ValidationError } from '../../domain/errors.js';
import {
  BindTicketBody, BoundTickets, CallbackPage, CallbackStatusBody, CallbackTaskSchema, CallDetailSchema, CallerProfileSchema, CallPage, ListCallbacksQuery,
  ListCallsQuery, PhoneParams, PutCallerProfileBody, RaisePriorityBody, RecordingParams, WaitingQuery, WaitingSchema,
} from './calls.schemas.js';
import type { CallsService } from './calls.service.js';

const READERS = { roles: ['agent', 'supervisor', 'operator', 'admin'] } as const;
const SUPERVISION = { roles: ['supervisor', 'admin'] } as const;
const CALLBACK_WORKERS = { roles: ['agent', 'supervisor', 'admin'] } as const;

function parseCursor(c: string | undefined): { arrivedAt: Date; id: string } | undefined {
  if (!c) return undefined;
  const i = c.lastIndexOf('_');
  const at = new Date(c.slice(0, i));
  if (Number.isNaN(at.getTime())) throw new ValidationError('Invalid cursor', { field: 'before' }, 'invalid_cursor');
  return { arrivedAt: at, id: c.slice(i + 1) };
}

export async function callsRoutes(app: App, opts: { calls: CallsService }): Promise<void> {
  const { calls } = opts;

  app.get('/calls', {
    schema: { tags: ['calls'], summary: 'Call records, newest first (agents: their own calls)', querystring: ListCallsQuery, response: { 200: CallPage, ...errorResponses() } },
    config: { auth: READERS, audit: { action: 'call.list', resource: 'call', sensitive: true } },
  }, async (req) => {
    const q = req.query;
    const items = await calls.list(principalOf(req), {
      ...q, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, before: parseCursor(q.before), limit: q.limit,
    });
    const last = items.at(-1);
    return { items, next: items.length === q.limit && last ? `${last.arrivedAt}_${last.id}` : null };
  });

  app.get('/calls/:id', {
    schema: { tags: ['calls'], summary: 'A call record: timeline, offers, recordings, tickets and callbacks', params: IdParams, response: { 200: CallDetailSchema, ...errorResponses(404) } },
    config: { auth: READERS, audit: { action: 'call.read', resource: 'call', sensitive: true } },
  }, async (req) => calls.get(principalOf(req), req.params.id));

  app.get('/calls/:id/recordings/:name', {
    schema: {
      tags: ['calls'], summary: 'Download a recording of the call (supervisors; every access is audited)', params: RecordingParams,
      response: { 200: Type.Unsafe<unknown>({ type: 'string', format: 'binary', description: 'The recording file (audio/wav and the like), streamed from Asterisk' }), ...errorResponses(404, 409, 503) },
    },
    config: { auth: SUPERVISION, audit: { action: 'call.recording.read', resource: 'call_recording', sensitive: true } },
  }, async (req, reply) => {
    const { stream, recording } = await calls.recording(principalOf(req), req.params.id, req.params.name);
    void reply.header('content-type', recording.format.startsWith('wav') ? 'audio/wav' : 'application/octet-stream')
      .header('content-disposition', `attachment; filename="${recording.name}.${recording.format}"`).header('x-content-type-options', 'nosniff');
    return reply.send(stream);
  });

  app.post('/calls/:id/tickets', {
    schema: { tags: ['calls'], summary: 'Bind a ticket to the call (a call may have several; a ticket several calls)', params: IdParams, body: BindTicketBody, response: { 200: BoundTickets, ...errorResponses(404) } },
    config: { auth: READERS, audit: { action: 'call.ticket.bind', resource: 'call' } },
  }, async (req) => calls.bindTicket(principalOf(req), req.params.id, req.body.ticketId));

  app.post('/calls/:id/priority', {
    schema: { tags: ['calls'], summary: 'Raise a waiting caller to a higher priority class', params: IdParams, body: RaisePriorityBody, response: { 200: WaitingSchema, ...errorResponses(404, 409) } },
    config: { auth: SUPERVISION, audit: { action: 'call.priority.raise', resource: 'call' } },
  }, async (req) => calls.raisePriority(principalOf(req), req.params.id, req.body));

  app.get('/queues/:id/waiting', {
    schema: { tags: ['calls'], summary: 'Callers waiting in a queue, in serving order', params: IdParams, querystring: WaitingQuery, response: { 200: Type.Object({ items: Type.Array(WaitingSchema) }), ...errorResponses(404) } },
    config: { auth: SUPERVISION },
  }, async (req) => ({ items: await calls.waiting(principalOf(req), req.params.id, req.query.limit) }));

  app.get('/callbacks', {
    schema: { tags: ['calls'], summary: 'Callback tasks: missed calls (one per number per day), requested callbacks, overflows and voicemails', querystring: ListCallbacksQuery, response: { 200: CallbackPage, ...errorResponses() } },
    config: { auth: CALLBACK_WORKERS, audit: { action: 'callback.list', resource: 'callback', sensitive: true } },
  }, async (req) => {
    const items = await calls.tasks(principalOf(req), req.query);
    return { items, next: items.length === req.query.limit ? items.at(-1)!.id : null };
  });

  app.patch('/callbacks/:id', {
    schema: { tags: ['calls'], summary: 'Close a callback task (done or dismissed)', params: IdParams, body: CallbackStatusBody, response: { 200: CallbackTaskSchema, ...errorResponses(404, 409) } },
    config: { auth: CALLBACK_WORKERS, audit: { action: 'callback.update', resource: 'callback' } },
  }, async (req) => calls.setTaskStatus(principalOf(req), req.params.id, req.body.status));

  app.get('/caller-profiles/:phone', {
    schema: { tags: ['calls'], summary: 'A caller profile (elderly/assisted priority, harassment policy)', params: PhoneParams, response: { 200: CallerProfileSchema, ...errorResponses(404) } },
    config: { auth: SUPERVISION, audit: { action: 'caller_profile.read', resource: 'caller_profile', sensitive: true } },
  }, async (req) => calls.profile(principalOf(req), req.params.phone));

  app.put('/caller-profiles/:phone', {
    schema: { tags: ['calls'], summary: 'Set a caller profile', params: PhoneParams, body: PutCallerProfileBody, response: { 200: CallerProfileSchema, ...errorResponses() } },
    config: { auth: SUPERVISION, audit: { action: 'caller_profile.put', resource: 'caller_profile' } },
  }, async (req) => calls.putProfile(principalOf(req), req.params.phone, req.body));

  app.delete('/caller-profiles/:phone', {
    schema: { tags: ['calls'], summary: 'Remove a caller profile', params: PhoneParams, response: { 204: Type.Null(), ...errorResponses(404) } },
    config: { auth: SUPERVISION, audit: { action: 'caller_profile.delete', resource: 'caller_profile' } },
  }, async (req, reply) => {
    await calls.deleteProfile(principalOf(req), req.params.phone);
    return reply.code(204).send(null);
  });
}
