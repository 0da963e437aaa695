/** What the desktop module offers other modules, and what it needs from call control. */
import type { Executor } from '../../adapters/db/database.js';
import type { Principal } from '../../domain/auth.js';
import type { StoredDesktopMessage } from './desktop.service.js';

export type { StoredDesktopMessage } from './desktop.service.js';

export interface CallControlPort {
  /** Runs a desktop command for the principal (agent or supervisor); throws a DomainError (code + message) when refused. Result is sent back as the command's reply. */
  command(principal: Principal, command: { type: string; [k: string]: unknown }): Promise<Record<string, unknown>>;
  /** The agent's current call for a snapshot (offer ringing / connected / held / wrap-up), or null. */
  currentCall(agentId: string): Promise<Record<string, unknown> | null>;
}

export type DesktopExports = {
  /** Store a message for an agent's desktops in the caller's transaction or db (sequence + outbox event for other instances). */
  readonly record: (db: Executor, agentId: string, type: string, payload: Record<string, unknown>) => Promise<StoredDesktopMessage>;
  /** After commit: push to this instance's sockets of that agent now (the NATS copy is deduped by seq). */
  readonly deliver: (msg: StoredDesktopMessage) => void;
  /** The calls module registers how desktop commands are executed and what a snapshot's current call is. */
  readonly setCallControl: (port: CallControlPort) => void;
};
