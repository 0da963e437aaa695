import type { FeatureModule, ModuleContext } from '../registry.js';
import { AgentStatesService } from './agent-states.service.js';
import { AgentsRepository } from './agents.repository.js';
import { agentsRoutes } from './agents.routes.js';
import { AgentsService } from './agents.service.js';

export type AgentsExports = {
  readonly agents: AgentsService;
  /** For the ACD and the call flow: change(), claimForOffer(), readyCandidates(), list(). */
  readonly agentStates: AgentStatesService;
};

const WRAP_UP_SWEEP_MS = 1000;

/** Agents and their states; a timer ends wrap-ups whose time is over. */
export function agentsModule(ctx: ModuleContext): FeatureModule {
  const repo = new AgentsRepository();
  const agents = new AgentsService(ctx.db, repo, ctx.outbox, ctx.clock);
  const agentStates = new AgentStatesService(ctx.db, repo, ctx.outbox, ctx.clock, ctx.instanceId);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  const sweep = () => {
    if (running) return; // the previous sweep is still at work
    running = agentStates.expireWrapUps()
      .catch((err: unknown) => ctx.logger.warn({ err }, 'wrap-up sweep failed'))
      .finally(() => { running = undefined; });
  };
  const exports: AgentsExports = { agents, agentStates };
  return {
    name: 'agents',
    routes: (app) => agentsRoutes(app, { agents, states: agentStates }),
    start: async () => {
      timer = setInterval(sweep, WRAP_UP_SWEEP_MS);
      timer.unref();
    },
    stop: async () => {
      if (timer) clearInterval(timer);
      if (running) await running;
    },
    exports,
  };
}
