// Public shapes of the fake Asterisk (ARI side). JSON shapes follow the recorded
// Asterisk 23.4.1 traces in ../shared/ari-traces.

export interface CallerId {
  name: string;
  number: string;
}

export interface DialplanCep {
  context: string;
  exten: string;
  priority: number;
  app_name: string;
  app_data: string;
}

/** ARI `Channel` JSON, fields in the order Asterisk sends them. */
export interface ChannelSnapshot {
  id: string;
  name: string;
  state: string;
  protocol_id: string;
  caller: CallerId;
  connected: CallerId;
  accountcode: string;
  dialplan: DialplanCep;
  creationtime: string;
  language: string;
  channelvars?: Record<string, string>;
}

/** ARI `Bridge` JSON, fields in the order Asterisk sends them. */
export interface BridgeSnapshot {
  id: string;
  technology: string;
  bridge_type: string;
  bridge_class: string;
  creator: string;
  name: string;
  channels: string[];
  creationtime: string;
  video_mode: string;
}

export type EndpointOutcome = 'answer' | 'busy' | 'noanswer' | 'congestion' | 'ring';

export interface EndpointBehaviour {
  /** What the device does when Asterisk dials it. */
  outcome: EndpointOutcome;
  /** For 'answer': ms between ringing and answer (default 20). */
  answerAfterMs?: number;
  /** Offline endpoints (no registered contact) cannot be dialed: originate answers 500 "Allocation failed". */
  online?: boolean;
  /** Dialplan context reported for channels of this endpoint (default: 'agents' for agent*, else 'default'). */
  context?: string;
  /** pjsip.conf `callerid` of the endpoint: the caller of channels created towards it without callerId. */
  callerName?: string;
  /** Default: the digits of the resource name. */
  callerNumber?: string;
}

/** One extension of the fake dialplan: what happens when a channel lands on it. */
export interface DialplanEntry {
  /** Stasis application the extension hands the channel to. */
  app: string;
  args: string[];
  /** Priority reported in `dialplan.priority` while in Stasis (Asterisk reports the priority it is at). */
  priority: number;
  /** Dialplan run time before Stasis is reached (e.g. Answer()+Playback(beep)); real ms. */
  delayMs?: number;
  /** Whether the dialplan answers the channel before Stasis. */
  answer?: boolean;
}

/** context -> extension (or pattern like `_X.`) -> entry */
export type Dialplan = Record<string, Record<string, DialplanEntry>>;

export interface FakeAsteriskOptions {
  port?: number;
  username?: string;
  password?: string;
  /** Entity id, sent as `asterisk_id` in every event (default '02:fc:00:00:00:01' as in the traces). */
  asteriskId?: string;
  /** ari.conf `channelvars`, e.g. ['CASE_ID']: reported in every channel snapshot. */
  channelVars?: string[];
  /** Default playback duration per media item, real ms (default 100). */
  playbackMs?: number;
  /** Per-media durations in ms, e.g. { 'sound:hello-world': 1400 }. */
  mediaDurations?: Record<string, number>;
  /**
   * Scale for durations Asterisk gets in seconds (originate timeout, record maxDurationSeconds):
   * real wait = seconds * 1000 * timeScale. Reported values stay in Asterisk seconds. Default 1.
   */
  timeScale?: number;
  /** Replaces the default dialplan (the one in ari-traces/README.md). */
  dialplan?: Dialplan;
  /** Initial endpoints; default PJSIP/trunk, PJSIP/emergency, PJSIP/agent1001, PJSIP/agent1002 answering. */
  endpoints?: Record<string, EndpointBehaviour>;
  /** http.conf `sessionlimit` (Asterisk's default is 100; the shipped http.conf has 1000). Default: no limit. */
  sessionLimit?: number;
}

export interface InboundCallOptions {
  callerNumber: string;
  callerName?: string;
  /** Dialed extension (default '12345'). */
  exten?: string;
  /** Dialplan context (default 'from-trunk'). */
  context?: string;
  /** Stasis app; default from the dialplan entry, else 'hotline'. */
  app?: string;
  /** Stasis args; default from the dialplan entry, else ['inbound']. */
  args?: string[];
  /** Calling endpoint (default 'PJSIP/trunk'). */
  endpoint?: string;
  /** Channel variables set by the dialplan before Stasis (e.g. CASE_ID). */
  vars?: Record<string, string>;
  /** SIP headers of the INVITE, readable through PJSIP_HEADER(read,Name). */
  headers?: Record<string, string>;
  /** SIP Call-ID reported as protocol_id. */
  protocolId?: string;
  /** Channel language as the dialplan set it (`Set(CHANNEL(language)=zh)`); Asterisk's default is en. */
  language?: string;
}

export interface HangupOptions {
  /** Q.850 cause; a remote BYE carries none in ChannelHangupRequest (default). */
  cause?: number;
  /** true (default): the far end hung up (BYE). false: hung up inside Asterisk (soft hangup). */
  fromRemote?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Request JSON body (null when none). */
  body: unknown;
  status: number;
  /** Response JSON (undefined for 204, binary and WebSocket upgrades). */
  response?: unknown;
}

export type AriEvent = Record<string, unknown>;
