/**
 * The contract between the shipped Asterisk configuration (dialplans/, sip/, docker/asterisk/) and
 * the service: Stasis app name and arguments, dialplan contexts, channel variables, case headers
 * and dial strings. The dialplan and the service both follow this file, and
 * test/unit/asterisk-config.test.ts checks the .conf files against it, so a rename on either side
 * fails a test instead of failing calls.
 */
import { ValidationError } from '../errors.js';

/** The ARI application every call is handed to (`Stasis(hotline,…)`, `GET /ari/events?app=hotline`). */
export const STASIS_APP = 'hotline';

/** First Stasis argument: why the channel entered the app. */
export const STASIS_ARGS = {
  /** A citizen dialled 12345 (or an alias) over a carrier trunk: `[from-trunk]`. */
  inbound: 'inbound',
  /** The channel came back after `continueInDialplan` to `after-stasis` (post-call survey, returned calls). */
  returned: 'returned',
  /** A 110/119/120/122 platform or a utility transferred a call in, with case headers. */
  transferIn: 'transfer-in',
  /** An agent leg originated by the ACD (`POST /channels`, `appArgs: agent`), as in the traces. */
  agent: 'agent',
  /** A callback or transfer-out leg originated through `Local/<number>@hotline-outbound/n`. */
  outbound: 'outbound',
  /** An agent phone dialled a feature code; the second argument names the feature. */
  feature: 'feature',
} as const;
export type StasisArg = (typeof STASIS_ARGS)[keyof typeof STASIS_ARGS];

/** Dialplan contexts in dialplans/extensions.conf that the service relies on. */
export const DIALPLAN_CONTEXTS = {
  trunk: 'from-trunk',
  emergency: 'from-emergency',
  partner: 'from-partner',
  agents: 'agents',
  outbound: 'hotline-outbound',
} as const;
export type DialplanContext = (typeof DIALPLAN_CONTEXTS)[keyof typeof DIALPLAN_CONTEXTS];

/** The public number; `[from-trunk]` has it as a literal extension. */
export const HOTLINE_NUMBER = '12345';

/** Re-entry extension present in every inbound context (see `[hotline-return]`). */
export const AFTER_STASIS_EXTENSION = 'after-stasis';

/** Arguments for ARI `POST /channels/{id}/continue` that bring a channel back as `returned`. */
export function afterStasisTarget(context: DialplanContext): { context: string; extension: string; priority: number } {
  return { context, extension: AFTER_STASIS_EXTENSION, priority: 1 };
}

/**
 * Channel variables the dialplan sets and ARI reports in `channel.channelvars` on every event
 * (ari.conf `channelvars`). Values are empty strings when unset, as in the traces.
 */
export const CHANNEL_VARIABLES = {
  caseId: 'CASE_ID',
  caseType: 'CASE_TYPE',
  originCentre: 'ORIGIN_CENTRE',
  callerLocation: 'CALLER_LOCATION',
  originalCaller: 'ORIGINAL_CALLER',
  /** Set by the partner endpoint's `set_var` in pjsip.conf: which partner line the call came from. */
  partnerLine: 'PARTNER_LINE',
  /** `emergency` or `utility`, set by the transfer-in context. */
  transferKind: 'TRANSFER_KIND',
  /** The number the carrier delivered (12345, 075512345, +8675512345, or an extra DID). */
  dialedNumber: 'DIALED_NUMBER',
} as const;
export type ChannelVariable = (typeof CHANNEL_VARIABLES)[keyof typeof CHANNEL_VARIABLES];

/** Exactly the list ari.conf `channelvars` must contain. */
export const ARI_CHANNEL_VARS: readonly ChannelVariable[] = Object.values(CHANNEL_VARIABLES);

export const TRANSFER_KINDS = ['emergency', 'utility'] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];

export interface CaseHeaderRule {
  /** SIP header a partner platform sends on transfer-in (and we send on transfer-out). */
  readonly header: string;
  readonly variable: ChannelVariable;
  /** The FILTER() character set used in the dialplan, verbatim (`\-` is a literal hyphen). */
  readonly dialplanFilter: string;
  readonly maxLength: number;
  /** The same rule for the service side: a value the service accepts or sends must match it. */
  readonly pattern: RegExp;
}

/**
 * Case headers: untrusted input from partner platforms, so the dialplan keeps only these
 * characters and caps the length before anything else sees them.
 */
export const CASE_HEADERS: readonly CaseHeaderRule[] = [
  { header: 'X-Case-Id', variable: 'CASE_ID', dialplanFilter: 'A-Za-z0-9\\-_.', maxLength: 64, pattern: /^[A-Za-z0-9._-]{1,64}$/ },
  { header: 'X-Case-Type', variable: 'CASE_TYPE', dialplanFilter: 'A-Za-z0-9\\-_', maxLength: 32, pattern: /^[A-Za-z0-9_-]{1,32}$/ },
  { header: 'X-Origin-Centre', variable: 'ORIGIN_CENTRE', dialplanFilter: 'A-Za-z0-9\\-_.', maxLength: 64, pattern: /^[A-Za-z0-9._-]{1,64}$/ },
  // A grid / administrative-division code or "lat/lng" in WGS-84 decimal degrees (no commas).
  { header: 'X-Caller-Location', variable: 'CALLER_LOCATION', dialplanFilter: 'A-Za-z0-9.:/+\\-_', maxLength: 64, pattern: /^[A-Za-z0-9.:/+_-]{1,64}$/ },
  { header: 'X-Caller-Number', variable: 'ORIGINAL_CALLER', dialplanFilter: '0-9+', maxLength: 20, pattern: /^\+?[0-9]{3,19}$/ },
];

