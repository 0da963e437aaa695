/**
 * One Asterisk node as the call layer sees it: the operations plus the bookkeeping the manager
 * needs (which channels live here, which extra subscriptions to restore after a reconnect).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { createOperations } from './operations.js';
import type { AriTransport } from './transport.js';
import type { ApplicationOps, AriNode, ChannelOps, EventSource, NodeHealth } from './types.js';

export interface NodeHooks {
  /** A channel is about to exist on this node (originate/create/snoop with our id). */
  own(channelId: string): void;
  /** That channel did not come into being after all. */
  disown(channelId: string): void;
}

const list = (v: EventSource | readonly EventSource[]): EventSource[] => (typeof v === 'string' ? [v] : [...v]);
/** Subscriptions that survive a channel's life and must be restored after Asterisk restarts. */
const durable = (s: string): boolean => s.startsWith('endpoint:') || s.startsWith('deviceState:');

export class AriNodeImpl implements AriNode {
  readonly channels: ChannelOps;
  readonly bridges;
  readonly playbacks;
  readonly recordings;
  readonly endpoints;
  readonly applications: ApplicationOps;
  readonly asterisk;
  /** app → durable event sources we subscribed it to. */
  private readonly subscriptions = new Map<string, Set<string>>();

  constructor(
    readonly id: string,
    transport: AriTransport,
    defaultApp: string,
    private readonly hooks: NodeHooks,
    private readonly healthOf: () => NodeHealth,
    private readonly log: Logger,
  ) {
    const ops = createOperations(transport, defaultApp);
    this.bridges = ops.bridges;
    this.playbacks = ops.playbacks;
    this.recordings = ops.recordings;
    this.endpoints = ops.endpoints;
    this.asterisk = ops.asterisk;

    // Channel ids are chosen here so the node owning a channel is known before Asterisk's first
    // event about it (a failed agent leg sends only ChannelDestroyed, possibly before our reply).
    const withOwnId = async <T>(channelId: string, run: (id: string) => Promise<T>): Promise<T> => {
      this.hooks.own(channelId);
      try {
        return await run(channelId);
      } catch (err) {
        this.hooks.disown(channelId);
        throw err;
      }
    };
    this.channels = {
      ...ops.channels,
      originate: (p) => withOwnId(p.channelId ?? randomUUID(), (channelId) => ops.channels.originate({ ...p, channelId })),
      create: (p) => withOwnId(p.channelId ?? randomUUID(), (channelId) => ops.channels.create({ ...p, channelId })),
      snoop: (channelId, o) => withOwnId(o.snoopId ?? randomUUID(), (snoopId) => ops.channels.snoop(channelId, { ...o, snoopId })),
    };

    this.applications = {
      ...ops.applications,
      subscribe: async (app, src) => {
        const res = await ops.applications.subscribe(app, src);
        const keep = list(src).filter(durable);
        if (keep.length) {
          let set = this.subscriptions.get(app);
          if (!set) this.subscriptions.set(app, (set = new Set()));
          for (const s of keep) set.add(s);
        }
        return res;
      },
      unsubscribe: async (app, src) => {
        const set = this.subscriptions.get(app);
        for (const s of list(src)) set?.delete(s);
        if (set?.size === 0) this.subscriptions.delete(app);
        return ops.applications.unsubscribe(app, src);
      },
    };
  }

  health(): NodeHealth {
    return this.healthOf();
  }

  /** After a reconnect: the socket re-registered the apps; restore their durable subscriptions. */
  async restoreSubscriptions(): Promise<void> {
    for (const [app, set] of this.subscriptions) {
      const sources = [...set] as EventSource[];
      try {
        await this.applications.subscribe(app, sources);
      } catch (err) {
        this.log.warn({ err, nodeId: this.id, app, sources }, 'could not restore ARI subscriptions');
      }
    }
  }
}
