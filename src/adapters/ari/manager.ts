/**
 * The TelephonyPort over several Asterisk nodes: one connection per node, every event tagged with
 * its node id and fed to one dispatcher, operations routed to the node that owns the channel.
 */
import type { Logger } from 'pino';
import { NotFoundError, UnavailableError, ValidationError } from '../../domain/errors.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import { AriConnection } from './connection.js';
import { EventDispatcher } from './dispatcher.js';
import type { DispatcherStats } from './dispatcher.js';
import type { AriEventType, EventOfType, NodeEvent, UnknownAriEvent } from './models.js';
import { AriNodeImpl } from './node.js';
import { AriClientTransport } from './transport-ari-client.js';
import { KeepAliveTransport } from './transport-keepalive.js';
import type { AriTransport, TransportOptions } from './transport.js';
import type {
  AriNode, AriSettings, Handler, NodeHealth, ResyncSnapshot, TelephonyPort, TransportKind, Unsubscribe,
} from './types.js';

/**
 * Default REST transport: our keep-alive one, by bench/results/ari-transport.md. It completed
 * every call in every run (on a loaded machine ari-client lost 1,970 of 6,000 calls at 300/s to
 * deadlines), never held more than `maxSockets` connections (ari-client: one per request, up to
 * 2,028 at once; real Asterisk's default sessionlimit is 100, which is how the real-Asterisk
 * traces failed near 300 calls/s), used less CPU, and its deadlines cancel the request. Latency
 * was about equal on a quiet machine.
 */
export const DEFAULT_TRANSPORT: TransportKind = 'keepalive';

export interface ManagerDeps {
  /** Replaces the transport (tests); default builds the configured kind. */
  readonly transportFactory?: (kind: TransportKind, opts: TransportOptions) => AriTransport;
  readonly random?: () => number;
  /** How long start() waits for each node's first connect before returning anyway (default 10 s). */
  readonly startWaitMs?: number;
}

interface NodeEntry {
  readonly node: AriNodeImpl;
  /** Stasis apps this node's socket registers. */
  readonly apps: readonly string[];
  readonly connection: AriConnection;
  readonly transport: AriTransport;
  startupTime: string | undefined;
}

export function createTransport(kind: TransportKind, opts: TransportOptions): AriTransport {
  return kind === 'ari-client' ? new AriClientTransport(opts) : new KeepAliveTransport(opts);
}

export class AriManager implements TelephonyPort {
  readonly app: string;
  private readonly dispatcher: EventDispatcher;
  private readonly entries = new Map<string, NodeEntry>();
  private rr = 0;

  constructor(settings: AriSettings, private readonly log: Logger, private readonly deps: ManagerDeps = {}) {
    if (settings.nodes.length === 0) throw new ValidationError('ARI needs at least one node', undefined, 'ari_no_nodes');
    this.app = settings.app;
    this.dispatcher = new EventDispatcher(log);
    const timeoutMs = settings.requestTimeoutMs ?? 5000;
    const kind = settings.transport ?? DEFAULT_TRANSPORT;
    const backoff = { ...DEFAULT_BACKOFF, ...settings.backoff };
    const factory = deps.transportFactory ?? createTransport;

    for (const n of settings.nodes) {
      if (this.entries.has(n.id)) throw new ValidationError(`duplicate ARI node id ${n.id}`, undefined, 'ari_duplicate_node');
      const apps = n.apps?.length ? n.apps : [settings.app];
      const transport = factory(kind, {
        nodeId: n.id, url: n.url, username: n.username, password: n.password, timeoutMs, maxSockets: settings.maxSockets ?? 64,
        ...(settings.idleSocketMs !== undefined ? { idleSocketMs: settings.idleSocketMs } : {}),
      });
      const nodeLog = log.child({ nodeId: n.id });
      const connection = new AriConnection({
        nodeId: n.id, url: n.url, username: n.username, password: n.password, apps, transport, backoff,
        heartbeatMs: settings.heartbeatMs ?? 10_000, downAfterMs: settings.downAfterMs ?? 30_000, connectTimeoutMs: timeoutMs,
        log: nodeLog,
        onMessage: (data) => this.onMessage(n.id, data),
        onConnected: (reason) => this.resync(n.id, reason),
        onState: (h) => this.dispatcher.stateChanged(h),
        ...(deps.random ? { random: deps.random } : {}),
      });
      const node = new AriNodeImpl(n.id, transport, apps[0] ?? settings.app, {
        own: (channelId) => this.dispatcher.own(channelId, n.id),
        disown: (channelId) => this.dispatcher.forget(n.id, channelId),
      }, () => connection.health(), nodeLog);
      this.entries.set(n.id, { node, apps, transport, connection, startupTime: undefined });
    }
  }

