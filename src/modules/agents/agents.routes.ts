import { Type } from 'typebox';
import { principalOf } from '../../http/auth.js';
import { errorResponses, IdParams } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import {
  AgentPage, AgentSchema, ChangeStateBody, CreateAgentBody, ListAgentsQuery, ListStatesQuery, LoginBody, StateLogQuery, StateLogSchema, StateViewSchema,
  UpdateAgentBody,
} from './agents.schemas.js';
import type { AgentsService } from './agents.service.js';
import type { AgentStatesService } from './agent-states.service.js';

const MANAGE = { roles: ['operator', 'admin'] } as const;
const VIEW = { roles: ['supervisor', 'operator', 'admin'] } as const;
const CALL_TAKERS = { roles: ['agent', 'supervisor'] } as const;
const STAFF = { roles: ['agent', 'supervisor', 'operator', 'admin'] } as const;

export async function agentsRoutes(app: App, opts: { agents: AgentsService; states: AgentStatesService }): Promise<void> {
  const { agents, states } = opts;

  app.post('/agents', {
    schema: { tags: ['agents'], summary: 'Make a user (agent or supervisor) an agent with an extension, skills and languages', body: CreateAgentBody, response: { 201: AgentSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'agent.create', resource: 'agent' } },
  }, async (req, reply) => reply.code(201).send(await agents.create(req.body, principalOf(req))));

  app.get('/agents', {
    schema: { tags: ['agents'], summary: 'List agents, keyset by extension', querystring: ListAgentsQuery, response: { 200: AgentPage, ...errorResponses() } },
    config: { auth: VIEW },
  }, async (req) => {
    const items = await agents.list(req.query, principalOf(req));
    return { items, next: items.length === req.query.limit ? items.at(-1)!.extension : null };
  });

  app.get('/agents/states', {
    schema: { tags: ['agents'], summary: 'Wallboard: the current state of every active agent (logged-in ones unless includeOffline)', querystring: ListStatesQuery, response: { 200: Type.Object({ items: Type.Array(StateViewSchema) }), ...errorResponses() } },
    config: { auth: VIEW },
  }, async (req) => ({ items: await states.listFor(principalOf(req), req.query) }));

  app.get('/agents/me', {
    schema: { tags: ['agents'], summary: 'My agent profile', response: { 200: AgentSchema, ...errorResponses(404) } },
    config: { auth: CALL_TAKERS },
  }, async (req) => agents.get(principalOf(req).id, principalOf(req)));

  app.post('/agents/me/login', {
    schema: { tags: ['agents'], summary: 'Log in at a phone (my extension unless another is given), ready or not ready', body: LoginBody, response: { 200: StateViewSchema, ...errorResponses(404, 409) } },
    config: { auth: CALL_TAKERS, audit: { action: 'agent.login', resource: 'agent' } },
  }, async (req) => states.login(principalOf(req), req.body));

  app.post('/agents/me/logout', {
    schema: { tags: ['agents'], summary: 'Log out (not while ringing or on a call)', response: { 200: StateViewSchema, ...errorResponses(404, 409) } },
    config: { auth: CALL_TAKERS, audit: { action: 'agent.logout', resource: 'agent' } },
  }, async (req) => states.logout(principalOf(req)));

  app.get('/agents/:id', {
    schema: { tags: ['agents'], summary: 'Get an agent', params: IdParams, response: { 200: AgentSchema, ...errorResponses(404) } },
    config: { auth: STAFF },
  }, async (req) => agents.get(req.params.id, principalOf(req)));

  app.patch('/agents/:id', {
    schema: { tags: ['agents'], summary: 'Change extension, skills, languages or (de)activate', params: IdParams, body: UpdateAgentBody, response: { 200: AgentSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'agent.update', resource: 'agent' } },
  }, async (req) => agents.update(req.params.id, req.body, principalOf(req)));

  app.delete('/agents/:id', {
    schema: { tags: ['agents'], summary: 'Deactivate an agent (must be logged out)', params: IdParams, response: { 200: AgentSchema, ...errorResponses(404, 409) } },
    config: { auth: MANAGE, audit: { action: 'agent.deactivate', resource: 'agent' } },
  }, async (req) => agents.update(req.params.id, { active: false }, principalOf(req)));

  app.get('/agents/:id/state', {
    schema: { tags: ['agents'], summary: 'The agent\'s current state (own, or any for supervisors)', params: IdParams, response: { 200: StateViewSchema, ...errorResponses(404) } },
    config: { auth: STAFF },
  }, async (req) => states.get(principalOf(req), req.params.id));

  app.put('/agents/:id/state', {
    schema: { tags: ['agents'], summary: 'Change state: an agent their own, a supervisor anyone\'s; illegal moves are 409 with `allowed`', params: IdParams, body: ChangeStateBody, response: { 200: StateViewSchema, ...errorResponses(404, 409) } },
    config: { auth: { roles: ['agent', 'supervisor', 'admin'] }, audit: { action: 'agent.state.change', resource: 'agent' } },
  }, async (req) => states.changeBy(principalOf(req), req.params.id, req.body));

  app.get('/agents/:id/state-log', {
    schema: { tags: ['agents'], summary: 'State history for reporting, newest first', params: IdParams, querystring: StateLogQuery, response: { 200: Type.Object({ items: Type.Array(StateLogSchema) }), ...errorResponses(404) } },
    config: { auth: STAFF },
  }, async (req) => ({
    items: await states.history(principalOf(req), req.params.id, {
      ...(req.query.from ? { from: new Date(req.query.from) } : {}), ...(req.query.to ? { to: new Date(req.query.to) } : {}), limit: req.query.limit,
    }),
  }));
}
