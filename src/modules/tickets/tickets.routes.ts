import type {} from '@fastify/rate-limit';
import { TooManyRequestsError } from '../../domain/errors.js';
import { principalOf } from '../../http/auth.js';
import { errorResponses, IdParams } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import { toTicketAction } from './actions.map.js';
import type { DraftsService } from './drafts.service.js';
import type { IntakeService } from './intake.service.js';
import {
  ActionBody, AllowedActionsSchema, DraftEditBody, HistoryQuery, HistorySchema, IntakeBody, IntakeHeaders, IntakeResponse, LinkAttachmentsBody, ListTicketsQuery,
  ProgressQueryBody, ProgressSchema, TicketPage, TicketSchema,
} from './tickets.schemas.js';
import type { TicketsService } from './tickets.service.js';

const READERS = { roles: ['agent', 'supervisor', 'admin', 'dept_handler', 'integrator'] } as const;
const ACTORS = { roles: ['agent', 'supervisor', 'admin', 'dept_handler'] } as const;

export interface TicketsRoutesOptions {
  readonly tickets: TicketsService;
  readonly intake: IntakeService;
  readonly drafts: DraftsService;
  readonly progressRateLimit: { readonly max: number; readonly windowMs: number };
}

export async function ticketsRoutes(app: App, opts: TicketsRoutesOptions): Promise<void> {
  const { tickets, intake, drafts } = opts;

  app.post('/tickets', {
    schema: {
      tags: ['tickets'], summary: 'Intake on any channel (phone needs callId); acceptance check; Idempotency-Key makes retries safe',
      headers: IntakeHeaders, body: IntakeBody, response: { 200: IntakeResponse, 201: IntakeResponse, ...errorResponses(404, 409, 422) },
    },
    config: { auth: { roles: ['agent', 'supervisor', 'admin', 'integrator'] }, audit: { action: 'ticket.create', resource: 'ticket' } },
  }, async (req, reply) => {
    const result = await intake.submit(req.body, principalOf(req), req.headers['idempotency-key']);
    if (result.replayed) void reply.header('idempotent-replayed', 'true');
    return reply.code(result.status === 200 ? 200 : 201).send(result.body);
  });

  app.get('/tickets', {
    schema: { tags: ['tickets'], summary: 'Search and list, newest first, keyset pagination; department handlers see only their tickets', querystring: ListTicketsQuery, response: { 200: TicketPage, ...errorResponses() } },
    config: { auth: READERS, audit: { action: 'ticket.list', resource: 'ticket', sensitive: true } },
  }, async (req) => tickets.list(req.query, principalOf(req)));

  app.post('/tickets/progress-query', {
    schema: { tags: ['tickets'], summary: 'Public progress self-query by ticket number plus the caller’s phone or the 6-digit code; rate-limited', body: ProgressQueryBody, response: { 200: ProgressSchema, 400: { $ref: 'Problem' }, 404: { $ref: 'Problem' }, 429: { $ref: 'Problem' } } },
    config: {
      audit: { action: 'ticket.progress_query', resource: 'ticket' },
      rateLimit: {
        max: opts.progressRateLimit.max,
        timeWindow: opts.progressRateLimit.windowMs,
        errorResponseBuilder: (_req, ctx) => new TooManyRequestsError(`Too many queries; try again in ${Math.ceil(ctx.ttl / 1000)} s`, { retryAfterSeconds: Math.ceil(ctx.ttl / 1000) }),
      },
    },
  }, async (req) => tickets.progressQuery(req.body));

  app.get('/tickets/:id', {
    schema: { tags: ['tickets'], summary: 'A ticket; the caller is hidden from departments when confidential (保密)', params: IdParams, response: { 200: TicketSchema, ...errorResponses(404) } },
    config: { auth: READERS, audit: { action: 'ticket.read', resource: 'ticket', sensitive: true } },
  }, async (req) => tickets.get(req.params.id, principalOf(req)));

  app.patch('/tickets/:id', {
    schema: { tags: ['tickets'], summary: 'Fill in a draft ticket (the one a call carries): content, classification, caller details', params: IdParams, body: DraftEditBody, response: { 200: TicketSchema, ...errorResponses(404, 409) } },
    config: { auth: { roles: ['agent', 'supervisor', 'admin'] }, audit: { action: 'ticket.draft.edit', resource: 'ticket' } },
  }, async (req) => drafts.edit(req.params.id, req.body, principalOf(req)));

  app.get('/tickets/:id/allowed-actions', {
    schema: { tags: ['tickets'], summary: 'What the caller may do with the ticket now', params: IdParams, response: { 200: AllowedActionsSchema, ...errorResponses(404) } },
    config: { auth: READERS },
  }, async (req) => tickets.allowedActions(req.params.id, principalOf(req)));

  app.get('/tickets/:id/history', {
    schema: { tags: ['tickets'], summary: 'The transition audit: action, from, to, actor, reason, time', params: IdParams, querystring: HistoryQuery, response: { 200: HistorySchema, ...errorResponses(404) } },
    config: { auth: READERS },
  }, async (req) => tickets.history(req.params.id, principalOf(req), req.query.after, req.query.limit));

  app.post('/tickets/:id/actions', {
    schema: { tags: ['tickets'], summary: 'One lifecycle step; 409 illegal_transition lists the allowed ones', params: IdParams, body: ActionBody, response: { 200: TicketSchema, ...errorResponses(404, 409) } },
    config: { auth: ACTORS, audit: { action: 'ticket.action', resource: 'ticket' } },
  }, async (req) => tickets.applyAction(req.params.id, toTicketAction(req.body), principalOf(req), {
    ...(req.body.expectedVersion !== undefined ? { expectedVersion: req.body.expectedVersion } : {}),
  }));

  app.post('/tickets/:id/attachments', {
    schema: { tags: ['tickets'], summary: 'Attach uploaded files to a ticket', params: IdParams, body: LinkAttachmentsBody, response: { 200: TicketSchema, ...errorResponses(404) } },
    config: { auth: ACTORS, audit: { action: 'ticket.attach', resource: 'ticket' } },
  }, async (req) => tickets.linkAttachments(req.params.id, req.body.attachmentIds, principalOf(req)));
}
