import { Type, type TSchema } from 'typebox';
import { Uuid } from '../../http/schemas.js';
import { SCOPE_DOMAINS, URGENCY_LEVELS } from '../../domain/tickets/index.js';

export const ScopeDomainSchema = Type.Enum(SCOPE_DOMAINS, { description: '经济调节 / 市场监管 / 社会管理 / 公共服务 / 生态环境保护' });
export const UrgencySchema = Type.Enum(URGENCY_LEVELS, { description: '一般 / 紧急 / 特急' });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const CategorySchema = Type.Object({
  id: Uuid,
  parentId: Nullable(Uuid),
  code: Type.String(),
  name: Type.String(),
  scopeDomain: Nullable(ScopeDomainSchema),
  scopeDomainLabel: Nullable(Type.String()),
  defaultUrgency: Nullable(UrgencySchema),
  defaultUrgencyLabel: Nullable(Type.String()),
  sortOrder: Type.Integer(),
  active: Type.Boolean(),
});


export const CreateCategoryBody = Type.Object({
  parentId: Type.Optional(Nullable(Uuid)),
  code: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  scopeDomain: Type.Optional(ScopeDomainSchema),
  defaultUrgency: Type.Optional(UrgencySchema),
  sortOrder: Type.Optional(Type.Integer({ minimum: -100000, maximum: 100000 })),
}, { additionalProperties: false });

export const UpdateCategoryBody = Type.Object({
  parentId: Type.Optional(Nullable(Uuid)),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  scopeDomain: Type.Optional(Nullable(ScopeDomainSchema)),
  defaultUrgency: Type.Optional(Nullable(UrgencySchema)),
  sortOrder: Type.Optional(Type.Integer({ minimum: -100000, maximum: 100000 })),
  active: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

export const ListCategoriesQuery = Type.Object({
  parentId: Type.Optional(Uuid),
  includeInactive: Type.Optional(Type.Boolean()),
  after: Type.Optional(Type.String({ maxLength: 64, description: 'Keyset cursor: the last code of the previous page' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
}, { additionalProperties: false });
