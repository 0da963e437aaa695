/**
 * Routes ARI events to handlers with per-channel serial order: all handlers for one channel's
 * events run one event at a time, in arrival order; other channels proceed concurrently. Also
 * keeps the channel → node map and per-channel watches, and forgets a channel when it leaves
 * Stasis, is destroyed, or is missing from a resync snapshot.
 *
 * A resync lists channels while the new event socket already delivers events, so the listing
 * can be older than some events. A `ResyncWindow` opened before the request records every
 * channel an event (or an originate) touched meanwhile; for those the events are the truth and
 * the listing neither prunes them nor brings back one that ended.
 */
import type { Logger } from 'pino';
import { maskPhone } from '../../domain/phone.js';
import { inStasisApp } from '../../domain/telephony/reconcile.js';
import { KeyedSerialQueue } from './serial-queue.js';
import type { AriEventType, Channel, EventOfType, NodeEvent, UnknownAriEvent } from './models.js';
import type { Handler, NodeHealth, ResyncSnapshot, TelephonyEvents, Unsubscribe } from './types.js';

type AnyEvent = NodeEvent | (UnknownAriEvent & { readonly nodeId: string });
type AnyHandler = Handler<AnyEvent>;

const SEP = '\u0000';
const channelKey = (nodeId: string, channelId: string): string => `${nodeId}${SEP}${channelId}`;

/** What events said about one channel while a resync listing was under way. */
interface Touched {
  /** ChannelDestroyed, or a hangup request (a caller's BYE ends in StasisEnd, not ChannelDestroyed). */
  destroyed: boolean;
  /** Last Stasis transition seen: entered (StasisStart) or left (StasisEnd). */
  stasis: 'entered' | 'left' | undefined;
  /** The newest channel snapshot an event carried. */
  channel: Channel | undefined;
}

/** Opened before a resync's list requests; see the file comment. */
export class ResyncWindow {
  readonly touched = new Map<string, Touched>();
  constructor(readonly nodeId: string) {}

  touch(channelId: string): Touched {
    let t = this.touched.get(channelId);
    if (!t) this.touched.set(channelId, (t = { destroyed: false, stasis: undefined, channel: undefined }));
    return t;
  }
}

/** A resync as listed, before the events that arrived meanwhile are taken into account. */
export type ListedState = Omit<ResyncSnapshot, 'appChannels'>;

export interface DispatcherStats {
  /** Keys with queued or running work. */
  readonly lanes: number;
  /** Channels with at least one watch. */
  readonly watchedChannels: number;
  /** Channels whose node is known. */
  readonly knownChannels: number;
  readonly handlers: number;
}

/** The channel an event belongs to, or the bridge, or the node itself. */
export function eventKey(nodeId: string, ev: AnyEvent): string {
  const e = ev as { channel?: { id?: unknown }; peer?: { id?: unknown }; playback?: { target_uri?: unknown }; recording?: { target_uri?: unknown }; bridge?: { id?: unknown } };
  const channelId = e.channel?.id ?? e.peer?.id;
  if (typeof channelId === 'string') return channelKey(nodeId, channelId);
  const target = e.playback?.target_uri ?? e.recording?.target_uri;
  if (typeof target === 'string') {
    if (target.startsWith('channel:')) return channelKey(nodeId, target.slice(8));
    return `${nodeId}${SEP}${target}`;
  }
  if (typeof e.bridge?.id === 'string') return `${nodeId}${SEP}bridge:${e.bridge.id}`;
  return `${nodeId}${SEP}*`;
}

export class EventDispatcher implements TelephonyEvents {
  private readonly byType = new Map<string, Set<AnyHandler>>();
  private readonly any = new Set<AnyHandler>();
  private readonly watches = new Map<string, Set<Handler<NodeEvent>>>();
  private readonly resyncHandlers = new Set<Handler<ResyncSnapshot>>();
  private readonly stateHandlers = new Set<(h: NodeHealth) => void>();
  /** channelId → nodeIds holding a live channel with that id (ids may repeat across nodes). */
  private readonly owners = new Map<string, Set<string>>();
  private readonly windows = new Set<ResyncWindow>();
  private readonly queue: KeyedSerialQueue;

