/**
 * Attachments (photo, document, audio, video): type from the first bytes, size limit per kind,
 * stored once per content hash. Reading one is a sensitive read: staff, the uploader, or a
 * department holding a ticket it is attached to.
 */
import type { Readable } from 'node:stream';
import type { Database } from '../../adapters/db/database.js';
import type { Principal } from '../../domain/auth.js';
import type { Clock } from '../../domain/clock.js';
import { DomainError, ForbiddenError, NotFoundError } from '../../domain/errors.js';
import { SNIFF_BYTES, sniff, type AttachmentKind, type SniffedType } from './attachment-types.js';
import type { AttachmentRow, AttachmentsRepository } from './attachments.repository.js';
import type { BlobStore } from './attachments.store.js';
import type { TicketsRepository } from './tickets.repository.js';

export class AttachmentRejectedError extends DomainError {
  constructor(readonly status: 413 | 415, readonly code: string, message: string, details?: Record<string, unknown>) {
    super(message, details);
  }
}

export interface PublicAttachment { id: string; kind: AttachmentKind; mime: string; sizeBytes: number; fileName: string | null; sha256: string; deduplicated: boolean }

const STAFF = new Set(['agent', 'supervisor', 'admin']);

export class AttachmentsService {
  constructor(private readonly deps: {
    db: Database; repo: AttachmentsRepository; tickets: TicketsRepository; store: BlobStore; clock: Clock; limits: Readonly<Record<AttachmentKind, number>>;
  }) {}

  /** The largest upload any kind allows: the transport's hard cap. */
  get maxBytes(): number {
    return Math.max(...Object.values(this.deps.limits));
  }

  async upload(file: { stream: Readable; fileName: string | null; declaredMime: string | undefined; declaredKind?: AttachmentKind }, actor: Principal): Promise<PublicAttachment> {
    if (!['agent', 'supervisor', 'admin', 'dept_handler', 'integrator'].includes(actor.role)) {
      throw new ForbiddenError(`Role '${actor.role}' may not upload attachments`, 'role_forbidden');
    }
    let type: SniffedType | null = null;
    const blob = await this.deps.store.write(file.stream, (head, size) => {
      type ??= this.classify(head, file.declaredMime, file.declaredKind);
      const limit = this.deps.limits[type.kind];
      if (size > limit) throw new AttachmentRejectedError(413, 'attachment_too_large', `A ${type.kind} may be at most ${limit} bytes`, { kind: type.kind, maxBytes: limit });
    });
    if (blob.size === 0) throw new AttachmentRejectedError(415, 'attachment_empty', 'The file is empty');
    const sniffed = type ?? this.classify(blob.head, file.declaredMime, file.declaredKind);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const { row, created } = await this.deps.repo.upsert(tx, { sha256: blob.sha256, kind: sniffed.kind, mime: sniffed.mime, sizeBytes: blob.size, fileName: file.fileName, at: now });
      await this.deps.repo.recordUpload(tx, row.id, actor.id, now);
      return { ...toPublic(row), deduplicated: !created };
    });
  }

  async open(id: string, reader: Principal): Promise<{ attachment: PublicAttachment; stream: Readable }> {
    const row = await this.deps.repo.findById(this.deps.db, id);
    const access = row ? await this.access(row, reader) : 'none';
    if (!row || access === 'none') throw new NotFoundError('Attachment', id, 'attachment_not_found');
    // Through a confidential ticket a department gets the file, not its name (张三身份证.jpg).
    const attachment = { ...toPublic(row), ...(access === 'nameless' ? { fileName: null } : {}), deduplicated: false };
    return { attachment, stream: this.deps.store.open(row.sha256) };
  }

  private async access(row: AttachmentRow, reader: Principal): Promise<'full' | 'nameless' | 'none'> {
    if (STAFF.has(reader.role)) return 'full';
    if ((await this.deps.repo.uploadedBy(this.deps.db, [row.id], reader.id)).has(row.id)) return 'full';
    if (reader.role !== 'dept_handler' || !reader.departmentId) return 'none';
    let access: 'full' | 'nameless' | 'none' = 'none';
    for (const ticketId of await this.deps.repo.ticketsOf(this.deps.db, row.id)) {
      if (!(await this.deps.tickets.holdsTicket(this.deps.db, ticketId, reader.departmentId))) continue;
      if ((await this.deps.tickets.findById(this.deps.db, ticketId))?.confidential) return 'nameless';
      access = 'full';
    }
    return access;
  }

  private classify(head: Buffer, declaredMime: string | undefined, declaredKind: AttachmentKind | undefined): SniffedType {
    const t = sniff(head.subarray(0, SNIFF_BYTES), declaredMime);
    if (t === null) {
      throw new AttachmentRejectedError(415, 'attachment_type_not_allowed', 'Only photos (JPEG, PNG, GIF, WebP, HEIC), documents (PDF, Word/Excel), audio (MP3, WAV, AMR, M4A, Ogg) and video (MP4, MOV, 3GP, WebM, AVI) are accepted');
    }
    if (declaredKind !== undefined && declaredKind !== t.kind) {
      throw new AttachmentRejectedError(415, 'attachment_kind_mismatch', `The file is a ${t.kind} (${t.mime}), not a ${declaredKind}`, { detected: t.kind, mime: t.mime });
    }
    return t;
  }
}

function toPublic(r: AttachmentRow): Omit<PublicAttachment, 'deduplicated'> {
  return { id: r.id, kind: r.kind as AttachmentKind, mime: r.mime, sizeBytes: Number(r.sizeBytes), fileName: r.fileName, sha256: r.sha256 };
}
