/**
 * ARI events → call sessions. A caller's StasisStart makes a session (its row stored before
 * anything else); every later event of the call's channels, bridges, playbacks and recordings
 * goes to the session that bound that key. After each (re)connect the node's snapshot is
 * compared with the call rows: surviving calls resume where they were, vanished ones end with
 * the right disposition, unknown channels in our app are taken in or hung up.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Channel, NodeEvent, ResyncSnapshot, StasisStartEvent, TelephonyPort, UnknownAriEvent } from '../../adapters/ari/index.js';
import { isAriNotFound } from '../../adapters/ari/index.js';
import { reconcileNode, type KnownCall } from '../../domain/telephony/reconcile.js';
import { CHANNEL_VARIABLES, parseStasisArgs, STASIS_ARGS } from '../../domain/telephony/asterisk-contract.js';
import { FeatureCodeCall, type PhoneFeaturePort } from './calls.features.js';
import type { AcdOffer } from './acd.service.js';
import type { CallLedger } from './calls.ledger.js';
import type { CallDirection, CallsRepository } from './calls.repository.js';
import { CallSession, type SessionDeps, type SessionRegistry } from './calls.session.js';
import type { Database } from '../../adapters/db/database.js';

type AnyEvent = NodeEvent | (UnknownAriEvent & { readonly nodeId: string });

const SEP = '\u0000';
// Storing an arriving call: 8 tries (0.25, 0.5, 1, 2, 4, 4, 4 s apart) before refusing it; each try
// already retries a pool timeout or rollback itself (the ledger), so these are for a database
// that refuses connections (down, restarting).
const ARRIVE_ATTEMPTS = 8;
const ARRIVE_RETRY_FIRST_MS = 250;
const ARRIVE_RETRY_MAX_MS = 4000;

/** The channel, bridge or media target an event is about (as the adapter's lanes key them). */
export function eventTarget(ev: AnyEvent): string | undefined {
  const e = ev as { channel?: { id?: unknown }; playback?: { target_uri?: unknown }; recording?: { target_uri?: unknown }; bridge?: { id?: unknown } };
  if (typeof e.channel?.id === 'string') return e.channel.id;
  const target = e.playback?.target_uri ?? e.recording?.target_uri;
  if (typeof target === 'string') return target.startsWith('channel:') ? target.slice(8) : target;
  if (typeof e.bridge?.id === 'string') return `bridge:${e.bridge.id}`;
  return undefined;
}

export interface RouterDeps {
  readonly telephony: TelephonyPort;
  readonly db: Database;
  readonly calls: CallsRepository;
  readonly ledger: CallLedger;
  readonly session: Omit<SessionDeps, 'registry'>;
  /** Agent feature codes (`*11`, `*21`, …); without it such channels are hung up. */
  readonly features?: PhoneFeaturePort | undefined;
  readonly logger: Logger;
}

export class CallRouter implements SessionRegistry {
  private readonly sessions = new Map<string, CallSession>();
  private readonly keys = new Map<string, CallSession>();
  private readonly keysOf = new Map<CallSession, Set<string>>();
  private readonly featureCalls = new Map<string, FeatureCodeCall>();
  /** Nodes whose snapshot has been reconciled since the last connect: the ACD serves only these. */
  private readonly reconciled = new Set<string>();
  private readonly unsubscribe: (() => void)[] = [];
  private accepting = true;

  constructor(private readonly deps: RouterDeps) {}

  start(): void {
    const t = this.deps.telephony;
    this.unsubscribe.push(
      t.onAny((e) => this.route(e)),
      t.onResync((snap) => this.resync(snap)),
      t.onStateChange((h) => {
        if (h.state !== 'connected') this.reconciled.delete(h.nodeId);
      }),
    );
  }

  /** Stops taking new calls and waits for every session's current step (calls stay in Asterisk). */
  async stop(): Promise<void> {
    this.accepting = false;
    for (const u of this.unsubscribe.splice(0)) u();
    await Promise.all([...this.sessions.values()].map((s) => s.run(async () => undefined)));
  }

  /** Nodes the ACD may serve: connected, and reconciled after the connect. */
  readyNodes(): { nodeId: string; connected: boolean }[] {
    return this.deps.telephony.health().map((h) => ({ nodeId: h.nodeId, connected: h.state === 'connected' && this.reconciled.has(h.nodeId) }));
  }

