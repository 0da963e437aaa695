/**
 * ARI resource models and events as Asterisk sends them (snake_case JSON, ARI 11 / Asterisk 23).
 * Shapes follow the recorded traces in ../shared/ari-traces and Asterisk's ARI reference; fields
 * that only some versions or situations send are optional.
 */

/** A documented set of values that Asterisk may extend; keeps autocompletion. */
type OpenString = string & Record<never, never>;

export interface CallerId {
  readonly name: string;
  readonly number: string;
}

export interface DialplanCep {
  readonly context: string;
  readonly exten: string;
  readonly priority: number;
  readonly app_name?: string;
  readonly app_data?: string;
}

export type ChannelState =
  | 'Down' | 'Rsrvd' | 'OffHook' | 'Dialing' | 'Ring' | 'Ringing' | 'Up' | 'Busy' | 'Dialing Offhook' | 'Pre-ring' | 'Unknown';

export interface Channel {
  readonly id: string;
  readonly name: string;
  readonly state: ChannelState;
  readonly protocol_id?: string;
  readonly caller: CallerId;
  readonly connected: CallerId;
  readonly accountcode: string;
  readonly dialplan: DialplanCep;
  readonly creationtime: string;
  readonly language: string;
  /** Only the variables listed in ari.conf `channelvars` (e.g. CASE_ID). */
  readonly channelvars?: Readonly<Record<string, string>>;
}

export type BridgeType = 'mixing' | 'holding' | 'dtmf_events' | 'proxy_media' | 'video_sfu' | 'video_single';

export interface Bridge {
  readonly id: string;
  readonly technology: string;
  readonly bridge_type: string;
  readonly bridge_class: string;
  readonly creator: string;
  readonly name: string;
  readonly channels: readonly string[];
  readonly creationtime?: string;
  readonly video_mode?: string;
  readonly video_source_id?: string;
}

export interface Playback {
  readonly id: string;
  readonly media_uri: string;
  readonly next_media_uri?: string;
  /** `channel:<id>` or `bridge:<id>`. */
  readonly target_uri: string;
  readonly language?: string;
  readonly state: 'queued' | 'playing' | 'continuing' | 'done' | 'failed' | OpenString;
}

export interface LiveRecording {
  readonly name: string;
  readonly format: string;
  /** `channel:<id>` or `bridge:<id>`. */
  readonly target_uri: string;
  readonly state: 'queued' | 'recording' | 'paused' | 'done' | 'failed' | 'canceled' | OpenString;
  readonly duration?: number;
  readonly talking_duration?: number;
  readonly silence_duration?: number;
  readonly cause?: string;
}

export interface StoredRecording {
  readonly name: string;
  readonly format: string;
}

export interface Endpoint {
  readonly technology: string;
  readonly resource: string;
  readonly state?: 'unknown' | 'offline' | 'online' | OpenString;
  readonly channel_ids: readonly string[];
}

export interface Application {
  readonly name: string;
  readonly channel_ids: readonly string[];
  readonly bridge_ids: readonly string[];
  readonly endpoint_ids: readonly string[];
  readonly device_names: readonly string[];
  readonly events_allowed?: readonly unknown[];
  readonly events_disallowed?: readonly unknown[];
}

export interface AsteriskInfo {
  readonly build?: Readonly<Record<string, unknown>>;
  readonly system?: { readonly version?: string; readonly entity_id?: string };
  readonly config?: Readonly<Record<string, unknown>>;
  /** `startup_time` changes when Asterisk restarts. */
  readonly status?: { readonly startup_time?: string; readonly last_reload_time?: string };
}

export interface AsteriskPing {
  readonly asterisk_id: string;
  readonly ping: string;
  readonly timestamp: string;
}

// ---------------------------------------------------------------------------------------------
// Events

interface EventBase {
  readonly timestamp: string;
  readonly asterisk_id?: string;
  readonly application: string;
}

