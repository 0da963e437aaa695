// REST handlers, keyed by `<resource>.<nickname>` of the operation table.
import { release } from 'node:os';
import type { AppState } from './events.js';
import type { AsteriskModel, Params } from './model.js';
import { AriError } from './state.js';
import type { AriEvent } from './types.js';
import { ariTime, HANGUP_REASON_CAUSE, silentWav } from './util.js';

export interface RouteResult {
  status: number;
  json?: unknown;
  binary?: { data: Buffer; contentType: string };
}

export interface RouteContext {
  m: AsteriskModel;
  /** Query params, path params and non-`variables` JSON body keys (ARI accepts params in the body). */
  q: Params;
  /** The JSON body's `variables` object, values as strings. */
  vars: Record<string, string>;
  body: Record<string, unknown> | undefined;
}

type Handler = (c: RouteContext) => RouteResult;

const ok = (json: unknown): RouteResult => ({ status: 200, json });
const created = (json: unknown): RouteResult => ({ status: 201, json });
const noContent: RouteResult = { status: 204 };

function appJson(m: AsteriskModel, a: AppState): Record<string, unknown> {
  const channelIds = new Set(a.channels);
  for (const ch of m.channels.values()) if (ch.stasisApp === a.name) channelIds.add(ch.id);
  return {
    name: a.name,
    channel_ids: [...channelIds],
    bridge_ids: [...a.bridges],
    endpoint_ids: [...a.endpoints],
    device_names: [...a.deviceNames],
    events_allowed: [],
    events_disallowed: [],
  };
}

function requireApp(m: AsteriskModel, name: string): AppState {
  const a = m.hub.apps.get(name);
  if (!a) throw new AriError(404, 'Application not found');
  return a;
}

function endpointJson(m: AsteriskModel, key: string): Record<string, unknown> {
  const [technology = '', resource = ''] = key.split('/');
  const ep = m.endpoints.get(key);
  return {
    technology,
    resource,
    state: ep?.online === false ? 'offline' : 'online',
    channel_ids: [...m.channels.values()].filter((c) => c.tech === technology && c.resource === resource).map((c) => c.id),
  };
}

/** Applies an eventSource list (`channel:ID`, `bridge:ID`, `endpoint:TECH[/RES]`, `deviceState:NAME`). */
function subscription(m: AsteriskModel, c: RouteContext, add: boolean): RouteResult {
  const a = requireApp(m, c.q.applicationName!);
  if (!c.q.eventSource) throw new AriError(400, 'Missing parameter eventSource');
  for (const src of c.q.eventSource.split(',')) {
    const i = src.indexOf(':');
    const scheme = src.slice(0, i);
    const id = src.slice(i + 1);
    const sets: Record<string, { set: Set<string>; exists: () => boolean }> = {
      channel: { set: a.channels, exists: () => m.channels.has(id) },
      bridge: { set: a.bridges, exists: () => m.bridges.all.has(id) },
      endpoint: { set: a.endpoints, exists: () => m.endpoints.has(id) || [...m.endpoints.keys()].some((k) => k.startsWith(`${id}/`)) },
      deviceState: { set: a.deviceNames, exists: () => true },
    };
    const target = i > 0 ? sets[scheme] : undefined;
    if (!target) throw new AriError(400, 'Invalid event source URI scheme');
    if (!target.exists()) throw new AriError(422, 'Event source does not exist');
    if (add) target.set.add(id);
    else if (!target.set.delete(id)) throw new AriError(409, 'Application not subscribed to event source');
  }
  return ok(appJson(m, a));
}

function hangupCause(q: Params): number {
  if (q.reason_code) {
    const n = Number(q.reason_code);
    if (!Number.isInteger(n)) throw new AriError(400, 'Invalid reason for hangup provided');
    return n;
  }
  if (q.reason) {
    const n = HANGUP_REASON_CAUSE[q.reason];
    if (n === undefined) throw new AriError(400, 'Invalid reason for hangup provided');
    return n;
  }
  return 16;
}

