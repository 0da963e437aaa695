// Compact table of the ARI operations the fake declares (Asterisk 23 / ARI 11 names,
// parameter names and locations). Swagger 1.1 declarations are generated from it, and the
// HTTP router matches requests against it, so the two cannot drift apart.
//
// Param mini-language: `name[!][*][:type][@body][=default][|v1,v2]`
//   !  required    *  allowMultiple (comma separated)    @body  paramType body
//   path params come from `{name}` in the path and need no entry.

export interface ParamSpec {
  name: string;
  paramType: 'path' | 'query' | 'body';
  required: boolean;
  allowMultiple: boolean;
  dataType: string;
  defaultValue?: string | number | boolean;
  allowed?: string[];
}

export interface OperationSpec {
  resource: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  nickname: string;
  responseClass: string;
  summary: string;
  params: ParamSpec[];
  errors: Record<number, string>;
  /** Matches a concrete path (without query) and extracts path params. */
  pattern: RegExp;
  pathParams: string[];
}

type Row = [method: OperationSpec['method'], path: string, nickname: string, responseClass: string, summary: string, params?: string[], errors?: Record<number, string>];

const CH404 = { 404: 'Channel not found' };
const CH_STASIS = { 404: 'Channel not found', 409: 'Channel not in a Stasis application' };
const BR404 = { 404: 'Bridge not found' };
const BR_STASIS = { 404: 'Bridge not found', 409: 'Bridge not in a Stasis application' };
const REC_ERR = {
  400: 'Invalid parameters',
  409: 'A recording with the same name already exists on the system and can not be overwritten because it is in progress or ifExists=fail',
  422: 'The format specified is unknown on this system',
};
const HANGUP_REASONS = 'normal,busy,congestion,no_answer,timeout,rejected,unallocated,normal_unspecified,number_incomplete,codec_mismatch,interworking,failure,answered_elsewhere';
const ORIGINATE = [
  'endpoint!', 'extension', 'context', 'priority:long', 'label', 'app', 'appArgs', 'callerId', 'timeout:int=30',
  'variables:containers@body', 'otherChannelId', 'originator', 'formats',
];
const PLAY = ['media!*', 'lang', 'offsetms:int', 'skipms:int=3000'];
const RECORD = [
  'name!', 'format!', 'maxDurationSeconds:int=0', 'maxSilenceSeconds:int=0', 'ifExists=fail|fail,overwrite,append',
  'beep:boolean=false', 'terminateOn=none|none,any,*,#',
];

