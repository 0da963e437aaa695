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
  checkAcceptance, type EmergencyHint, type EmergencyService, type ExclusionHint, type IntakeChannel, type NotAcceptedReason,
  type RequestType, type ScopeDomain, type Urgency,
} from '../../domain/tickets/index.js';
import type { CategoriesService } from '../categories/categories.service.js';
import type { CitizensRepository } from '../citizens/citizens.repository.js';
import { normalizePhone } from '../citizens/phone.js';
import type { IdempotencyRepository } from './idempotency.repository.js';
import { indexDocument } from './search.js';
import type { TicketsRepository } from './tickets.repository.js';
import type { TicketsService } from './tickets.service.js';
import type { TicketView } from './tickets.view.js';
import { hashVerificationCode, newVerificationCode } from './verification.js';

/** A retry after this long is a new request (keys are pruned after it). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000;

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
  readonly citizens: CitizensRepository;
  readonly idempotency: IdempotencyRepository;
  readonly categories: CategoriesService;
  readonly clock: Clock;
}

export class IntakeService {
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
    if (input.categoryId) await this.deps.categories.requireActive(input.categoryId);
    if (idempotencyKey === undefined) {
      const body = await this.deps.db.transaction().execute((tx) => this.create(tx, input, actor));
      return { status: 201, body, replayed: false };
    }
    const requestHash = createHash('sha256').update(canonicalJson(input)).digest('hex');
    return this.deps.db.transaction().execute(async (tx) => {
      await this.deps.idempotency.lock(tx, actor.id, idempotencyKey);
      const now = this.deps.clock.now();
      await this.deps.idempotency.deleteIfOlder(tx, actor.id, idempotencyKey, new Date(now.getTime() - IDEMPOTENCY_TTL_MS));
      const existing = await this.deps.idempotency.find(tx, actor.id, idempotencyKey);
      if (existing) {
        if (existing.requestHash !== requestHash) {
          throw new UnprocessableError('This Idempotency-Key was used for a different request; use a new key for a new submission', 'idempotency_key_reused');
        }
        return { status: existing.responseStatus, body: existing.responseBody as IntakeResult, replayed: true };
      }
      const body = await this.create(tx, input, actor);
      await this.deps.idempotency.insert(tx, {
        principalId: actor.id, key: idempotencyKey, scope: 'ticket.intake', requestHash, responseStatus: 201, responseBody: body, resourceId: body.ticket.id, createdAt: now,
      });
      return { status: 201, body, replayed: false };
    });
  }

  private validate(input: IntakeInput): void {
    if (input.channel === 'phone') {
      if (!input.callId) throw new ValidationError('A phone ticket is bound to its call: send callId', { field: 'callId' }, 'call_id_required');
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

  private async create(tx: Tx, input: IntakeInput, actor: Principal): Promise<IntakeResult> {
    const now = this.deps.clock.now();
    const citizen = await this.deps.citizens.upsertByPhone(tx, {
      phone: normalizePhone(input.caller.phone, 'caller.phone'), name: input.caller.name, address: input.caller.address, confidential: input.caller.confidential, at: now,
    });
    const code = newVerificationCode();
    const number = await this.deps.repo.nextNumber(tx, localDay(now));
    const id = randomUUID();
    const channelMeta = Object.fromEntries(Object.entries(input.channelMeta ?? {}).filter(([, v]) => v !== undefined));
    let row = await this.deps.repo.insert(tx, {
      id, number, channel: input.channel, channelMeta, callId: input.callId ?? null, type: input.type, scopeDomain: input.scopeDomain ?? null,
      categoryId: input.categoryId ?? null, urgency: input.urgency ?? 'normal', title: input.title.trim(), content: input.content.trim(),
      address: input.address ?? null, areaCode: input.areaCode ?? null, citizenId: citizen.id,
      // 保密 for this request when asked now, or when the citizen asked for it before.
      confidential: input.caller.confidential ?? citizen.confidential,
      verificationCodeHash: hashVerificationCode(id, code), createdByType: actor.kind, createdById: actor.id, createdAt: now,
      search: indexDocument(input.title, input.content),
    });
    await this.deps.repo.linkCaller(tx, row.id, citizen.id, 'primary', null, now);
    if (input.attachmentIds?.length) await this.deps.tickets.linkAttachmentsInTx(tx, row.id, input.attachmentIds, actor, null, now);

    const decision = checkAcceptance({
      content: `${input.title} ${input.content}`,
      ...(input.acceptance?.findings ? { findings: input.acceptance.findings } : {}),
      ...(input.acceptance?.inJurisdiction !== undefined ? { inJurisdiction: input.acceptance.inJurisdiction } : {}),
      ...(input.acceptance?.transferTo ? { transferTo: input.acceptance.transferTo } : {}),
    });
    // Integrations submit; hotline staff review and accept (受理审查). Staff decide at once.
    if (actor.role !== 'integrator') {
      const note = input.acceptance?.note;
      if (!decision.accepted) {
        row = await this.deps.tickets.transitionInTx(tx, row, { type: 'not_accept', reason: decision.reason, ...(note ? { note } : {}) }, actor, now, { notAcceptedReply: decision.reply });
      } else if (input.directAnswer !== undefined) {
        row = await this.deps.tickets.transitionInTx(tx, row, { type: 'direct_answer', content: input.directAnswer }, actor, now);
      } else {
        row = await this.deps.tickets.transitionInTx(tx, row, { type: 'accept', requestType: input.type, urgency: input.urgency ?? 'normal' }, actor, now);
      }
    }
    const ticket = await this.deps.tickets.getInTx(tx, row.id, actor);
    const acceptance: IntakeResult['acceptance'] = decision.accepted
      ? { accepted: true, emergencyHints: [...decision.emergencyHints], exclusionHints: [...decision.exclusionHints] }
      : { accepted: false, reason: decision.reason, label: decision.label, reply: decision.reply, reasons: [...decision.reasons], transferTo: [...decision.transferTo], emergencyHints: [...decision.emergencyHints] };
    return { ticket, acceptance, verificationCode: code };
  }

}

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