/** Agent phones are PJSIP endpoints named `agent<extension>` (`PJSIP/agent1001` in the traces). */
export const AGENT_ENDPOINT_PREFIX = 'agent';
const AGENT_EXTENSION = /^1[0-9]{3}$/;

export function isAgentExtension(extension: string): boolean {
  return AGENT_EXTENSION.test(extension);
}

/** ARI endpoint for originating to an agent's phone. */
export function agentEndpoint(extension: string): string {
  if (!isAgentExtension(extension)) {
    throw new ValidationError(`Agent extension must be 4 digits starting with 1, got '${extension}'`, { extension }, 'invalid_agent_extension');
  }
  return `PJSIP/${AGENT_ENDPOINT_PREFIX}${extension}`;
}

/**
 * The agent extension of a channel on an agent's phone (`PJSIP/agent1001-00000002` → `1001`),
 * from the endpoint Asterisk authenticated; undefined for any other channel.
 */
export function agentExtensionOfChannel(channelName: string): string | undefined {
  const m = /^PJSIP\/agent(1[0-9]{3})-[0-9a-f]+$/.exec(channelName);
  return m?.[1];
}

/** Carrier trunk endpoint name in sip/pjsip.conf (globals OUTBOUND_TRUNK points at it). */
export const DEFAULT_TRUNK_ENDPOINT = 'trunk';

const DIALABLE = /^\+?[0-9]{3,15}$/;

/**
 * ARI endpoint for a callback or a transfer out. Going through the `hotline-outbound` context
 * (not straight to the trunk) means the dialplan's allow-list is enforced even if the service
 * is wrong; `/n` keeps the Local pair from optimising away while the service still holds it.
 * Only digits pass, so nothing can be smuggled into the dial string.
 */
export function outboundEndpoint(number: string): string {
  if (!DIALABLE.test(number)) {
    throw new ValidationError('A number to dial must be 3-15 digits with an optional leading +', undefined, 'invalid_dial_number');
  }
  return `Local/${number}@${DIALPLAN_CONTEXTS.outbound}/n`;
}

/** Agent feature codes dialled from a phone; each lands in `Stasis(hotline,feature,<name>)`. */
export const AGENT_FEATURE_CODES = {
  '*11': 'login',
  '*12': 'logout',
  '*21': 'ready',
  '*22': 'not-ready',
} as const;
export type AgentFeature = (typeof AGENT_FEATURE_CODES)[keyof typeof AGENT_FEATURE_CODES];
const AGENT_FEATURES: ReadonlySet<string> = new Set(Object.values(AGENT_FEATURE_CODES));

/** Echo test for agents checking their headset; pure dialplan, never reaches the service. */
export const ECHO_TEST_CODE = '*60';

export type StasisEntry =
  | { kind: 'inbound' }
  | { kind: 'returned' }
  | { kind: 'transfer-in' }
  | { kind: 'agent' }
  | { kind: 'outbound' }
  | { kind: 'feature'; feature: AgentFeature };

/** Interprets `StasisStart.args`. Unknown entries are refused rather than guessed at. */
export function parseStasisArgs(args: readonly string[]): StasisEntry {
  const [first, second] = args;
  switch (first) {
    case STASIS_ARGS.inbound:
      return { kind: 'inbound' };
    case STASIS_ARGS.returned:
      return { kind: 'returned' };
    case STASIS_ARGS.transferIn:
      return { kind: 'transfer-in' };
    case STASIS_ARGS.agent:
      return { kind: 'agent' };
    case STASIS_ARGS.outbound:
      return { kind: 'outbound' };
    case STASIS_ARGS.feature:
      if (second !== undefined && AGENT_FEATURES.has(second)) return { kind: 'feature', feature: second as AgentFeature };
      throw new ValidationError(`Unknown agent feature '${String(second)}'`, { args: [...args] }, 'unknown_stasis_entry');
    default:
      throw new ValidationError(`Unknown Stasis entry '${String(first)}'`, { args: [...args] }, 'unknown_stasis_entry');
  }
}

/**
 * Variables the service sets on an outbound originate so the dialplan can add case headers for
 * the receiving platform. Local channels copy their variables to the ;2 half that runs
 * `[hotline-outbound]`, which passes them to the pre-dial handler.
 */
export const OUTBOUND_HEADER_VARIABLES: readonly ChannelVariable[] = ['CASE_ID', 'CASE_TYPE', 'ORIGIN_CENTRE'];