const TABLE: Record<string, { description: string; rows: Row[] }> = {
  asterisk: {
    description: 'Asterisk resources',
    rows: [
      ['GET', '/asterisk/info', 'getInfo', 'AsteriskInfo', 'Gets Asterisk system information.', ['only*|build,system,config,status']],
      ['GET', '/asterisk/ping', 'ping', 'AsteriskPing', 'Response pong message.'],
      ['GET', '/asterisk/modules', 'listModules', 'List[Module]', 'List Asterisk modules.'],
      ['GET', '/asterisk/logging', 'listLogChannels', 'List[LogChannel]', 'Gets Asterisk log channel information.'],
      ['GET', '/asterisk/variable', 'getGlobalVar', 'Variable', 'Get the value of a global variable.', ['variable!'], { 400: 'Missing variable parameter.' }],
      ['POST', '/asterisk/variable', 'setGlobalVar', 'void', 'Set the value of a global variable.', ['variable!', 'value'], { 400: 'Missing variable parameter.' }],
    ],
  },
  endpoints: {
    description: 'Endpoint resources',
    rows: [
      ['GET', '/endpoints', 'list', 'List[Endpoint]', 'List all endpoints.'],
      ['PUT', '/endpoints/sendMessage', 'sendMessage', 'void', 'Send a message to some technology URI or endpoint.', ['to!', 'from!', 'body', 'variables:containers@body'], { 400: 'Invalid parameters for sending a message.', 404: 'Endpoint not found' }],
      ['GET', '/endpoints/{tech}', 'listByTech', 'List[Endpoint]', 'List available endoints for a given endpoint technology.', [], { 404: 'Endpoints not found' }],
      ['GET', '/endpoints/{tech}/{resource}', 'get', 'Endpoint', 'Details for an endpoint.', [], { 400: 'Invalid parameters for sending a message.', 404: 'Endpoints not found' }],
    ],
  },
  channels: {
    description: 'Channel resources',
    rows: [
      ['GET', '/channels', 'list', 'List[Channel]', 'List all active channels in Asterisk.'],
      ['POST', '/channels', 'originate', 'Channel', 'Create a new channel (originate).', [...ORIGINATE, 'channelId'], { 400: 'Invalid parameters for originating a channel.', 409: 'Channel with given unique ID already exists.' }],
      ['POST', '/channels/create', 'create', 'Channel', 'Create channel.', ['endpoint!', 'app!', 'appArgs', 'channelId', 'otherChannelId', 'originator', 'formats', 'variables:containers@body'], { 409: 'Channel with given unique ID already exists.' }],
      ['GET', '/channels/{channelId}', 'get', 'Channel', 'Channel details.', [], CH404],
      ['POST', '/channels/{channelId}', 'originateWithId', 'Channel', 'Create a new channel (originate with id).', ORIGINATE, { 400: 'Invalid parameters for originating a channel.', 409: 'Channel with given unique ID already exists.' }],
      ['DELETE', '/channels/{channelId}', 'hangup', 'void', 'Delete (i.e. hangup) a channel.', ['reason_code', `reason|${HANGUP_REASONS}`], { 400: 'Invalid reason for hangup provided', 404: 'Channel not found' }],
      ['POST', '/channels/{channelId}/continue', 'continueInDialplan', 'void', 'Exit application; continue execution in the dialplan.', ['context', 'extension', 'priority:int', 'label'], { ...CH_STASIS, 412: 'Channel in invalid state' }],
      ['POST', '/channels/{channelId}/move', 'move', 'void', 'Move the channel from one Stasis application to another.', ['app!', 'appArgs'], CH_STASIS],
      ['POST', '/channels/{channelId}/redirect', 'redirect', 'void', 'Redirect the channel to a different location.', ['endpoint!'], { 400: 'Endpoint parameter not provided', ...CH_STASIS, 422: 'Endpoint is not the same type as the channel' }],
      ['POST', '/channels/{channelId}/answer', 'answer', 'void', 'Answer a channel.', [], CH_STASIS],
      ['POST', '/channels/{channelId}/ring', 'ring', 'void', 'Indicate ringing to a channel.', [], CH_STASIS],
      ['DELETE', '/channels/{channelId}/ring', 'ringStop', 'void', 'Stop ringing indication on a channel if locally generated.', [], CH_STASIS],
      ['POST', '/channels/{channelId}/dtmf', 'sendDTMF', 'void', 'Send provided DTMF to a given channel.', ['dtmf', 'before:int=0', 'between:int=100', 'duration:int=100', 'after:int=0'], { 400: 'DTMF is required', ...CH_STASIS }],
      ['POST', '/channels/{channelId}/mute', 'mute', 'void', 'Mute a channel.', ['direction=both|both,in,out'], CH_STASIS],
      ['DELETE', '/channels/{channelId}/mute', 'unmute', 'void', 'Unmute a channel.', ['direction=both|both,in,out'], CH_STASIS],
      ['POST', '/channels/{channelId}/hold', 'hold', 'void', 'Hold a channel.', [], CH_STASIS],
      ['DELETE', '/channels/{channelId}/hold', 'unhold', 'void', 'Remove a channel from hold.', [], CH_STASIS],
      ['POST', '/channels/{channelId}/moh', 'startMoh', 'void', 'Play music on hold to a channel.', ['mohClass'], CH_STASIS],
      ['DELETE', '/channels/{channelId}/moh', 'stopMoh', 'void', 'Stop playing music on hold to a channel.', [], CH_STASIS],
      ['POST', '/channels/{channelId}/silence', 'startSilence', 'void', 'Play silence to a channel.', [], CH_STASIS],
      ['DELETE', '/channels/{channelId}/silence', 'stopSilence', 'void', 'Stop playing silence to a channel.', [], CH_STASIS],
      ['POST', '/channels/{channelId}/play', 'play', 'Playback', 'Start playback of media.', [...PLAY, 'playbackId'], CH_STASIS],
      ['POST', '/channels/{channelId}/play/{playbackId}', 'playWithId', 'Playback', 'Start playback of media and specify the playbackId.', PLAY, CH_STASIS],
      ['POST', '/channels/{channelId}/record', 'record', 'LiveRecording', 'Start a recording.', RECORD, { ...REC_ERR, 404: 'Channel not found' }],
      ['GET', '/channels/{channelId}/variable', 'getChannelVar', 'Variable', 'Get the value of a channel variable or function.', ['variable!'], { 400: 'Missing variable parameter.', 404: 'Channel or variable not found', 409: 'Channel not in a Stasis application' }],
      ['POST', '/channels/{channelId}/variable', 'setChannelVar', 'void', 'Set the value of a channel variable or function.', ['variable!', 'value'], { 400: 'Missing variable parameter.', ...CH_STASIS }],
      ['POST', '/channels/{channelId}/variables', 'setChannelVars', 'void', 'Set the values of multiple channel variables or functions.', ['variables:containers@body'], { 400: 'Missing variables parameter.', ...CH_STASIS }],
      ['POST', '/channels/{channelId}/snoop', 'snoopChannel', 'Channel', 'Start snooping.', ['spy=none|none,both,out,in', 'whisper=none|none,both,out,in', 'app!', 'appArgs', 'snoopId'], { 400: 'Invalid parameters', 404: 'Channel not found' }],
      ['POST', '/channels/{channelId}/snoop/{snoopId}', 'snoopChannelWithId', 'Channel', 'Start snooping.', ['spy=none|none,both,out,in', 'whisper=none|none,both,out,in', 'app!', 'appArgs'], { 400: 'Invalid parameters', 404: 'Channel not found' }],
      ['POST', '/channels/{channelId}/dial', 'dial', 'void', 'Dial a created channel.', ['caller', 'timeout:int=0'], { 404: 'Channel cannot be found.', 409: 'Channel cannot be dialed.' }],
      ['GET', '/channels/{channelId}/rtp_statistics', 'rtpstatistics', 'RTPstat', 'RTP stats on a channel.', [], CH404],
      ['POST', '/channels/externalMedia', 'externalMedia', 'Channel', 'Start an External Media session.', ['channelId', 'app!', 'variables:containers@body', 'external_host', 'encapsulation=rtp|rtp,audiosocket,none', 'transport=udp|udp,tcp,websocket', 'connection_type=client|client,server', 'format!', 'direction=both|both', 'data', 'transport_data'], { 400: 'Invalid parameters', 409: 'Channel is not in a Stasis application; Channel is already bridged' }],
    ],
  },
  bridges: {
    description: 'Bridge resources',
    rows: [
      ['GET', '/bridges', 'list', 'List[Bridge]', 'List all active bridges in Asterisk.'],
      ['POST', '/bridges', 'create', 'Bridge', 'Create a new bridge.', ['type', 'bridgeId', 'name', 'variables:containers@body'], { 409: 'Bridge with the same bridgeId already exists' }],
      ['POST', '/bridges/{bridgeId}', 'createWithId', 'Bridge', 'Create a new bridge or updates an existing one.', ['type', 'name'], { 409: 'Bridge with the same bridgeId already exists' }],
      ['GET', '/bridges/{bridgeId}', 'get', 'Bridge', 'Get bridge details.', [], BR404],
      ['DELETE', '/bridges/{bridgeId}', 'destroy', 'void', 'Shut down a bridge.', [], BR404],
      ['GET', '/bridges/{bridgeId}/variable', 'getBridgeVar', 'Variable', 'Get the value of a bridge variable.', ['variable!'], { 400: 'Missing variable parameter.', 404: 'Bridge or variable not found' }],
      ['POST', '/bridges/{bridgeId}/variable', 'setBridgeVar', 'void', 'Set the value of a bridge variable.', ['variable!', 'value'], { 400: 'Missing variable parameter.', 404: 'Bridge not found' }],
      ['POST', '/bridges/{bridgeId}/addChannel', 'addChannel', 'void', 'Add a channel to a bridge.', ['channel!*', 'role', 'absorbDTMF:boolean=false', 'mute:boolean=false', 'inhibitConnectedLineUpdates:boolean=false'], { 400: 'Channel not found', ...BR_STASIS, 422: 'Channel not in Stasis application; Channel currently recording' }],
      ['POST', '/bridges/{bridgeId}/removeChannel', 'removeChannel', 'void', 'Remove a channel from a bridge.', ['channel!*'], { 400: 'Channel not found', ...BR_STASIS, 422: 'Channel not in this bridge' }],
      ['POST', '/bridges/{bridgeId}/videoSource/{channelId}', 'setVideoSource', 'void', 'Set a channel as the video source in a multi-party mixing bridge.', [], { 404: 'Bridge or Channel not found', 409: 'Channel not in Stasis application', 422: 'Channel not in this Bridge' }],
      ['DELETE', '/bridges/{bridgeId}/videoSource', 'clearVideoSource', 'void', 'Removes any explicit video source in a multi-party mixing bridge.', [], BR404],
      ['POST', '/bridges/{bridgeId}/moh', 'startMoh', 'void', 'Play music on hold to a bridge or change the MOH class that is playing.', ['mohClass'], BR_STASIS],
      ['DELETE', '/bridges/{bridgeId}/moh', 'stopMoh', 'void', 'Stop playing music on hold to a bridge.', [], BR_STASIS],
      ['POST', '/bridges/{bridgeId}/play', 'play', 'Playback', 'Start playback of media on a bridge.', [...PLAY, 'playbackId'], BR_STASIS],
      ['POST', '/bridges/{bridgeId}/play/{playbackId}', 'playWithId', 'Playback', 'Start playback of media on a bridge.', PLAY, BR_STASIS],
      ['POST', '/bridges/{bridgeId}/record', 'record', 'LiveRecording', 'Start a recording.', RECORD, { ...REC_ERR, 404: 'Bridge not found' }],
    ],
  },
  recordings: {
    description: 'Recording resources',
    rows: [
      ['GET', '/recordings/stored', 'listStored', 'List[StoredRecording]', 'List recordings that are complete.'],
      ['GET', '/recordings/stored/{recordingName}', 'getStored', 'StoredRecording', 'Get a stored recording\'s details.', [], { 404: 'Recording not found' }],
      ['DELETE', '/recordings/stored/{recordingName}', 'deleteStored', 'void', 'Delete a stored recording.', [], { 404: 'Recording not found' }],
      ['GET', '/recordings/stored/{recordingName}/file', 'getStoredFile', 'binary', 'Get the file associated with the stored recording.', [], { 403: 'The recording file could not be opened', 404: 'Recording not found' }],
      ['POST', '/recordings/stored/{recordingName}/copy', 'copyStored', 'StoredRecording', 'Copy a stored recording.', ['destinationRecordingName!'], { 404: 'Recording not found', 409: 'A recording with the same name already exists on the system' }],
      ['GET', '/recordings/live/{recordingName}', 'getLive', 'LiveRecording', 'List live recordings.', [], { 404: 'Recording not found' }],
      ['DELETE', '/recordings/live/{recordingName}', 'cancel', 'void', 'Stop a live recording and discard it.', [], { 404: 'Recording not found' }],
      ['POST', '/recordings/live/{recordingName}/stop', 'stop', 'void', 'Stop a live recording and store it.', [], { 404: 'Recording not found' }],
      ['POST', '/recordings/live/{recordingName}/pause', 'pause', 'void', 'Pause a live recording.', [], { 404: 'Recording not found', 409: 'Recording not in session' }],
      ['DELETE', '/recordings/live/{recordingName}/pause', 'unpause', 'void', 'Unpause a live recording.', [], { 404: 'Recording not found', 409: 'Recording not in session' }],
      ['POST', '/recordings/live/{recordingName}/mute', 'mute', 'void', 'Mute a live recording.', [], { 404: 'Recording not found', 409: 'Recording not in session' }],
      ['DELETE', '/recordings/live/{recordingName}/mute', 'unmute', 'void', 'Unmute a live recording.', [], { 404: 'Recording not found', 409: 'Recording not in session' }],
    ],
  },
  sounds: {
    description: 'Sound resources',
    rows: [
      ['GET', '/sounds', 'list', 'List[Sound]', 'List all sounds.', ['lang', 'format']],
      ['GET', '/sounds/{soundId}', 'get', 'Sound', 'Get a sound\'s details.'],
    ],
  },
  playbacks: {
    description: 'Playback control resources',
    rows: [
      ['GET', '/playbacks/{playbackId}', 'get', 'Playback', 'Get a playback\'s details.', [], { 404: 'The playback cannot be found' }],
      ['DELETE', '/playbacks/{playbackId}', 'stop', 'void', 'Stop a playback.', [], { 404: 'The playback cannot be found' }],
      ['POST', '/playbacks/{playbackId}/control', 'control', 'void', 'Control a playback.', ['operation!|restart,pause,unpause,reverse,forward'], { 400: 'The provided operation parameter was invalid', 404: 'The playback cannot be found', 409: 'The operation cannot be performed in the playback\'s current state' }],
    ],
  },
  deviceStates: {
    description: 'Device state resources',
    rows: [
      ['GET', '/deviceStates', 'list', 'List[DeviceState]', 'List all ARI controlled device states.'],
      ['GET', '/deviceStates/{deviceName}', 'get', 'DeviceState', 'Retrieve the current state of a device.'],
      ['PUT', '/deviceStates/{deviceName}', 'update', 'void', 'Change the state of a device controlled by ARI.', ['deviceState!|NOT_INUSE,INUSE,BUSY,INVALID,UNAVAILABLE,RINGING,RINGINUSE,ONHOLD'], { 404: 'Device name is missing', 409: 'Uncontrolled device specified' }],
      ['DELETE', '/deviceStates/{deviceName}', 'delete', 'void', 'Destroy a device-state controlled by ARI.', [], { 404: 'Device name is missing', 409: 'Uncontrolled device specified' }],
    ],
  },
  mailboxes: {
    description: 'Mailboxes resources',
    rows: [
      ['GET', '/mailboxes', 'list', 'List[Mailbox]', 'List all mailboxes.'],
      ['GET', '/mailboxes/{mailboxName}', 'get', 'Mailbox', 'Retrieve the current state of a mailbox.', [], { 404: 'Mailbox not found' }],
      ['PUT', '/mailboxes/{mailboxName}', 'update', 'void', 'Change the state of a mailbox.', ['oldMessages!:int', 'newMessages!:int'], { 404: 'Mailbox not found' }],
      ['DELETE', '/mailboxes/{mailboxName}', 'delete', 'void', 'Destroy a mailbox.', [], { 404: 'Mailbox not found' }],
    ],
  },
  events: {
    description: 'WebSocket resource',
    rows: [
      ['GET', '/events', 'eventWebsocket', 'Message', 'WebSocket connection for events.', ['app!*', 'subscribeAll:boolean']],
      ['POST', '/events/user/{eventName}', 'userEvent', 'void', 'Generate a user event.', ['application!', 'source*', 'variables:containers@body'], { 400: 'Invalid even tsource URI or userevent data.', 404: 'Application does not exist.', 422: 'Event source not found.' }],
    ],
  },
  applications: {
    description: 'Stasis application resources',
    rows: [
      ['GET', '/applications', 'list', 'List[Application]', 'List all applications.'],
      ['GET', '/applications/{applicationName}', 'get', 'Application', 'Get details of an application.', [], { 404: 'Application does not exist.' }],
      ['POST', '/applications/{applicationName}/subscription', 'subscribe', 'Application', 'Subscribe an application to a event source.', ['eventSource!*'], { 400: 'Missing parameter.', 404: 'Application does not exist.', 422: 'Event source does not exist.' }],
      ['DELETE', '/applications/{applicationName}/subscription', 'unsubscribe', 'Application', 'Unsubscribe an application from an event source.', ['eventSource!*'], { 400: 'Missing parameter; event source scheme not recognized.', 404: 'Application does not exist.', 409: 'Application not subscribed to event source.', 422: 'Event source does not exist.' }],
      ['PUT', '/applications/{applicationName}/eventFilter', 'filter', 'Application', 'Filter application events types.', ['filter:object@body'], { 400: 'Bad request.', 404: 'Application does not exist.' }],
    ],
  },
};

