import type { FeatureModule, ModuleContext } from '../registry.js';
import { QueuesRepository } from './queues.repository.js';
import { queuesRoutes } from './queues.routes.js';
import { QueuesService } from './queues.service.js';
import { SchedulesRepository } from './schedules.repository.js';
import { schedulesRoutes } from './schedules.routes.js';
import { SchedulesService } from './schedules.service.js';
import { SkillsRepository } from './skills.repository.js';
import { skillsRoutes } from './skills.routes.js';
import { SkillsService } from './skills.service.js';

export type QueuesExports = {
  readonly skills: SkillsService;
  readonly schedules: SchedulesService;
  readonly queues: QueuesService;
};

/** ACD configuration: skills, opening schedules and queues. */
export function queuesModule(ctx: ModuleContext): FeatureModule {
  const skills = new SkillsService(ctx.db, new SkillsRepository(), ctx.outbox);
  const schedules = new SchedulesService(ctx.db, new SchedulesRepository(), ctx.outbox, ctx.clock);
  const queues = new QueuesService(ctx.db, new QueuesRepository(), schedules, ctx.outbox, ctx.clock);
  const exports: QueuesExports = { skills, schedules, queues };
  return {
    name: 'queues',
    routes: async (app) => {
      await skillsRoutes(app, { skills });
      await schedulesRoutes(app, { schedules });
      await queuesRoutes(app, { queues });
    },
    exports,
  };
}
