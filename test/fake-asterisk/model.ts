// The fake Asterisk's call model: channels, Stasis, originate/dial and hangup, with the
// event sequences of the recorded traces (see ../shared/ari-traces/README.md).
// Bridges and media live in bridges.ts and media.ts.
import { randomUUID } from 'node:crypto';
import { Bridges } from './bridges.js';
import { EventHub, type Targets } from './events.js';
import { Media } from './media.js';
import { AriError, channelJson, type Chan, type ChannelKind } from './state.js';
import type { AriEvent, ChannelSnapshot, DialplanCep, Dialplan, DialplanEntry, EndpointBehaviour, InboundCallOptions } from './types.js';
import { ariTime, causeText, hex8, parseCallerId } from './util.js';

export interface ModelConfig {
  asteriskId: string;
  channelVars: string[];
  playbackMs: number;
  mediaDurations: Record<string, number>;
  timeScale: number;
  dialplan: Dialplan;
  endpoints: Record<string, EndpointBehaviour>;
}

/** The dialplan of ari-traces/README.md, with the priorities Asterisk reported while in Stasis. */
export const DEFAULT_DIALPLAN: Dialplan = {
  'from-trunk': {
    '12345': { app: 'hotline', args: ['inbound'], priority: 2 },
    // Answer(), Playback(beep), Stasis(hotline,returned): bridge-record.jsonl reports priority 4.
    'after-stasis': { app: 'hotline', args: ['returned'], priority: 4, answer: true, delayMs: 30 },
  },
  'from-emergency': {
    '_X.': { app: 'hotline', args: ['transfer-in'], priority: 3 },
  },
  // Feature codes on agents' phones, as dialplans/extensions.conf [agents] has them.
  agents: {
    '*11': { app: 'hotline', args: ['feature', 'login'], priority: 1 },
    '*12': { app: 'hotline', args: ['feature', 'logout'], priority: 1 },
    '*21': { app: 'hotline', args: ['feature', 'ready'], priority: 1 },
    '*22': { app: 'hotline', args: ['feature', 'not-ready'], priority: 1 },
  },
};

export const DEFAULT_ENDPOINTS: Record<string, EndpointBehaviour> = {
  'PJSIP/trunk': { outcome: 'answer', context: 'from-trunk' },
  'PJSIP/emergency': { outcome: 'answer', context: 'from-emergency' },
  'PJSIP/agent1001': { outcome: 'answer', context: 'agents', callerName: 'Agent 1001', callerNumber: '1001' },
  'PJSIP/agent1002': { outcome: 'answer', context: 'agents', callerName: 'Agent 1002', callerNumber: '1002' },
};

export type Params = Record<string, string>;

interface NewChannel {
  id?: string;
  tech: string;
  resource: string;
  name?: string;
  kind?: ChannelKind;
  state: string;
  caller: { name: string; number: string };
  connected?: { name: string; number: string };
  dialplan: DialplanCep;
  protocolId: string;
  vars?: Record<string, string>;
  headers?: Record<string, string>;
}

const CALLER_PRESENTATION = { caller_presentation: 0, caller_presentation_txt: 'Presentation Allowed, Not Screened' };