/** Order of resources.json in Asterisk. */
export const RESOURCE_NAMES = Object.keys(TABLE);

export function resourceDescription(resource: string): string {
  return TABLE[resource]?.description ?? resource;
}

function parseParam(spec: string): ParamSpec {
  const m = /^([A-Za-z_]+)(!?)(\*?)(!?)(?::([A-Za-z[\]]+))?(@body)?(?:=([^|]*))?(?:\|(.*))?$/.exec(spec);
  if (!m) throw new Error(`bad param spec ${spec}`);
  const dataType = m[5] ?? 'string';
  const p: ParamSpec = {
    name: m[1]!,
    paramType: m[6] ? 'body' : 'query',
    required: m[2] === '!' || m[4] === '!',
    allowMultiple: m[3] === '*',
    dataType,
  };
  if (m[7] !== undefined) {
    const raw = m[7];
    p.defaultValue = dataType === 'int' || dataType === 'long' ? Number(raw) : dataType === 'boolean' ? raw === 'true' : raw;
  }
  if (m[8] !== undefined) p.allowed = m[8].split(',');
  return p;
}

function build(): OperationSpec[] {
  const ops: OperationSpec[] = [];
  for (const [resource, { rows }] of Object.entries(TABLE)) {
    for (const [method, path, nickname, responseClass, summary, params = [], errors = {}] of rows) {
      const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      const pattern = new RegExp(`^/ari${path.replace(/\{\w+\}/g, '([^/]+)')}$`);
      ops.push({
        resource,
        method,
        path,
        nickname,
        responseClass,
        summary,
        params: [
          ...pathParams.map((name): ParamSpec => ({ name, paramType: 'path', required: true, allowMultiple: false, dataType: 'string' })),
          ...params.map(parseParam),
        ],
        errors,
        pattern,
        pathParams,
      });
    }
  }
  return ops;
}

export const OPERATIONS: readonly OperationSpec[] = build();

/** Finds the operation for a request; `methodMismatch` when the path exists with other methods. */
export function matchOperation(method: string, path: string): { op: OperationSpec; pathParams: Record<string, string> } | { methodMismatch: boolean } {
  let pathFound = false;
  // Literal segments win over `{param}` ones (e.g. /channels/create vs /channels/{channelId}).
  const candidates = OPERATIONS.filter((o) => o.pattern.test(path));
  candidates.sort((a, b) => a.pathParams.length - b.pathParams.length);
  for (const op of candidates) {
    pathFound = true;
    if (op.method !== method) continue;
    const m = op.pattern.exec(path)!;
    const pathParams: Record<string, string> = {};
    op.pathParams.forEach((name, i) => {
      pathParams[name] = decodeURIComponent(m[i + 1]!);
    });
    return { op, pathParams };
  }
  return { methodMismatch: pathFound };
}
