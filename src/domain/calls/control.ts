/**
 * Desktop call control (DESIGN.md step 6): which commands an agent may give in which state of
 * their call, so that a refused command says why and what is possible instead. Pure.
 */
import { ConflictError, ValidationError } from '../errors.js';
import type { CallState } from './states.js';

export const CALL_COMMANDS = ['answer', 'hold', 'unhold', 'transfer', 'consult', 'conference', 'cancel_consult', 'hangup'] as const;
export type CallCommand = (typeof CALL_COMMANDS)[number];

export const CALL_COMMAND_LABELS: Readonly<Record<CallCommand, string>> = {
  answer: '接听', hold: '保持', unhold: '取消保持', transfer: '转接', consult: '咨询', conference: '三方通话', cancel_consult: '结束咨询', hangup: '挂机',
};

/** A consultation with an expert seat or a department while the caller holds (三方通话 once joined). */
export const CONSULT_STATES = ['none', 'dialing', 'talking', 'conference'] as const;
export type ConsultState = (typeof CONSULT_STATES)[number];

export interface ControlView {
  readonly call: CallState;
  /** The caller is on hold (music in the holding bridge). */
  readonly held: boolean;
  readonly consult: ConsultState;
  /** The offer waits for the agent's answer on the desktop (auto-answer phones). */
  readonly awaitingAnswer: boolean;
}

export function allowedCommands(v: ControlView): CallCommand[] {
  if (v.call === 'offering') return v.awaitingAnswer ? ['answer', 'hangup'] : [];
  if (v.call !== 'connected') return [];
  switch (v.consult) {
    case 'none':
      return v.held ? ['unhold', 'transfer', 'consult', 'hangup'] : ['hold', 'transfer', 'consult', 'hangup'];
    case 'dialing':
      return ['cancel_consult', 'hangup'];
    case 'talking':
      return ['conference', 'cancel_consult', 'hangup'];
    case 'conference':
      return ['cancel_consult', 'hangup'];
  }
}

export function assertCommand(v: ControlView, command: string): CallCommand {
  if (!(CALL_COMMANDS as readonly string[]).includes(command)) {
    throw new ValidationError(`Unknown call command '${command}'`, { allowed: [...CALL_COMMANDS] }, 'unknown_call_command');
  }
  const allowed = allowedCommands(v);
  if (!allowed.includes(command as CallCommand)) {
    const why = v.call !== 'connected' && v.call !== 'offering' ? `the call is ${v.call}`
      : v.call === 'offering' ? 'the agent phone is ringing'
        : v.consult !== 'none' ? `a consultation is ${v.consult}` : v.held ? 'the caller is on hold' : 'the caller is not on hold';
    throw new ConflictError(`Cannot ${command} now: ${why}`, 'call_command_refused', { command, state: v.call, held: v.held, consult: v.consult, allowed });
  }
  return command as CallCommand;
}

/** Where a transfer or a consultation goes. */
export type ControlTarget =
  | { readonly kind: 'queue'; readonly queueId: string }
  | { readonly kind: 'agent'; readonly extension: string }
  | { readonly kind: 'number'; readonly number: string; readonly label?: string };

/** Linkage platforms and utilities reachable as partner lines (the dialplan maps them to SIP lines or the trunk). */
export const PARTNER_LINES = { '110': '公安', '119': '消防', '120': '急救', '122': '交警' } as const;
