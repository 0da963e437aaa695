import { Type } from 'typebox';
import { Uuid } from '../../http/schemas.js';

export const DepartmentLevelSchema = Type.Enum(['province', 'city', 'district', 'street', 'community'] as const, { description: '省 / 市 / 区县 / 街道乡镇 / 社区网格' });
export const DepartmentKindSchema = Type.Enum(['government', 'partner'] as const, { description: 'partner = water, power, gas, heat, telecom units' });
export const PartnerKindSchema = Type.Enum(['water', 'power', 'gas', 'heat', 'telecom'] as const, { description: '供水 / 供电 / 燃气 / 供热 / 通信' });
const Code = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' });
const AreaCode = Type.String({ pattern: '^[0-9]{2,12}$', description: 'Administrative division code (GB/T 2260 + township + village), 2–12 digits' });

export const DepartmentSchema = Type.Object({
  id: Uuid,
  parentId: Type.Union([Uuid, Type.Null()]),
  code: Type.String(),
  name: Type.String(),
  kind: DepartmentKindSchema,
  partnerKind: Type.Union([PartnerKindSchema, Type.Null()]),
  level: DepartmentLevelSchema,
  description: Type.Union([Type.String(), Type.Null()]),
  active: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});

export const CreateDepartmentBody = Type.Object({
  parentId: Type.Optional(Type.Union([Uuid, Type.Null()])),
  code: Code,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  kind: Type.Optional(DepartmentKindSchema),
  partnerKind: Type.Optional(PartnerKindSchema),
  level: DepartmentLevelSchema,
  description: Type.Optional(Type.String({ maxLength: 2000 })),
}, { additionalProperties: false });

export const UpdateDepartmentBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  parentId: Type.Optional(Type.Union([Uuid, Type.Null()])),
  partnerKind: Type.Optional(PartnerKindSchema),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  active: Type.Optional(Type.Boolean({ description: 'false deactivates (no new dispatches); use DELETE for the same' })),
}, { additionalProperties: false });

export const ListDepartmentsQuery = Type.Object({
  parentId: Type.Optional(Uuid),
  kind: Type.Optional(DepartmentKindSchema),
  partnerKind: Type.Optional(PartnerKindSchema),
  active: Type.Optional(Type.Boolean()),
  after: Type.Optional(Type.String({ maxLength: 64, description: 'Keyset cursor: the last code of the previous page' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
}, { additionalProperties: false });

export const DepartmentPage = Type.Object({ items: Type.Array(DepartmentSchema), next: Type.Union([Type.String(), Type.Null()]) });
export const SubtreeSchema = Type.Object({ items: Type.Array(Type.Intersect([DepartmentSchema, Type.Object({ depth: Type.Integer() })])), truncated: Type.Boolean() });

export const FunctionSchema = Type.Object({ id: Uuid, departmentId: Uuid, code: Type.String(), name: Type.String(), categoryId: Type.Union([Uuid, Type.Null()]) });
export const CreateFunctionBody = Type.Object({ code: Code, name: Type.String({ minLength: 1, maxLength: 200 }), categoryId: Type.Optional(Uuid) }, { additionalProperties: false });
export const FunctionParams = Type.Object({ id: Uuid, functionId: Uuid });

export const AreaSchema = Type.Object({ departmentId: Uuid, areaCode: Type.String(), areaName: Type.String() });
export const PutAreaBody = Type.Object({ areaName: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export const AreaParams = Type.Object({ id: Uuid, areaCode: AreaCode });

export const CandidatesQuery = Type.Object({
  areaCode: Type.Optional(AreaCode),
  function: Type.Optional(Code),
  categoryId: Type.Optional(Uuid),
  kind: Type.Optional(DepartmentKindSchema),
  limit: Type.Integer({ minimum: 1, maximum: 50, default: 10 }),
}, { additionalProperties: false });
export const CandidateSchema = Type.Object({ department: DepartmentSchema, matchedAreaCode: Type.Union([Type.String(), Type.Null()]), functionCodes: Type.Array(Type.String()) });
