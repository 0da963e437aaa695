import { Type } from 'typebox';
import { IVR_ACTIONS } from '../../domain/ivr/menu.js';

// Loose shapes: src/domain/ivr/menu.ts names each mistake (key, target, depth, prompt) with its own code.
const ActionSchema = Type.Object({
  action: Type.String({ maxLength: 32, description: IVR_ACTIONS.join(' | ') }),
  queue: Type.Optional(Type.String({ maxLength: 64, description: 'Queue code, for action queue' })),
  node: Type.Optional(Type.String({ maxLength: 64, description: 'Node id, for action submenu' })),
  promptId: Type.Optional(Type.String({ maxLength: 64, description: 'Played before queueing, e.g. connecting-business' })),
}, { additionalProperties: false });

const NodeSchema = Type.Object({
  id: Type.String({ maxLength: 64 }),
  promptIds: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20, description: 'Prompt ids from prompts/prompts.json, played in order' }),
  timeoutSeconds: Type.Integer({ minimum: -1000, maximum: 1000 }),
  maxRetries: Type.Integer({ minimum: -1000, maximum: 1000 }),
  options: Type.Record(Type.String({ maxLength: 8 }), ActionSchema, { description: 'Key (0-9, *, #) → action; 0 always reaches an agent' }),
  noInput: Type.Optional(ActionSchema),
}, { additionalProperties: false });

export const MenuDocumentSchema = Type.Object({
  rootNodeId: Type.String({ maxLength: 64 }),
  defaultQueue: Type.String({ maxLength: 64, description: 'Queue code for no input and for 0' }),
  nodes: Type.Array(NodeSchema, { maxItems: 100 }),
}, { additionalProperties: false });

export const PublishMenuBody = Type.Object({
  document: MenuDocumentSchema,
  note: Type.Optional(Type.String({ maxLength: 500 })),
  baseVersion: Type.Optional(Type.Integer({ minimum: 0, description: 'Refuse (409 ivr_menu_version_conflict) unless this version is in force; 0 = none yet' })),
}, { additionalProperties: false });

export const ValidateMenuBody = Type.Object({ document: MenuDocumentSchema }, { additionalProperties: false });

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
export const MenuVersionSummarySchema = Type.Object({
  version: Type.Integer(),
  note: Nullable(Type.String()),
  createdBy: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
});
export const MenuVersionSchema = Type.Object({
  version: Type.Integer(),
  document: MenuDocumentSchema,
  note: Nullable(Type.String()),
  createdBy: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
});

export const ValidationResultSchema = Type.Object({
  valid: Type.Boolean(),
  problems: Type.Array(Type.Object({ code: Type.String(), path: Type.String(), message: Type.String() })),
});

export const VersionParams = Type.Object({ version: Type.Integer({ minimum: 1 }) });
export const VersionsQuery = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) }, { additionalProperties: false });
export const PromptSchema = Type.Object({ id: Type.String(), purpose: Type.String(), zh: Type.String(), en: Type.String() });
