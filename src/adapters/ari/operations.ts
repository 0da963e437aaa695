/**
 * Every ARI operation the product uses, described once as an `AriRequest` (ARI path and
 * parameters + ari-client's resource/operation names) and sent through whichever transport the
 * node has. Parameter names are ARI's own (see Asterisk's ARI reference).
 */
import type { Readable } from 'node:stream';
import type {
  Application, AsteriskInfo, AsteriskPing, Bridge, Channel, Endpoint, LiveRecording, Playback, StoredRecording,
} from './models.js';
import type { AriRequest, AriTransport, HttpMethod, QueryValue } from './transport.js';
import type {
  ApplicationOps, AsteriskOps, BridgeOps, ChannelOps, EndpointOps, PlaybackOps, RecordingOps,
} from './types.js';

type Query = Record<string, QueryValue>;

interface Spec {
  readonly resource: string;
  readonly operation: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly pathParams?: Record<string, string>;
  readonly query?: Query;
  readonly body?: Record<string, unknown>;
}

export interface Operations {
  readonly channels: ChannelOps;
  readonly bridges: BridgeOps;
  readonly playbacks: PlaybackOps;
  readonly recordings: RecordingOps;
  readonly endpoints: EndpointOps;
  readonly applications: ApplicationOps;
  readonly asterisk: AsteriskOps;
}

const list = (v: string | readonly string[]): string[] => (typeof v === 'string' ? [v] : [...v]);

