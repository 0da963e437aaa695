/**
 * The telephony port: what the call layer sees of Asterisk. Services depend on these interfaces
 * only (never on ari-client), so the same call logic runs against real Asterisk, the fake
 * Asterisk, or an in-memory double.
 */
import type { Readable } from 'node:stream';
import type {
  Application, AsteriskInfo, AsteriskPing, Bridge, BridgeType, Channel, Endpoint, EventOfType, LiveRecording,
  AriEventType, NodeEvent, Playback, StoredRecording, UnknownAriEvent,
} from './models.js';

// ---------------------------------------------------------------------------------------------
// Operation parameters (camelCase, as ARI's query parameters are named)

/** Media URIs: `sound:`, `recording:`, `number:`, `digits:`, `characters:`, `tone:`. */
export type MediaUri = string;

export type HangupReason =
  | 'normal' | 'busy' | 'congestion' | 'no_answer' | 'timeout' | 'rejected' | 'unallocated'
  | 'normal_unspecified' | 'number_incomplete' | 'codec_mismatch' | 'interworking' | 'failure' | 'answered_elsewhere';

export interface HangupOptions {
  /** Textual reason (ARI `reason`); ignored when `reasonCode` is given. */
  readonly reason?: HangupReason;
  /** Q.850 cause code (ARI `reason_code`). */
  readonly reasonCode?: number;
}

export interface PlayOptions {
  readonly playbackId?: string;
  readonly lang?: string;
  readonly offsetms?: number;
  readonly skipms?: number;
}

export interface RecordOptions {
  readonly name: string;
  readonly format: string;
  readonly maxDurationSeconds?: number;
  readonly maxSilenceSeconds?: number;
  readonly ifExists?: 'fail' | 'overwrite' | 'append';
  readonly beep?: boolean;
  readonly terminateOn?: 'none' | 'any' | '*' | '#';
}

export interface SnoopOptions {
  readonly app: string;
  readonly spy?: 'none' | 'both' | 'out' | 'in';
  readonly whisper?: 'none' | 'both' | 'out' | 'in';
  readonly appArgs?: string;
  readonly snoopId?: string;
}

export interface SendDtmfOptions {
  readonly before?: number;
  readonly between?: number;
  readonly duration?: number;
  readonly after?: number;
}

export interface ContinueOptions {
  readonly context?: string;
  readonly extension?: string;
  readonly priority?: number;
  readonly label?: string;
}

export interface OriginateParams {
  readonly endpoint: string;
  /** Stasis app for the answered leg (default: the node's first app). */
  readonly app?: string;
  readonly appArgs?: string;
  readonly extension?: string;
  readonly context?: string;
  readonly priority?: number;
  readonly label?: string;
  readonly callerId?: string;
  /** Ring timeout in seconds (ARI default 30). */
  readonly timeout?: number;
  readonly channelId?: string;
  readonly otherChannelId?: string;
  readonly originator?: string;
  readonly formats?: string;
  readonly variables?: Readonly<Record<string, string>>;
}

export interface CreateChannelParams {
  readonly endpoint: string;
  readonly app?: string;
  readonly appArgs?: string;
  readonly channelId?: string;
  readonly otherChannelId?: string;
  readonly originator?: string;
  readonly formats?: string;
  readonly variables?: Readonly<Record<string, string>>;
}

export interface DialOptions {
  readonly caller?: string;
  readonly timeout?: number;
}

export interface CreateBridgeParams {
  readonly type?: BridgeType | readonly BridgeType[];
  readonly name?: string;
  readonly bridgeId?: string;
  /**
   * Set with POST /bridges/{id}/variable after creation: Asterisk 23.4.1 answers 400 to
   * `POST /bridges` with a `variables` body yet creates the bridge (body-params-check.jsonl).
   */
  readonly variables?: Readonly<Record<string, string>>;
}

export interface AddChannelOptions {
  readonly role?: string;
  readonly absorbDTMF?: boolean;
  readonly mute?: boolean;
  readonly inhibitConnectedLineUpdates?: boolean;
}

export type EventSource = `channel:${string}` | `bridge:${string}` | `endpoint:${string}` | `deviceState:${string}`;

// ---------------------------------------------------------------------------------------------
// Operations on one node

