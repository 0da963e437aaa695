import { Type } from 'typebox';
import { principalOf } from '../../http/auth.js';
import { errorResponses, IdParams } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import { CategorySchema, CreateCategoryBody, ListCategoriesQuery, UpdateCategoryBody } from './categories.schemas.js';
import type { CategoriesService } from './categories.service.js';

const MANAGE = { roles: ['operator', 'supervisor', 'admin'] } as const;
const READ = { roles: ['agent', 'supervisor', 'operator', 'admin', 'dept_handler', 'integrator'] } as const;

export async function categoriesRoutes(app: App, opts: { categories: CategoriesService }): Promise<void> {
  const { categories } = opts;

  app.post('/categories', {
    schema: { tags: ['categories'], summary: 'Create a catalogue item (事项目录)', body: CreateCategoryBody, response: { 201: CategorySchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'category.create', resource: 'category' } },
  }, async (req, reply) => reply.code(201).send(await categories.create(req.body, principalOf(req))));

  app.get('/categories', {
    schema: { tags: ['categories'], summary: 'Items under a parent (roots without parentId), keyset by code', querystring: ListCategoriesQuery, response: { 200: Type.Object({ items: Type.Array(CategorySchema), next: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses() } },
    config: { auth: READ },
  }, async (req) => {
    const items = await categories.list(req.query);
    return { items, next: items.length === req.query.limit ? items.at(-1)!.code : null };
  });

  app.get('/categories/tree', {
    schema: {
      tags: ['categories'], summary: 'The whole catalogue as a tree',
      querystring: Type.Object({ includeInactive: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      // Recursive: described loosely here; each node is a Category with `children`.
      response: { 200: Type.Object({ items: Type.Array(Type.Unsafe<unknown>({ type: 'object', additionalProperties: true })) }), ...errorResponses() },
    },
    config: { auth: READ },
  }, async (req) => ({ items: await categories.tree(req.query.includeInactive ?? false) }));

  app.get('/categories/:id', {
    schema: { tags: ['categories'], summary: 'Get a catalogue item', params: IdParams, response: { 200: CategorySchema, ...errorResponses(404) } },
    config: { auth: READ },
  }, async (req) => categories.get(req.params.id));

  app.patch('/categories/:id', {
    schema: { tags: ['categories'], summary: 'Rename, move, reclassify or (de)activate an item', params: IdParams, body: UpdateCategoryBody, response: { 200: CategorySchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'category.update', resource: 'category' } },
  }, async (req) => categories.update(req.params.id, req.body, principalOf(req)));

  app.delete('/categories/:id', {
    schema: { tags: ['categories'], summary: 'Deactivate an item (tickets keep pointing at it)', params: IdParams, response: { 200: CategorySchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'category.deactivate', resource: 'category' } },
  }, async (req) => categories.update(req.params.id, { active: false }, principalOf(req)));
}
