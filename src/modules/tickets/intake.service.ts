/**
 * Intake (受理) on every channel of GB/T 44189 6.2.1. The ticket, its caller, attachments, the
 * acceptance decision and the first transition are one transaction; with an Idempotency-Key the
 * stored first response is returned to every retry, concurrent ones included.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Database, Tx } from '../../adapters/db/database.js';
import type { Principal } from '../../domain/auth.js';
import type { Clock } from '../../domain/clock.js';
import { DomainError, ForbiddenError, ValidationError } from '../../domain/errors.js';
import {
  checkAcceptance, isCallId, type EmergencyHint, type EmergencyService, type ExclusionHint, type IntakeChannel, type NotAcceptedReason,
  type RequestType, type ScopeDomain, type TicketAction, type Urgency,
} from '../../domain/tickets/index.js';
import type { CategoriesService } from '../categories/categories.service.js';
import { normalizePhone } from '../citizens/phone.js';
import type { IdempotencyRepository } from './idempotency.repository.js';
import { indexDocument } from './search.js';
import type { TicketsRepository } from './tickets.repository.js';
import type { TicketsService } from './tickets.service.js';
import { attachmentRef, callerView, ticketView, type TicketView } from './tickets.view.js';
import { hashVerificationCode, newVerificationCode } from './verification.js';

/** A retry after this long is a new request (keys are pruned after it). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000;
const DAY_MS = 86_400_000;
/** PostgreSQL undefined_table: the day's number sequence is missing. */
const UNDEFINED_TABLE = '42P01';


/** The metadata field each online channel must carry to trace the submission back. */
export const CHANNEL_REFERENCE: Readonly<Record<Exclude<IntakeChannel, 'phone'>, string>> = {
  sms: 'messageId',
  mailbox: 'messageId',
  website: 'submissionId',
  mobile_app: 'submissionId',
  mini_program: 'openId',
  official_account: 'openId',
};

export interface IntakeInput {
  channel: IntakeChannel;
  callId?: string;
  channelMeta?: Record<string, string | undefined>;
  type: RequestType;
  scopeDomain?: ScopeDomain;
  categoryId?: string;
  urgency?: Urgency;
  title: string;
  content: string;
  address?: string;
  areaCode?: string;
  caller: { phone: string; name?: string; address?: string; confidential?: boolean };
  attachmentIds?: string[];
  acceptance?: { findings?: NotAcceptedReason[]; inJurisdiction?: boolean; transferTo?: EmergencyService[]; note?: string };
  /** 直办: the agent answered on the call; the ticket is closed at once. */
  directAnswer?: string;
}

export interface IntakeResult {
  ticket: TicketView;
  acceptance:
    | { accepted: true; emergencyHints: EmergencyHint[]; exclusionHints: ExclusionHint[] }
    | { accepted: false; reason: NotAcceptedReason; label: string; reply: string; reasons: NotAcceptedReason[]; transferTo: EmergencyService[]; emergencyHints: EmergencyHint[] };
  /** Told to the caller once, for the progress self-query; never retrievable again. */
  verificationCode: string;
}

export class UnprocessableError extends DomainError {
  readonly status = 422;
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

export interface IntakeDeps {
  readonly db: Database;
  readonly tickets: TicketsService;
  readonly repo: TicketsRepository;
  readonly idempotency: IdempotencyRepository;
  readonly categories: CategoriesService;
  readonly clock: Clock;
}

/** What intake decided beyond the input: the category's defaults where the input had none. */
interface Classified { readonly urgency: Urgency; readonly scopeDomain: ScopeDomain | null }

export class IntakeService {
  /** The local day whose number sequences (today's and tomorrow's) are known to exist. */
  private preparedDay: string | undefined;

  constructor(private readonly deps: IntakeDeps) {}