export interface ChannelOps {
  list(): Promise<Channel[]>;
  get(channelId: string): Promise<Channel>;
  originate(params: OriginateParams): Promise<Channel>;
  create(params: CreateChannelParams): Promise<Channel>;
  dial(channelId: string, options?: DialOptions): Promise<void>;
  answer(channelId: string): Promise<void>;
  ring(channelId: string): Promise<void>;
  ringStop(channelId: string): Promise<void>;
  hangup(channelId: string, options?: HangupOptions): Promise<void>;
  play(channelId: string, media: MediaUri | readonly MediaUri[], options?: PlayOptions): Promise<Playback>;
  record(channelId: string, options: RecordOptions): Promise<LiveRecording>;
  snoop(channelId: string, options: SnoopOptions): Promise<Channel>;
  sendDtmf(channelId: string, dtmf: string, options?: SendDtmfOptions): Promise<void>;
  getVariable(channelId: string, variable: string): Promise<string>;
  setVariable(channelId: string, variable: string, value: string): Promise<void>;
  continueInDialplan(channelId: string, options?: ContinueOptions): Promise<void>;
  redirect(channelId: string, endpoint: string): Promise<void>;
  hold(channelId: string): Promise<void>;
  unhold(channelId: string): Promise<void>;
  mute(channelId: string, direction?: 'both' | 'in' | 'out'): Promise<void>;
  unmute(channelId: string, direction?: 'both' | 'in' | 'out'): Promise<void>;
  startMoh(channelId: string, mohClass?: string): Promise<void>;
  stopMoh(channelId: string): Promise<void>;
}

export interface BridgeOps {
  list(): Promise<Bridge[]>;
  get(bridgeId: string): Promise<Bridge>;
  create(params?: CreateBridgeParams): Promise<Bridge>;
  destroy(bridgeId: string): Promise<void>;
  setVariable(bridgeId: string, variable: string, value: string): Promise<void>;
  getVariable(bridgeId: string, variable: string): Promise<string>;
  addChannel(bridgeId: string, channelIds: string | readonly string[], options?: AddChannelOptions): Promise<void>;
  removeChannel(bridgeId: string, channelIds: string | readonly string[]): Promise<void>;
  startMoh(bridgeId: string, mohClass?: string): Promise<void>;
  stopMoh(bridgeId: string): Promise<void>;
  play(bridgeId: string, media: MediaUri | readonly MediaUri[], options?: PlayOptions): Promise<Playback>;
  record(bridgeId: string, options: RecordOptions): Promise<LiveRecording>;
}

export interface PlaybackOps {
  get(playbackId: string): Promise<Playback>;
  stop(playbackId: string): Promise<void>;
  control(playbackId: string, operation: 'restart' | 'pause' | 'unpause' | 'reverse' | 'forward'): Promise<void>;
}

export interface RecordingOps {
  listStored(): Promise<StoredRecording[]>;
  getStored(name: string): Promise<StoredRecording>;
  /** The recorded file's bytes. */
  getStoredFile(name: string): Promise<Buffer>;
  /** The recorded file as a stream (keep-alive transport streams it; ari-client buffers first). */
  streamStoredFile(name: string): Promise<Readable>;
  deleteStored(name: string): Promise<void>;
  copyStored(name: string, destinationRecordingName: string): Promise<StoredRecording>;
  getLive(name: string): Promise<LiveRecording>;
  stopLive(name: string): Promise<void>;
  cancelLive(name: string): Promise<void>;
  pauseLive(name: string): Promise<void>;
  unpauseLive(name: string): Promise<void>;
}

export interface EndpointOps {
  list(): Promise<Endpoint[]>;
  get(tech: string, resource: string): Promise<Endpoint>;
}

export interface ApplicationOps {
  list(): Promise<Application[]>;
  get(app: string): Promise<Application>;
  subscribe(app: string, eventSource: EventSource | readonly EventSource[]): Promise<Application>;
  unsubscribe(app: string, eventSource: EventSource | readonly EventSource[]): Promise<Application>;
}

export interface AsteriskOps {
  info(): Promise<AsteriskInfo>;
  /** GET /asterisk/ping. */
  ping(): Promise<AsteriskPing>;
  getGlobalVariable(variable: string): Promise<string>;
  setGlobalVariable(variable: string, value: string): Promise<void>;
}

/** One Asterisk node: every operation goes to this node. */
export interface AriNode {
  readonly id: string;
  readonly channels: ChannelOps;
  readonly bridges: BridgeOps;
  readonly playbacks: PlaybackOps;
  readonly recordings: RecordingOps;
  readonly endpoints: EndpointOps;
  readonly applications: ApplicationOps;
  readonly asterisk: AsteriskOps;
  health(): NodeHealth;
}

// ---------------------------------------------------------------------------------------------
// Health, resync, events

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'down';

export interface NodeHealth {
  readonly nodeId: string;
  readonly state: ConnectionState;
  /** When the node entered `state` (ISO 8601). */
  readonly since: string;
  readonly lastError: string | undefined;
  /** Failed connection attempts since the last successful connect. */
  readonly attempts: number;
  readonly transport: TransportKind;
}

