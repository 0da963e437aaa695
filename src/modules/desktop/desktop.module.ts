/**
 * Agent desktops and supervisor wallboards over WebSocket (README.md beside this file): the
 * per-user message log and its fan-out across instances, agent-state messages, heartbeats,
 * resume, and the wallboard stream. Call control plugs in through `setCallControl`.
 */
import type { AgentsExports } from '../agents/agents.module.js';
import type { FeatureModule, ModuleContext } from '../registry.js';
import { subscribeDesktopEvents } from './desktop.events.js';
import { DesktopGateway } from './desktop.gateway.js';
import { DesktopHub } from './desktop.hub.js';
import type { CallControlPort, DesktopExports } from './desktop.ports.js';
import { DesktopRepository } from './desktop.repository.js';
import { desktopRoutes } from './desktop.routes.js';
import { DesktopService } from './desktop.service.js';
import { WallboardService } from './wallboard.service.js';

export type { CallControlPort, DesktopExports, StoredDesktopMessage } from './desktop.ports.js';

export function desktopModule(ctx: ModuleContext): FeatureModule {
  const agents = ctx.modules.get('agents')?.exports as AgentsExports | undefined;
  if (!agents) throw new Error('the desktop module needs the agents module before it');
  const { agentStates } = agents;
  const settings = ctx.config.desktop;
  const logger = ctx.logger;
  const repo = new DesktopRepository();
  const service = new DesktopService(ctx.db, repo, ctx.outbox, ctx.consumed, ctx.clock, {
    subjectPrefix: ctx.config.nats.subjectPrefix, retentionHours: settings.retentionHours,
  });
  const hub = new DesktopHub((agentId, after, through) => service.range(agentId, after, through), logger.child({ component: 'desktop-hub' }));
  const wallboard = new WallboardService({ db: ctx.db, repo, agentStates, clock: ctx.clock, logger: logger.child({ component: 'wallboard' }) });
  let callControl: CallControlPort | undefined;
  const gateway = new DesktopGateway({
    auth: ctx.auth, agentStates, callControl: () => callControl, log: service, hub, wallboard, clock: ctx.clock,
    logger: logger.child({ component: 'desktop' }), settings, instanceId: ctx.instanceId,
    publish: async (agentId, type, payload) => hub.deliver(await service.record(ctx.db, agentId, type, payload)),
  });
  let subscriptions: Array<{ stop(): Promise<void> }> = [];

  const exports: DesktopExports = {
    record: (db, agentId, type, payload) => service.record(db, agentId, type, payload),
    deliver: (msg) => hub.deliver(msg),
    setCallControl: (port) => {
      callControl = port;
    },
  };
  return {
    name: 'desktop',
    routes: (app) => desktopRoutes(app, { gateway }),
    start: async () => {
      subscriptions = await subscribeDesktopEvents(ctx.subscriber, { prefix: ctx.config.nats.subjectPrefix, instanceId: ctx.instanceId, service, hub, logger });
      gateway.start();
      wallboard.start();
    },
    stop: async () => {
      await wallboard.stop();
      await gateway.stop();
      for (const s of subscriptions) await s.stop();
    },
    exports: { ...exports, gateway, wallboard },
  };
}
