// Stasis bridges: mixing and holding, channels entering/leaving (with the BRIDGEPEER /
// BRIDGEPVTCALLID and connected-line updates of bridge-record.jsonl), MOH with an announcer
// channel (hold.jsonl), and BridgeDestroyed.
import { randomUUID } from 'node:crypto';
import type { AsteriskModel, Params } from './model.js';
import { AriError, bridgeJson, type Bridge, type Chan } from './state.js';
import type { AriEvent, BridgeSnapshot } from './types.js';
import { ariTime } from './util.js';

const VARS_MESSAGE = "Each object value in 'variables' must include string field 'value'";

export class Bridges {
  readonly all = new Map<string, Bridge>();

  constructor(private readonly m: AsteriskModel) {}

  clear(): void {
    this.all.clear();
  }

  snap(b: Bridge): BridgeSnapshot {
    return bridgeJson(b, b.channels.length);
  }

  require(id: string): Bridge {
    const b = this.all.get(id);
    if (!b) throw new AriError(404, 'Bridge not found');
    return b;
  }

  private publish(type: string, b: Bridge, ch?: Chan): void {
    const ev: AriEvent = { type, timestamp: ariTime(Date.now()), bridge: this.snap(b), ...(ch ? { channel: this.m.snap(ch) } : {}) };
    this.m.hub.publish(ev, { bridges: [b.id], channels: ch ? [ch.id] : [], apps: ch ? [ch.stasisApp] : [] });
  }

  /**
   * POST /bridges and POST /bridges/{id}. Reproduces the Asterisk 23.4.1 bug of
   * body-params-check.jsonl: a `variables` body whose values are plain strings answers 400,
   * yet the bridge has been created and stays.
   */
  create(q: Params, body: Record<string, unknown> | undefined, pathId?: string): BridgeSnapshot {
    const types = (q.type ?? 'mixing').split(',').map((t) => t.trim());
    const known = ['mixing', 'holding', 'dtmf_events', 'proxy_media', 'video_sfu', 'video_single', 'sdp_label', ''];
    if (types.some((t) => !known.includes(t))) throw new AriError(400, 'Invalid bridge type');
    const id = pathId ?? q.bridgeId ?? randomUUID();
    const existing = this.all.get(id);
    if (existing) {
      if (!pathId) throw new AriError(409, 'Bridge with the same bridgeId already exists');
      if (q.name !== undefined) existing.name = q.name;
      return this.snap(existing);
    }
    const b: Bridge = {
      id,
      type: types.includes('holding') ? 'holding' : 'mixing',
      name: q.name ?? '',
      channels: [],
      creationtime: Date.now(),
      mohClass: null,
      announcerId: null,
      vars: new Map(),
    };
    this.all.set(id, b);
    this.publish('BridgeCreated', b);
    const vars = body?.variables;
    if (vars !== undefined) {
      if (typeof vars !== 'object' || vars === null) throw new AriError(400, VARS_MESSAGE);
      for (const [k, v] of Object.entries(vars as Record<string, unknown>)) {
        const value = typeof v === 'object' && v !== null ? (v as Record<string, unknown>).value : undefined;
        if (typeof value !== 'string') throw new AriError(400, VARS_MESSAGE);
        b.vars.set(k, value);
      }
    }
    return this.snap(b);
  }

  addChannels(bridgeId: string, q: Params): void {
    const b = this.require(bridgeId);
    if (!q.channel) throw new AriError(400, 'Missing parameter channel');
    const chans = q.channel.split(',').map((id) => {
      const ch = this.m.channels.get(id);
      if (!ch) throw new AriError(400, 'Channel not found');
      return ch;
    });
    for (const ch of chans) if (!ch.stasisApp) throw new AriError(422, 'Channel not in Stasis application');
    const inhibit = q.inhibitConnectedLineUpdates === 'true';
    for (const ch of chans) this.enter(ch, b, inhibit);
  }

  removeChannels(bridgeId: string, q: Params): void {
    const b = this.require(bridgeId);
    if (!q.channel) throw new AriError(400, 'Missing parameter channel');
    const chans = q.channel.split(',').map((id) => {
      const ch = this.m.channels.get(id);
      if (!ch) throw new AriError(400, 'Channel not found');
      return ch;
    });
    for (const ch of chans) if (ch.bridgeId !== b.id) throw new AriError(422, 'Channel not in this bridge');
    for (const ch of chans) this.leave(ch);
  }