export function createOperations(transport: AriTransport, defaultApp: string): Operations {
  const json = <T>(s: Spec): Promise<T> => transport.send({ ...s, response: 'json' } satisfies AriRequest) as Promise<T>;
  const none = async (s: Spec): Promise<void> => {
    await transport.send({ ...s, response: 'void' });
  };
  const variable = async (s: Spec): Promise<string> => (await json<{ value: string }>(s)).value;

  const ch = (channelId: string): Record<string, string> => ({ channelId });
  const br = (bridgeId: string): Record<string, string> => ({ bridgeId });
  const rec = (recordingName: string): Record<string, string> => ({ recordingName });

  const channels: ChannelOps = {
    list: () => json<Channel[]>({ resource: 'channels', operation: 'list', method: 'GET', path: '/channels' }),
    get: (id) => json<Channel>({ resource: 'channels', operation: 'get', method: 'GET', path: '/channels/{channelId}', pathParams: ch(id) }),
    // Ids travel as query parameters (POST /channels?channelId=…), as ari-client sends them.
    originate: ({ variables, app, ...p }) => {
      const viaDialplan = p.extension !== undefined || p.context !== undefined;
      const spec: Spec = { resource: 'channels', operation: 'originate', method: 'POST', path: '/channels', query: { ...p, app: viaDialplan ? app : (app ?? defaultApp) } };
      return json<Channel>(variables ? { ...spec, body: { variables } } : spec);
    },
    create: ({ variables, app, ...p }) => json<Channel>({
      resource: 'channels', operation: 'create', method: 'POST', path: '/channels/create',
      query: { ...p, app: app ?? defaultApp }, ...(variables ? { body: { variables } } : {}),
    }),
    dial: (id, o = {}) => none({ resource: 'channels', operation: 'dial', method: 'POST', path: '/channels/{channelId}/dial', pathParams: ch(id), query: { ...o } }),
    answer: (id) => none({ resource: 'channels', operation: 'answer', method: 'POST', path: '/channels/{channelId}/answer', pathParams: ch(id) }),
    ring: (id) => none({ resource: 'channels', operation: 'ring', method: 'POST', path: '/channels/{channelId}/ring', pathParams: ch(id) }),
    ringStop: (id) => none({ resource: 'channels', operation: 'ringStop', method: 'DELETE', path: '/channels/{channelId}/ring', pathParams: ch(id) }),
    hangup: (id, o = {}) => none({
      resource: 'channels', operation: 'hangup', method: 'DELETE', path: '/channels/{channelId}', pathParams: ch(id),
      query: o.reasonCode !== undefined ? { reason_code: o.reasonCode } : { reason: o.reason },
    }),
    play: (id, media, o = {}) => json<Playback>({
      resource: 'channels', operation: 'play', method: 'POST', path: '/channels/{channelId}/play', pathParams: ch(id), query: { media: list(media), ...o },
    }),
    record: (id, o) => json<LiveRecording>({ resource: 'channels', operation: 'record', method: 'POST', path: '/channels/{channelId}/record', pathParams: ch(id), query: { ...o } }),
    snoop: (id, o) => json<Channel>({ resource: 'channels', operation: 'snoopChannel', method: 'POST', path: '/channels/{channelId}/snoop', pathParams: ch(id), query: { ...o } }),
    sendDtmf: (id, dtmf, o = {}) => none({ resource: 'channels', operation: 'sendDTMF', method: 'POST', path: '/channels/{channelId}/dtmf', pathParams: ch(id), query: { dtmf, ...o } }),
    getVariable: (id, name) => variable({ resource: 'channels', operation: 'getChannelVar', method: 'GET', path: '/channels/{channelId}/variable', pathParams: ch(id), query: { variable: name } }),
    setVariable: (id, name, value) => none({ resource: 'channels', operation: 'setChannelVar', method: 'POST', path: '/channels/{channelId}/variable', pathParams: ch(id), query: { variable: name, value } }),
    continueInDialplan: (id, o = {}) => none({ resource: 'channels', operation: 'continueInDialplan', method: 'POST', path: '/channels/{channelId}/continue', pathParams: ch(id), query: { ...o } }),
    redirect: (id, endpoint) => none({ resource: 'channels', operation: 'redirect', method: 'POST', path: '/channels/{channelId}/redirect', pathParams: ch(id), query: { endpoint } }),
    hold: (id) => none({ resource: 'channels', operation: 'hold', method: 'POST', path: '/channels/{channelId}/hold', pathParams: ch(id) }),
    unhold: (id) => none({ resource: 'channels', operation: 'unhold', method: 'DELETE', path: '/channels/{channelId}/hold', pathParams: ch(id) }),
    mute: (id, direction) => none({ resource: 'channels', operation: 'mute', method: 'POST', path: '/channels/{channelId}/mute', pathParams: ch(id), query: { direction } }),
    unmute: (id, direction) => none({ resource: 'channels', operation: 'unmute', method: 'DELETE', path: '/channels/{channelId}/mute', pathParams: ch(id), query: { direction } }),
    startMoh: (id, mohClass) => none({ resource: 'channels', operation: 'startMoh', method: 'POST', path: '/channels/{channelId}/moh', pathParams: ch(id), query: { mohClass } }),
    stopMoh: (id) => none({ resource: 'channels', operation: 'stopMoh', method: 'DELETE', path: '/channels/{channelId}/moh', pathParams: ch(id) }),
  };

  const bridges: BridgeOps = {
    list: () => json<Bridge[]>({ resource: 'bridges', operation: 'list', method: 'GET', path: '/bridges' }),
    get: (id) => json<Bridge>({ resource: 'bridges', operation: 'get', method: 'GET', path: '/bridges/{bridgeId}', pathParams: br(id) }),
    create: async (p = {}) => {
      // Never send `variables` here (Asterisk 23.4.1: 400 yet the bridge exists); set them after.
      const bridge = await json<Bridge>({
        resource: 'bridges', operation: 'create', method: 'POST', path: '/bridges',
        query: { type: p.type === undefined ? undefined : list(p.type), name: p.name, bridgeId: p.bridgeId },
      });
      for (const [name, value] of Object.entries(p.variables ?? {})) await bridges.setVariable(bridge.id, name, value);
      return bridge;
    },
    destroy: (id) => none({ resource: 'bridges', operation: 'destroy', method: 'DELETE', path: '/bridges/{bridgeId}', pathParams: br(id) }),
    setVariable: (id, name, value) => none({ resource: 'bridges', operation: 'setBridgeVar', method: 'POST', path: '/bridges/{bridgeId}/variable', pathParams: br(id), query: { variable: name, value } }),
    getVariable: (id, name) => variable({ resource: 'bridges', operation: 'getBridgeVar', method: 'GET', path: '/bridges/{bridgeId}/variable', pathParams: br(id), query: { variable: name } }),
    addChannel: (id, channelIds, o = {}) => none({ resource: 'bridges', operation: 'addChannel', method: 'POST', path: '/bridges/{bridgeId}/addChannel', pathParams: br(id), query: { channel: list(channelIds), ...o } }),
    removeChannel: (id, channelIds) => none({ resource: 'bridges', operation: 'removeChannel', method: 'POST', path: '/bridges/{bridgeId}/removeChannel', pathParams: br(id), query: { channel: list(channelIds) } }),
    startMoh: (id, mohClass) => none({ resource: 'bridges', operation: 'startMoh', method: 'POST', path: '/bridges/{bridgeId}/moh', pathParams: br(id), query: { mohClass } }),
    stopMoh: (id) => none({ resource: 'bridges', operation: 'stopMoh', method: 'DELETE', path: '/bridges/{bridgeId}/moh', pathParams: br(id) }),
    play: (id, media, o = {}) => json<Playback>({
      resource: 'bridges', operation: 'play', method: 'POST', path: '/bridges/{bridgeId}/play', pathParams: br(id), query: { media: list(media), ...o },
    }),
    record: (id, o) => json<LiveRecording>({ resource: 'bridges', operation: 'record', method: 'POST', path: '/bridges/{bridgeId}/record', pathParams: br(id), query: { ...o } }),
  };

  const playbacks: PlaybackOps = {
    get: (id) => json<Playback>({ resource: 'playbacks', operation: 'get', method: 'GET', path: '/playbacks/{playbackId}', pathParams: { playbackId: id } }),
    stop: (id) => none({ resource: 'playbacks', operation: 'stop', method: 'DELETE', path: '/playbacks/{playbackId}', pathParams: { playbackId: id } }),
    control: (id, operation) => none({ resource: 'playbacks', operation: 'control', method: 'POST', path: '/playbacks/{playbackId}/control', pathParams: { playbackId: id }, query: { operation } }),
  };

  const recordings: RecordingOps = {
    listStored: () => json<StoredRecording[]>({ resource: 'recordings', operation: 'listStored', method: 'GET', path: '/recordings/stored' }),
    getStored: (name) => json<StoredRecording>({ resource: 'recordings', operation: 'getStored', method: 'GET', path: '/recordings/stored/{recordingName}', pathParams: rec(name) }),
    getStoredFile: async (name) => (await transport.send({
      resource: 'recordings', operation: 'getStoredFile', method: 'GET', path: '/recordings/stored/{recordingName}/file', pathParams: rec(name), response: 'binary',
    })) as Buffer,
    streamStoredFile: async (name) => (await transport.send({
      resource: 'recordings', operation: 'getStoredFile', method: 'GET', path: '/recordings/stored/{recordingName}/file', pathParams: rec(name), response: 'stream',
    })) as Readable,
    deleteStored: (name) => none({ resource: 'recordings', operation: 'deleteStored', method: 'DELETE', path: '/recordings/stored/{recordingName}', pathParams: rec(name) }),
    copyStored: (name, destinationRecordingName) => json<StoredRecording>({
      resource: 'recordings', operation: 'copyStored', method: 'POST', path: '/recordings/stored/{recordingName}/copy', pathParams: rec(name), query: { destinationRecordingName },
    }),
    getLive: (name) => json<LiveRecording>({ resource: 'recordings', operation: 'getLive', method: 'GET', path: '/recordings/live/{recordingName}', pathParams: rec(name) }),
    stopLive: (name) => none({ resource: 'recordings', operation: 'stop', method: 'POST', path: '/recordings/live/{recordingName}/stop', pathParams: rec(name) }),
    cancelLive: (name) => none({ resource: 'recordings', operation: 'cancel', method: 'DELETE', path: '/recordings/live/{recordingName}', pathParams: rec(name) }),
    pauseLive: (name) => none({ resource: 'recordings', operation: 'pause', method: 'POST', path: '/recordings/live/{recordingName}/pause', pathParams: rec(name) }),
    unpauseLive: (name) => none({ resource: 'recordings', operation: 'unpause', method: 'DELETE', path: '/recordings/live/{recordingName}/pause', pathParams: rec(name) }),
  };

  const endpoints: EndpointOps = {
    list: () => json<Endpoint[]>({ resource: 'endpoints', operation: 'list', method: 'GET', path: '/endpoints' }),
    get: (tech, resource) => json<Endpoint>({ resource: 'endpoints', operation: 'get', method: 'GET', path: '/endpoints/{tech}/{resource}', pathParams: { tech, resource } }),
  };

  const applications: ApplicationOps = {
    list: () => json<Application[]>({ resource: 'applications', operation: 'list', method: 'GET', path: '/applications' }),
    get: (app) => json<Application>({ resource: 'applications', operation: 'get', method: 'GET', path: '/applications/{applicationName}', pathParams: { applicationName: app } }),
    subscribe: (app, src) => json<Application>({
      resource: 'applications', operation: 'subscribe', method: 'POST', path: '/applications/{applicationName}/subscription', pathParams: { applicationName: app }, query: { eventSource: list(src) },
    }),
    unsubscribe: (app, src) => json<Application>({
      resource: 'applications', operation: 'unsubscribe', method: 'DELETE', path: '/applications/{applicationName}/subscription', pathParams: { applicationName: app }, query: { eventSource: list(src) },
    }),
  };

  const asterisk: AsteriskOps = {
    info: () => json<AsteriskInfo>({ resource: 'asterisk', operation: 'getInfo', method: 'GET', path: '/asterisk/info' }),
    ping: () => json<AsteriskPing>({ resource: 'asterisk', operation: 'ping', method: 'GET', path: '/asterisk/ping' }),
    getGlobalVariable: (name) => variable({ resource: 'asterisk', operation: 'getGlobalVar', method: 'GET', path: '/asterisk/variable', query: { variable: name } }),
    setGlobalVariable: (name, value) => none({ resource: 'asterisk', operation: 'setGlobalVar', method: 'POST', path: '/asterisk/variable', query: { variable: name, value } }),
  };

  return { channels, bridges, playbacks, recordings, endpoints, applications, asterisk };
}