  get(callId: string): CallSession | undefined {
    return this.sessions.get(callId);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** How many keys are bound (a leak check: zero once every call ended). */
  get boundKeys(): number {
    return this.keys.size;
  }

  dispatchOffer(offer: AcdOffer): void {
    const s = this.sessions.get(offer.callId);
    if (s && !s.isEnded) {
      s.offerClaimed(offer);
      return;
    }
    // The caller's session is gone (hung up this instant, or not yet restored): undo the offer.
    void this.deps.ledger.offerFailed(offer.callId, offer.offerId, { outcome: 'cancelled' }).catch((err: unknown) => this.deps.logger.error({ err, callId: offer.callId }, 'could not withdraw an undeliverable offer'));
  }

  // --- SessionRegistry.

  bind(nodeId: string, key: string, session: CallSession): void {
    const k = `${nodeId}${SEP}${key}`;
    this.keys.set(k, session);
    let set = this.keysOf.get(session);
    if (!set) this.keysOf.set(session, (set = new Set()));
    set.add(k);
    this.sessions.set(session.id, session);
  }

  unbind(nodeId: string, key: string): void {
    const k = `${nodeId}${SEP}${key}`;
    const s = this.keys.get(k);
    if (!s) return;
    this.keys.delete(k);
    this.keysOf.get(s)?.delete(k);
  }

  remove(session: CallSession): void {
    for (const k of this.keysOf.get(session) ?? []) if (this.keys.get(k) === session) this.keys.delete(k);
    this.keysOf.delete(session);
    if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
  }

  // --- Events.

  /**
   * Returns a promise only for StasisStart: the adapter runs a channel's events one at a time,
   * so the channel's next events (a key, a hang-up) wait until its session exists.
   */
  private route(e: AnyEvent): Promise<void> | undefined {
    const target = eventTarget(e);
    if (e.type === 'StasisStart') {
      return this.stasisStart(e as StasisStartEvent & { nodeId: string }).catch((err: unknown) => this.deps.logger.error({ err }, 'StasisStart handling failed'));
    }
    if (target === undefined) return undefined;
    const feature = this.featureCalls.get(`${e.nodeId}${SEP}${target}`);
    if (feature) {
      feature.handle(e as NodeEvent);
      return undefined;
    }
    const session = this.keys.get(`${e.nodeId}${SEP}${target}`);
    if (session) {
      session.handle(e as NodeEvent);
      return undefined;
    }
    // A recording can finish after its call ended (the bridge went last): still record it.
    if (e.type === 'RecordingFinished' || e.type === 'RecordingFailed') {
      const ev = e as NodeEvent & { type: 'RecordingFinished' | 'RecordingFailed' };
      void this.deps.ledger.recordingFinishedByName(ev.recording.name, { state: e.type === 'RecordingFinished' ? 'done' : 'failed', durationSeconds: ev.recording.duration ?? null, cause: ev.recording.cause ?? null })
        .then((found) => {
          if (found && e.type === 'RecordingFinished') this.deps.session.recordingSize(e.nodeId, ev.recording.name);
        })
        .catch((err: unknown) => this.deps.logger.warn({ err, name: ev.recording.name }, 'could not record a finished recording'));
    }
    return undefined;
  }

  private async stasisStart(e: StasisStartEvent & { nodeId: string }): Promise<void> {
    const known = this.keys.get(`${e.nodeId}${SEP}${e.channel.id}`);
    if (known) {
      known.handle(e);
      return;
    }
    const kind = e.args[0];
    if (kind === STASIS_ARGS.inbound || kind === STASIS_ARGS.transferIn) {
      if (!this.accepting) {
        this.deps.logger.warn({ nodeId: e.nodeId }, 'call arrived during shutdown; it is reconciled at the next start');
        return;
      }
      await this.newCall(e.nodeId, e.channel, kind === STASIS_ARGS.transferIn ? 'transfer_in' : 'inbound');
      return;
    }
    if (kind === STASIS_ARGS.feature && this.deps.features && this.accepting) {
      await this.featureCode(e);
      return;
    }
    // An agent leg whose call is over, a returned channel we did not send: nothing here owns it.
    this.deps.logger.info({ nodeId: e.nodeId, channelId: e.channel.id, args: e.args }, 'channel entered Stasis with no call; hanging up');
    await this.hangup(e.nodeId, e.channel.id);
  }

  /** Runs in the background: the channel's later events (its playback finishing) must reach it. */
  private async featureCode(e: StasisStartEvent & { nodeId: string }): Promise<void> {
    let entry;
    try {
      entry = parseStasisArgs(e.args);
    } catch {
      entry = undefined;
    }
    if (entry?.kind !== 'feature') {
      this.deps.logger.warn({ nodeId: e.nodeId, channelId: e.channel.id, args: e.args }, 'unknown feature code entry; hanging up');
      await this.hangup(e.nodeId, e.channel.id);
      return;
    }
    const key = `${e.nodeId}${SEP}${e.channel.id}`;
    const call = new FeatureCodeCall(this.deps.telephony.node(e.nodeId), e.channel, entry.feature, this.deps.features!, this.deps.session.timers,
      this.deps.logger.child({ nodeId: e.nodeId, channelId: e.channel.id }));
    this.featureCalls.set(key, call);
    void call.run()
      .catch((err: unknown) => this.deps.logger.error({ err, channelId: e.channel.id }, 'feature code failed'))
      .finally(() => this.featureCalls.delete(key));
  }

  private async newCall(nodeId: string, channel: Channel, direction: CallDirection): Promise<CallSession | undefined> {
    const vars = channel.channelvars ?? {};
    const transfer = direction === 'transfer_in' ? transferData(vars) : null;
    const arrival = {
      id: randomUUID(), nodeId, channelId: channel.id, direction,
      callerNumber: (vars[CHANNEL_VARIABLES.originalCaller] || channel.caller.number || '').slice(0, 32),
      callerName: (channel.caller.name || '').slice(0, 100),
      dialedNumber: (vars[CHANNEL_VARIABLES.dialedNumber] || channel.dialplan.exten || '').slice(0, 32),
      language: channel.language === 'en' ? 'en' : 'zh', transfer,
    } as const;
    // Nothing is done with a call before its row exists. A failing database is retried (the
    // insert is idempotent per channel); the caller hears ringing meanwhile, and the channel's
    // later events (a hang-up) wait for this and end the call properly. After that the caller
    // is refused with congestion rather than left in silence.
    let stored: Awaited<ReturnType<CallLedger['arrive']>> | undefined;
    for (let attempt = 0, delay = ARRIVE_RETRY_FIRST_MS; !stored; attempt++, delay = Math.min(delay * 2, ARRIVE_RETRY_MAX_MS)) {
      try {
        stored = await this.deps.ledger.arrive(arrival);
      } catch (err) {
        if (attempt + 1 >= ARRIVE_ATTEMPTS) {
          this.deps.logger.error({ err, nodeId, channelId: channel.id, attempts: attempt + 1 }, 'could not store an arriving call; refusing it');
          await this.hangup(nodeId, channel.id, 'congestion');
          return undefined;
        }
        this.deps.logger.warn({ err, nodeId, channelId: channel.id, attempt: attempt + 1 }, 'could not store an arriving call; retrying');
        await new Promise<void>((r) => this.deps.session.timers.setTimeout(r, delay));
      }
    }
    const { row, created } = stored;
    const session = this.sessions.get(row.id) ?? new CallSession(row, { ...this.deps.session, registry: this }, this.deps.logger);
    if (created) session.begin();
    return session;
  }

  // --- Reconnects and restarts.

  private async resync(snap: ResyncSnapshot): Promise<void> {
    const { nodeId } = snap;
    try {
      const rows = await this.deps.calls.liveOnNode(this.deps.db, nodeId);
      const offers = new Map<string, string>();
      for (const r of rows) {
        const open = await this.deps.ledger.openOffer(r.id);
        if (open) offers.set(r.id, open.channelId);
      }
      const known: KnownCall[] = rows.map((r) => ({
        callId: r.id, nodeId,
        channelIds: [r.channelId, ...(r.agentChannelId ? [r.agentChannelId] : []), ...(offers.has(r.id) && offers.get(r.id) !== r.agentChannelId ? [offers.get(r.id)!] : [])],
        bridgeIds: [r.holdingBridgeId, r.bridgeId].filter((b): b is string => b !== null),
      }));
      const liveChannels = new Map(snap.channels.map((c) => [c.id, c]));
      const result = reconcileNode({
        nodeId, channelIds: snap.channels.map((c) => c.id), appChannelIds: snap.appChannels.map((c) => c.id), restarted: snap.restarted,
        bridges: new Map(snap.bridges.map((b) => [b.id, b.channels])),
      }, known);
      const bridgeIds = new Set(snap.bridges.map((b) => b.id));
      for (const r of rows) {
        const session = this.sessions.get(r.id) ?? new CallSession(r, { ...this.deps.session, registry: this }, this.deps.logger);
        const agentId = offers.get(r.id) ?? r.agentChannelId;
        const agent = agentId && !snap.restarted ? liveChannels.get(agentId) : undefined;
        session.reconcile({
          callerPresent: !snap.restarted && liveChannels.has(r.channelId), restarted: snap.restarted,
          agentChannel: agent ? { id: agent.id, state: agent.state, inStasis: agent.dialplan.app_name === 'Stasis' } : undefined,
          bridgePresent: (id) => bridgeIds.has(id),
          channel: (id) => {
            const ch = snap.restarted ? undefined : liveChannels.get(id);
            return ch ? { state: ch.state, inStasis: ch.dialplan.app_name === 'Stasis' } : undefined;
          },
        });
      }
      // Sessions of this node with no live row (ended elsewhere) let go.
      for (const s of [...this.sessions.values()]) {
        if (s.nodeId === nodeId && !rows.some((r) => r.id === s.id)) this.remove(s);
      }
      await this.adoptOrphans(nodeId, result.orphanChannels.map((id) => liveChannels.get(id)).filter((c): c is Channel => c !== undefined));
      for (const b of result.orphanBridges) {
        if (b.startsWith('hold-') || b.startsWith('call-') || b.startsWith('mon-')) await this.destroyBridge(nodeId, b);
      }
      this.deps.logger.info({ nodeId, reason: snap.reason, restarted: snap.restarted, calls: rows.length, orphans: result.orphanChannels.length }, 'calls reconciled with Asterisk');
    } finally {
      this.reconciled.add(nodeId);
    }
  }

  /** Channels in our app with no call row: a caller we never stored is taken in; anything else is hung up. */
  private async adoptOrphans(nodeId: string, channels: readonly Channel[]): Promise<void> {
    for (const c of channels) {
      if (c.dialplan.app_name !== 'Stasis' || !(c.dialplan.app_data ?? '').startsWith(this.deps.telephony.app)) continue;
      const args = (c.dialplan.app_data ?? '').split(',').slice(1);
      const kind = args[0];
      if (kind === STASIS_ARGS.inbound || kind === STASIS_ARGS.transferIn) {
        const session = await this.newCall(nodeId, c, kind === STASIS_ARGS.transferIn ? 'transfer_in' : 'inbound');
        this.deps.logger.warn({ nodeId, channelId: c.id, callId: session?.id }, 'adopted a caller that had no call row');
        continue;
      }
      await this.hangup(nodeId, c.id);
    }
  }

  private async hangup(nodeId: string, channelId: string, reason?: 'congestion'): Promise<void> {
    try {
      await this.deps.telephony.node(nodeId).channels.hangup(channelId, reason ? { reason } : {});
    } catch (err) {
      if (!isAriNotFound(err)) this.deps.logger.warn({ err, nodeId, channelId }, 'hangup failed');
    }
  }

  private async destroyBridge(nodeId: string, bridgeId: string): Promise<void> {
    try {
      await this.deps.telephony.node(nodeId).bridges.destroy(bridgeId);
    } catch (err) {
      if (!isAriNotFound(err)) this.deps.logger.warn({ err, nodeId, bridgeId }, 'bridge cleanup failed');
    }
  }
}

/** The hand-off data of a transferred-in call, as the dialplan filtered it into channel variables. */
function transferData(vars: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  const take = (key: string, name: string) => {
    const v = vars[name];
    if (v) out[key] = v;
  };
  take('caseId', CHANNEL_VARIABLES.caseId);
  take('caseType', CHANNEL_VARIABLES.caseType);
  take('originCentre', CHANNEL_VARIABLES.originCentre);
  take('callerLocation', CHANNEL_VARIABLES.callerLocation);
  take('originalCaller', CHANNEL_VARIABLES.originalCaller);
  take('partnerLine', CHANNEL_VARIABLES.partnerLine);
  take('transferKind', CHANNEL_VARIABLES.transferKind);
  return out;
}

