/** Schemas shared by every route: problem details, ids, pagination. */
import { Type, type TSchema } from 'typebox';

export const ProblemSchema = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  instance: Type.String(),
  code: Type.String({ description: 'Stable machine-readable error code' }),
  requestId: Type.String(),
}, { additionalProperties: true, $id: 'Problem', description: 'RFC 9457 problem details' });

export const Uuid = Type.String({ format: 'uuid' });
export const IdParams = Type.Object({ id: Uuid });
export const Limit = Type.Integer({ minimum: 1, maximum: 200, default: 50 });

/** The error responses a protected route can give, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of [400, 401, 403, ...statuses]) out[s] = Type.Ref('Problem');
  return out;
}
