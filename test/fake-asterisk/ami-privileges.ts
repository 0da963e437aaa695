/**
 * Which manager.conf `write` classes let a user run an AMI action, as Asterisk decides it.
 *
 * From Asterisk's source (asterisk/asterisk): main/manager.c registers each action with its
 * classes (`ast_manager_register_xml_core("Reload", EVENT_FLAG_CONFIG | EVENT_FLAG_SYSTEM, …)`,
 * `"Command", EVENT_FLAG_COMMAND`), and process_message() runs an action when
 * `session->writeperm & action->authority` is non-zero or the action has no class (Ping, Events,
 * Login, Logoff, Challenge); otherwise it answers `Response: Error` / `Message: Permission denied`.
 * res/res_pjsip/pjsip_configuration.c registers PJSIPShowEndpoints and PJSIPShowEndpoint with
 * EVENT_FLAG_SYSTEM; res/res_pjsip_outbound_registration.c registers
 * PJSIPShowRegistrationsOutbound with EVENT_FLAG_SYSTEM | EVENT_FLAG_REPORTING.
 * PJSIPShowContacts is given `system` like the other PJSIPShow* actions: its registration line
 * was not in the source we read.
 */

/** manager.conf permission names (main/manager.c `perms[]`). */
export const PERMISSION_CLASSES = [
  'system', 'call', 'log', 'verbose', 'command', 'agent', 'user', 'config', 'dtmf', 'reporting', 'cdr', 'dialplan',
  'originate', 'agi', 'cc', 'aoc', 'test', 'security', 'message',
] as const;

/** Action (lower-case) → the classes any one of which allows it; empty = needs none. */
export const ACTION_PRIVILEGES: Readonly<Record<string, readonly string[]>> = {
  ping: [], events: [], login: [], logoff: [], challenge: [], listcommands: [], waitevent: [],
  command: ['command'],
  reload: ['config', 'system'],
  moduleload: ['system'],
  modulecheck: ['system'],
  coresettings: ['system', 'reporting'],
  corestatus: ['system', 'reporting'],
  coreshowchannels: ['system', 'reporting'],
  status: ['system', 'call', 'reporting'],
  getconfig: ['system', 'config'],
  originate: ['originate'],
  hangup: ['system', 'call'],
  pjsipshowendpoints: ['system'],
  pjsipshowendpoint: ['system'],
  pjsipshowcontacts: ['system'],
  pjsipshowregistrationsoutbound: ['system', 'reporting'],
};

/** Parses a manager.conf `read`/`write` value (`all` means every class). */
export function parsePermissions(value: string): Set<string> {
  const names = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  return new Set(names.includes('all') ? PERMISSION_CLASSES : names);
}

/** Whether a user with these write classes may run `action`; unknown actions are not judged here. */
export function permits(write: ReadonlySet<string>, action: string): boolean {
  const needed = ACTION_PRIVILEGES[action.toLowerCase()];
  if (needed === undefined || needed.length === 0) return true;
  return needed.some((c) => write.has(c));
}