function patternToRegExp(p: string): RegExp {
  if (!p.startsWith('_')) return new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  let re = '';
  for (let i = 1; i < p.length; i++) {
    const c = p[i]!;
    if (c === 'X') re += '[0-9]';
    else if (c === 'Z') re += '[1-9]';
    else if (c === 'N') re += '[2-9]';
    else if (c === '.') re += '.+';
    else if (c === '!') re += '.*';
    else if (c === '[') {
      const end = p.indexOf(']', i);
      re += p.slice(i, end + 1);
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export class AsteriskModel {
  readonly hub: EventHub;
  readonly channels = new Map<string, Chan>();
  readonly endpoints = new Map<string, EndpointBehaviour>();
  readonly globals = new Map<string, string>();
  readonly deviceStates = new Map<string, string>();
  readonly mailboxes = new Map<string, { old: number; new: number }>();
  readonly bridges: Bridges;
  readonly media: Media;
  startTime = Date.now();
  private uniqueCounter = 0;
  private nameCounter = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(readonly cfg: ModelConfig) {
    this.hub = new EventHub(cfg.asteriskId);
    for (const [k, v] of Object.entries(cfg.endpoints)) this.endpoints.set(k, v);
    this.bridges = new Bridges(this);
    this.media = new Media(this);
  }

  // ---- infrastructure -------------------------------------------------------------

  /** A timer that restart()/close() cancel. */
  later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout | null): void {
    if (!t) return;
    clearTimeout(t);
    this.timers.delete(t);
  }

  /** Asterisk seconds → real ms. */
  scaled(seconds: number): number {
    return Math.max(1, Math.round(seconds * 1000 * this.cfg.timeScale));
  }

  /** Everything in memory is lost, as on an Asterisk restart (stored recordings stay on disk). */
  reset(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.channels.clear();
    this.bridges.clear();
    this.media.clearLive();
    this.hub.reset();
    this.globals.clear();
    this.uniqueCounter = 0;
    this.nameCounter = 0;
    this.startTime = Date.now();
  }

  snap(ch: Chan): ChannelSnapshot {
    return channelJson(ch, this.cfg.channelVars);
  }

  isInternal(ch: Chan): boolean {
    return ch.kind === 'recorder' || ch.kind === 'announcer';
  }

  /** Publishes `{...pre, type, timestamp, ...post, channel}` (the traces' field order). */
  chanEvent(type: string, ch: Chan, pre: Record<string, unknown> = {}, post: Record<string, unknown> = {}, extra: Targets = {}): void {
    // Recorder/Announcer channels never show up in the traces' event streams.
    if (this.isInternal(ch)) return;
    const ev: AriEvent = { ...pre, type, timestamp: ariTime(Date.now()), ...post, channel: this.snap(ch) };
    this.hub.publish(ev, {
      channels: [ch.id, ...(extra.channels ?? [])],
      apps: [ch.stasisApp, ...(extra.apps ?? [])],
      bridges: extra.bridges ?? [],
    });
  }

  nextUniqueId(): string {
    return `${Math.floor(Date.now() / 1000)}.${this.uniqueCounter++}`;
  }

  nextNameSuffix(): string {
    return hex8(this.nameCounter++);
  }

  newChannel(o: NewChannel): Chan {
    const id = o.id ?? this.nextUniqueId();
    const ch: Chan = {
      id,
      name: o.name ?? `${o.tech}/${o.resource}-${this.nextNameSuffix()}`,
      state: o.state,
      protocolId: o.protocolId,
      caller: { ...o.caller },
      connected: { ...(o.connected ?? { name: '', number: '' }) },
      accountcode: '',
      dialplan: { ...o.dialplan },
      outsideDialplan: { ...o.dialplan },
      creationtime: Date.now(),
      language: 'en',
      vars: new Map(Object.entries(o.vars ?? {})),
      headers: new Map(Object.entries(o.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      tech: o.tech,
      resource: o.resource,
      kind: o.kind ?? 'sip',
      stasisApp: null,
      stasisArgs: [],
      createdNotDialed: false,
      dial: null,
      bridgeId: null,
      peerVarsSet: false,
      mohClass: null,
      onHold: false,
      muted: null,
      silence: false,
      snoopOf: null,
      destroyed: false,
    };
    this.channels.set(id, ch);
    this.chanEvent('ChannelCreated', ch);
    return ch;
  }

  requireChannel(id: string, message = 'Channel not found'): Chan {
    const ch = this.channels.get(id);
    if (!ch) throw new AriError(404, message);
    return ch;
  }

  requireStasis(id: string): Chan {
    const ch = this.requireChannel(id);
    if (!ch.stasisApp) throw new AriError(409, 'Channel not in a Stasis application');
    return ch;
  }

  endpoint(resource: string): EndpointBehaviour | undefined {
    return this.endpoints.get(resource);
  }

  endpointContext(resource: string): string {
    const ep = this.endpoints.get(resource);
    if (ep?.context) return ep.context;
    return /\/agent/i.test(resource) ? 'agents' : 'default';
  }

  endpointCaller(ep: EndpointBehaviour, resource: string): { name: string; number: string } {
    return { name: ep.callerName ?? '', number: ep.callerNumber ?? resource.replace(/\D/g, '') };
  }

  lookupDialplan(context: string, exten: string): DialplanEntry | undefined {
    const ctx = this.cfg.dialplan[context];
    if (!ctx) return undefined;
    if (ctx[exten]) return ctx[exten];
    for (const [pattern, entry] of Object.entries(ctx)) if (pattern.startsWith('_') && patternToRegExp(pattern).test(exten)) return entry;
    return undefined;
  }

  // ---- variables ------------------------------------------------------------------

  setVar(ch: Chan, name: string, value: string): void {
    const cid = /^CALLERID\((name|num|number|all)\)$/i.exec(name);
    if (cid) {
      const which = cid[1]!.toLowerCase();
      if (which === 'name') ch.caller.name = value;
      else if (which === 'all') ch.caller = parseCallerId(value) ?? { name: '', number: '' };
      else ch.caller.number = value;
      this.chanEvent('ChannelCallerId', ch, {}, CALLER_PRESENTATION);
      return;
    }
    // CHANNEL(language) is the channel's language (Set(CHANNEL(language)=zh) in the dialplan).
    if (/^CHANNEL\(language\)$/i.test(name)) {
      ch.language = value;
      this.chanEvent('ChannelVarset', ch, { variable: name, value });
      return;
    }
    ch.vars.set(name, value);
    this.chanEvent('ChannelVarset', ch, { variable: name, value });
  }

  getVar(ch: Chan, name: string): string {
    const fn = /^([A-Z_]+)\((.*)\)$/i.exec(name);
    if (fn) {
      const func = fn[1]!.toUpperCase();
      const arg = fn[2]!;
      let v: string | undefined;
      if (func === 'CALLERID') {
        const a = arg.toLowerCase();
        v = a === 'name' ? ch.caller.name : a === 'num' || a === 'number' ? ch.caller.number : a === 'all' ? `"${ch.caller.name}" <${ch.caller.number}>` : undefined;
      } else if (func === 'PJSIP_HEADER') {
        const [action, header] = arg.split(',');
        if (action?.trim().toLowerCase() === 'read' && header) v = ch.headers.get(header.trim().toLowerCase());
      } else if (func === 'CHANNEL') {
        const a = arg.toLowerCase();
        v = a === 'name' ? ch.name : a === 'state' ? ch.state : a === 'language' ? ch.language : undefined;
      }
      if (v === undefined) throw new AriError(500, 'Unable to read provided function');
      return v;
    }
    const builtin: Record<string, string> = { UNIQUEID: ch.id, CHANNEL: ch.name, EXTEN: ch.dialplan.exten, CONTEXT: ch.dialplan.context };
    const v = ch.vars.get(name) ?? builtin[name] ?? this.globals.get(name);
    if (v === undefined) throw new AriError(404, 'Provided variable was not found');
    return v;
  }

  // ---- Stasis ---------------------------------------------------------------------

  /** Stasis(app,args): false when the app has no events WebSocket (Asterisk refuses then). */
  enterStasis(ch: Chan, app: string, args: string[], o: { dialplanEvent?: boolean } = {}): boolean {
    if (ch.destroyed) return false;
    const appData = [app, ...args].join(',');
    ch.outsideDialplan = { ...ch.dialplan };
    ch.dialplan = { ...ch.dialplan, app_name: 'Stasis', app_data: appData };
    if (o.dialplanEvent) this.chanEvent('ChannelDialplan', ch, {}, { dialplan_app: 'Stasis', dialplan_app_data: appData });
    if (!this.hub.isActive(app)) {
      this.setVar(ch, 'STASISSTATUS', 'FAILED');
      ch.dialplan = { ...ch.outsideDialplan };
      return false;
    }
    this.setVar(ch, 'STASISSTATUS', '');
    ch.stasisApp = app;
    ch.stasisArgs = args;
    this.chanEvent('StasisStart', ch, {}, { args });
    return true;
  }

  leaveStasis(ch: Chan): void {
    if (!ch.stasisApp) return;
    if (ch.bridgeId) this.bridges.leave(ch);
    this.chanEvent('StasisEnd', ch);
    ch.stasisApp = null;
    ch.stasisArgs = [];
    // Only apps subscribed explicitly (originate/create/subscribe) still see this one.
    this.setVar(ch, 'STASISSTATUS', 'SUCCESS');
  }

  /** Runs the fake dialplan at context/exten: re-enters Stasis after the entry's delay, or hangs up. */
  runDialplan(ch: Chan, context: string, exten: string): void {
    const entry = this.lookupDialplan(context, exten);
    if (!entry) {
      ch.dialplan = { context, exten, priority: 1, app_name: 'Hangup', app_data: '' };
      this.later(0, () => this.destroyChannel(ch, { request: null, cause: 16 }));
      return;
    }
    ch.dialplan = { context, exten, priority: 1, app_name: '', app_data: '' };
    this.later(entry.delayMs ?? 0, () => {
      if (ch.destroyed) return;
      if (entry.answer && ch.state !== 'Up') this.setState(ch, 'Up');
      ch.dialplan = { context, exten, priority: entry.priority, app_name: '', app_data: '' };
      if (!this.enterStasis(ch, entry.app, entry.args)) this.destroyChannel(ch, { request: null, cause: 16 });
    });
  }

  setState(ch: Chan, state: string): void {
    if (ch.state === state) return;
    ch.state = state;
    this.chanEvent('ChannelStateChange', ch);
  }

  // ---- calls arriving from the network ---------------------------------------------

  inboundCall(o: InboundCallOptions): string {
    const context = o.context ?? 'from-trunk';
    const exten = o.exten ?? '12345';
    const entry = this.lookupDialplan(context, exten);
    const app = o.app ?? entry?.app ?? 'hotline';
    const args = o.args ?? entry?.args ?? ['inbound'];
    if (!this.hub.isActive(app)) throw new Error(`fake asterisk: Stasis app '${app}' has no events WebSocket; Asterisk would reject the call`);
    const endpoint = o.endpoint ?? 'PJSIP/trunk';
    const [tech = 'PJSIP', resource = 'trunk'] = endpoint.split('/');
    const ch = this.newChannel({
      tech,
      resource,
      state: 'Ring',
      caller: { name: o.callerName ?? '', number: o.callerNumber },
      dialplan: { context, exten, priority: 1, app_name: '', app_data: '' },
      protocolId: o.protocolId ?? `${this.uniqueCounter}-${Math.floor(Math.random() * 90000) + 10000}@127.0.0.1`,
      vars: o.vars ?? {},
      headers: o.headers ?? {},
    });
    if (o.language) ch.language = o.language;
    for (const [k, v] of Object.entries(o.vars ?? {})) this.chanEvent('ChannelVarset', ch, { variable: k, value: v });
    ch.dialplan = { context, exten, priority: entry?.priority ?? 2, app_name: '', app_data: '' };
    this.enterStasis(ch, app, args, { dialplanEvent: true });
    return ch.id;
  }

  // ---- originate / create / dial ---------------------------------------------------

  private checkEndpoint(endpoint: string | undefined): { tech: string; resource: string; ep: EndpointBehaviour } {
    if (!endpoint) throw new AriError(400, 'Endpoint must be specified');
    const slash = endpoint.indexOf('/');
    if (slash <= 0 || slash === endpoint.length - 1) throw new AriError(400, 'Invalid endpoint specified');
    const ep = this.endpoints.get(endpoint);
    // chan_pjsip cannot create a channel to an unknown or unreachable endpoint.
    if (!ep || ep.online === false) throw new AriError(500, 'Allocation failed');
    return { tech: endpoint.slice(0, slash), resource: endpoint.slice(slash + 1), ep };
  }

  private checkNewIds(q: Params, channelId: string | undefined): void {
    for (const id of [channelId, q.otherChannelId]) {
      if (id && this.channels.has(id)) throw new AriError(409, 'Channel with given unique ID already exists');
    }
  }

  originate(q: Params, vars: Record<string, string>, channelId?: string): ChannelSnapshot {
    const { tech, resource, ep } = this.checkEndpoint(q.endpoint);
    if (!q.app && !q.extension) throw new AriError(400, 'Application or extension must be specified');
    this.checkNewIds(q, channelId);
    const cid = parseCallerId(q.callerId);
    const ch = this.newChannel({
      id: channelId,
      tech,
      resource,
      state: 'Down',
      caller: cid ?? this.endpointCaller(ep, resource),
      connected: cid ?? { name: '', number: '' },
      dialplan: { context: this.endpointContext(q.endpoint!), exten: 's', priority: 1, app_name: 'AppDial2', app_data: '(Outgoing Line)' },
      protocolId: randomUUID(),
    });
    // The app is subscribed right after creation: it never sees ChannelCreated (traces).
    if (q.app) this.hub.app(q.app).channels.add(ch.id);
    for (const [k, v] of Object.entries(vars)) this.setVar(ch, k, v);
    const timeout = q.timeout !== undefined && q.timeout !== '' ? Number(q.timeout) : 30;
    ch.dial = {
      app: q.app ?? null,
      appArgs: q.appArgs ? q.appArgs.split(',') : [],
      timer: null,
      answerTimer: null,
      callerId: null,
      ...(q.extension ? { extension: q.extension, context: q.context ?? 'default' } : {}),
    };
    const snap = this.snap(ch);
    this.later(0, () => this.startDial(ch, timeout, null));
    return snap;
  }

  create(q: Params, vars: Record<string, string>): ChannelSnapshot {
    const { tech, resource, ep } = this.checkEndpoint(q.endpoint);
    if (!q.app) throw new AriError(400, 'Application must be specified');
    this.checkNewIds(q, q.channelId);
    const ch = this.newChannel({
      id: q.channelId,
      tech,
      resource,
      state: 'Down',
      caller: this.endpointCaller(ep, resource),
      dialplan: { context: this.endpointContext(q.endpoint!), exten: 's', priority: 1, app_name: '', app_data: '' },
      protocolId: randomUUID(),
    });
    ch.createdNotDialed = true;
    const app = q.app;
    this.hub.app(app).channels.add(ch.id);
    for (const [k, v] of Object.entries(vars)) this.setVar(ch, k, v);
    const snap = this.snap(ch);
    const args = q.appArgs ? q.appArgs.split(',') : [];
    this.later(0, () => {
      if (!this.enterStasis(ch, app, args, { dialplanEvent: true })) this.destroyChannel(ch, { request: null, cause: 16 });
    });
    return snap;
  }

  dial(id: string, q: Params): void {
    const ch = this.channels.get(id);
    if (!ch) throw new AriError(404, 'Channel cannot be found');
    if (!ch.stasisApp || !ch.createdNotDialed || ch.dial) throw new AriError(409, 'Channel cannot be dialed');
    const caller = q.caller ? this.channels.get(q.caller) : undefined;
    if (q.caller && !caller) throw new AriError(404, 'Caller channel cannot be found');
    ch.dial = { app: null, appArgs: [], timer: null, answerTimer: null, callerId: caller?.id ?? null };
    const timeout = q.timeout ? Number(q.timeout) : 0;
    this.later(0, () => this.startDial(ch, timeout, caller ?? null));
  }

  private dialEvent(ch: Chan, status: string, caller: Chan | null): void {
    const ev: AriEvent = {
      type: 'Dial',
      timestamp: ariTime(Date.now()),
      ...(caller ? { caller: this.snap(caller) } : {}),
      dialstatus: status,
      forward: '',
      dialstring: ch.resource,
      peer: this.snap(ch),
    };
    this.hub.publish(ev, { channels: [ch.id, ...(caller ? [caller.id] : [])], apps: [ch.stasisApp, caller?.stasisApp] });
  }

  private startDial(ch: Chan, timeoutSec: number, caller: Chan | null): void {
    if (ch.destroyed || !ch.dial) return;
    const ep = this.endpoints.get(`${ch.tech}/${ch.resource}`) ?? { outcome: 'answer' };
    ch.createdNotDialed = false;
    this.dialEvent(ch, '', caller);
    if (ep.outcome === 'busy' || ep.outcome === 'congestion') {
      // agent-busy.jsonl: HangupRequest(17/486), Dial BUSY, ChannelDestroyed(17/486), no Stasis.
      const [cause, techCause, status] = ep.outcome === 'busy' ? [17, 486, 'BUSY'] : [34, 503, 'CONGESTION'];
      this.chanEvent('ChannelHangupRequest', ch, { cause, tech_cause: techCause });
      this.dialEvent(ch, status, caller);
      ch.dial = null;
      this.destroyChannel(ch, { request: null, cause, techCause });
      return;
    }
    this.setState(ch, 'Ringing');
    this.dialEvent(ch, 'RINGING', caller);
    if (timeoutSec > 0) ch.dial.timer = this.later(this.scaled(timeoutSec), () => this.noAnswer(ch, caller));
    if (ep.outcome === 'answer') ch.dial.answerTimer = this.later(ep.answerAfterMs ?? 20, () => this.answerOutbound(ch));
  }

  private noAnswer(ch: Chan, caller: Chan | null): void {
    if (ch.destroyed || !ch.dial) return;
    this.cancelDial(ch);
    // agent-noanswer.jsonl: the originated leg just ends with ChannelDestroyed(19/480).
    if (ch.stasisApp) this.dialEvent(ch, 'NOANSWER', caller);
    this.destroyChannel(ch, { request: null, cause: 19, techCause: 480 });
  }

  private cancelDial(ch: Chan): void {
    if (!ch.dial) return;
    this.cancel(ch.dial.timer);
    this.cancel(ch.dial.answerTimer);
    ch.dial = null;
  }

  /** The dialed device answers (bridge-record.jsonl: StateChange Up, Dial ANSWER, STASISSTATUS, StasisStart). */
  answerOutbound(ch: Chan): void {
    if (ch.destroyed || !ch.dial) return;
    const d = ch.dial;
    this.cancelDial(ch);
    const caller = d.callerId ? (this.channels.get(d.callerId) ?? null) : null;
    this.setState(ch, 'Up');
    this.dialEvent(ch, 'ANSWER', caller);
    if (ch.stasisApp) return;
    if (d.app) {
      if (!this.enterStasis(ch, d.app, d.appArgs)) this.destroyChannel(ch, { request: null, cause: 16 });
    } else if (d.extension) {
      this.runDialplan(ch, d.context ?? 'default', d.extension);
    }
  }

  // ---- hangup ---------------------------------------------------------------------

  /**
   * Ends a channel: optional ChannelHangupRequest, media stop, ChannelLeftBridge, StasisEnd,
   * STASISSTATUS, ChannelDestroyed (seen only by apps still subscribed, as in the traces).
   */
  destroyChannel(ch: Chan, o: { request: Record<string, unknown> | null; cause: number; techCause?: number }): void {
    if (ch.destroyed) return;
    if (o.request) this.chanEvent('ChannelHangupRequest', ch, o.request);
    this.cancelDial(ch);
    this.media.targetGone('channel', ch.id);
    for (const s of [...this.channels.values()]) if (s.snoopOf === ch.id) this.destroyChannel(s, { request: { cause: 32, soft: true }, cause: 16 });
    if (ch.bridgeId) this.bridges.leave(ch);
    let techCause = o.techCause;
    const createdNotDialed = ch.createdNotDialed;
    const leftStasis = ch.stasisApp !== null;
    if (leftStasis) this.leaveStasis(ch);
    if (createdNotDialed && o.request) {
      // body-params-check.jsonl: a created, never dialed PJSIP channel declines with 603.
      techCause = 603;
      this.chanEvent('ChannelHangupRequest', ch, { cause: o.cause, tech_cause: techCause });
    }
    ch.destroyed = true;
    this.channels.delete(ch.id);
    // The snapshot shows the dialplan location outside Stasis again only when the channel dies.
    if (leftStasis) ch.dialplan = { ...ch.outsideDialplan };
    this.chanEvent('ChannelDestroyed', ch, {}, { cause: o.cause, cause_txt: causeText(o.cause), ...(techCause !== undefined ? { tech_cause: techCause } : {}) });
    this.hub.forgetChannel(ch.id);
  }

  // ---- misc channel operations -----------------------------------------------------

  continueInDialplan(id: string, q: Params): void {
    const ch = this.requireStasis(id);
    const context = q.context || ch.outsideDialplan.context;
    const explicit = Boolean(q.extension || q.context || q.priority || q.label);
    const exten = q.extension || ch.outsideDialplan.exten;
    this.leaveStasis(ch);
    if (!explicit) {
      // Falls through to the next priority, which in every shipped context is Hangup().
      this.later(0, () => this.destroyChannel(ch, { request: null, cause: 16 }));
      return;
    }
    this.runDialplan(ch, context, exten);
  }

  move(id: string, q: Params): void {
    const ch = this.requireStasis(id);
    if (!q.app) throw new AriError(400, 'Missing parameter app');
    const args = q.appArgs ? q.appArgs.split(',') : [];
    if (!this.hub.isActive(q.app)) {
      const ev: AriEvent = { type: 'ApplicationMoveFailed', timestamp: ariTime(Date.now()), channel: this.snap(ch), destination: q.app, args };
      this.hub.publish(ev, { channels: [ch.id], apps: [ch.stasisApp] });
      return;
    }
    if (ch.bridgeId) this.bridges.leave(ch);
    this.chanEvent('StasisEnd', ch);
    ch.stasisApp = null;
    ch.dialplan = { ...ch.outsideDialplan };
    this.enterStasis(ch, q.app, args);
  }

  snoop(id: string, q: Params, snoopId?: string): ChannelSnapshot {
    const target = this.requireChannel(id);
    if (!q.app) throw new AriError(400, 'Missing parameter app');
    const sid = snoopId ?? q.snoopId;
    if (sid && this.channels.has(sid)) throw new AriError(409, 'Channel with given unique ID already exists');
    const ch = this.newChannel({
      ...(sid ? { id: sid } : {}),
      tech: 'Snoop',
      resource: target.id,
      name: `Snoop/${target.id}-${this.nextNameSuffix()}`,
      kind: 'snoop',
      state: 'Up',
      caller: { ...target.caller },
      dialplan: { context: 'default', exten: 's', priority: 1, app_name: '', app_data: '' },
      protocolId: '',
    });
    ch.snoopOf = target.id;
    const app = q.app;
    const args = q.appArgs ? q.appArgs.split(',') : [];
    const snap = this.snap(ch);
    this.later(0, () => {
      if (!this.enterStasis(ch, app, args)) this.destroyChannel(ch, { request: null, cause: 16 });
    });
    return snap;
  }

  redirect(id: string, q: Params): void {
    const ch = this.requireStasis(id);
    if (!q.endpoint) throw new AriError(400, 'Endpoint parameter not provided');
    const tech = q.endpoint.split('/')[0];
    if (tech !== ch.tech) throw new AriError(422, 'Endpoint is not the same type as the channel');
    // The far end follows the redirect and releases this leg.
    this.later(0, () => this.destroyChannel(ch, { request: {}, cause: 16 }));
  }

  /** DTMF received from the far end. */
  dtmfReceived(ch: Chan, digit: string, durationMs: number): void {
    this.chanEvent('ChannelDtmfReceived', ch, {}, { digit, duration_ms: durationMs });
    this.media.dtmf(ch, digit);
  }

  channelList(): ChannelSnapshot[] {
    return [...this.channels.values()].map((c) => this.snap(c));
  }
}
