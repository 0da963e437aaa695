// In-memory objects of the fake Asterisk and their ARI JSON snapshots.
import type { BridgeSnapshot, CallerId, ChannelSnapshot, DialplanCep } from './types.js';
import { ariTime } from './util.js';

export class AriError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type ChannelKind = 'sip' | 'snoop' | 'recorder' | 'announcer';

export interface Chan {
  id: string;
  name: string;
  state: string;
  protocolId: string;
  caller: CallerId;
  connected: CallerId;
  accountcode: string;
  dialplan: DialplanCep;
  /** Dialplan location outside Stasis, restored when the channel leaves Stasis. */
  outsideDialplan: DialplanCep;
  creationtime: number;
  language: string;
  vars: Map<string, string>;
  /** SIP headers of the INVITE, lower-cased names. */
  headers: Map<string, string>;
  tech: string;
  resource: string;
  kind: ChannelKind;
  stasisApp: string | null;
  stasisArgs: string[];
  /** Set on channels created with POST /channels/create and not dialed yet. */
  createdNotDialed: boolean;
  /** Originate/dial in progress. */
  dial: {
    app: string | null;
    appArgs: string[];
    timer: NodeJS.Timeout | null;
    answerTimer: NodeJS.Timeout | null;
    /** Channel id given as `caller` to POST /channels/{id}/dial. */
    callerId: string | null;
    /** Originate to a dialplan location instead of an app. */
    extension?: string;
    context?: string;
  } | null;
  bridgeId: string | null;
  peerVarsSet: boolean;
  mohClass: string | null;
  onHold: boolean;
  muted: string | null;
  silence: boolean;
  snoopOf: string | null;
  destroyed: boolean;
}

export interface Bridge {
  id: string;
  type: 'mixing' | 'holding';
  name: string;
  channels: string[];
  creationtime: number;
  mohClass: string | null;
  announcerId: string | null;
  vars: Map<string, string>;
}

export interface Playback {
  id: string;
  media: string[];
  index: number;
  targetKind: 'channel' | 'bridge';
  targetId: string;
  language: string;
  state: 'queued' | 'playing' | 'paused' | 'done' | 'failed';
  timer: NodeJS.Timeout | null;
  remainingMs: number;
  startedAt: number;
}

export interface LiveRecording {
  name: string;
  format: string;
  targetKind: 'channel' | 'bridge';
  targetId: string;
  state: 'queued' | 'recording' | 'paused' | 'done' | 'failed' | 'canceled';
  startedAt: number;
  timer: NodeJS.Timeout | null;
  terminateOn: string;
  recorderId: string | null;
  ifExists: string;
}

export interface StoredRecording {
  name: string;
  format: string;
  durationSec: number;
}

export function channelJson(ch: Chan, channelVars: readonly string[]): ChannelSnapshot {
  const snap: ChannelSnapshot = {
    id: ch.id,
    name: ch.name,
    state: ch.state,
    protocol_id: ch.protocolId,
    caller: { ...ch.caller },
    connected: { ...ch.connected },
    accountcode: ch.accountcode,
    dialplan: { ...ch.dialplan },
    creationtime: ariTime(ch.creationtime),
    language: ch.language,
  };
  if (channelVars.length) snap.channelvars = Object.fromEntries(channelVars.map((v) => [v, ch.vars.get(v) ?? '']));
  return snap;
}

export function bridgeJson(b: Bridge, participants: number): BridgeSnapshot {
  // The smart bridge moves a mixing bridge to softmix beyond two participants.
  const technology = b.type === 'holding' ? 'holding_bridge' : participants > 2 ? 'softmix' : 'simple_bridge';
  return {
    id: b.id,
    technology,
    bridge_type: b.type,
    bridge_class: 'stasis',
    creator: 'Stasis',
    name: b.name,
    channels: [...b.channels],
    creationtime: ariTime(b.creationtime),
    video_mode: 'talker',
  };
}

export function playbackJson(p: Playback): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: p.id,
    media_uri: p.media[p.index] ?? p.media[0],
  };
  const next = p.media[p.index + 1];
  if (next !== undefined) out.next_media_uri = next;
  out.target_uri = `${p.targetKind}:${p.targetId}`;
  out.language = p.language;
  out.state = p.state;
  return out;
}

export function liveRecordingJson(r: LiveRecording, durationSec?: number): Record<string, unknown> {
  const out: Record<string, unknown> = { name: r.name, format: r.format, state: r.state, target_uri: `${r.targetKind}:${r.targetId}` };
  if (durationSec !== undefined) out.duration = durationSec;
  return out;
}