  /** 201 with the result, or the stored response of the first request under the same key. */
  async submit(input: IntakeInput, actor: Principal, idempotencyKey: string | undefined): Promise<{ status: number; body: IntakeResult; replayed: boolean }> {
    if (!['agent', 'supervisor', 'admin', 'integrator'].includes(actor.role)) {
      throw new ForbiddenError(`Role '${actor.role}' may not submit tickets`, 'role_forbidden');
    }
    if (actor.kind === 'api_key' && idempotencyKey === undefined) {
      throw new ValidationError('Integrations must send an Idempotency-Key header so that a retry never makes a second ticket', { header: 'Idempotency-Key' }, 'idempotency_key_required');
    }
    this.validate(input);
    // The category's defaults apply where the agent left the field out (GB/T 44189 7.1.2 分类处置).
    const category = input.categoryId ? await this.deps.categories.requireActive(input.categoryId) : null;
    const classified: Classified = {
      urgency: input.urgency ?? category?.defaultUrgency ?? 'normal',
      scopeDomain: input.scopeDomain ?? category?.scopeDomain ?? null,
    };
    const attempt = async (): Promise<{ status: number; body: IntakeResult; replayed: boolean }> => {
      const now = this.deps.clock.now();
      await this.prepareNumbers(now);
      if (idempotencyKey === undefined) {
        const body = await this.deps.db.transaction().execute((tx) => this.create(tx, input, classified, actor, now));
        return { status: 201, body, replayed: false };
      }
      const requestHash = createHash('sha256').update(canonicalJson(input)).digest('hex');
      return this.deps.db.transaction().execute(async (tx) => {
        await this.deps.idempotency.lock(tx, actor.id, idempotencyKey);
        await this.deps.idempotency.deleteIfOlder(tx, actor.id, idempotencyKey, new Date(now.getTime() - IDEMPOTENCY_TTL_MS));
        const existing = await this.deps.idempotency.find(tx, actor.id, idempotencyKey);
        if (existing) {
          if (existing.requestHash !== requestHash) {
            throw new UnprocessableError('This Idempotency-Key was used for a different request; use a new key for a new submission', 'idempotency_key_reused');
          }
          return { status: existing.responseStatus, body: existing.responseBody as IntakeResult, replayed: true };
        }
        const body = await this.create(tx, input, classified, actor, now);
        await this.deps.idempotency.insert(tx, {
          principalId: actor.id, key: idempotencyKey, scope: 'ticket.intake', requestHash, responseStatus: 201, responseBody: body, resourceId: body.ticket.id, createdAt: now,
        });
        return { status: 201, body, replayed: false };
      });
    };
    try {
      return await attempt();
    } catch (err) {
      // The day's number sequence vanished under us (restored database, pruned by a skewed clock): make it again, once.
      if ((err as { code?: unknown }).code !== UNDEFINED_TABLE) throw err;
      this.preparedDay = undefined;
      return attempt();
    }
  }

  /** Today's and tomorrow's number sequences exist: checked once per day, outside any transaction. */
  private async prepareNumbers(now: Date): Promise<void> {
    const day = localDay(now);
    if (this.preparedDay === day) return;
    await this.deps.repo.prepareNumbers(this.deps.db, [day, localDay(new Date(now.getTime() + DAY_MS))]);
    this.preparedDay = day;
  }

  private validate(input: IntakeInput): void {
    if (input.channel === 'phone') {
      if (!input.callId) throw new ValidationError('A phone ticket is bound to its call: send callId', { field: 'callId' }, 'call_id_required');
      if (!isCallId(input.callId)) {
        throw new ValidationError('callId must be a call id (a UUID or an Asterisk id such as 1700000000.123)', { field: 'callId' }, 'call_id_invalid');
      }
    } else {
      if (input.callId) throw new ValidationError('callId is only for phone tickets', { field: 'callId' }, 'call_id_not_phone');
      const field = CHANNEL_REFERENCE[input.channel];
      if (!input.channelMeta?.[field]) {
        throw new ValidationError(`A ${input.channel} ticket carries channelMeta.${field}`, { field: `channelMeta.${field}` }, 'channel_meta_required');
      }
    }
    if (input.directAnswer !== undefined && input.acceptance?.findings?.length) {
      throw new ValidationError('A request that is not accepted cannot be answered directly', { field: 'directAnswer' }, 'direct_answer_not_accepted');
    }
    normalizePhone(input.caller.phone, 'caller.phone');
  }

  /**
   * The draft a call carries from its offer (电话工单草稿): bound to the call, waiting for the agent
   * to fill it in and accept it. Null when the caller's number is withheld. One per call at a time.
   */
  async draftForCall(c: { callId: string; phone: string; firstOffer?: boolean }, agent: Principal): Promise<{ id: string; number: string; created: boolean } | null> {
    // On a call's first offer there is rarely a draft yet: try to make it and let the unique
    // index say when there was one (saves a read on the screen-pop's path).
    if (!c.firstOffer) {
      const existing = await this.deps.repo.draftOfCall(this.deps.db, c.callId);
      if (existing) return { id: existing.id, number: existing.number, created: false };
    }
    let phone: string;
    try {
      phone = normalizePhone(c.phone);
    } catch {
      return null;
    }
    const now = this.deps.clock.now();
    await this.prepareNumbers(now);
    const input: IntakeInput = { channel: 'phone', callId: c.callId, type: 'consultation', title: DRAFT_TITLE, content: DRAFT_CONTENT, caller: { phone } };
    try {
      const r = await this.deps.db.transaction().execute((tx) => this.create(tx, input, { urgency: 'normal', scopeDomain: null }, agent, now, { draft: true }));
      return { id: r.ticket.id, number: r.ticket.number, created: true };
    } catch (err) {
      // Two offers of one call raced: the other made the draft.
      if ((err as { code?: string; constraint?: string }).constraint !== 'tickets_call_draft_key') throw err;
      const made = await this.deps.repo.draftOfCall(this.deps.db, c.callId);
      return made ? { id: made.id, number: made.number, created: false } : null;
    }
  }

