import { errorResponses, IdParams } from '../../http/schemas.js';
import { principalOf } from '../../http/auth.js';
import type { App } from '../../http/types.js';
import { CreateSkillBody, ListSkillsQuery, SkillPage, SkillSchema, UpdateSkillBody } from './skills.schemas.js';
import { CONFIG_MANAGERS, CONFIG_READERS, type SkillsService } from './skills.service.js';

const MANAGE = { roles: CONFIG_MANAGERS };
const READ = { roles: CONFIG_READERS };

export async function skillsRoutes(app: App, opts: { skills: SkillsService }): Promise<void> {
  const { skills } = opts;

  app.post('/skills', {
    schema: { tags: ['acd'], summary: 'Create a skill (operator, admin)', body: CreateSkillBody, response: { 201: SkillSchema, ...errorResponses(409) } },
    config: { auth: MANAGE, audit: { action: 'skill.create', resource: 'skill' } },
  }, async (req, reply) => reply.code(201).send(await skills.create(req.body, principalOf(req))));

  app.get('/skills', {
    schema: { tags: ['acd'], summary: 'List skills, keyset by code', querystring: ListSkillsQuery, response: { 200: SkillPage, ...errorResponses() } },
    config: { auth: READ },
  }, async (req) => {
    const items = await skills.list(req.query, principalOf(req));
    return { items, next: items.length === req.query.limit ? items.at(-1)!.code : null };
  });

  app.get('/skills/:id', {
    schema: { tags: ['acd'], summary: 'Get a skill', params: IdParams, response: { 200: SkillSchema, ...errorResponses(404) } },
    config: { auth: READ },
  }, async (req) => skills.get(req.params.id, principalOf(req)));

  app.patch('/skills/:id', {
    schema: { tags: ['acd'], summary: 'Rename, describe or (de)activate a skill', params: IdParams, body: UpdateSkillBody, response: { 200: SkillSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'skill.update', resource: 'skill' } },
  }, async (req) => skills.update(req.params.id, req.body, principalOf(req)));

  app.delete('/skills/:id', {
    schema: { tags: ['acd'], summary: 'Deactivate a skill (kept for history); refused while an active queue requires it', params: IdParams, response: { 200: SkillSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'skill.deactivate', resource: 'skill' } },
  }, async (req) => skills.update(req.params.id, { active: false }, principalOf(req)));
}
