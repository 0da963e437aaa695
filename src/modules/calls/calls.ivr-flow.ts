/**
 * The caller-facing menu (DESIGN.md step 2) as one awaitable flow over a channel's media: the
 * menu document in force, `0` for an agent from anywhere, retries on a wrong key or silence,
 * and the progress query by ticket number. It decides where the caller goes; the session acts.
 */
import type { Logger } from 'pino';
import { digitsOfTicketNumber, ticketNumberFromDigits, ticketStatusPromptId } from '../../domain/calls/progress.js';
import { noInputAction, resolveDigit, type IvrAction, type IvrMenu } from '../../domain/ivr/menu.js';
import { digitMediaUris, promptMediaUri } from '../../domain/ivr/prompts.js';
import type { TicketStatus } from '../../domain/tickets/model.js';
import type { ChannelMedia } from './calls.media.js';

export interface ProgressPort {
  progressQuery(q: { number: string; phone: string }): Promise<{ number: string; status: TicketStatus }>;
}

export type IvrOutcome =
  | { readonly kind: 'queue'; readonly queueCode: string; readonly promptId?: string | undefined }
  | { readonly kind: 'callback' };

export interface IvrFlowContext {
  readonly media: ChannelMedia;
  readonly menu: IvrMenu;
  /** The caller's number as the tickets service knows it; null when withheld. */
  readonly callerPhone: string | null;
  readonly progress: ProgressPort | undefined;
  readonly step: (s: { node: string; digit: string | null; action: string }) => Promise<void>;
  readonly progressNote: (data: Record<string, unknown>) => Promise<void>;
  readonly log: Logger;
}

const uri = promptMediaUri;
const PROGRESS_ATTEMPTS = 3;
// Ended by '#' (or a pause): a caller who keys 14 digits and then '#' leaves nothing behind.
const TICKET_ENTRY = { max: 20, terminator: '#', firstTimeoutMs: 10_000, interDigitTimeoutMs: 5000 } as const;

/** Runs the menu until the caller is routed somewhere. Throws CallGoneError when they hang up. */
export async function runMenu(ctx: IvrFlowContext): Promise<IvrOutcome> {
  const { media, menu } = ctx;
  let nodeId = menu.rootNodeId;
  let misses = 0;
  for (;;) {
    const node = menu.nodes.find((n) => n.id === nodeId);
    if (!node) return { kind: 'queue', queueCode: menu.defaultQueue };
    await media.play(node.promptIds.map(uri), { bargeIn: true });
    const digit = await media.collect({ max: 1, firstTimeoutMs: node.timeoutSeconds * 1000 });
    let action: IvrAction | null;
    if (digit === '') {
      if (++misses > node.maxRetries) action = noInputAction(menu, node.id);
      else {
        await media.play([uri('input-timeout')], { bargeIn: true });
        continue;
      }
    } else {
      action = resolveDigit(menu, node.id, digit);
      if (!action) {
        await ctx.step({ node: node.id, digit, action: 'invalid' });
        if (++misses > node.maxRetries) action = noInputAction(menu, node.id);
        else {
          media.clearKeys();
          await media.play([uri('menu-invalid')], { bargeIn: true });
          continue;
        }
      }
    }
    await ctx.step({ node: node.id, digit: digit === '' ? null : digit, action: action.action });
    switch (action.action) {
      case 'queue':
        return { kind: 'queue', queueCode: action.queue, promptId: action.promptId };
      case 'operator':
        return { kind: 'queue', queueCode: menu.defaultQueue };
      case 'callback':
        return { kind: 'callback' };
      case 'submenu':
        nodeId = action.node;
        misses = 0;
        break;
      case 'repeat':
        break;
      case 'progress_query': {
        const next = await progressQuery(ctx);
        if (next === 'agent') return { kind: 'queue', queueCode: menu.defaultQueue };
        misses = 0;
        break;
      }
    }
    media.clearKeys();
  }
}

/**
 * 请输入您的工单编号: the caller keys the 14 digits and '#', hears the status, and may repeat,
 * query another ticket or press 0 for an agent. Returns where to go next.
 */
export async function progressQuery(ctx: IvrFlowContext): Promise<'menu' | 'agent'> {
  const { media } = ctx;
  media.clearKeys();
  for (let attempt = 0; attempt < PROGRESS_ATTEMPTS; attempt++) {
    // Keys typed over the previous prompt ("not found") are the next attempt: not cleared.
    await media.play([uri('progress-enter-ticket')], { bargeIn: true });
    const keyed = await media.collect(TICKET_ENTRY);
    if (keyed === '0') return 'agent';
    const number = ticketNumberFromDigits(keyed);
    if (!ctx.progress) {
      await ctx.progressNote({ found: false, reason: 'tickets_unavailable' });
      await media.play([uri('service-unavailable')]);
      return 'menu';
    }
    let status: TicketStatus | null = null;
    if (number && ctx.callerPhone) {
      try {
        status = (await ctx.progress.progressQuery({ number, phone: ctx.callerPhone })).status;
      } catch (err) {
        if ((err as { code?: string }).code !== 'ticket_not_found') {
          ctx.log.warn({ err }, 'progress query failed');
          await ctx.progressNote({ number, found: false, reason: 'error' });
          await media.play([uri('service-unavailable')]);
          return 'menu';
        }
      }
    }
    await ctx.progressNote({ number, found: status !== null, ...(status ? { status } : {}) });
    if (!number || !status) {
      await media.play([uri('progress-not-found')], { bargeIn: true });
      continue;
    }
    for (;;) {
      media.clearKeys();
      await media.play([uri('progress-ticket-number'), ...digitMediaUris(digitsOfTicketNumber(number)), uri(ticketStatusPromptId(status)), uri('progress-more')], { bargeIn: true });
      const key = await media.collect({ max: 1, firstTimeoutMs: 8000 });
      if (key === '1') continue;
      if (key === '2') {
        media.clearKeys();
        break;
      }
      if (key === '0') return 'agent';
      return 'menu';
    }
    attempt = -1; // another ticket: a fresh set of attempts
  }
  return 'menu';
}
