import { Type } from 'typebox';
import { Uuid } from '../../http/schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const DuplicateReasonSchema = Type.Enum(['same_caller', 'same_address', 'similar_content'] as const, {
  description: 'same_caller: 一人多次 with a related subject; same_address: same place, similar subject; similar_content: nearly the same matter',
});

export const SuggestionSchema = Type.Object({
  candidate: Type.Object({ id: Uuid, number: Type.String(), title: Type.String(), status: Type.String(), createdAt: DateTime }),
  score: Type.Number({ description: '0.7 content + 0.2 address + 0.1 same caller' }),
  contentSimilarity: Type.Number(),
  addressSimilarity: Nullable(Type.Number()),
  sameCaller: Type.Boolean(),
  reasons: Type.Array(DuplicateReasonSchema),
  status: Type.Enum(['open', 'merged', 'dismissed'] as const),
});

export const SuggestionsSchema = Type.Object({
  ticketId: Uuid,
  analyzedAt: Nullable(DateTime),
  repeat: Type.Object({
    isRepeat: Type.Boolean({ description: '重复诉求: the same caller asked about a related matter within the window' }),
    repeatOf: Nullable(Uuid),
    repeatCount: Type.Integer(),
  }),
  clusterId: Nullable(Uuid),
  items: Type.Array(SuggestionSchema),
});

export const SuggestionParams = Type.Object({ id: Uuid, candidateId: Uuid });

export const ClusterSchema = Type.Object({
  id: Uuid,
  areaCode: Type.String(),
  title: Type.String({ description: 'Subject of the first request' }),
  keywords: Type.Array(Type.String()),
  ticketCount: Type.Integer(),
  callerCount: Type.Integer({ description: 'Distinct callers' }),
  firstSeenAt: DateTime,
  lastSeenAt: DateTime,
});

export const ClusterDetailSchema = Type.Intersect([ClusterSchema, Type.Object({
  tickets: Type.Array(Type.Object({ id: Uuid, number: Type.String(), title: Type.String(), status: Type.String(), createdAt: DateTime })),
})]);

export const ClustersQuery = Type.Object({
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Clusters active since; default: the cluster period' })),
  minCallers: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  areaCode: Type.Optional(Type.String({ pattern: '^[0-9]{2,12}$', description: 'Area or any of its parents (prefix)' })),
  after: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
}, { additionalProperties: false });

export const ClusterPage = Type.Object({ items: Type.Array(ClusterSchema), next: Nullable(Type.String()) });

export const RepeatsQuery = Type.Object({
  since: Type.Optional(Type.String({ format: 'date-time' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
}, { additionalProperties: false });

export const RepeatsSchema = Type.Object({
  items: Type.Array(Type.Object({ ticketId: Uuid, number: Type.String(), title: Type.String(), repeatOf: Nullable(Uuid), repeatCount: Type.Integer(), analyzedAt: DateTime })),
});
