import { Type } from 'typebox';
import { Uuid } from '../../http/schemas.js';

const EventPattern = Type.String({ minLength: 1, maxLength: 100, description: 'Event type or NATS-style pattern: ticket.dispatched, ticket.*, ticket.>, >' });
const Cursor = Type.String({ maxLength: 200, description: 'Keyset cursor: `next` of the previous page' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const WebhookSchema = Type.Object({
  id: Uuid,
  departmentId: Uuid,
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Nullable(Type.String()),
  secretHint: Type.String({ description: 'Last characters of the signing secret' }),
  active: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const WebhookWithSecret = Type.Object({
  webhook: WebhookSchema,
  secret: Type.String({ description: 'The signing secret, shown only now: verify X-Hotline-Signature = sha256=HMAC-SHA256(secret, "<X-Hotline-Timestamp>.<body>")' }),
});

export const CreateWebhookBody = Type.Object({
  departmentId: Type.Optional(Uuid),
  url: Type.String({ minLength: 8, maxLength: 2000, description: 'https URL that receives POSTed JSON' }),
  events: Type.Array(EventPattern, { minItems: 1, maxItems: 50 }),
  description: Type.Optional(Type.String({ maxLength: 500 })),
}, { additionalProperties: false });

export const UpdateWebhookBody = Type.Object({
  url: Type.Optional(Type.String({ minLength: 8, maxLength: 2000 })),
  events: Type.Optional(Type.Array(EventPattern, { minItems: 1, maxItems: 50 })),
  description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  active: Type.Optional(Type.Boolean({ description: 'false pauses deliveries; events meanwhile are not queued' })),
}, { additionalProperties: false });

export const ListWebhooksQuery = Type.Object({
  departmentId: Type.Optional(Uuid),
  active: Type.Optional(Type.Boolean()),
  after: Type.Optional(Cursor),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
}, { additionalProperties: false });

export const WebhookPage = Type.Object({ items: Type.Array(WebhookSchema), next: Nullable(Type.String()) });

export const DeliveryStatusSchema = Type.Enum(['pending', 'delivering', 'succeeded', 'failed'] as const);

export const DeliverySchema = Type.Object({
  id: Uuid,
  webhookId: Uuid,
  eventId: Uuid,
  eventType: Type.String(),
  status: DeliveryStatusSchema,
  attempts: Type.Integer(),
  maxAttempts: Type.Integer(),
  nextAttemptAt: Nullable(Type.String({ format: 'date-time' })),
  responseCode: Nullable(Type.Integer()),
  latencyMs: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  redeliveries: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  completedAt: Nullable(Type.String({ format: 'date-time' })),
});

export const AttemptSchema = Type.Object({
  attempt: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  responseCode: Nullable(Type.Integer()),
  latencyMs: Type.Integer(),
  error: Nullable(Type.String()),
  responseBody: Nullable(Type.String({ description: 'Start of the receiver\'s answer' })),
});

export const DeliveryDetailSchema = Type.Intersect([DeliverySchema, Type.Object({ body: Type.Unknown({ description: 'The JSON body sent' }), attemptLog: Type.Array(AttemptSchema) })]);

export const ListDeliveriesQuery = Type.Object({
  status: Type.Optional(DeliveryStatusSchema),
  after: Type.Optional(Cursor),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
}, { additionalProperties: false });

export const DeliveryPage = Type.Object({ items: Type.Array(DeliverySchema), next: Nullable(Type.String()) });
export const DeliveryParams = Type.Object({ id: Uuid, deliveryId: Uuid });
