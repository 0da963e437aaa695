import { Type } from 'typebox';
import { principalOf } from '../../http/auth.js';
import { errorResponses, IdParams } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import {
  AreaParams, AreaSchema, CandidateSchema, CandidatesQuery, CreateDepartmentBody, CreateFunctionBody, DepartmentPage, DepartmentSchema,
  FunctionParams, FunctionSchema, ListDepartmentsQuery, PutAreaBody, SubtreeSchema, UpdateDepartmentBody,
} from './departments.schemas.js';
import type { DepartmentsService } from './departments.service.js';

const MANAGE = { roles: ['operator', 'admin'] } as const;

export async function departmentsRoutes(app: App, opts: { departments: DepartmentsService }): Promise<void> {
  const { departments } = opts;

  app.post('/departments', {
    schema: { tags: ['departments'], summary: 'Create a department (operator, admin); partner units name their utility', body: CreateDepartmentBody, response: { 201: DepartmentSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'department.create', resource: 'department' } },
  }, async (req, reply) => reply.code(201).send(await departments.create(req.body, principalOf(req))));

  app.get('/departments', {
    schema: { tags: ['departments'], summary: 'List departments; a department handler sees only its own', querystring: ListDepartmentsQuery, response: { 200: DepartmentPage, ...errorResponses() } },
    config: { auth: { roles: [] } },
  }, async (req) => {
    const items = await departments.list(req.query, principalOf(req));
    return { items, next: items.length === req.query.limit ? items.at(-1)!.code : null };
  });

  app.get('/departments/candidates', {
    schema: { tags: ['departments'], summary: 'Dispatch suggestions: active departments whose jurisdiction covers the area and whose functions match', querystring: CandidatesQuery, response: { 200: Type.Object({ items: Type.Array(CandidateSchema) }), ...errorResponses(404) } },
    config: { auth: { roles: ['agent', 'supervisor', 'admin'] } },
  }, async (req) => ({ items: await departments.candidates(req.query, principalOf(req)) }));

  app.get('/departments/:id', {
    schema: { tags: ['departments'], summary: 'Get a department', params: IdParams, response: { 200: DepartmentSchema, ...errorResponses(404) } },
    config: { auth: { roles: [] } },
  }, async (req) => departments.get(req.params.id, principalOf(req)));

  app.patch('/departments/:id', {
    schema: { tags: ['departments'], summary: 'Rename, move, describe or (de)activate a department (operator, admin)', params: IdParams, body: UpdateDepartmentBody, response: { 200: DepartmentSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'department.update', resource: 'department' } },
  }, async (req) => departments.update(req.params.id, req.body, principalOf(req)));

  app.delete('/departments/:id', {
    schema: { tags: ['departments'], summary: 'Deactivate a department (kept for history; no new dispatches)', params: IdParams, response: { 200: DepartmentSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'department.deactivate', resource: 'department' } },
  }, async (req) => departments.deactivate(req.params.id, principalOf(req)));

  app.get('/departments/:id/children', {
    schema: { tags: ['departments'], summary: 'Direct sub-departments, keyset by code', params: IdParams, querystring: ListDepartmentsQuery, response: { 200: DepartmentPage, ...errorResponses(404) } },
    config: { auth: { roles: [] } },
  }, async (req) => {
    await departments.get(req.params.id, principalOf(req));
    const items = await departments.list({ ...req.query, parentId: req.params.id }, principalOf(req));
    return { items, next: items.length === req.query.limit ? items.at(-1)!.code : null };
  });

  app.get('/departments/:id/subtree', {
    schema: { tags: ['departments'], summary: 'The department and everything below it, parents first', params: IdParams, response: { 200: SubtreeSchema, ...errorResponses(404) } },
    config: { auth: { roles: [] } },
  }, async (req) => departments.subtree(req.params.id, principalOf(req)));

  app.get('/departments/:id/functions', {
    schema: { tags: ['departments'], summary: 'Functions (职能) of a department', params: IdParams, response: { 200: Type.Object({ items: Type.Array(FunctionSchema) }), ...errorResponses(404) } },
    config: { auth: { roles: [] } },
  }, async (req) => ({ items: await departments.listFunctions(req.params.id, principalOf(req)) }));

  app.post('/departments/:id/functions', {
    schema: { tags: ['departments'], summary: 'Add a function, optionally tied to a catalogue item (事项目录)', params: IdParams, body: CreateFunctionBody, response: { 201: FunctionSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'department.function.add', resource: 'department' } },
  }, async (req, reply) => reply.code(201).send(await departments.addFunction(req.params.id, req.body, principalOf(req))));

  app.delete('/departments/:id/functions/:functionId', {
    schema: { tags: ['departments'], summary: 'Remove a function', params: FunctionParams, response: { 204: Type.Null(), ...errorResponses(404) } },
    config: { auth: MANAGE, audit: { action: 'department.function.remove', resource: 'department' } },
  }, async (req, reply) => {
    await departments.removeFunction(req.params.id, req.params.functionId, principalOf(req));
    return reply.code(204).send(null);
  });

  app.get('/departments/:id/areas', {
    schema: { tags: ['departments'], summary: 'Jurisdiction areas (管辖区域) of a department', params: IdParams, response: { 200: Type.Object({ items: Type.Array(AreaSchema) }), ...errorResponses(404) } },
    config: { auth: { roles: [] } },
  }, async (req) => ({ items: await departments.listAreas(req.params.id, principalOf(req)) }));

  app.put('/departments/:id/areas/:areaCode', {
    schema: { tags: ['departments'], summary: 'Add or rename a jurisdiction area', params: AreaParams, body: PutAreaBody, response: { 200: AreaSchema, ...errorResponses(404) } },
    config: { auth: MANAGE, audit: { action: 'department.area.put', resource: 'department' } },
  }, async (req) => departments.putArea(req.params.id, req.params.areaCode, req.body.areaName, principalOf(req)));

  app.delete('/departments/:id/areas/:areaCode', {
    schema: { tags: ['departments'], summary: 'Remove a jurisdiction area', params: AreaParams, response: { 204: Type.Null(), ...errorResponses(404) } },
    config: { auth: MANAGE, audit: { action: 'department.area.remove', resource: 'department' } },
  }, async (req, reply) => {
    await departments.removeArea(req.params.id, req.params.areaCode, principalOf(req));
    return reply.code(204).send(null);
  });
}