  // ---- events -------------------------------------------------------------------------------
  on<T extends AriEventType>(type: T, handler: Handler<EventOfType<T>>): Unsubscribe {
    return this.dispatcher.on(type, handler);
  }
  onAny(handler: Handler<NodeEvent | (UnknownAriEvent & { readonly nodeId: string })>): Unsubscribe {
    return this.dispatcher.onAny(handler);
  }
  watchChannel(nodeId: string, channelId: string, handler: Handler<NodeEvent>): Unsubscribe {
    return this.dispatcher.watchChannel(nodeId, channelId, handler);
  }
  onResync(handler: Handler<ResyncSnapshot>): Unsubscribe {
    return this.dispatcher.onResync(handler);
  }
  onStateChange(handler: (health: NodeHealth) => void): Unsubscribe {
    return this.dispatcher.onStateChange(handler);
  }

  // ---- nodes --------------------------------------------------------------------------------
  nodeIds(): string[] {
    return [...this.entries.keys()];
  }

  node(nodeId: string): AriNode {
    const e = this.entries.get(nodeId);
    if (!e) throw new NotFoundError('ARI node', nodeId, 'ari_node_unknown');
    return e.node;
  }

  nodeOfChannel(channelId: string): string | undefined {
    return this.dispatcher.nodeOfChannel(channelId);
  }

  nodeFor(channelId: string): AriNode {
    const nodeId = this.dispatcher.nodeOfChannel(channelId);
    if (nodeId === undefined) throw new NotFoundError('ARI channel', channelId, 'ari_channel_unknown');
    return this.node(nodeId);
  }

  pickNode(): AriNode {
    const connected = [...this.entries.values()].filter((e) => e.connection.health().state === 'connected');
    if (connected.length === 0) throw new UnavailableError('no ARI node is connected', 'ari_unavailable');
    const e = connected[this.rr++ % connected.length];
    if (!e) throw new UnavailableError('no ARI node is connected', 'ari_unavailable');
    return e.node;
  }

  health(): NodeHealth[] {
    return [...this.entries.values()].map((e) => e.connection.health());
  }

  async ping(): Promise<Record<string, { ok: true; ms: number } | { ok: false; error: string }>> {
    const out: Record<string, { ok: true; ms: number } | { ok: false; error: string }> = {};
    await Promise.all([...this.entries.values()].map(async (e) => {
      const t0 = performance.now();
      try {
        await e.node.asterisk.ping();
        out[e.node.id] = { ok: true, ms: Math.round((performance.now() - t0) * 10) / 10 };
      } catch (err) {
        out[e.node.id] = { ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }));
    return out;
  }

  async start(): Promise<void> {
    const wait = this.deps.startWaitMs ?? 10_000;
    await Promise.all([...this.entries.values()].map((e) => e.connection.start(wait)));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.connection.stop()));
    await this.dispatcher.idle();
  }

  /** Internal counters for leak checks and metrics. */
  stats(): DispatcherStats & { inFlight: number; socketListeners: number } {
    let inFlight = 0;
    let socketListeners = 0;
    for (const e of this.entries.values()) {
      inFlight += e.transport.stats().inFlight;
      socketListeners += e.connection.socketListeners();
    }
    return { ...this.dispatcher.stats(), inFlight, socketListeners };
  }

  /** Resolves when every queued event and resync has been handled (tests, shutdown). */
  idle(): Promise<void> {
    return this.dispatcher.idle();
  }

  // ---- internals ----------------------------------------------------------------------------
  private onMessage(nodeId: string, data: unknown): void {
    if (!data || typeof data !== 'object' || typeof (data as { type?: unknown }).type !== 'string') {
      this.log.warn({ nodeId }, 'ARI message without a type dropped');
      return;
    }
    const ev = Object.assign(data, { nodeId }) as NodeEvent;
    if (ev.type === 'ApplicationReplaced') this.log.warn({ nodeId }, 'another client took over our Stasis application');
    this.dispatcher.dispatch(ev);
  }

  private async resync(nodeId: string, reason: 'connect' | 'reconnect'): Promise<void> {
    const entry = this.entries.get(nodeId);
    if (!entry) return;
    const { node } = entry;
    // Opened before any request: events of the new socket that arrive while we list are newer
    // than (or as new as) the listing, and must win over it.
    const window = this.dispatcher.beginResync(nodeId);
    try {
      await node.restoreSubscriptions();
      const info = await node.asterisk.info().catch((err: unknown) => {
        this.log.debug({ err, nodeId: node.id }, 'asterisk info unavailable');
        return undefined;
      });
      const [channels, bridges] = await Promise.all([node.channels.list(), node.bridges.list()]);
      const startupTime = info?.status?.startup_time;
      const restarted = entry.startupTime !== undefined && startupTime !== undefined && startupTime !== entry.startupTime;
      if (startupTime !== undefined) entry.startupTime = startupTime;
      const snapshot = this.dispatcher.resync(
        { nodeId: node.id, reason, channels, bridges, startupTime, restarted, at: new Date().toISOString() },
        { apps: entry.apps, window },
      );
      this.log.info({ nodeId: node.id, reason, channels: snapshot.channels.length, ours: snapshot.appChannels.length, bridges: bridges.length, restarted }, 'ARI resync');
    } finally {
      this.dispatcher.endResync(window);
    }
  }
}