  private async create(tx: Tx, input: IntakeInput, classified: Classified, actor: Principal, now: Date, opts: { draft?: boolean } = {}): Promise<IntakeResult> {
    const code = newVerificationCode();
    const id = randomUUID();
    const channelMeta = Object.fromEntries(Object.entries(input.channelMeta ?? {}).filter(([, v]) => v !== undefined));
    const decision = checkAcceptance({
      content: `${input.title} ${input.content}`,
      ...(input.acceptance?.findings ? { findings: input.acceptance.findings } : {}),
      ...(input.acceptance?.inJurisdiction !== undefined ? { inJurisdiction: input.acceptance.inJurisdiction } : {}),
      ...(input.acceptance?.transferTo ? { transferTo: input.acceptance.transferTo } : {}),
    });
    // Integrations submit; hotline staff review and accept (受理审查). Staff decide at once.
    const note = input.acceptance?.note;
    const action: TicketAction | null = actor.role === 'integrator' || opts.draft ? null
      : !decision.accepted ? { type: 'not_accept', reason: decision.reason, ...(note ? { note } : {}) }
      : input.directAnswer !== undefined ? { type: 'direct_answer', content: input.directAnswer }
      : { type: 'accept', requestType: input.type, urgency: classified.urgency };
    const { row, citizen } = await this.deps.tickets.createInTx(tx, {
      id, numberDay: localDay(now), channel: input.channel, channelMeta, callId: input.callId ?? null, type: input.type, scopeDomain: classified.scopeDomain,
      categoryId: input.categoryId ?? null, urgency: classified.urgency, title: input.title.trim(), content: input.content.trim(),
      address: input.address ?? null, areaCode: input.areaCode ?? null,
      verificationCodeHash: hashVerificationCode(id, code), createdByType: actor.kind, createdById: actor.id, createdAt: now,
      search: indexDocument(input.title, input.content),
    }, {
      // 保密 for this request when asked now, or when the citizen asked for it before (the ticket takes the citizen's flag).
      phone: normalizePhone(input.caller.phone, 'caller.phone'), name: input.caller.name, address: input.caller.address, confidential: input.caller.confidential, at: now,
    }, action, actor, now, decision.accepted ? {} : { notAcceptedReply: decision.reply });
    // A phone ticket taken on one of our calls is bound to it (several tickets per call are fine).
    if (input.channel === 'phone' && input.callId && UUID.test(input.callId)) await this.deps.repo.bindCall(tx, input.callId, row.id, actor.id);
    const attachments = input.attachmentIds?.length ? await this.deps.tickets.linkAttachmentsInTx(tx, row.id, input.attachmentIds, actor, null, now) : [];
    // The creator may see what it created: the view is built from what was just written, without reading it back.
    const ticket = ticketView(row, callerView(actor, row.confidential, citizen, 'full'), actor);
    ticket.attachments = attachments.map((a) => attachmentRef(a)).sort((a, b) => (a.id < b.id ? -1 : 1));
    const acceptance: IntakeResult['acceptance'] = decision.accepted
      ? { accepted: true, emergencyHints: [...decision.emergencyHints], exclusionHints: [...decision.exclusionHints] }
      : { accepted: false, reason: decision.reason, label: decision.label, reply: decision.reply, reasons: [...decision.reasons], transferTo: [...decision.transferTo], emergencyHints: [...decision.emergencyHints] };
    return { ticket, acceptance, verificationCode: code };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What a draft says until the agent writes the request down. */
export const DRAFT_TITLE = '来电诉求（待填写）';
export const DRAFT_CONTENT = '通话中，诉求内容待座席记录。';

/** The hotline's local calendar day (Beijing time), for ticket numbers. */
export function localDay(at: Date): string {
  return new Date(at.getTime() + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

/** JSON with sorted keys, so the same request always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
