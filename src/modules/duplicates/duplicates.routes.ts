import { Type } from 'typebox';
import { principalOf } from '../../http/auth.js';
import { errorResponses, IdParams } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import { ClusterDetailSchema, ClusterPage, ClustersQuery, RepeatsQuery, RepeatsSchema, SuggestionParams, SuggestionsSchema } from './duplicates.schemas.js';
import type { DuplicatesService } from './duplicates.service.js';

const READ = { roles: ['agent', 'supervisor', 'admin', 'dept_handler'] } as const;
const TAGS = ['duplicates'];

export async function duplicatesRoutes(app: App, opts: { duplicates: DuplicatesService }): Promise<void> {
  const { duplicates } = opts;

  app.get('/duplicates/tickets/:id/suggestions', {
    schema: { tags: TAGS, summary: 'Suggested merges for a ticket, best first, with the repeat flag (重复诉求) and its cluster', params: IdParams, response: { 200: SuggestionsSchema, ...errorResponses(404) } },
    config: { auth: READ },
  }, async (req) => duplicates.suggestions(req.params.id, principalOf(req)));

  app.post('/duplicates/tickets/:id/suggestions/:candidateId/dismiss', {
    schema: { tags: TAGS, summary: 'Not a duplicate: dismiss the suggestion', params: SuggestionParams, response: { 204: Type.Null(), ...errorResponses(404) } },
    config: { auth: { roles: ['agent', 'supervisor', 'admin'] }, audit: { action: 'duplicate.dismiss', resource: 'ticket' } },
  }, async (req, reply) => {
    await duplicates.dismiss(req.params.id, req.params.candidateId, principalOf(req));
    return reply.code(204).send(null);
  });

  app.get('/duplicates/clusters', {
    schema: { tags: TAGS, summary: 'Concentrated requests (一事多人): clusters by area with ticket and caller counts, most recent first', querystring: ClustersQuery, response: { 200: ClusterPage, ...errorResponses() } },
    config: { auth: READ },
  }, async (req) => duplicates.clusters(req.query, principalOf(req)));

  app.get('/duplicates/clusters/:id', {
    schema: { tags: TAGS, summary: 'A cluster with its tickets (a department sees only the tickets it holds)', params: IdParams, response: { 200: ClusterDetailSchema, ...errorResponses(404) } },
    config: { auth: READ },
  }, async (req) => duplicates.cluster(req.params.id, principalOf(req)));

  app.get('/duplicates/repeats', {
    schema: { tags: TAGS, summary: 'Recent repeat requests (一人多次), newest first', querystring: RepeatsQuery, response: { 200: RepeatsSchema, ...errorResponses() } },
    config: { auth: READ },
  }, async (req) => duplicates.repeats(req.query, principalOf(req)));
}
