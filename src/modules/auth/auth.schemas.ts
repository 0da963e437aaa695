import { Type } from 'typebox';
import { API_KEY_ROLES, USER_ROLES } from '../../domain/auth.js';
import { Uuid } from '../../http/schemas.js';

export const Username = Type.String({ pattern: '^[A-Za-z0-9._-]{3,64}$', description: '3-64 letters, digits, dot, underscore or dash' });
export const UserRoleSchema = Type.Enum(USER_ROLES);
export const ApiKeyRoleSchema = Type.Enum(API_KEY_ROLES);

export const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
}, { additionalProperties: false });

export const UserSchema = Type.Object({
  id: Uuid,
  username: Type.String(),
  displayName: Type.String(),
  role: UserRoleSchema,
  departmentId: Type.Union([Uuid, Type.Null()]),
  centreId: Type.String(),
  active: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});

export const LoginResponse = Type.Object({
  token: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresAt: Type.String({ format: 'date-time' }),
  user: UserSchema,
});

export const MeResponse = Type.Object({
  kind: Type.Union([Type.Literal('user'), Type.Literal('api_key')]),
  id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  departmentId: Type.Union([Type.String(), Type.Null()]),
  centreId: Type.String(),
});

export const CreateUserBody = Type.Object({
  username: Username,
  displayName: Type.String({ minLength: 1, maxLength: 100 }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
  role: UserRoleSchema,
  departmentId: Type.Optional(Type.Union([Uuid, Type.Null()])),
}, { additionalProperties: false });

export const UpdateUserBody = Type.Object({
  displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  role: Type.Optional(UserRoleSchema),
  departmentId: Type.Optional(Type.Union([Uuid, Type.Null()])),
  active: Type.Optional(Type.Boolean()),
}, { additionalProperties: false, minProperties: 1 });

export const ListUsersQuery = Type.Object({
  role: Type.Optional(UserRoleSchema),
  departmentId: Type.Optional(Uuid),
  after: Type.Optional(Type.String({ maxLength: 64, description: 'Keyset cursor: the last username of the previous page' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
}, { additionalProperties: false });

export const ApiKeySchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  prefix: Type.String(),
  role: ApiKeyRoleSchema,
  departmentId: Type.Union([Uuid, Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

export const CreateApiKeyBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  role: ApiKeyRoleSchema,
  departmentId: Type.Optional(Type.Union([Uuid, Type.Null()])),
  expiresAt: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
}, { additionalProperties: false });

export const CreatedApiKey = Type.Object({
  key: Type.String({ description: 'The secret: shown once, store it now' }),
  apiKey: ApiKeySchema,
});
