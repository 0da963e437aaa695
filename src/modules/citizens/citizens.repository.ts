import { sql, type RawBuilder } from 'kysely';
import type { Executor } from '../../adapters/db/database.js';

export interface CitizenRow { id: string; phone: string; name: string | null; address: string | null; confidential: boolean }

export interface CitizenUpsert { phone: string; name?: string | undefined; address?: string | undefined; confidential?: boolean | undefined; at: Date }

export class CitizensRepository {
  /**
   * One citizen per phone number. Name and address are updated when given, kept when not;
   * confidentiality (保密) once asked for stays until the citizen withdraws it explicitly.
   */
  async upsertByPhone(db: Executor, c: CitizenUpsert): Promise<CitizenRow> {
    const { rows } = await upsertCitizen(c).execute(db);
    return rows[0]!;
  }
}

/** The upsert as one statement returning the citizen, so intake can run it as a CTE beside the ticket insert. */
export function upsertCitizen(c: CitizenUpsert): RawBuilder<CitizenRow> {
  const confidential = c.confidential ?? null;
  return sql<CitizenRow>`INSERT INTO citizens (phone, name, address, confidential, created_at, updated_at)
    VALUES (${c.phone}, ${c.name ?? null}, ${c.address ?? null}, coalesce(${confidential}::boolean, false), ${c.at}, ${c.at})
    ON CONFLICT (phone) DO UPDATE SET
      name = coalesce(excluded.name, citizens.name),
      address = coalesce(excluded.address, citizens.address),
      confidential = coalesce(${confidential}::boolean, citizens.confidential),
      updated_at = excluded.updated_at
    RETURNING id, phone, name, address, confidential`;
}
