// Swagger 1.1 API declarations as Asterisk serves them under /ari/api-docs, generated from
// the operation table. ari-client (swagger-client 2.0.26) reads the operations from here
// and uses the `events` models to turn event properties into Channel/Bridge/... objects,
// so every event type the fake sends must have a model.
import { OPERATIONS, RESOURCE_NAMES, resourceDescription, type ParamSpec } from './operations.js';

const API_VERSION = '11.0.0';

// Model mini-language: 'prop:Type!' (! = required), Type defaults to string.
const RESOURCE_MODELS: Record<string, Record<string, string>> = {
  asterisk: {
    BuildInfo: 'os! kernel! options! machine! date! user!',
    SystemInfo: 'version! entity_id!',
    SetId: 'user! group!',
    ConfigInfo: 'name! default_language! max_channels:int max_open_files:int max_load:double setid:SetId!',
    StatusInfo: 'startup_time:Date! last_reload_time:Date!',
    AsteriskInfo: 'build:BuildInfo system:SystemInfo config:ConfigInfo status:StatusInfo',
    AsteriskPing: 'asterisk_id! ping! timestamp!',
    Module: 'name! description! use_count:int! status! support_level!',
    LogChannel: 'channel! type! status! configuration!',
    Variable: 'value!',
    ConfigTuple: 'attribute! value!',
  },
  endpoints: {
    Endpoint: 'technology! resource! state channel_ids:List[string]!',
    TextMessage: 'from! to! body! variables:object',
  },
  channels: {
    CallerID: 'name! number!',
    DialplanCEP: 'context! exten! priority:long! app_name! app_data!',
    Channel: 'id! protocol_id! name! state! caller:CallerID! connected:CallerID! accountcode! dialplan:DialplanCEP! creationtime:Date! language! channelvars:object caller_rdnis tenantid',
    Dialed: '',
    RTPstat: 'txcount:int! rxcount:int! txjitter:double rxjitter:double remote_maxjitter:double remote_minjitter:double local_ssrc:int! remote_ssrc:int! txoctetcount:int! rxoctetcount:int! channel_uniqueid!',
  },
  bridges: {
    Bridge: 'id! technology! bridge_type! bridge_class! creator! name! channels:List[string]! video_mode video_source_id creationtime:Date!',
  },
  recordings: {
    StoredRecording: 'name! format!',
    LiveRecording: 'name! format! target_uri! state! duration:int talking_duration:int silence_duration:int cause',
  },
  sounds: {
    FormatLangPair: 'language! format!',
    Sound: 'id! text formats:List[FormatLangPair]!',
  },
  playbacks: {
    Playback: 'id! media_uri! next_media_uri target_uri! language state!',
  },
  deviceStates: { DeviceState: 'name! state!' },
  mailboxes: { Mailbox: 'name! old_messages:int! new_messages:int!' },
  applications: {
    Application: 'name! channel_ids:List[string]! bridge_ids:List[string]! endpoint_ids:List[string]! device_names:List[string]! events_allowed:List[object]! events_disallowed:List[object]!',
  },
};

/** Event models (all extend Event, which extends Message). */
const EVENT_MODELS: Record<string, string> = {
  ApplicationMoveFailed: 'channel:Channel! destination! args:List[string]!',
  ApplicationReplaced: '',
  BridgeCreated: 'bridge:Bridge!',
  BridgeDestroyed: 'bridge:Bridge!',
  BridgeMerged: 'bridge:Bridge! bridge_from:Bridge!',
  BridgeVideoSourceChanged: 'bridge:Bridge! old_video_source_id',
  BridgeBlindTransfer: 'channel:Channel! replace_channel:Channel transferee:Channel exten! context! result! is_external:boolean! bridge:Bridge',
  BridgeAttendedTransfer: 'transferer_first_leg:Channel! transferer_second_leg:Channel! replace_channel:Channel transferee:Channel transfer_target:Channel result! is_external:boolean! transferer_first_leg_bridge:Bridge transferer_second_leg_bridge:Bridge destination_type! destination_bridge destination_application destination_link_first_leg:Channel destination_link_second_leg:Channel destination_threeway_channel:Channel destination_threeway_bridge:Bridge',
  ChannelCallerId: 'caller_presentation:int! caller_presentation_txt! channel:Channel!',
  ChannelConnectedLine: 'channel:Channel!',
  ChannelCreated: 'channel:Channel!',
  ChannelDestroyed: 'cause:int! cause_txt! tech_cause:int channel:Channel!',
  ChannelDialplan: 'channel:Channel! dialplan_app! dialplan_app_data!',
  ChannelDtmfReceived: 'digit! duration_ms:int! channel:Channel!',
  ChannelEnteredBridge: 'bridge:Bridge! channel:Channel',
  ChannelHangupRequest: 'cause:int tech_cause:int soft:boolean channel:Channel!',
  ChannelHold: 'channel:Channel! musicclass',
  ChannelUnhold: 'channel:Channel!',
  ChannelLeftBridge: 'bridge:Bridge! channel:Channel!',
  ChannelStateChange: 'channel:Channel!',
  ChannelTalkingFinished: 'channel:Channel! duration:int!',
  ChannelTalkingStarted: 'channel:Channel!',
  ChannelToneDetected: 'channel:Channel!',
  ChannelUserevent: 'eventname! channel:Channel bridge:Bridge endpoint:Endpoint userevent:object!',
  ChannelVarset: 'variable! value! channel:Channel',
  ContactStatusChange: 'endpoint:Endpoint! contact_info:ContactInfo!',
  DeviceStateChanged: 'device_state:DeviceState!',
  Dial: 'caller:Channel peer:Channel! forward forwarded:Channel dialstring dialstatus!',
  EndpointStateChange: 'endpoint:Endpoint!',
  PeerStatusChange: 'endpoint:Endpoint! peer:Peer!',
  PlaybackContinuing: 'playback:Playback!',
  PlaybackFinished: 'playback:Playback!',
  PlaybackStarted: 'playback:Playback!',
  RecordingFailed: 'recording:LiveRecording!',
  RecordingFinished: 'recording:LiveRecording!',
  RecordingStarted: 'recording:LiveRecording!',
  StasisEnd: 'channel:Channel!',
  StasisStart: 'args:List[string]! channel:Channel! replace_channel:Channel',
  TextMessageReceived: 'message:TextMessage! endpoint:Endpoint',
};

