import { Type } from 'typebox';
import { Uuid } from '../../http/schemas.js';

export const Code = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$', description: 'Stable identifier used in configuration, e.g. YIBAO' });
export const Name = Type.String({ minLength: 1, maxLength: 100 });

export const SkillSchema = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String({ description: '普通话, 粤语, English, 企业服务, 医保, 公积金 …' }),
  description: Type.Union([Type.String(), Type.Null()]),
  active: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const CreateSkillBody = Type.Object({
  code: Code,
  name: Name,
  description: Type.Optional(Type.String({ maxLength: 500 })),
}, { additionalProperties: false });

export const UpdateSkillBody = Type.Object({
  name: Type.Optional(Name),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
  active: Type.Optional(Type.Boolean({ description: 'false deactivates; refused while an active queue requires the skill' })),
}, { additionalProperties: false });

export const ListSkillsQuery = Type.Object({
  active: Type.Optional(Type.Boolean()),
  after: Type.Optional(Type.String({ maxLength: 64, description: 'Keyset cursor: the last code of the previous page' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 100 }),
}, { additionalProperties: false });

export const SkillPage = Type.Object({ items: Type.Array(SkillSchema), next: Type.Union([Type.String(), Type.Null()]) });