  constructor(private readonly log: Logger) {
    this.queue = new KeyedSerialQueue((err, key) => {
      this.log.error({ err, key: key.replace(SEP, '/') }, 'ARI event handler failed');
    });
  }

  on<T extends AriEventType>(type: T, handler: Handler<EventOfType<T>>): Unsubscribe {
    let set = this.byType.get(type);
    if (!set) {
      set = new Set();
      this.byType.set(type, set);
    }
    const h = handler as AnyHandler;
    set.add(h);
    return () => {
      const s = this.byType.get(type);
      s?.delete(h);
      if (s?.size === 0) this.byType.delete(type);
    };
  }

  onAny(handler: AnyHandler): Unsubscribe {
    this.any.add(handler);
    return () => this.any.delete(handler);
  }

  watchChannel(nodeId: string, channelId: string, handler: Handler<NodeEvent>): Unsubscribe {
    const key = channelKey(nodeId, channelId);
    let set = this.watches.get(key);
    if (!set) {
      set = new Set();
      this.watches.set(key, set);
    }
    set.add(handler);
    return () => {
      const s = this.watches.get(key);
      s?.delete(handler);
      if (s?.size === 0) this.watches.delete(key);
    };
  }

  onResync(handler: Handler<ResyncSnapshot>): Unsubscribe {
    this.resyncHandlers.add(handler);
    return () => this.resyncHandlers.delete(handler);
  }

  onStateChange(handler: (h: NodeHealth) => void): Unsubscribe {
    this.stateHandlers.add(handler);
    return () => this.stateHandlers.delete(handler);
  }

  // ------------------------------------------------------------------------------------------
  // Fed by the connections

  dispatch(ev: AnyEvent): void {
    if (this.windows.size > 0) this.note(ev);
    const key = eventKey(ev.nodeId, ev);
    this.queue.push(key, () => this.deliver(key, ev));
  }

  /** Call right before a resync's list requests go out; close with endResync. */
  beginResync(nodeId: string): ResyncWindow {
    const w = new ResyncWindow(nodeId);
    this.windows.add(w);
    return w;
  }

  endResync(window: ResyncWindow): void {
    this.windows.delete(window);
  }

  /**
   * Applies a listing: keeps only our channels (in one of `apps`' Stasis, or owned by us, e.g.
   * an originated leg still ringing), corrects the lists by the events of `window`, registers
   * and forgets owners and watches accordingly, and runs the resync handlers on the node's own
   * lane. Returns the snapshot the handlers get.
   */
  resync(listed: ListedState, options: { readonly apps: readonly string[]; readonly window?: ResyncWindow }): ResyncSnapshot {
    const { nodeId } = listed;
    const touched = options.window?.touched ?? new Map<string, Touched>();
    if (options.window) this.endResync(options.window);
    const byId = new Map(listed.channels.map((c) => [c.id, c]));
    for (const [id, t] of touched) {
      if (t.destroyed) byId.delete(id);
      else if (t.stasis === 'entered' && t.channel && !byId.has(id)) byId.set(id, t.channel);
    }
    const channels = [...byId.values()];
    const appChannels = channels.filter((c) => {
      const t = touched.get(c.id);
      if (t?.stasis !== undefined) return t.stasis === 'entered';
      return inStasisApp(c.dialplan, options.apps) || this.owners.get(c.id)?.has(nodeId) === true;
    });
    // Channels events touched meanwhile are the events' business (their lanes own and forget).
    for (const c of appChannels) if (!touched.has(c.id)) this.own(c.id, nodeId);
    const live = new Set(channels.map((c) => c.id));
    const gone = (id: string): boolean => !live.has(id) && !touched.has(id);
    for (const [channelId, nodes] of this.owners) {
      if (nodes.has(nodeId) && gone(channelId)) this.forget(nodeId, channelId);
    }
    const prefix = `${nodeId}${SEP}`;
    for (const key of this.watches.keys()) {
      if (key.startsWith(prefix) && gone(key.slice(prefix.length))) this.watches.delete(key);
    }
    const snapshot: ResyncSnapshot = { ...listed, channels, appChannels };
    this.queue.push(`${nodeId}${SEP}#resync`, async () => {
      for (const h of [...this.resyncHandlers]) {
        try {
          await h(snapshot);
        } catch (err) {
          this.log.error({ err, nodeId: snapshot.nodeId }, 'ARI resync handler failed');
        }
      }
    });
    return snapshot;
  }