/**
 * What a node holds right after a (re)connect. Events are not buffered by Asterisk while the app
 * is disconnected, so the call layer diffs these against its call rows and resumes or finishes
 * each call.
 */
export interface ResyncSnapshot {
  readonly nodeId: string;
  readonly reason: 'connect' | 'reconnect';
  /**
   * Every live channel of the node (GET /channels lists them all: agent-to-agent calls, dialplan
   * legs, MOH announcers, bridge recorders…). Use it to tell whether a leg of a known call is
   * still there, e.g. a caller in the dialplan between two Stasis visits.
   */
  readonly channels: readonly Channel[];
  /**
   * The channels that are ours: in one of this node's Stasis apps (`dialplan.app_name` "Stasis",
   * `app_data` starting with the app name), or legs we originated/created/snooped that have not
   * entered Stasis yet (still ringing; known by our own ids). Only these can be orphans.
   * Both lists are corrected by the events that arrived while the listing was under way: a
   * channel destroyed or hung up meanwhile is left out, one that entered or left Stasis meanwhile
   * is counted as the event says.
   */
  readonly appChannels: readonly Channel[];
  readonly bridges: readonly Bridge[];
  /** Asterisk's startup time; `restarted` is true when it changed since the previous connect. */
  readonly startupTime: string | undefined;
  readonly restarted: boolean;
  readonly at: string;
}

export type Unsubscribe = () => void;
export type Handler<E> = (event: E) => void | Promise<void>;

export interface TelephonyEvents {
  /** Typed handler for one event type; runs serially with other events of the same channel. */
  on<T extends AriEventType>(type: T, handler: Handler<EventOfType<T>>): Unsubscribe;
  /** Every event, including types the adapter does not model. */
  onAny(handler: Handler<NodeEvent | (UnknownAriEvent & { readonly nodeId: string })>): Unsubscribe;
  /**
   * Events of one channel only. The watch ends by itself at StasisEnd or ChannelDestroyed of that
   * channel (after the handler saw it), or when a resync shows the channel gone.
   */
  watchChannel(nodeId: string, channelId: string, handler: Handler<NodeEvent>): Unsubscribe;
  onResync(handler: Handler<ResyncSnapshot>): Unsubscribe;
  onStateChange(handler: (health: NodeHealth) => void): Unsubscribe;
}

/** The port the call layer uses: all nodes, events with node ids, ops routed by node. */
export interface TelephonyPort extends TelephonyEvents {
  readonly app: string;
  nodeIds(): string[];
  node(nodeId: string): AriNode;
  /**
   * The node a live channel belongs to (learned from events and originate); undefined when
   * unknown or when several nodes use the same id (Asterisk ids are `<start epoch>.<n>`, equal on
   * nodes started in the same second unless asterisk.conf `systemname` differs). Events carry
   * `nodeId`: prefer it.
   */
  nodeOfChannel(channelId: string): string | undefined;
  /** The node owning a live channel; NotFoundError `ari_channel_unknown` when unknown or ambiguous. */
  nodeFor(channelId: string): AriNode;
  /** A connected node for a new outbound leg, spreading load round-robin. */
  pickNode(): AriNode;
  health(): NodeHealth[];
  /** Round-trip to every node (GET /asterisk/ping); ms per node, or the error message. */
  ping(): Promise<Record<string, { ok: true; ms: number } | { ok: false; error: string }>>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Configuration

export type TransportKind = 'keepalive' | 'ari-client';

export interface AriNodeSettings {
  readonly id: string;
  /** Base URL without `/ari`, e.g. http://127.0.0.1:8088. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** Stasis apps this node's socket registers (default: the global `app`). */
  readonly apps?: readonly string[];
}

export interface BackoffSettings {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  /** 0..1: share of each delay that is randomised. */
  readonly jitter: number;
}

export interface AriSettings {
  readonly nodes: readonly AriNodeSettings[];
  readonly app: string;
  /** Deadline for every REST request (default 5000). */
  readonly requestTimeoutMs?: number;
  readonly transport?: TransportKind;
  readonly backoff?: Partial<BackoffSettings>;
  /** Sockets per node for the keep-alive transport (default 64). */
  readonly maxSockets?: number;
  /** Keep-alive transport: close a socket unused this long (default 10 s; keep it below http.conf session_keep_alive, 15 s). */
  readonly idleSocketMs?: number;
  /** WebSocket ping interval; a missing pong within it closes the socket (default 10000). */
  readonly heartbeatMs?: number;
  /** After this long without a connection the node reports `down` (still retrying; default 30000). */
  readonly downAfterMs?: number;
}
