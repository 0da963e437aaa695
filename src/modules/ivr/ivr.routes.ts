import { Type, type Static } from 'typebox';
import type { IvrMenu } from '../../domain/ivr/menu.js';
import { principalOf } from '../../http/auth.js';
import { errorResponses } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import {
  MenuVersionSchema, MenuVersionSummarySchema, PromptSchema, PublishMenuBody, ValidateMenuBody, ValidationResultSchema, VersionParams, VersionsQuery,
} from './ivr.schemas.js';
import type { MenuDocumentSchema } from './ivr.schemas.js';
import type { IvrService, MenuVersion } from './ivr.service.js';

// The domain's menu type is read-only; the response schema's static type is its mutable twin.
const out = (v: MenuVersion) => ({ ...v, document: v.document as unknown as Static<typeof MenuDocumentSchema> });

const MANAGE = { roles: ['operator', 'admin'] } as const;
const READ = { roles: ['supervisor', 'operator', 'admin'] } as const;

export async function ivrRoutes(app: App, opts: { ivr: IvrService }): Promise<void> {
  const { ivr } = opts;

  app.get('/ivr/menu', {
    schema: { tags: ['ivr'], summary: 'The IVR menu in force', response: { 200: MenuVersionSchema, ...errorResponses(404) } },
    config: { auth: READ },
  }, async (req) => out(await ivr.current(principalOf(req))));

  app.put('/ivr/menu', {
    schema: { tags: ['ivr'], summary: 'Publish a new version of the IVR menu (validated: keys, targets, reachability, depth ≤ 2, prompts)', body: PublishMenuBody, response: { 200: MenuVersionSchema, ...errorResponses(409) } },
    config: { auth: MANAGE, audit: { action: 'ivr.menu.publish', resource: 'ivr_menu' } },
  }, async (req) => out(await ivr.publish(req.body.document as IvrMenu, {
    ...(req.body.note ? { note: req.body.note } : {}), ...(req.body.baseVersion !== undefined ? { baseVersion: req.body.baseVersion } : {}),
  }, principalOf(req))));

  app.post('/ivr/menu/validate', {
    schema: { tags: ['ivr'], summary: 'Check a menu document without publishing it', body: ValidateMenuBody, response: { 200: ValidationResultSchema, ...errorResponses() } },
    config: { auth: MANAGE, audit: { action: 'ivr.menu.validate', resource: 'ivr_menu' } },
  }, async (req) => {
    const problems = await ivr.check(req.body.document as IvrMenu, principalOf(req));
    return { valid: problems.length === 0, problems };
  });

  app.get('/ivr/menu/versions', {
    schema: { tags: ['ivr'], summary: 'Published versions, newest first', querystring: VersionsQuery, response: { 200: Type.Object({ items: Type.Array(MenuVersionSummarySchema) }), ...errorResponses() } },
    config: { auth: READ },
  }, async (req) => ({ items: await ivr.versions(req.query.limit, principalOf(req)) }));

  app.get('/ivr/menu/versions/:version', {
    schema: { tags: ['ivr'], summary: 'One published version', params: VersionParams, response: { 200: MenuVersionSchema, ...errorResponses(404) } },
    config: { auth: READ },
  }, async (req) => out(await ivr.version(req.params.version, principalOf(req))));

  app.get('/ivr/prompts', {
    schema: { tags: ['ivr'], summary: 'Prompt ids a menu can use (prompts/prompts.json)', response: { 200: Type.Object({ items: Type.Array(PromptSchema) }), ...errorResponses() } },
    config: { auth: READ },
  }, async (req) => ({ items: ivr.promptList(principalOf(req)) }));
}