  stateChanged(health: NodeHealth): void {
    for (const h of [...this.stateHandlers]) {
      try {
        h(health);
      } catch (err) {
        this.log.error({ err }, 'ARI state handler failed');
      }
    }
  }

  /** Records that a channel (e.g. one we are about to originate) lives on `nodeId`. */
  own(channelId: string, nodeId: string): void {
    // An originate during a resync: the listing may predate the channel, so it must not prune it.
    for (const w of this.windows) if (w.nodeId === nodeId) w.touch(channelId);
    let set = this.owners.get(channelId);
    if (!set) {
      set = new Set();
      this.owners.set(channelId, set);
    }
    set.add(nodeId);
  }

  forget(nodeId: string, channelId: string): void {
    const set = this.owners.get(channelId);
    set?.delete(nodeId);
    if (set?.size === 0) this.owners.delete(channelId);
  }

  /**
   * The node holding `channelId`, or undefined when unknown or ambiguous: Asterisk's ids are
   * `<start epoch>.<counter>`, so two nodes started in the same second (without a distinct
   * asterisk.conf `systemname`) hand out the same ids. Prefer the event's `nodeId`.
   */
  nodeOfChannel(channelId: string): string | undefined {
    const set = this.owners.get(channelId);
    if (set?.size !== 1) return undefined;
    for (const n of set) return n;
    return undefined;
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  stats(): DispatcherStats {
    let handlers = this.any.size + this.resyncHandlers.size + this.stateHandlers.size;
    for (const s of this.byType.values()) handlers += s.size;
    return { lanes: this.queue.size, watchedChannels: this.watches.size, knownChannels: this.owners.size, handlers };
  }

  // ------------------------------------------------------------------------------------------

  /** Records, at arrival, which channels an event touches, for open resync windows of its node. */
  private note(ev: AnyEvent): void {
    const e = ev as { channel?: Channel; peer?: Channel };
    for (const w of this.windows) {
      if (w.nodeId !== ev.nodeId) continue;
      if (e.peer && typeof e.peer.id === 'string') w.touch(e.peer.id);
      if (!e.channel || typeof e.channel.id !== 'string') continue;
      const t = w.touch(e.channel.id);
      t.channel = e.channel;
      if (ev.type === 'StasisStart') t.stasis = 'entered';
      else if (ev.type === 'StasisEnd') t.stasis = 'left';
      else if (ev.type === 'ChannelDestroyed' || ev.type === 'ChannelHangupRequest') t.destroyed = true;
    }
  }

  private track(ev: AnyEvent): void {
    if (ev.type === 'StasisStart') {
      const channel = (ev as { channel: Channel }).channel;
      this.own(channel.id, ev.nodeId);
      if (this.log.isLevelEnabled('debug')) {
        this.log.debug({ nodeId: ev.nodeId, channelId: channel.id, caller: maskPhone(channel.caller.number) }, 'StasisStart');
      }
    }
  }

  private async deliver(key: string, ev: AnyEvent): Promise<void> {
    // Ownership changes happen in the channel's lane so a quick StasisEnd → StasisStart
    // (continueInDialplan re-entering Stasis) keeps the order.
    this.track(ev);
    const typed = this.byType.get(ev.type);
    if (typed) for (const h of [...typed]) await this.call(h, ev);
    for (const h of [...this.any]) await this.call(h, ev);
    const watchers = this.watches.get(key);
    if (watchers) for (const h of [...watchers]) await this.call(h as AnyHandler, ev);
    // Forget the channel only after its handlers saw the final event, in the same lane.
    if (ev.type === 'StasisEnd' || ev.type === 'ChannelDestroyed') {
      const channelId = (ev as { channel: Channel }).channel.id;
      this.watches.delete(key);
      this.forget(ev.nodeId, channelId);
    }
  }

  private async call(h: AnyHandler, ev: AnyEvent): Promise<void> {
    try {
      await h(ev);
    } catch (err) {
      this.log.error({ err, nodeId: ev.nodeId, type: ev.type }, 'ARI event handler failed');
    }
  }
}