function stasisNoop(apply: (c: RouteContext) => void): Handler {
  return (c) => {
    apply(c);
    return noContent;
  };
}

export const HANDLERS: Record<string, Handler> = {
  // asterisk
  'asterisk.getInfo': ({ m, q }) => {
    const all: Record<string, unknown> = {
      build: { os: 'Linux', kernel: release(), options: '', machine: process.arch, date: '', user: 'asterisk' },
      system: { version: '23.4.1', entity_id: m.cfg.asteriskId },
      config: { name: '', default_language: 'en', setid: { user: 'asterisk', group: 'asterisk' } },
      status: { startup_time: ariTime(m.startTime), last_reload_time: ariTime(m.startTime) },
    };
    const only = q.only ? q.only.split(',') : Object.keys(all);
    return ok(Object.fromEntries(Object.entries(all).filter(([k]) => only.includes(k))));
  },
  'asterisk.ping': ({ m }) => ok({ asterisk_id: m.cfg.asteriskId, ping: 'pong', timestamp: ariTime(Date.now()) }),
  'asterisk.listModules': () => ok([]),
  'asterisk.listLogChannels': () => ok([]),
  'asterisk.getGlobalVar': ({ m, q }) => {
    if (!q.variable) throw new AriError(400, 'Variable name is required');
    return ok({ value: m.globals.get(q.variable) ?? '' });
  },
  'asterisk.setGlobalVar': ({ m, q }) => {
    if (!q.variable) throw new AriError(400, 'Variable name is required');
    m.globals.set(q.variable, q.value ?? '');
    return noContent;
  },

  // endpoints
  'endpoints.list': ({ m }) => ok([...m.endpoints.keys()].map((k) => endpointJson(m, k))),
  'endpoints.listByTech': ({ m, q }) => {
    const keys = [...m.endpoints.keys()].filter((k) => k.split('/')[0]!.toLowerCase() === q.tech!.toLowerCase());
    if (!keys.length) throw new AriError(404, 'No Endpoints found - invalid tech');
    return ok(keys.map((k) => endpointJson(m, k)));
  },
  'endpoints.get': ({ m, q }) => {
    const key = `${q.tech}/${q.resource}`;
    if (!m.endpoints.has(key)) throw new AriError(404, 'Endpoint not found');
    return ok(endpointJson(m, key));
  },
  'endpoints.sendMessage': () => ({ status: 202 }),

  // channels
  'channels.list': ({ m }) => ok(m.channelList()),
  'channels.originate': ({ m, q, vars }) => ok(m.originate(q, vars, q.channelId)),
  'channels.originateWithId': ({ m, q, vars }) => ok(m.originate(q, vars, q.channelId)),
  'channels.create': ({ m, q, vars }) => ok(m.create(q, vars)),
  'channels.get': ({ m, q }) => ok(m.snap(m.requireChannel(q.channelId!))),
  'channels.hangup': ({ m, q }) => {
    const ch = m.requireChannel(q.channelId!);
    const cause = hangupCause(q);
    // The request event carries the soft-hangup flag (32 = explicit), as in every trace.
    m.destroyChannel(ch, { request: { cause: 32, soft: true }, cause });
    return noContent;
  },
  'channels.continueInDialplan': stasisNoop(({ m, q }) => m.continueInDialplan(q.channelId!, q)),
  'channels.move': stasisNoop(({ m, q }) => m.move(q.channelId!, q)),
  'channels.redirect': stasisNoop(({ m, q }) => m.redirect(q.channelId!, q)),
  'channels.answer': stasisNoop(({ m, q }) => m.setState(m.requireStasis(q.channelId!), 'Up')),
  'channels.ring': stasisNoop(({ m, q }) => m.requireStasis(q.channelId!)),
  'channels.ringStop': stasisNoop(({ m, q }) => m.requireStasis(q.channelId!)),
  'channels.sendDTMF': stasisNoop(({ m, q }) => {
    m.requireStasis(q.channelId!);
    if (!q.dtmf) throw new AriError(400, 'DTMF is required');
  }),
  'channels.mute': stasisNoop(({ m, q }) => {
    m.requireStasis(q.channelId!).muted = q.direction ?? 'both';
  }),
  'channels.unmute': stasisNoop(({ m, q }) => {
    m.requireStasis(q.channelId!).muted = null;
  }),
  'channels.hold': stasisNoop(({ m, q }) => {
    m.requireStasis(q.channelId!).onHold = true;
  }),
  'channels.unhold': stasisNoop(({ m, q }) => {
    m.requireStasis(q.channelId!).onHold = false;
  }),
  'channels.startMoh': stasisNoop(({ m, q }) => {
    m.requireStasis(q.channelId!).mohClass = q.mohClass ?? 'default';
  }),
  'channels.stopMoh': stasisNoop(({ m, q }) => {
    m.requireStasis(q.channelId!).mohClass = null;
  }),
  'channels.startSilence': stasisNoop(({ m, q }) => {
    m.requireStasis(q.channelId!).silence = true;
  }),
  'channels.stopSilence': stasisNoop(({ m, q }) => {
    m.requireStasis(q.channelId!).silence = false;
  }),
  'channels.play': ({ m, q }) => created(m.media.play('channel', q.channelId!, q)),
  'channels.playWithId': ({ m, q }) => created(m.media.play('channel', q.channelId!, q, q.playbackId)),
  'channels.record': ({ m, q }) => created(m.media.record('channel', q.channelId!, q)),
  'channels.getChannelVar': ({ m, q }) => {
    const ch = m.requireChannel(q.channelId!);
    if (!q.variable) throw new AriError(400, 'Variable name is required');
    return ok({ value: m.getVar(ch, q.variable) });
  },
  'channels.setChannelVar': stasisNoop(({ m, q }) => {
    const ch = m.requireStasis(q.channelId!);
    if (!q.variable) throw new AriError(400, 'Variable name is required');
    m.setVar(ch, q.variable, q.value ?? '');
  }),
  'channels.setChannelVars': stasisNoop(({ m, q, vars, body }) => {
    const ch = m.requireStasis(q.channelId!);
    if (!body || typeof body.variables !== 'object' || body.variables === null) throw new AriError(400, 'Variables are required');
    for (const [k, v] of Object.entries(vars)) m.setVar(ch, k, v);
  }),
  'channels.snoopChannel': ({ m, q }) => ok(m.snoop(q.channelId!, q)),
  'channels.snoopChannelWithId': ({ m, q }) => ok(m.snoop(q.channelId!, q, q.snoopId)),
  'channels.dial': stasisNoop(({ m, q }) => m.dial(q.channelId!, q)),
  'channels.rtpstatistics': ({ m, q }) => {
    const ch = m.requireChannel(q.channelId!);
    return ok({ txcount: 0, rxcount: 0, local_ssrc: 0, remote_ssrc: 0, txoctetcount: 0, rxoctetcount: 0, channel_uniqueid: ch.id });
  },

  // bridges
  'bridges.list': ({ m }) => ok(m.bridges.list()),
  'bridges.create': ({ m, q, body }) => ok(m.bridges.create(q, body)),
  'bridges.createWithId': ({ m, q, body }) => ok(m.bridges.create(q, body, q.bridgeId)),
  'bridges.get': ({ m, q }) => ok(m.bridges.snap(m.bridges.require(q.bridgeId!))),
  'bridges.getBridgeVar': ({ m, q }) => {
    const b = m.bridges.require(q.bridgeId!);
    if (!q.variable) throw new AriError(400, 'Variable name is required');
    const value = b.vars.get(q.variable);
    if (value === undefined) throw new AriError(404, 'Provided variable was not found');
    return ok({ value });
  },
  'bridges.setBridgeVar': stasisNoop(({ m, q }) => {
    const b = m.bridges.require(q.bridgeId!);
    if (!q.variable) throw new AriError(400, 'Variable name is required');
    b.vars.set(q.variable, q.value ?? '');
  }),
  'bridges.destroy': stasisNoop(({ m, q }) => m.bridges.destroy(q.bridgeId!)),
  'bridges.addChannel': stasisNoop(({ m, q }) => m.bridges.addChannels(q.bridgeId!, q)),
  'bridges.removeChannel': stasisNoop(({ m, q }) => m.bridges.removeChannels(q.bridgeId!, q)),
  'bridges.setVideoSource': stasisNoop(({ m, q }) => {
    m.bridges.require(q.bridgeId!);
    const ch = m.requireChannel(q.channelId!);
    if (ch.bridgeId !== q.bridgeId) throw new AriError(422, 'Channel not in this Bridge');
  }),
  'bridges.clearVideoSource': stasisNoop(({ m, q }) => m.bridges.require(q.bridgeId!)),
  'bridges.startMoh': stasisNoop(({ m, q }) => m.bridges.startMoh(q.bridgeId!, q)),
  'bridges.stopMoh': stasisNoop(({ m, q }) => m.bridges.stopMoh(q.bridgeId!)),
  'bridges.play': ({ m, q }) => created(m.media.play('bridge', q.bridgeId!, q)),
  'bridges.playWithId': ({ m, q }) => created(m.media.play('bridge', q.bridgeId!, q, q.playbackId)),
  'bridges.record': ({ m, q }) => created(m.media.record('bridge', q.bridgeId!, q)),

  // recordings
  'recordings.listStored': ({ m }) => ok([...m.media.stored.values()].map((s) => ({ name: s.name, format: s.format }))),
  'recordings.getStored': ({ m, q }) => {
    const s = m.media.requireStored(q.recordingName!);
    return ok({ name: s.name, format: s.format });
  },
  'recordings.deleteStored': stasisNoop(({ m, q }) => {
    m.media.requireStored(q.recordingName!);
    m.media.stored.delete(q.recordingName!);
  }),
  'recordings.getStoredFile': ({ m, q }) => {
    const s = m.media.requireStored(q.recordingName!);
    return { status: 200, binary: { data: silentWav(s.durationSec), contentType: s.format === 'wav' ? 'audio/wav' : 'application/octet-stream' } };
  },
  'recordings.copyStored': ({ m, q }) => {
    const s = m.media.copyStored(q.recordingName!, q.destinationRecordingName);
    return ok({ name: s.name, format: s.format });
  },
  'recordings.getLive': ({ m, q }) => ok(m.media.liveJson(q.recordingName!)),
  'recordings.cancel': stasisNoop(({ m, q }) => m.media.finishRecording(m.media.requireLive(q.recordingName!), 'canceled')),
  'recordings.stop': stasisNoop(({ m, q }) => m.media.finishRecording(m.media.requireLive(q.recordingName!), 'done')),
  'recordings.pause': stasisNoop(({ m, q }) => m.media.pauseRecording(q.recordingName!, true)),
  'recordings.unpause': stasisNoop(({ m, q }) => m.media.pauseRecording(q.recordingName!, false)),
  'recordings.mute': stasisNoop(({ m, q }) => m.media.muteRecording(q.recordingName!)),
  'recordings.unmute': stasisNoop(({ m, q }) => m.media.muteRecording(q.recordingName!)),

  // sounds: the fake has no sound files on disk
  'sounds.list': () => ok([]),
  'sounds.get': () => {
    throw new AriError(404, 'Sound not found');
  },

  // playbacks
  'playbacks.get': ({ m, q }) => {
    const p = m.media.requirePlayback(q.playbackId!);
    return ok({ id: p.id, media_uri: p.media[p.index], target_uri: `${p.targetKind}:${p.targetId}`, language: p.language, state: p.state });
  },
  'playbacks.stop': stasisNoop(({ m, q }) => m.media.stopPlayback(q.playbackId!)),
  'playbacks.control': stasisNoop(({ m, q }) => m.media.control(q.playbackId!, q.operation)),

  // deviceStates
  'deviceStates.list': ({ m }) => ok([...m.deviceStates.entries()].map(([name, state]) => ({ name, state }))),
  'deviceStates.get': ({ m, q }) => ok({ name: q.deviceName, state: m.deviceStates.get(q.deviceName!) ?? 'UNKNOWN' }),
  'deviceStates.update': stasisNoop(({ m, q }) => {
    if (!q.deviceName!.startsWith('Stasis:')) throw new AriError(409, 'Uncontrolled device specified');
    if (!q.deviceState) throw new AriError(400, 'Missing parameter deviceState');
    m.deviceStates.set(q.deviceName!, q.deviceState);
    const ev: AriEvent = { type: 'DeviceStateChanged', timestamp: ariTime(Date.now()), device_state: { name: q.deviceName, state: q.deviceState } };
    m.hub.publish(ev, { apps: [...m.hub.apps.values()].filter((a) => a.deviceNames.has(q.deviceName!)).map((a) => a.name) });
  }),
  'deviceStates.delete': stasisNoop(({ m, q }) => {
    if (!q.deviceName!.startsWith('Stasis:')) throw new AriError(409, 'Uncontrolled device specified');
    if (!m.deviceStates.delete(q.deviceName!)) throw new AriError(404, 'Device name is missing');
  }),

  // mailboxes
  'mailboxes.list': ({ m }) => ok([...m.mailboxes.entries()].map(([name, v]) => ({ name, old_messages: v.old, new_messages: v.new }))),
  'mailboxes.get': ({ m, q }) => {
    const v = m.mailboxes.get(q.mailboxName!);
    if (!v) throw new AriError(404, 'Mailbox not found');
    return ok({ name: q.mailboxName, old_messages: v.old, new_messages: v.new });
  },
  'mailboxes.update': stasisNoop(({ m, q }) => {
    m.mailboxes.set(q.mailboxName!, { old: Number(q.oldMessages ?? 0), new: Number(q.newMessages ?? 0) });
  }),
  'mailboxes.delete': stasisNoop(({ m, q }) => {
    if (!m.mailboxes.delete(q.mailboxName!)) throw new AriError(404, 'Mailbox not found');
  }),

  // events
  'events.userEvent': stasisNoop(({ m, q, vars }) => {
    if (!q.application) throw new AriError(400, 'Missing parameter application');
    requireApp(m, q.application);
    const sources: Record<string, unknown> = {};
    for (const src of q.source ? q.source.split(',') : []) {
      const [scheme, id = ''] = src.split(/:(.*)/s) as [string, string?];
      if (scheme === 'channel') {
        const ch = m.channels.get(id);
        if (!ch) throw new AriError(422, 'Event source not found');
        sources.channel = m.snap(ch);
      } else if (scheme === 'bridge') {
        const b = m.bridges.all.get(id);
        if (!b) throw new AriError(422, 'Event source not found');
        sources.bridge = m.bridges.snap(b);
      } else if (scheme === 'endpoint') {
        if (!m.endpoints.has(id)) throw new AriError(422, 'Event source not found');
        sources.endpoint = endpointJson(m, id);
      } else throw new AriError(400, 'Invalid event source URI scheme');
    }
    const ev: AriEvent = { type: 'ChannelUserevent', timestamp: ariTime(Date.now()), eventname: q.eventName, ...sources, userevent: { ...vars, eventname: q.eventName } };
    m.hub.publish(ev, { apps: [q.application] });
  }),

  // applications
  'applications.list': ({ m }) => ok([...m.hub.apps.values()].map((a) => appJson(m, a))),
  'applications.get': ({ m, q }) => ok(appJson(m, requireApp(m, q.applicationName!))),
  'applications.subscribe': (c) => subscription(c.m, c, true),
  'applications.unsubscribe': (c) => subscription(c.m, c, false),
  'applications.filter': ({ m, q }) => ok(appJson(m, requireApp(m, q.applicationName!))),
};
