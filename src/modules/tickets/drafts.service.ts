/**
 * Draft tickets of calls: the agent writes the request into the draft the call carries (title,
 * content, classification, caller details) and then accepts it (or answers it directly, 直办)
 * with the ordinary lifecycle actions. A draft nobody touched is cancelled when its call ends.
 */
import type { Database } from '../../adapters/db/database.js';
import type { Principal } from '../../domain/auth.js';
import { requireRole } from '../../domain/auth.js';
import type { Clock } from '../../domain/clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import type { CategoriesService } from '../categories/categories.service.js';
import { DRAFT_CONTENT, DRAFT_TITLE } from './intake.service.js';
import { indexDocument } from './search.js';
import type { DraftPatch, TicketsRepository } from './tickets.repository.js';
import { SYSTEM_PRINCIPAL, type TicketsService } from './tickets.service.js';
import type { TicketView } from './tickets.view.js';

export interface DraftEdit extends DraftPatch {
  caller?: { name?: string | null; address?: string | null; confidential?: boolean };
  expectedVersion?: number;
}

const CALL_FLOW = Object.freeze({ ...SYSTEM_PRINCIPAL, id: 'call-flow', name: 'call flow' });

export class DraftsService {
  constructor(
    private readonly db: Database,
    private readonly repo: TicketsRepository,
    private readonly tickets: TicketsService,
    private readonly categories: CategoriesService,
    private readonly clock: Clock,
  ) {}

  async edit(id: string, e: DraftEdit, actor: Principal): Promise<TicketView> {
    requireRole(actor, ['agent', 'supervisor', 'admin']);
    const { caller, expectedVersion, ...patch } = e;
    if (patch.title !== undefined && patch.title.trim() === '') throw new ValidationError('A title cannot be blank', { field: 'title' }, 'validation_failed');
    if (patch.content !== undefined && patch.content.trim() === '') throw new ValidationError('The content cannot be blank', { field: 'content' }, 'validation_failed');
    if (patch.categoryId) await this.categories.requireActive(patch.categoryId);
    await this.db.transaction().execute(async (tx) => {
      const row = await this.repo.lockById(tx, id);
      if (!row) throw new NotFoundError('Ticket', id, 'ticket_not_found');
      if (row.status !== 'draft') throw new ConflictError(`The ticket is ${row.status}; only drafts are edited this way`, 'not_a_draft', { status: row.status });
      if (expectedVersion !== undefined && expectedVersion !== row.version) throw new ConflictError('The draft changed meanwhile', 'version_conflict', { version: row.version });
      const title = (patch.title ?? row.title).trim();
      const content = (patch.content ?? row.content).trim();
      const search = patch.title !== undefined || patch.content !== undefined ? indexDocument(title, content) : undefined;
      const cleaned: DraftPatch = { ...patch, ...(patch.title !== undefined ? { title } : {}), ...(patch.content !== undefined ? { content } : {}) };
      if (!(await this.repo.editDraft(tx, id, row.version, cleaned, search, this.clock.now()))) throw new ConflictError('The draft changed meanwhile', 'version_conflict');
      if (caller) await this.repo.editDraftCaller(tx, id, caller);
    });
    return this.tickets.get(id, actor);
  }

  /** The call ended: its draft, if still as it was made (nobody edited it), is cancelled. */
  async callEnded(callId: string): Promise<boolean> {
    const row = await this.repo.draftOfCall(this.db, callId);
    if (!row || row.status !== 'draft' || row.title !== DRAFT_TITLE || row.content !== DRAFT_CONTENT) return false;
    await this.tickets.applyAction(row.id, { type: 'cancel', reason: '来电未形成诉求，草稿作废' }, CALL_FLOW, { expectedVersion: row.version });
    return true;
  }
}
