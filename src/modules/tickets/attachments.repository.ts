import { sql } from 'kysely';
import type { Executor } from '../../adapters/db/database.js';

export interface AttachmentRow { id: string; sha256: string; kind: string; mime: string; sizeBytes: string | number; fileName: string | null; createdAt: Date }

const COLUMNS = ['id', 'sha256', 'kind', 'mime', 'sizeBytes', 'fileName', 'createdAt'] as const;

export class AttachmentsRepository {
  /** One row per content; a second upload of the same bytes returns the first row. */
  async upsert(db: Executor, a: { sha256: string; kind: string; mime: string; sizeBytes: number; fileName: string | null; at: Date }): Promise<{ row: AttachmentRow; created: boolean }> {
    const inserted = await db.insertInto('attachments').values({ sha256: a.sha256, kind: a.kind, mime: a.mime, sizeBytes: a.sizeBytes, fileName: a.fileName, createdAt: a.at })
      .onConflict((oc) => oc.column('sha256').doNothing()).returning(COLUMNS).executeTakeFirst();
    if (inserted) return { row: inserted, created: true };
    return { row: await db.selectFrom('attachments').select(COLUMNS).where('sha256', '=', a.sha256).executeTakeFirstOrThrow(), created: false };
  }

  async recordUpload(db: Executor, attachmentId: string, principalId: string, at: Date): Promise<void> {
    await db.insertInto('attachmentUploads').values({ attachmentId, principalId, uploadedAt: at }).onConflict((oc) => oc.columns(['attachmentId', 'principalId']).doNothing()).execute();
  }

  async findById(db: Executor, id: string): Promise<AttachmentRow | undefined> {
    return db.selectFrom('attachments').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  }

  async findByIds(db: Executor, ids: readonly string[]): Promise<AttachmentRow[]> {
    if (ids.length === 0) return [];
    return db.selectFrom('attachments').select(COLUMNS).where('id', 'in', ids).execute();
  }

  async uploadedBy(db: Executor, ids: readonly string[], principalId: string): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await db.selectFrom('attachmentUploads').select('attachmentId').where('attachmentId', 'in', ids).where('principalId', '=', principalId).execute();
    return new Set(rows.map((r) => r.attachmentId));
  }

  async ticketsOf(db: Executor, attachmentId: string): Promise<string[]> {
    return (await db.selectFrom('ticketAttachments').select('ticketId').where('attachmentId', '=', attachmentId).execute()).map((r) => r.ticketId);
  }

  async link(db: Executor, ticketId: string, ids: readonly string[], by: string, transitionId: string | null, at: Date): Promise<void> {
    if (ids.length === 0) return;
    await db.insertInto('ticketAttachments').values(ids.map((attachmentId) => ({ ticketId, attachmentId, transitionId, linkedBy: by, linkedAt: at })))
      .onConflict((oc) => oc.columns(['ticketId', 'attachmentId']).doNothing()).execute();
  }

  async ofTicket(db: Executor, ticketId: string): Promise<(AttachmentRow & { transitionId: string | null })[]> {
    return db.selectFrom('ticketAttachments as ta').innerJoin('attachments as a', 'a.id', 'ta.attachmentId')
      .select(['a.id', 'a.sha256', 'a.kind', 'a.mime', 'a.sizeBytes', 'a.fileName', 'a.createdAt', 'ta.transitionId'])
      .where('ta.ticketId', '=', ticketId).orderBy('ta.linkedAt').orderBy(sql`a.id`).execute();
  }
}