  enter(ch: Chan, b: Bridge, inhibitConnectedLine = false): void {
    if (ch.bridgeId === b.id) return;
    if (ch.bridgeId) this.leave(ch);
    b.channels.push(ch.id);
    ch.bridgeId = b.id;
    // The app follows the bridges its channels join (that is how BridgeDestroyed reaches it).
    if (ch.stasisApp) this.m.hub.app(ch.stasisApp).bridges.add(b.id);
    if (!this.m.isInternal(ch)) this.publish('ChannelEnteredBridge', b, ch);
    if (b.type !== 'mixing') return;
    this.updatePeers(b);
    if (inhibitConnectedLine || this.m.isInternal(ch)) return;
    const parties = b.channels.map((id) => this.m.channels.get(id)).filter((c): c is Chan => c?.kind === 'sip');
    if (parties.length !== 2) return;
    const other = parties.find((c) => c !== ch);
    if (!other) return;
    for (const [c, peer] of [[ch, other], [other, ch]] as const) {
      if (c.connected.name === peer.caller.name && c.connected.number === peer.caller.number) continue;
      c.connected = { ...peer.caller };
      this.m.chanEvent('ChannelConnectedLine', c);
    }
  }

  leave(ch: Chan): void {
    const b = ch.bridgeId ? this.all.get(ch.bridgeId) : undefined;
    ch.bridgeId = null;
    if (!b) return;
    b.channels = b.channels.filter((id) => id !== ch.id);
    if (ch.peerVarsSet) {
      this.m.setVar(ch, 'BRIDGEPEER', '');
      this.m.setVar(ch, 'BRIDGEPVTCALLID', '');
      ch.peerVarsSet = false;
    }
    if (!this.m.isInternal(ch)) this.publish('ChannelLeftBridge', b, ch);
    if (b.type === 'mixing') this.updatePeers(b);
    // Music stops with the last listener; the announcer leaves quietly (hold.jsonl's 409 afterwards).
    if (b.announcerId && b.channels.every((id) => id === b.announcerId || this.m.channels.get(id)?.kind === 'recorder')) this.stopMusic(b);
  }

  /** Asterisk sets BRIDGEPEER/BRIDGEPVTCALLID on every member once two or more are bridged. */
  private updatePeers(b: Bridge): void {
    const members = b.channels.map((id) => this.m.channels.get(id)).filter((c): c is Chan => c !== undefined);
    if (members.length < 2) return;
    const newestFirst = [...members].reverse();
    for (const c of members) {
      const others = newestFirst.filter((o) => o !== c);
      const two = others.length === 1 ? others[0] : undefined;
      this.m.setVar(c, 'BRIDGEPEER', two ? two.name : others.map((o) => o.name).join(','));
      this.m.setVar(c, 'BRIDGEPVTCALLID', two ? two.protocolId : '');
      c.peerVarsSet = true;
    }
  }

  /** Adds an internal channel (announcer, recorder) to a bridge. */
  addInternal(b: Bridge, kind: 'announcer' | 'recorder', name: string): Chan {
    // Internal channels come as a ;1/;2 pair; the ;2 half joins the bridge.
    this.m.nextUniqueId();
    const ch = this.m.newChannel({
      tech: kind === 'announcer' ? 'Announcer' : 'Recorder',
      resource: name,
      name,
      kind,
      state: 'Up',
      caller: { name: '', number: '' },
      dialplan: { context: 'default', exten: 's', priority: 1, app_name: '', app_data: '' },
      protocolId: '',
    });
    this.enter(ch, b);
    return ch;
  }

  removeInternal(chId: string | null): void {
    const ch = chId ? this.m.channels.get(chId) : undefined;
    if (!ch) return;
    this.leave(ch);
    ch.destroyed = true;
    this.m.channels.delete(ch.id);
  }

  startMoh(id: string, q: Params): void {
    const b = this.require(id);
    b.mohClass = q.mohClass ?? 'default';
    if (!b.announcerId) b.announcerId = this.addInternal(b, 'announcer', `Announcer/ARI_MOH-${this.m.nextNameSuffix()};2`).id;
  }

  stopMoh(id: string): void {
    const b = this.require(id);
    if (!b.mohClass) throw new AriError(409, "Bridge isn't playing music");
    this.stopMusic(b);
  }

  private stopMusic(b: Bridge): void {
    const announcer = b.announcerId;
    b.mohClass = null;
    b.announcerId = null;
    this.removeInternal(announcer);
  }

  destroy(id: string): void {
    const b = this.require(id);
    this.m.media.targetGone('bridge', b.id);
    this.stopMusic(b);
    for (const chId of [...b.channels]) {
      const ch = this.m.channels.get(chId);
      if (!ch) continue;
      if (this.m.isInternal(ch)) this.removeInternal(chId);
      else this.leave(ch);
    }
    this.all.delete(b.id);
    this.publish('BridgeDestroyed', b);
    this.m.hub.forgetBridge(b.id);
  }

  list(): BridgeSnapshot[] {
    return [...this.all.values()].map((b) => this.snap(b));
  }
}
