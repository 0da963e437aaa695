// Fake Asterisk 23.4.1 (ARI side) for voice tests: unmodified ari-client connects to it as
// to real Asterisk, and tests drive the network side (calls, DTMF, hangups, failures).
// Behaviour follows the recorded traces in ../shared/ari-traces; see README.md here.
import { AriServer, type DelayMatch, type DelayPhase } from './http.js';
import { AsteriskModel, DEFAULT_DIALPLAN, DEFAULT_ENDPOINTS } from './model.js';
import type { AriEvent, BridgeSnapshot, ChannelSnapshot, EndpointBehaviour, FakeAsteriskOptions, HangupOptions, InboundCallOptions, RecordedRequest } from './types.js';
import { ariTime } from './util.js';

export type * from './types.js';
export { DEFAULT_DIALPLAN, DEFAULT_ENDPOINTS } from './model.js';

export class FakeAsterisk {
  readonly username: string;
  readonly password: string;
  private readonly model: AsteriskModel;
  private readonly server: AriServer;

  /** @internal use startFakeAsterisk() */
  constructor(opts: FakeAsteriskOptions = {}) {
    this.username = opts.username ?? 'hotline';
    this.password = opts.password ?? 'secret';
    this.model = new AsteriskModel({
      asteriskId: opts.asteriskId ?? '02:fc:00:00:00:01',
      channelVars: opts.channelVars ?? [],
      playbackMs: opts.playbackMs ?? 100,
      mediaDurations: opts.mediaDurations ?? {},
      timeScale: opts.timeScale ?? 1,
      dialplan: opts.dialplan ?? DEFAULT_DIALPLAN,
      endpoints: opts.endpoints ?? DEFAULT_ENDPOINTS,
    });
    this.server = new AriServer(this.model, this.username, this.password, opts.sessionLimit);
  }

  /** @internal */
  async listen(port: number): Promise<void> {
    await this.server.listen(port);
  }

  /** `http://127.0.0.1:PORT` (ARI is under /ari). */
  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  get port(): number {
    return this.server.port;
  }

  /** Connections closed at once because `sessionLimit` HTTP sessions were open. */
  get refusedSessions(): number {
    return this.server.refusedSessions;
  }

  /** Every REST request and WebSocket upgrade, with its final status. */
  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  /** Every event sent, one entry per receiving app (with `application` and `asterisk_id`). */
  get events(): AriEvent[] {
    return this.model.hub.log;
  }

  /** Asterisk start time (changes on restart()), ARI timestamp format. */
  get startupTime(): string {
    return ariTime(this.model.startTime);
  }

  /** A call from the trunk reaches `Stasis(app,args)`; resolves with the channel id once StasisStart is sent. */
  async inboundCall(o: InboundCallOptions): Promise<string> {
    return this.model.inboundCall(o);
  }

  /** The far end hangs up: a BYE gives ChannelHangupRequest without cause, then LeftBridge, StasisEnd, ChannelDestroyed. */
  hangup(channelId: string, o: HangupOptions = {}): void {
    const ch = this.model.requireChannel(channelId);
    const fromRemote = o.fromRemote ?? true;
    const request = fromRemote ? (o.cause !== undefined ? { cause: o.cause } : {}) : { cause: 32, soft: true };
    this.model.destroyChannel(ch, { request, cause: o.cause ?? 16 });
  }

  /** The far end sends DTMF digits (ChannelDtmfReceived per digit). */
  sendDtmf(channelId: string, digits: string, o: { durationMs?: number } = {}): void {
    const ch = this.model.requireChannel(channelId);
    for (const d of digits) {
      if (!/^[0-9*#A-D]$/.test(d)) throw new Error(`fake asterisk: invalid DTMF digit '${d}'`);
      this.model.dtmfReceived(ch, d, o.durationMs ?? 100);
    }
  }

  /** How an endpoint's device reacts to being dialed (created if unknown). */
  setEndpoint(resource: string, b: EndpointBehaviour): void {
    const prev = this.model.endpoints.get(resource);
    this.model.endpoints.set(resource, { ...prev, ...b });
    const wasOnline = prev ? prev.online !== false : false;
    const online = b.online ?? prev?.online ?? true;
    if (prev && wasOnline !== (online !== false)) {
      const [technology = '', res = ''] = resource.split('/');
      const ev: AriEvent = {
        type: 'EndpointStateChange',
        timestamp: ariTime(Date.now()),
        endpoint: {
          technology,
          resource: res,
          state: online === false ? 'offline' : 'online',
          channel_ids: [...this.model.channels.values()].filter((c) => c.tech === technology && c.resource === res).map((c) => c.id),
        },
      };
      this.model.hub.publish(ev, { endpoints: [resource] });
    }
  }

  /** Answers a ringing originated/dialed channel (or answers any channel not yet Up). */
  answer(channelId: string): void {
    const ch = this.model.requireChannel(channelId);
    if (ch.dial) this.model.answerOutbound(ch);
    else this.model.setState(ch, 'Up');
  }

  /** Abrupt close of every events socket (no close frame unless a code is given). */
  dropWebSockets(code?: number): void {
    this.server.dropWebSockets(code);
  }

  /** Like an Asterisk restart: channels, bridges, apps and sockets gone; same port; new start time. */
  async restart(): Promise<void> {
    this.server.setDown(true);
    this.model.reset();
    await new Promise((r) => setImmediate(r));
    this.server.setDown(false);
  }

  /**
   * Delays REST responses (all, or those `match` selects); 0 turns delays off. `phase`
   * 'response' computes the answer first and delivers it late, as a slow network would: a
   * listing then shows the state at request time.
   */
  setDelay(ms: number, match?: DelayMatch, phase?: DelayPhase): void {
    this.server.setDelay(ms, match, phase);
  }

  /** While down, connections are refused and existing ones (REST and WebSocket) are cut. */
  setDown(down: boolean): void {
    this.server.setDown(down);
  }

  channels(): ChannelSnapshot[] {
    return this.model.channelList();
  }

  bridges(): BridgeSnapshot[] {
    return this.model.bridges.list();
  }

  storedRecordings(): string[] {
    return [...this.model.media.stored.keys()];
  }

  /** Current value of a channel variable (undefined when unset or the channel is gone). */
  channelVar(channelId: string, name: string): string | undefined {
    return this.model.channels.get(channelId)?.vars.get(name);
  }

  /** Whether an app currently has an events WebSocket. */
  isAppConnected(app: string): boolean {
    return this.model.hub.isActive(app);
  }

  /** Calls `fn` with every event Asterisk raises (before delivery to apps); returns the unsubscribe. */
  onEvent(fn: (e: AriEvent) => void): () => void {
    this.model.hub.observers.add(fn);
    return () => this.model.hub.observers.delete(fn);
  }

  /** Calls `fn` with every REST request as it completes; returns the unsubscribe. */
  onRequest(fn: (r: RecordedRequest) => void): () => void {
    this.server.requestObservers.add(fn);
    return () => this.server.requestObservers.delete(fn);
  }

  /** First event (already sent or future) matching `pred`. */
  waitForEvent(pred: (e: AriEvent) => boolean, timeoutMs = 5000): Promise<AriEvent> {
    return this.model.hub.waitFor(pred, timeoutMs);
  }

  async close(): Promise<void> {
    this.model.reset();
    await this.server.close();
  }
}

export async function startFakeAsterisk(opts: FakeAsteriskOptions = {}): Promise<FakeAsterisk> {
  const fake = new FakeAsterisk(opts);
  await fake.listen(opts.port ?? 0);
  return fake;
}