interface SwaggerProperty {
  type: string;
  required?: boolean;
  description?: string;
}
interface SwaggerModel {
  id: string;
  description: string;
  properties: Record<string, SwaggerProperty>;
  extends?: string;
  subTypes?: string[];
  discriminator?: string;
}

function model(id: string, props: string, extra: Partial<SwaggerModel> = {}): SwaggerModel {
  const properties: Record<string, SwaggerProperty> = {};
  for (const token of props.split(/\s+/).filter(Boolean)) {
    const required = token.endsWith('!');
    const [name, type = 'string'] = token.replace(/!$/, '').split(':') as [string, string?];
    properties[name] = { type, ...(required ? { required: true } : {}) };
  }
  return { id, description: id, properties, ...extra };
}

function eventsModels(): Record<string, SwaggerModel> {
  const names = Object.keys(EVENT_MODELS);
  const models: Record<string, SwaggerModel> = {
    Message: model('Message', 'type! asterisk_id', { discriminator: 'type', subTypes: ['MissingParams', 'Event'] }),
    MissingParams: model('MissingParams', 'params:List[string]!', { extends: 'Message' }),
    Event: model('Event', 'application! timestamp:Date!', { extends: 'Message', subTypes: names }),
    ContactInfo: model('ContactInfo', 'uri! contact_status! aor! roundtrip_usec'),
    Peer: model('Peer', 'peer_status! cause address port time'),
  };
  for (const name of names) models[name] = model(name, EVENT_MODELS[name]!, { extends: 'Event' });
  return models;
}

function swaggerParam(p: ParamSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: p.name,
    description: p.name,
    paramType: p.paramType,
    required: p.required,
    allowMultiple: p.allowMultiple,
    dataType: p.dataType,
  };
  if (p.defaultValue !== undefined) out.defaultValue = p.defaultValue;
  if (p.allowed) out.allowableValues = { valueType: 'LIST', values: p.allowed };
  return out;
}

/** The API declaration for one resource (`/ari/api-docs/<resource>.json`). */
export function apiDeclaration(resource: string, basePath: string): Record<string, unknown> | undefined {
  if (!RESOURCE_NAMES.includes(resource)) return undefined;
  const byPath = new Map<string, Record<string, unknown>[]>();
  for (const op of OPERATIONS.filter((o) => o.resource === resource)) {
    const list = byPath.get(op.path) ?? [];
    const operation: Record<string, unknown> = {
      httpMethod: op.method,
      summary: op.summary,
      nickname: op.nickname,
      responseClass: op.responseClass,
      parameters: op.params.map(swaggerParam),
      errorResponses: Object.entries(op.errors).map(([code, reason]) => ({ code: Number(code), reason })),
    };
    if (op.nickname === 'eventWebsocket') {
      operation.upgrade = 'websocket';
      operation.websocketProtocol = 'ari';
    }
    list.push(operation);
    byPath.set(op.path, list);
  }
  const models: Record<string, SwaggerModel> =
    resource === 'events'
      ? eventsModels()
      : Object.fromEntries(Object.entries(RESOURCE_MODELS[resource] ?? {}).map(([id, props]) => [id, model(id, props)]));
  return {
    _copyright: 'Fake Asterisk for tests; operation names follow the Asterisk ARI reference.',
    apiVersion: API_VERSION,
    swaggerVersion: resource === 'events' ? '1.2' : '1.1',
    basePath,
    resourcePath: `/api-docs/${resource}.{format}`,
    requiresAuth: true,
    apis: [...byPath.entries()].map(([path, operations]) => ({ path, description: resourceDescription(resource), operations })),
    models,
  };
}

/** `/ari/api-docs/resources.json`. */
export function resourceListing(basePath: string): Record<string, unknown> {
  return {
    _copyright: 'Fake Asterisk for tests',
    apiVersion: API_VERSION,
    swaggerVersion: '1.1',
    basePath,
    apis: RESOURCE_NAMES.map((name) => ({ path: `/api-docs/${name}.{format}`, description: resourceDescription(name) })),
  };
}

/** Event types that have a model (ari-client crashes on events without one). */
export const EVENT_TYPES: ReadonlySet<string> = new Set(Object.keys(EVENT_MODELS));
