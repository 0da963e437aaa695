import { sql } from 'kysely';
import type { Executor } from '../../adapters/db/database.js';

export interface CitizenRow { id: string; phone: string; name: string | null; address: string | null; confidential: boolean }

export class CitizensRepository {
  /**
   * One citizen per phone number. Name and address are updated when given, kept when not;
   * confidentiality (保密) once asked for stays until the citizen withdraws it explicitly.
   */
  async upsertByPhone(db: Executor, c: { phone: string; name?: string | undefined; address?: string | undefined; confidential?: boolean | undefined; at: Date }): Promise<CitizenRow> {
    return db.insertInto('citizens')
      .values({ phone: c.phone, name: c.name ?? null, address: c.address ?? null, confidential: c.confidential ?? false, createdAt: c.at, updatedAt: c.at })
      .onConflict((oc) => oc.column('phone').doUpdateSet({
        name: sql<string | null>`coalesce(excluded.name, citizens.name)`,
        address: sql<string | null>`coalesce(excluded.address, citizens.address)`,
        confidential: c.confidential === undefined ? sql<boolean>`citizens.confidential` : c.confidential,
        updatedAt: c.at,
      }))
      .returning(['id', 'phone', 'name', 'address', 'confidential'])
      .executeTakeFirstOrThrow();
  }
}
