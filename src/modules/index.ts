/** Feature modules in build/start order; each appends one line here. */
import type { ModuleFactory } from './registry.js';
import { slaModule } from './sla/sla.module.js';
import { ticketsModule } from './tickets/tickets.module.js';
import { webhooksModule } from './webhooks/webhooks.module.js';
import { duplicatesModule } from './duplicates/duplicates.module.js';
import { queuesModule } from './queues/queues.module.js';
import { agentsModule } from './agents/agents.module.js';
import { desktopModule } from './desktop/desktop.module.js';
import { ivrModule } from './ivr/ivr.module.js';
import { callsModule } from './calls/calls.module.js';

export const FEATURE_MODULES: readonly ModuleFactory[] = [
  slaModule, // before tickets: tickets uses exports.sla
  ticketsModule,
  webhooksModule,
  duplicatesModule,
  queuesModule,
  agentsModule,
  desktopModule, // after agents (agent states), before calls (which sets its call control)
  ivrModule, // after queues: menus name queue codes
  callsModule, // after queues, agents, ivr and tickets: the call flow uses them all
];
