import { principalOf } from '../../http/auth.js';
import { errorResponses, IdParams } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import type { CallerFlag, OverflowAction } from '../../domain/acd/index.js';
import { CreateQueueBody, ListQueuesQuery, QueuePage, QueueSchema, UpdateQueueBody } from './queues.schemas.js';
import type { QueuesService } from './queues.service.js';
import { OpeningStatusSchema, StatusQuery } from './schedules.schemas.js';
import { CONFIG_MANAGERS, CONFIG_READERS } from './skills.service.js';

const MANAGE = { roles: CONFIG_MANAGERS };
const READ = { roles: CONFIG_READERS };

// Flags and actions arrive as plain strings so that the domain can refuse them with its own codes.
function typed<T extends { overflow?: { action: string; queueId?: string | null }; priorityRules?: { flag: string; boost: number }[] }>(body: T) {
  return {
    ...body,
    ...(body.overflow ? { overflow: { action: body.overflow.action as OverflowAction, queueId: body.overflow.queueId ?? null } } : {}),
    ...(body.priorityRules ? { priorityRules: body.priorityRules.map((r) => ({ flag: r.flag as CallerFlag, boost: r.boost })) } : {}),
  };
}

export async function queuesRoutes(app: App, opts: { queues: QueuesService }): Promise<void> {
  const { queues } = opts;

  app.post('/queues', {
    schema: { tags: ['acd'], summary: 'Create a queue (operator, admin); omitted limits take the defaults (service level 15 s)', body: CreateQueueBody, response: { 201: QueueSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'queue.create', resource: 'queue' } },
  }, async (req, reply) => reply.code(201).send(await queues.create(typed(req.body), principalOf(req))));

  app.get('/queues', {
    schema: { tags: ['acd'], summary: 'List queues, keyset by code', querystring: ListQueuesQuery, response: { 200: QueuePage, ...errorResponses() } },
    config: { auth: READ },
  }, async (req) => {
    const items = await queues.list(req.query, principalOf(req));
    return { items, next: items.length === req.query.limit ? items.at(-1)!.code : null };
  });

  app.get('/queues/:id', {
    schema: { tags: ['acd'], summary: 'Get a queue', params: IdParams, response: { 200: QueueSchema, ...errorResponses(404) } },
    config: { auth: READ },
  }, async (req) => queues.get(req.params.id, principalOf(req)));

  app.patch('/queues/:id', {
    schema: { tags: ['acd'], summary: 'Change a queue; the whole configuration is revalidated (ranges, overflow chain)', params: IdParams, body: UpdateQueueBody, response: { 200: QueueSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'queue.update', resource: 'queue' } },
  }, async (req) => queues.update(req.params.id, typed(req.body), principalOf(req)));

  app.delete('/queues/:id', {
    schema: { tags: ['acd'], summary: 'Deactivate a queue; refused while another queue overflows into it or the IVR menu uses it', params: IdParams, response: { 200: QueueSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'queue.deactivate', resource: 'queue' } },
  }, async (req) => queues.update(req.params.id, { active: false }, principalOf(req)));

  app.get('/queues/:id/status', {
    schema: { tags: ['acd'], summary: 'Whether the queue is open (its schedule; none = 7×24)', params: IdParams, querystring: StatusQuery, response: { 200: OpeningStatusSchema, ...errorResponses(404) } },
    config: { auth: READ },
  }, async (req) => queues.status(req.params.id, req.query.at ? new Date(req.query.at) : undefined, principalOf(req)));
}