export interface StasisStartEvent extends EventBase {
  readonly type: 'StasisStart';
  readonly args: readonly string[];
  readonly channel: Channel;
  readonly replace_channel?: Channel;
}
export interface StasisEndEvent extends EventBase {
  readonly type: 'StasisEnd';
  readonly channel: Channel;
}
export interface ChannelStateChangeEvent extends EventBase {
  readonly type: 'ChannelStateChange';
  readonly channel: Channel;
}
export interface ChannelDtmfReceivedEvent extends EventBase {
  readonly type: 'ChannelDtmfReceived';
  readonly digit: string;
  readonly duration_ms: number;
  readonly channel: Channel;
}
/** No `cause` when the caller sent BYE (hold.jsonl); `cause`/`tech_cause` on failed legs. */
export interface ChannelHangupRequestEvent extends EventBase {
  readonly type: 'ChannelHangupRequest';
  readonly cause?: number;
  readonly tech_cause?: number;
  readonly soft?: boolean;
  readonly channel: Channel;
}
/** A failed originated leg reports only this: cause 17/tech 486 busy, 19/480 no answer. */
export interface ChannelDestroyedEvent extends EventBase {
  readonly type: 'ChannelDestroyed';
  readonly cause: number;
  readonly cause_txt: string;
  readonly tech_cause?: number;
  readonly channel: Channel;
}
export interface ChannelEnteredBridgeEvent extends EventBase {
  readonly type: 'ChannelEnteredBridge';
  readonly bridge: Bridge;
  readonly channel: Channel;
}
export interface ChannelLeftBridgeEvent extends EventBase {
  readonly type: 'ChannelLeftBridge';
  readonly bridge: Bridge;
  readonly channel: Channel;
}
export interface ChannelVarsetEvent extends EventBase {
  readonly type: 'ChannelVarset';
  readonly variable: string;
  readonly value: string;
  /** Absent for global variables. */
  readonly channel?: Channel;
}
export interface ChannelCallerIdEvent extends EventBase {
  readonly type: 'ChannelCallerId';
  readonly caller_presentation: number;
  readonly caller_presentation_txt: string;
  readonly channel: Channel;
}
export interface ChannelConnectedLineEvent extends EventBase {
  readonly type: 'ChannelConnectedLine';
  readonly channel: Channel;
}
export interface ChannelDialplanEvent extends EventBase {
  readonly type: 'ChannelDialplan';
  readonly dialplan_app: string;
  readonly dialplan_app_data: string;
  readonly channel: Channel;
}
export interface ChannelHoldEvent extends EventBase {
  readonly type: 'ChannelHold';
  readonly musicclass?: string;
  readonly channel: Channel;
}
export interface ChannelUnholdEvent extends EventBase {
  readonly type: 'ChannelUnhold';
  readonly channel: Channel;
}
export interface ChannelTalkingStartedEvent extends EventBase {
  readonly type: 'ChannelTalkingStarted';
  readonly channel: Channel;
}
export interface ChannelTalkingFinishedEvent extends EventBase {
  readonly type: 'ChannelTalkingFinished';
  readonly duration: number;
  readonly channel: Channel;
}
export interface ChannelUsereventEvent extends EventBase {
  readonly type: 'ChannelUserevent';
  readonly eventname: string;
  readonly userevent: Readonly<Record<string, unknown>>;
  readonly channel?: Channel;
  readonly bridge?: Bridge;
  readonly endpoint?: Endpoint;
}
/** Dial progress; `peer` is the dialed channel, `caller` the dialing one when there is one. */
export interface DialEvent extends EventBase {
  readonly type: 'Dial';
  readonly dialstatus: string;
  readonly dialstring?: string;
  readonly forward?: string;
  readonly forwarded?: Channel;
  readonly caller?: Channel;
  readonly peer: Channel;
}
export interface BridgeCreatedEvent extends EventBase {
  readonly type: 'BridgeCreated';
  readonly bridge: Bridge;
}
export interface BridgeDestroyedEvent extends EventBase {
  readonly type: 'BridgeDestroyed';
  readonly bridge: Bridge;
}
export interface BridgeMergedEvent extends EventBase {
  readonly type: 'BridgeMerged';
  readonly bridge: Bridge;
  readonly bridge_from: Bridge;
}
export interface PlaybackStartedEvent extends EventBase {
  readonly type: 'PlaybackStarted';
  readonly playback: Playback;
}
export interface PlaybackContinuingEvent extends EventBase {
  readonly type: 'PlaybackContinuing';
  readonly playback: Playback;
}
export interface PlaybackFinishedEvent extends EventBase {
  readonly type: 'PlaybackFinished';
  readonly playback: Playback;
}
export interface RecordingStartedEvent extends EventBase {
  readonly type: 'RecordingStarted';
  readonly recording: LiveRecording;
}
export interface RecordingFinishedEvent extends EventBase {
  readonly type: 'RecordingFinished';
  readonly recording: LiveRecording;
}
export interface RecordingFailedEvent extends EventBase {
  readonly type: 'RecordingFailed';
  readonly recording: LiveRecording;
}
export interface EndpointStateChangeEvent extends EventBase {
  readonly type: 'EndpointStateChange';
  readonly endpoint: Endpoint;
}
export interface DeviceStateChangedEvent extends EventBase {
  readonly type: 'DeviceStateChanged';
  readonly device_state: { readonly name: string; readonly state: string };
}
export interface ApplicationReplacedEvent extends EventBase {
  readonly type: 'ApplicationReplaced';
}

export type AriEvent =
  | StasisStartEvent | StasisEndEvent | ChannelStateChangeEvent | ChannelDtmfReceivedEvent
  | ChannelHangupRequestEvent | ChannelDestroyedEvent | ChannelEnteredBridgeEvent | ChannelLeftBridgeEvent
  | ChannelVarsetEvent | ChannelCallerIdEvent | ChannelConnectedLineEvent | ChannelDialplanEvent
  | ChannelHoldEvent | ChannelUnholdEvent | ChannelTalkingStartedEvent | ChannelTalkingFinishedEvent
  | ChannelUsereventEvent | DialEvent | BridgeCreatedEvent | BridgeDestroyedEvent | BridgeMergedEvent
  | PlaybackStartedEvent | PlaybackContinuingEvent | PlaybackFinishedEvent
  | RecordingStartedEvent | RecordingFinishedEvent | RecordingFailedEvent
  | EndpointStateChangeEvent | DeviceStateChangedEvent | ApplicationReplacedEvent;

export type AriEventType = AriEvent['type'];

/** An event as the call layer receives it: the raw ARI event plus the node it came from. */
export type NodeEvent<E extends AriEvent = AriEvent> = E & { readonly nodeId: string };

export type EventOfType<T extends AriEventType> = NodeEvent<Extract<AriEvent, { type: T }>>;

/** Event types the adapter does not model still reach `onAny` handlers, typed loosely. */
export interface UnknownAriEvent extends EventBase {
  readonly type: string;
  readonly [key: string]: unknown;
}
