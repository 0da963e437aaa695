import { Type } from 'typebox';
import type { App } from '../../http/types.js';
import type { HealthService } from './health.service.js';

const CheckSchema = Type.Object({
  status: Type.Enum(['up', 'down', 'degraded', 'disabled'] as const),
  latencyMs: Type.Optional(Type.Number()),
  detail: Type.Optional(Type.String()),
}, { additionalProperties: true });

const ReadySchema = Type.Object({
  status: Type.Enum(['ready', 'not_ready'] as const),
  checks: Type.Record(Type.String(), CheckSchema),
});

export async function healthRoutes(app: App, opts: { health: HealthService }): Promise<void> {
  app.get('/healthz', {
    schema: { tags: ['health'], summary: 'Liveness: the process answers', response: { 200: Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() }) } },
    logLevel: 'warn',
  }, async () => ({ status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()) }));

  app.get('/readyz', {
    schema: { tags: ['health'], summary: 'Readiness: PostgreSQL, NATS, ARI and AMI, each with its status', response: { 200: ReadySchema, 503: ReadySchema } },
    logLevel: 'warn',
  }, async (_req, reply) => {
    const report = await opts.health.readiness();
    return reply.code(report.status === 'ready' ? 200 : 503).send(report);
  });
}
