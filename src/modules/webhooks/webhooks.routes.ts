import { Type } from 'typebox';
import { principalOf } from '../../http/auth.js';
import { errorResponses, IdParams } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import {
  CreateWebhookBody, DeliveryDetailSchema, DeliveryPage, DeliveryParams, DeliverySchema, ListDeliveriesQuery, ListWebhooksQuery,
  UpdateWebhookBody, WebhookPage, WebhookSchema, WebhookWithSecret,
} from './webhooks.schemas.js';
import type { WebhooksService } from './webhooks.service.js';

const MANAGE = { roles: ['dept_handler', 'operator', 'admin'] } as const;
const READ = { roles: ['dept_handler', 'supervisor', 'operator', 'admin'] } as const;
const TAGS = ['webhooks'];

export async function webhooksRoutes(app: App, opts: { webhooks: WebhooksService }): Promise<void> {
  const { webhooks } = opts;

  app.post('/webhooks', {
    schema: { tags: TAGS, summary: 'Register a webhook for a department; the signing secret is returned only now', body: CreateWebhookBody, response: { 201: WebhookWithSecret, ...errorResponses(404) } },
    config: { auth: MANAGE, audit: { action: 'webhook.create', resource: 'webhook' } },
  }, async (req, reply) => reply.code(201).send(await webhooks.create(req.body, principalOf(req))));

  app.get('/webhooks', {
    schema: { tags: TAGS, summary: 'List webhooks; a department handler sees only its department\'s', querystring: ListWebhooksQuery, response: { 200: WebhookPage, ...errorResponses() } },
    config: { auth: READ },
  }, async (req) => webhooks.list(req.query, principalOf(req)));

  app.get('/webhooks/:id', {
    schema: { tags: TAGS, summary: 'Get a webhook', params: IdParams, response: { 200: WebhookSchema, ...errorResponses(404) } },
    config: { auth: READ },
  }, async (req) => webhooks.get(req.params.id, principalOf(req)));

  app.patch('/webhooks/:id', {
    schema: { tags: TAGS, summary: 'Change the URL, event filter or description, or pause/resume', params: IdParams, body: UpdateWebhookBody, response: { 200: WebhookSchema, ...errorResponses(404) } },
    config: { auth: MANAGE, audit: { action: 'webhook.update', resource: 'webhook' } },
  }, async (req) => webhooks.update(req.params.id, req.body, principalOf(req)));

  app.delete('/webhooks/:id', {
    schema: { tags: TAGS, summary: 'Delete a webhook and its delivery log', params: IdParams, response: { 204: Type.Null(), ...errorResponses(404) } },
    config: { auth: MANAGE, audit: { action: 'webhook.delete', resource: 'webhook' } },
  }, async (req, reply) => {
    await webhooks.remove(req.params.id, principalOf(req));
    return reply.code(204).send(null);
  });

  app.post('/webhooks/:id/rotate-secret', {
    schema: { tags: TAGS, summary: 'Replace the signing secret; the new one is returned only now', params: IdParams, response: { 200: WebhookWithSecret, ...errorResponses(404) } },
    config: { auth: MANAGE, audit: { action: 'webhook.rotate_secret', resource: 'webhook' } },
  }, async (req) => webhooks.rotateSecret(req.params.id, principalOf(req)));

  app.get('/webhooks/:id/deliveries', {
    schema: { tags: TAGS, summary: 'Delivery log, newest first: status, attempts, last response code, latency and error', params: IdParams, querystring: ListDeliveriesQuery, response: { 200: DeliveryPage, ...errorResponses(404) } },
    config: { auth: READ },
  }, async (req) => webhooks.listDeliveries(req.params.id, req.query, principalOf(req)));

  app.get('/webhooks/:id/deliveries/:deliveryId', {
    schema: { tags: TAGS, summary: 'One delivery with the body sent and every attempt', params: DeliveryParams, response: { 200: DeliveryDetailSchema, ...errorResponses(404) } },
    config: { auth: READ },
  }, async (req) => webhooks.getDelivery(req.params.id, req.params.deliveryId, principalOf(req)));

  app.post('/webhooks/:id/deliveries/:deliveryId/redeliver', {
    schema: { tags: TAGS, summary: 'Send a finished delivery again (same delivery id), with a fresh attempt budget', params: DeliveryParams, response: { 202: DeliverySchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'webhook.redeliver', resource: 'webhook' } },
  }, async (req, reply) => reply.code(202).send(await webhooks.redeliver(req.params.id, req.params.deliveryId, principalOf(req))));
}
