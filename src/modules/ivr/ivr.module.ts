import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePromptCatalogJson, type PromptCatalog } from '../../domain/ivr/prompts.js';
import type { FeatureModule, ModuleContext } from '../registry.js';
import { IvrRepository } from './ivr.repository.js';
import { ivrRoutes } from './ivr.routes.js';
import { IvrService } from './ivr.service.js';

export type IvrExports = {
  /** For the call flow: currentMenu(). */
  readonly ivr: IvrService;
  readonly prompts: PromptCatalog;
};

/** prompts/prompts.json beside package.json, whether running from src/ (tsx) or dist/src/ (node). */
function loadPromptCatalog(): PromptCatalog {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'prompts', 'prompts.json');
    if (existsSync(path.join(dir, 'package.json')) && existsSync(file)) return parsePromptCatalogJson(readFileSync(file, 'utf8'));
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('Cannot find prompts/prompts.json next to package.json');
    dir = parent;
  }
}

/** The IVR menu as versioned data, checked against the prompt catalogue and the active queues. */
export function ivrModule(ctx: ModuleContext): FeatureModule {
  const prompts = loadPromptCatalog();
  const ivr = new IvrService(ctx.db, new IvrRepository(), prompts, ctx.outbox);
  const exports: IvrExports = { ivr, prompts };
  return { name: 'ivr', routes: (app) => ivrRoutes(app, { ivr }), exports };
}
