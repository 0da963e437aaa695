/**
 * One inbound call: the caller's channel, their place in a queue, the offer to an agent's
 * phone, the connected conversation and the survey. Events of the call's channels, its timers
 * and the ACD's offers run one at a time through `run`; the menu and the survey run as flows
 * beside it (they only wait on the channel's media). Every state change goes through the
 * ledger — stored first — then to Asterisk.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AriNode, NodeEvent, TelephonyPort } from '../../adapters/ari/index.js';
import { isAriConflict, isAriNotFound } from '../../adapters/ari/index.js';
import { priorityOf, type CallerFlag } from '../../domain/acd/index.js';
import { announcementMedia, expectedWaitSeconds, surveyResultOf } from '../../domain/calls/announcements.js';
import { assertCommand, type CallCommand, type ControlTarget, type ControlView } from '../../domain/calls/control.js';
import { checkDialable } from '../../domain/calls/dialing.js';
import { OFFER_GRACE_SECONDS } from '../../domain/calls/offers.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { abandonDisposition, type CallDisposition, type CallState, type HangupParty } from '../../domain/calls/states.js';
import type { IvrMenu } from '../../domain/ivr/menu.js';
import { promptMediaUri } from '../../domain/ivr/prompts.js';
import { agentEndpoint, outboundEndpoint, STASIS_ARGS } from '../../domain/telephony/asterisk-contract.js';
import type { PublicQueue } from '../queues/queues.service.js';
import type { AcdOffer, AcdService } from './acd.service.js';
import { CallGoneError, ChannelMedia } from './calls.media.js';
import { runMenu, type ProgressPort } from './calls.ivr-flow.js';
import { StaleCallStateError, type CallLedger, type EndInput } from './calls.ledger.js';
import { isRetryableDbError } from '../../adapters/db/database.js';
import type { CallRow, ConsultInfo } from './calls.repository.js';
import type { QueueDirectory } from './queue-directory.js';
import type { Timers } from '../../domain/timers.js';

const uri = promptMediaUri;
// Recording a call's end: 60 tries 5 s apart on top of the ledger's own retries.
const END_ATTEMPTS = 60;

export interface CallFlowSettings {
  /** Queue code used when no menu is published or a menu's queue is gone. */
  readonly fallbackQueueCode: string;
  readonly recordingFormat: string;
  /** Seconds the survey waits for a key. */
  readonly surveyTimeoutSeconds: number;
  /** Seconds the caller has to press 1 after the callback offer. */
  readonly callbackWindowSeconds: number;
  /** Longest voicemail, seconds. */
  readonly voicemailMaxSeconds: number;
}

export interface IvrMenuSource {
  currentMenu(): Promise<{ version: number; menu: IvrMenu } | null>;
}

export interface OpeningPort {
  isOpen(queueId: string): Promise<boolean>;
}

export interface CallerInfo {
  readonly phone: string | null;
  readonly routingFlags: CallerFlag[];
  readonly skipMenu: boolean;
  readonly harassment: 'warn' | 'disconnect' | null;
  readonly summary: Record<string, unknown>;
}

export interface SessionRegistry {
  bind(nodeId: string, key: string, session: CallSession): void;
  unbind(nodeId: string, key: string): void;
  remove(session: CallSession): void;
}

export interface SessionDeps {
  readonly telephony: TelephonyPort;
  readonly ledger: CallLedger;
  readonly acd: AcdService;
  readonly queues: QueueDirectory;
  readonly opening: OpeningPort;
  readonly ivr: IvrMenuSource;
  readonly progress: ProgressPort | undefined;
  readonly lookupCaller: (row: CallRow) => Promise<CallerInfo>;
  readonly queueStats: (queue: PublicQueue) => Promise<{ averageHandleSeconds: number; staffedAgents: number }>;
  /** Callers waiting ahead of this one (undefined: it no longer waits in that queue). */
  readonly callersAhead: (callId: string, queueId: string) => Promise<number | undefined>;
  readonly recordingSize: (nodeId: string, name: string) => void;
  readonly timers: Timers;
  readonly settings: CallFlowSettings;
  readonly registry: SessionRegistry;
  /** Messages to an agent's desktops (screen-pop, call events); absent without a desktop module. */
  readonly desktop?: DesktopPort | undefined;
  /** The supervisor's phone extension (monitor / whisper / barge call them). */
  readonly extensionOf?: ((userId: string) => Promise<string | undefined>) | undefined;
}

export interface DesktopPort {
  /** The caller was queued: what an offer's screen-pop shows can be read now. */
  prepare(row: CallRow): void;
  /** The screen-pop of an offer, built from the call's row and the caller's history. */
  offered(row: CallRow, offer: AcdOffer, extra: { awaitingAnswer: boolean; waitSeconds: number | null }): void;
  send(agentId: string, type: string, payload: Record<string, unknown>): void;
  /** The call is over (its draft ticket, if untouched, is cancelled). */
  callEnded(callId: string): void;
}

/** Who gives a desktop command. */
export interface CommandActor {
  readonly id: string;
  readonly role: string;
}

interface MonitorLeg {
  readonly id: string;
  readonly supervisorId: string;
  readonly mode: 'monitor' | 'whisper' | 'barge';
  readonly supervisorChannelId: string;
  readonly snoopChannelId: string | undefined;
  readonly bridgeId: string | undefined;
}

interface OpenOffer {
  readonly offerId: string;
  readonly agentId: string;
  readonly extension: string;
  readonly channelId: string;
  ringTimer: unknown;
}

type TimerName = 'announce' | 'callbackOffer' | 'maxWait' | 'callbackWindow' | 'voicemail';

export class CallSession {
  readonly id: string;
  readonly nodeId: string;
  readonly callerChannelId: string;
  readonly log: Logger;
  private row: CallRow;
  private chain: Promise<void> = Promise.resolve();
  private readonly media: ChannelMedia;
  private readonly timerHandles = new Map<TimerName, unknown>();
  private offer: OpenOffer | undefined;
  private queue: PublicQueue | undefined;
  private caller: CallerInfo | undefined;
  private recordingName: string | undefined;
  private voicemailName: string | undefined;
  private callerHangupParty: HangupParty | undefined;
  private callerHangupCause: number | undefined;
  private callbackOffered = false;
  private selfServed = false;
  private ended = false;
  private recordingSegment = 0;
  /** An auto-answer phone's offer, waiting for the agent's answer on the desktop. */
  private awaitingAnswer: AcdOffer | undefined;
  private transferLeg: { transferId: string; channelId: string; queueId: string | null } | undefined;
  private readonly monitorLegs = new Map<string, MonitorLeg>();
  /** Resolves when the session has ended and let go of everything. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(row: CallRow, private readonly deps: SessionDeps, logger: Logger) {
    this.row = row;
    this.id = row.id;
    this.nodeId = row.nodeId;
    this.callerChannelId = row.channelId;
    this.log = logger.child({ callId: row.id, nodeId: row.nodeId, channelId: row.channelId });
    this.media = new ChannelMedia(() => this.node(), row.channelId, deps.timers, this.log);
    this.done = new Promise((r) => (this.resolveDone = r));
    deps.registry.bind(this.nodeId, row.channelId, this);
  }

  get state(): CallState {
    return this.row.state;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Current view for supervisors and tests. */
  snapshot(): { callId: string; state: CallState; queueId: string | null; agentId: string | null; offerId: string | null } {
    return { callId: this.id, state: this.row.state, queueId: this.row.queueId, agentId: this.offer?.agentId ?? this.row.agentId, offerId: this.offer?.offerId ?? null };
  }

  /** Runs `fn` after everything queued before it; errors are logged, never stop the call's lane. */
  run(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(async () => {
      if (this.ended) return;
      try {
        await fn();
      } catch (err) {
        await this.onError(err);
      }
    });
    this.chain = next;
    return next;
  }

  /** Like `run`, for a command whose caller waits for the result or the refusal. */
  runForResult<T>(fn: () => Promise<T>): Promise<T> {
    let out!: { ok: true; value: T } | { ok: false; err: unknown };
    const next = this.chain.then(async () => {
      if (this.ended) {
        out = { ok: false, err: new ConflictError('The call has ended', 'call_ended') };
        return;
      }
      try {
        out = { ok: true, value: await fn() };
      } catch (err) {
        out = { ok: false, err };
      }
    });
    this.chain = next;
    return next.then(() => {
      if (out.ok) return out.value;
      throw out.err;
    });
  }

  handle(e: NodeEvent): void {
    // A bridge recording finishes while its bridge is destroyed, often as the call ends: it is
    // stored whatever state the session is in (an ended session runs nothing more).
    if ((e.type === 'RecordingFinished' || e.type === 'RecordingFailed') && !e.recording.name.startsWith('vm-')) {
      void this.bridgeRecordingDone(e).catch((err: unknown) => this.log.warn({ err }, 'could not store a finished recording'));
      return;
    }
    void this.run(() => this.onEvent(e));
  }

  private async bridgeRecordingDone(e: NodeEvent & { type: 'RecordingFinished' | 'RecordingFailed' }): Promise<void> {
    const state = e.type === 'RecordingFinished' ? 'done' : 'failed';
    await this.deps.ledger.recordingFinished(this.id, e.recording.name, { state, durationSeconds: e.recording.duration ?? null, cause: e.recording.cause ?? null });
    if (state === 'done') this.deps.recordingSize(this.nodeId, e.recording.name);
  }

  // --- Arrival (StasisStart of the caller).

  /** A new call: answer, look the caller up, then the menu (or straight to a queue). */
  begin(): void {
    void this.run(async () => {
      await this.node().channels.answer(this.callerChannelId);
      await this.deps.ledger.note(this.id, 'answered', {}, { answeredAt: this.deps.ledger.now() });
      try {
        this.caller = await this.deps.lookupCaller(this.row);
      } catch (err) {
        // Without the caller's history the call still goes on, as an ordinary caller.
        this.log.warn({ err }, 'caller lookup failed');
        this.caller = { phone: null, routingFlags: this.row.direction === 'transfer_in' ? ['emergency_linkage'] : [], skipMenu: this.row.direction === 'transfer_in', harassment: null, summary: { lookupFailed: true } };
      }
      await this.deps.ledger.note(this.id, 'caller_flags', this.caller.summary, { flags: this.caller.routingFlags });
      void this.arrivalFlow();
    });
  }

  private async arrivalFlow(): Promise<void> {
    const caller = this.caller!;
    try {
      if (caller.harassment) {
        await this.media.play([uri('harassment-warning')]);
        if (caller.harassment === 'disconnect') {
          await this.media.play([uri('harassment-disconnect')]);
          await this.run(() => this.hangupCaller('rejected'));
          return;
        }
      }
      if (caller.skipMenu) {
        if (this.row.direction === 'inbound') await this.media.play([uri('elderly-priority')]);
        const menu = await this.deps.ivr.currentMenu();
        await this.run(() => this.route(menu?.menu.defaultQueue ?? this.deps.settings.fallbackQueueCode, 'arrived', { skipMenu: true }));
        return;
      }
      const current = await this.deps.ivr.currentMenu();
      if (!current) {
        await this.run(() => this.route(this.deps.settings.fallbackQueueCode, 'arrived', { noMenu: true }));
        return;
      }
      await this.run(async () => {
        this.row = await this.deps.ledger.move(this.id, 'arrived', 'ivr', 'ivr_choice', { menuVersion: current.version, step: 'menu' });
      });
      if (this.ended) return;
      await this.media.play([uri('greeting'), uri('recording-notice')], { bargeIn: true });
      const outcome = await runMenu({
        media: this.media, menu: current.menu, callerPhone: caller.phone, progress: this.deps.progress, log: this.log,
        step: (s) => this.deps.ledger.ivrStep(this.id, s),
        progressNote: async (data) => {
          if (data.found === true) this.selfServed = true;
          await this.deps.ledger.note(this.id, 'progress_query', data);
        },
      });
      if (outcome.kind === 'callback') {
        await this.run(() => this.callbackAndHangup('requested'));
        return;
      }
      if (outcome.promptId) await this.media.play([uri(outcome.promptId)]);
      await this.run(() => this.route(outcome.queueCode, 'ivr', {}));
    } catch (err) {
      if (err instanceof CallGoneError) return;
      // Whatever broke in the menu, the caller still reaches an agent.
      this.log.error({ err }, 'menu failed; routing the caller to the fallback queue');
      await this.run(() => this.route(this.deps.settings.fallbackQueueCode, this.row.state, { menuFailed: true }));
    }
  }

  // --- Queueing.

  /** To the queue named by code (or the fallback), honouring its opening hours. */
  private async route(code: string, from: CallState, data: Record<string, unknown>): Promise<void> {
    if (this.row.state !== from) return;
    let queue = (await this.deps.queues.byCodeActive(code)) ?? (await this.deps.queues.byCodeActive(this.deps.settings.fallbackQueueCode));
    if (queue && !(await this.deps.opening.isOpen(queue.id))) {
      // A specialist desk out of hours: the caller hears so and goes to the general queue.
      const menu = await this.deps.ivr.currentMenu();
      const general = await this.deps.queues.byCodeActive(menu?.menu.defaultQueue ?? this.deps.settings.fallbackQueueCode);
      if (general && general.id !== queue.id) {
        this.media.playAndForget([uri('after-hours-specialist')]);
        data = { ...data, closedQueueId: queue.id };
        queue = general;
      }
    }
    if (!queue) {
      this.log.error({ code }, 'no queue to route the caller to');
      await this.hangupCaller('failed', [uri('service-unavailable')]);
      return;
    }
    await this.enqueue(queue, from, this.deps.ledger.now(), data);
  }

  private async enqueue(queue: PublicQueue, from: CallState, enqueuedAt: Date, data: Record<string, unknown>): Promise<void> {
    const flags = this.caller?.routingFlags ?? (this.row.flags as CallerFlag[]);
    const priority = priorityOf(flags, queue.priorityRules);
    // The holding bridge first (its id is the call's, so a recovery finds it either way): once
    // queued, nothing in this call's lane stands between the ACD's offer and the originate.
    const holdingBridgeId = this.row.holdingBridgeId ?? `hold-${this.id}`;
    await this.ensureHolding(holdingBridgeId);
    const entry = await this.deps.ledger.enqueue(this.id, from, { queueId: queue.id, priority, holdingBridgeId, enqueuedAt, data });
    this.row = { ...this.row, state: 'queued', queueId: queue.id, priority, holdingBridgeId, queuedAt: this.row.queuedAt ?? this.deps.ledger.now() };
    this.queue = queue;
    this.deps.desktop?.prepare(this.row);
    this.kickAcd();
    if (queue.language && queue.language !== this.row.language && (queue.language === 'en' || queue.language === 'zh')) {
      await this.ignoreGone(this.node().channels.setVariable(this.callerChannelId, 'CHANNEL(language)', queue.language));
    }
    if (from !== 'queued') this.media.playAndForget([uri('connecting-agent')]);
    // After an overflow, the new queue's maximum wait counts from the overflow.
    this.armQueueTimers(queue, from === 'queued' ? this.deps.ledger.now() : entry.enqueuedAt);
  }

  /** The caller in their own holding bridge with music (recreated after a recovery if missing). */
  private async ensureHolding(bridgeId: string): Promise<void> {
    const node = this.node();
    try {
      await node.bridges.create({ type: 'holding', bridgeId, name: `hotline-hold-${this.id}` });
    } catch (err) {
      if (!isAriConflict(err)) throw err; // already there (recovery)
    }
    this.deps.registry.bind(this.nodeId, `bridge:${bridgeId}`, this);
    await this.ignoreGone(node.bridges.addChannel(bridgeId, this.callerChannelId, { role: 'participant' }));
    await this.ignoreGone(node.bridges.startMoh(bridgeId));
  }

  /** Announcements, the callback offer (counted from the first enqueue) and the maximum wait. */
  private armQueueTimers(queue: PublicQueue, maxWaitFrom: Date): void {
    const now = this.deps.ledger.now().getTime();
    if (queue.announcementIntervalSeconds > 0) this.every('announce', queue.announcementIntervalSeconds * 1000, () => this.announce());
    if (queue.callbackOfferSeconds !== null && !this.callbackOffered) {
      const waited = now - (this.row.queuedAt ?? maxWaitFrom).getTime();
      this.after('callbackOffer', Math.max(0, queue.callbackOfferSeconds * 1000 - waited), () => this.offerCallback());
    }
    this.after('maxWait', Math.max(0, queue.maxWaitSeconds * 1000 - (now - maxWaitFrom.getTime())), () => this.maxWaitReached());
  }

  private async announce(): Promise<void> {
    if (this.row.state !== 'queued' || !this.queue) return;
    const ahead = await this.deps.callersAhead(this.id, this.queue.id);
    if (ahead === undefined) return;
    const stats = await this.deps.queueStats(this.queue);
    const ewt = expectedWaitSeconds({ ahead, averageHandleSeconds: stats.averageHandleSeconds, staffedAgents: stats.staffedAgents });
    this.media.playAndForget(announcementMedia(this.row.language, ahead, ewt));
    await this.deps.ledger.note(this.id, 'announcement', { ahead, expectedWaitSeconds: ewt });
  }

  private async offerCallback(): Promise<void> {
    if (this.row.state !== 'queued' || this.callbackOffered || !this.row.callerNumber) return;
    this.callbackOffered = true;
    this.media.clearKeys();
    this.media.playAndForget([uri('callback-offer')]);
    this.after('callbackWindow', this.deps.settings.callbackWindowSeconds * 1000, async () => undefined);
  }

  private async maxWaitReached(): Promise<void> {
    if (this.row.state === 'offering') {
      // An agent's phone is ringing: let it ring out before overflowing.
      this.after('maxWait', 2000, () => this.maxWaitReached());
      return;
    }
    if (this.row.state !== 'queued' || !this.queue) return;
    const { action, queueId } = this.queue.overflow;
    await this.deps.ledger.note(this.id, 'overflow', { reason: 'max_wait', action, queueId: this.queue.id });
    if (action === 'queue' && queueId) {
      const target = await this.deps.queues.get(queueId);
      if (target?.active) {
        this.clearQueueTimers();
        await this.enqueue(target, 'queued', this.row.queuedAt ?? this.deps.ledger.now(), { reason: 'overflow', fromQueueId: this.queue.id });
        return;
      }
    }
    if (action === 'callback' && this.row.callerNumber) {
      await this.callbackAndHangup('overflow');
      return;
    }
    if (action === 'voicemail') {
      await this.startVoicemail();
      return;
    }
    // No overflow: keep waiting, reminded that agents are busy.
    this.media.playAndForget([uri('queue-all-busy')]);
  }

  // --- Offers (from the ACD).

  offerClaimed(o: AcdOffer): void {
    void this.run(() => this.startOffer(o));
  }

  /** The ACD stored the offer and moved the call to offering (one transaction): ring the agent. */
  private async startOffer(o: AcdOffer): Promise<void> {
    this.row = { ...this.row, state: 'offering', agentId: o.agentId, agentChannelId: o.channelId };
    const offer: OpenOffer = { offerId: o.offerId, agentId: o.agentId, extension: o.extension, channelId: o.channelId, ringTimer: undefined };
    this.offer = offer;
    this.deps.registry.bind(this.nodeId, o.channelId, this);
    const waitSeconds = this.row.queuedAt ? Math.round((this.deps.ledger.now().getTime() - this.row.queuedAt.getTime()) / 1000) : null;
    this.deps.desktop?.offered(this.row, o, { awaitingAnswer: o.autoAnswer, waitSeconds });
    if (o.autoAnswer) {
      // The desktop shows the call; the phone is called (and answers by itself) when the agent accepts.
      this.awaitingAnswer = o;
      offer.ringTimer = this.deps.timers.setTimeout(() => void this.run(async () => {
        if (this.awaitingAnswer?.offerId !== o.offerId) return;
        this.awaitingAnswer = undefined;
        await this.offerEnded(o.offerId, { outcome: 'no_answer' });
      }), o.ringTimeoutSeconds * 1000);
      return;
    }
    await this.ring(o, false);
  }

  /** Calls the agent's phone for the offer (auto-answer: told to answer by itself). */
  private async ring(o: AcdOffer, autoAnswer: boolean): Promise<void> {
    const offer = this.offer;
    if (!offer || offer.offerId !== o.offerId) return;
    this.deps.timers.clearTimeout(offer.ringTimer);
    offer.ringTimer = this.deps.timers.setTimeout(() => void this.run(() => this.ringTimeout(o.offerId)), (o.ringTimeoutSeconds + OFFER_GRACE_SECONDS) * 1000);
    try {
      await this.node().channels.originate({
        endpoint: agentEndpoint(o.extension), app: this.deps.telephony.app, appArgs: `${STASIS_ARGS.agent},${this.id}`,
        callerId: this.presentedCallerId(), timeout: o.ringTimeoutSeconds, channelId: o.channelId,
        variables: {
          HOTLINE_CALL_ID: this.id, HOTLINE_OFFER_ID: o.offerId,
          // The usual SIP auto-answer hints (Call-Info answer-after, Alert-Info), sent as headers of the INVITE.
          ...(autoAnswer ? { 'PJSIP_HEADER(add,Call-Info)': '<sip:hotline>;answer-after=0', 'PJSIP_HEADER(add,Alert-Info)': 'info=alert-autoanswer' } : {}),
        },
      });
    } catch (err) {
      this.log.warn({ err, extension: o.extension }, 'originate to the agent failed');
      await this.offerEnded(o.offerId, { outcome: 'failed' });
      return;
    }
    void this.deps.ledger.offerOriginated(o.offerId).catch((err: unknown) => this.log.warn({ err }, 'could not note the originate time'));
  }

  private presentedCallerId(): string {
    const num = this.row.callerNumber;
    const name = this.row.callerName.replace(/["<>]/g, '');
    return name ? `"${name}" <${num}>` : num;
  }

  private async ringTimeout(offerId: string): Promise<void> {
    if (this.offer?.offerId !== offerId) return;
    // Asterisk ends an unanswered leg at the ring timeout; past it, its events were lost: we
    // cannot tell what the phone did, so the agent is not blamed.
    this.log.warn({ offerId }, 'no outcome for the agent leg in time; withdrawing the offer');
    const channelId = this.offer.channelId;
    await this.offerEnded(offerId, { outcome: 'lost' });
    await this.ignoreGone(this.node().channels.hangup(channelId));
  }

  /** The offer failed or was withdrawn: back to waiting, first in line. */
  private async offerEnded(offerId: string, o: { outcome?: 'failed' | 'no_answer' | 'lost'; cause?: number; techCause?: number }): Promise<void> {
    const offer = this.offer;
    if (offer?.offerId !== offerId) return;
    this.clearOffer();
    this.awaitingAnswer = undefined;
    this.deps.desktop?.send(offer.agentId, 'call.offer_withdrawn', { callId: this.id, offerId, reason: o.outcome ?? 'not_answered', cause: o.cause ?? null });
    const res = await this.deps.ledger.offerFailed(this.id, offerId, o);
    if (res?.callState === 'queued') {
      this.row = { ...this.row, state: 'queued', agentId: null, agentChannelId: null };
      this.kickAcd();
    }
  }

  private clearOffer(): void {
    const offer = this.offer;
    if (!offer) return;
    this.deps.timers.clearTimeout(offer.ringTimer);
    this.deps.registry.unbind(this.nodeId, offer.channelId);
    this.offer = undefined;
  }

  // --- Connected.

  private async agentAnswered(channelId: string): Promise<void> {
    const offer = this.offer;
    if (!offer || offer.channelId !== channelId || this.row.state !== 'offering') {
      // Answered after the caller left or the offer was withdrawn.
      await this.ignoreGone(this.node().channels.hangup(channelId));
      return;
    }
    const bridgeId = `call-${this.id}`;
    // One recording per conversation: a call transferred to a queue may be answered again.
    const recordingName = `call-${this.id}-${++this.recordingSegment}-${offer.offerId.slice(0, 8)}`;
    try {
      this.row = await this.deps.ledger.connect(this.id, offer.offerId, { bridgeId, recordingName, recordingFormat: this.deps.settings.recordingFormat });
    } catch (err) {
      // The offer closed meanwhile (withdrawn at the ring timeout, agent logged out): release the phone.
      this.clearOffer();
      await this.ignoreGone(this.node().channels.hangup(channelId));
      if ((err as { code?: string }).code === 'offer_closed' || (err as { code?: string }).code === 'agent_state_changed' || (err as { code?: string }).code === 'agent_call_mismatch') {
        this.log.warn({ err }, 'agent answered an offer that was no longer open');
        if (this.row.state === 'offering') await this.offerEnded(offer.offerId, { outcome: 'lost' });
        return;
      }
      throw err;
    }
    this.deps.timers.clearTimeout(offer.ringTimer);
    this.offer = undefined;
    this.deps.registry.bind(this.nodeId, channelId, this);
    this.clearQueueTimers();
    this.recordingName = recordingName;
    await this.bridgeParties(bridgeId, channelId, recordingName);
    this.deps.desktop?.send(offer.agentId, 'call.connected', { callId: this.id, bridgeId, recording: recordingName });
  }

  /** Caller out of the holding bridge, both into a recorded mixing bridge. */
  private async bridgeParties(bridgeId: string, agentChannelId: string, recordingName: string | undefined): Promise<void> {
    const node = this.node();
    if (this.row.holdingBridgeId) await this.destroyBridge(this.row.holdingBridgeId);
    try {
      await node.bridges.create({ type: 'mixing', bridgeId, name: `hotline-call-${this.id}` });
    } catch (err) {
      if (!isAriConflict(err)) throw err;
    }
    this.deps.registry.bind(this.nodeId, `bridge:${bridgeId}`, this);
    await node.bridges.addChannel(bridgeId, [this.callerChannelId, agentChannelId]);
    if (recordingName) {
      try {
        await node.bridges.record(bridgeId, { name: recordingName, format: this.deps.settings.recordingFormat, ifExists: 'fail' });
      } catch (err) {
        // The conversation goes on unrecorded rather than not at all.
        this.log.error({ err, recordingName }, 'bridge recording failed to start');
        await this.deps.ledger.recordingFinished(this.id, recordingName, { state: 'failed', cause: (err as Error).message });
      }
    }
  }

  /** The agent hung up first: the caller hears the survey. */
  private async agentLeft(): Promise<void> {
    if (this.row.state !== 'connected') return;
    const agentId = this.row.agentId;
    const consult = this.row.consult;
    this.row = await this.deps.ledger.toSurvey(this.id);
    // The agent's consultation and the supervisors listening in end with the agent.
    if (consult) await this.endConsult(consult, 'completed');
    await this.stopMonitors();
    if (this.row.bridgeId) await this.destroyBridge(this.row.bridgeId);
    if (this.row.held && this.row.holdingBridgeId) await this.destroyBridge(this.row.holdingBridgeId);
    this.row = { ...this.row, held: false, consult: null };
    if (agentId) this.deps.desktop?.send(agentId, 'call.ended', { callId: this.id, by: 'agent', next: 'survey' });
    void this.surveyFlow();
  }

  private async surveyFlow(): Promise<void> {
    try {
      let digit = '';
      for (let attempt = 0; attempt < 2 && surveyResultOf(digit) === null; attempt++) {
        this.media.clearKeys();
        await this.media.play([uri('survey-intro')], { bargeIn: true });
        digit = await this.media.collect({ max: 1, firstTimeoutMs: this.deps.settings.surveyTimeoutSeconds * 1000 });
      }
      const result = surveyResultOf(digit);
      await this.deps.ledger.surveyResult(this.id, result, digit || null);
      await this.media.play([uri(result ? 'survey-thanks' : 'goodbye')]);
      await this.run(() => this.hangupCaller('answered'));
    } catch (err) {
      if (err instanceof CallGoneError) return;
      await this.run(() => this.onError(err));
    }
  }

  // --- Voicemail and callbacks.

  private async startVoicemail(): Promise<void> {
    this.clearQueueTimers();
    this.row = await this.deps.ledger.leaveQueue(this.id, 'voicemail');
    if (this.row.holdingBridgeId) await this.destroyBridge(this.row.holdingBridgeId);
    void (async () => {
      try {
        await this.media.play([uri('voicemail-intro')]);
        await this.run(async () => {
          const name = `vm-${this.id}`;
          this.voicemailName = name;
          await this.node().channels.record(this.callerChannelId, {
            name, format: this.deps.settings.recordingFormat, maxDurationSeconds: this.deps.settings.voicemailMaxSeconds, maxSilenceSeconds: 10, beep: true, terminateOn: '#', ifExists: 'overwrite',
          });
          // RecordingFinished ends it; this is the safety net.
          this.after('voicemail', (this.deps.settings.voicemailMaxSeconds + 15) * 1000, () => this.voicemailDone());
        });
      } catch (err) {
        if (err instanceof CallGoneError) return;
        await this.run(() => this.onError(err));
      }
    })();
  }

  private async voicemailDone(): Promise<void> {
    if (this.row.state !== 'voicemail' || !this.voicemailName) return;
    const name = this.voicemailName;
    this.voicemailName = undefined;
    await this.deps.ledger.callbackTask(this.id, 'voicemail', name);
    void (async () => {
      try {
        await this.media.play([uri('voicemail-saved')]);
      } catch {
        // hung up meanwhile: the message is kept
      }
      await this.run(() => this.hangupCaller('voicemail'));
    })();
  }

  private async callbackAndHangup(kind: 'requested' | 'overflow'): Promise<void> {
    const task = await this.deps.ledger.callbackTask(this.id, kind);
    if (!task) {
      await this.hangupCaller('failed', [uri('service-unavailable')]);
      return;
    }
    this.clearQueueTimers();
    await this.hangupCaller(kind === 'requested' ? 'callback_requested' : 'overflow_callback', [uri('callback-registered')]);
  }

  // --- Call control from the desktop (DESIGN.md step 6).

  /** What the desktop may do with this call now. */
  controlView(): ControlView {
    const consult = this.row.consult;
    return { call: this.row.state, held: this.row.held, consult: consult ? consult.state : 'none', awaitingAnswer: this.awaitingAnswer !== undefined };
  }

  /** Runs a desktop command of the agent on this call, after the call's pending events. */
  command(cmd: { type: string; target?: ControlTarget; [k: string]: unknown }, actor: CommandActor): Promise<Record<string, unknown>> {
    return this.runForResult(async () => {
      if (actor.id !== (this.offer?.agentId ?? this.row.agentId)) throw new ConflictError('This is not your call', 'not_your_call');
      const command = assertCommand(this.controlView(), cmd.type);
      const result = await this.execute(command, cmd, actor);
      return { callId: this.id, command, ...result, control: this.controlView() };
    });
  }

  private async execute(command: CallCommand, cmd: { target?: ControlTarget }, actor: CommandActor): Promise<Record<string, unknown>> {
    const node = this.node();
    switch (command) {
      case 'answer': {
        const o = this.awaitingAnswer!;
        this.awaitingAnswer = undefined;
        await this.ring(o, true);
        return {};
      }
      case 'hold': {
        await this.deps.ledger.setHeld(this.id, true, actor.id);
        this.row = { ...this.row, held: true };
        this.media.playAndForget([uri('hold')]);
        await this.ensureHolding(this.row.holdingBridgeId ?? `hold-${this.id}`);
        this.deps.desktop?.send(actor.id, 'call.held', { callId: this.id });
        return {};
      }
      case 'unhold': {
        await this.deps.ledger.setHeld(this.id, false, actor.id);
        await this.rejoinCaller();
        this.deps.desktop?.send(actor.id, 'call.unheld', { callId: this.id });
        return {};
      }
      case 'hangup': {
        if (this.row.state === 'offering' && this.offer) {
          // Declining an offer shown on the desktop: as if the phone had not been answered.
          await this.offerEnded(this.offer.offerId, { outcome: 'no_answer' });
          return {};
        }
        if (this.row.agentChannelId) await this.ignoreGone(node.channels.hangup(this.row.agentChannelId));
        return {};
      }
      case 'transfer':
        return this.blindTransfer(requireTarget(cmd.target), actor);
      case 'consult':
        return this.startConsult(requireTarget(cmd.target), actor);
      case 'conference': {
        const consult = this.row.consult!;
        await this.rejoinCaller();
        await this.setConsult({ ...consult, state: 'conference' }, { step: 'conference', transferId: consult.transferId, by: actor.id }, { outcome: 'conferenced' });
        await this.deps.ledger.setHeld(this.id, false, actor.id);
        this.deps.desktop?.send(actor.id, 'call.conference', { callId: this.id, target: consult.target });
        return {};
      }
      case 'cancel_consult': {
        await this.endConsult(this.row.consult!, 'cancelled');
        if (this.row.held) {
          await this.deps.ledger.setHeld(this.id, false, actor.id);
          await this.rejoinCaller();
        }
        return {};
      }
    }
  }

  /** The caller back from the holding bridge into the conversation. */
  private async rejoinCaller(): Promise<void> {
    const bridgeId = this.row.bridgeId ?? `call-${this.id}`;
    await this.node().bridges.addChannel(bridgeId, this.callerChannelId);
    if (this.row.holdingBridgeId) await this.destroyBridge(this.row.holdingBridgeId);
    this.row = { ...this.row, held: false };
  }

  /** Blind transfer: the agent is released at once; the caller goes to a queue or to a number. */
  private async blindTransfer(target: ControlTarget, actor: CommandActor): Promise<Record<string, unknown>> {
    const node = this.node();
    const transferId = randomUUID();
    const agentChannelId = this.row.agentChannelId;
    const mixing = this.row.bridgeId;
    if (target.kind === 'queue') {
      const queue = await this.deps.queues.get(target.queueId);
      if (!queue?.active) throw new NotFoundError('Queue', target.queueId, 'queue_not_found');
      const priority = priorityOf((this.caller?.routingFlags ?? this.row.flags) as CallerFlag[], queue.priorityRules);
      const holdingBridgeId = this.row.holdingBridgeId ?? `hold-${this.id}`;
      this.row = await this.deps.ledger.transfer(this.id, { id: transferId, kind: 'queue', target: queue.id, label: queue.name, channelId: null, by: actor.id, handOff: null }, { queueId: queue.id, priority, holdingBridgeId });
      this.queue = queue;
      await this.releaseAgentLeg(agentChannelId, mixing);
      await this.ensureHolding(holdingBridgeId);
      this.media.playAndForget([uri('connecting-agent')]);
      this.armQueueTimers(queue, this.deps.ledger.now());
      this.kickAcd();
      this.deps.desktop?.send(actor.id, 'call.transferred', { callId: this.id, transferId, target });
      return { transferId };
    }
    const number = target.kind === 'agent' ? undefined : checkDialable(target.number);
    const endpoint = target.kind === 'agent' ? agentEndpoint(target.extension) : outboundEndpoint(number!);
    const channelId = randomUUID();
    const handOff = { CASE_ID: this.id, CASE_TYPE: '12345', ORIGIN_CENTRE: this.row.centreId };
    this.row = await this.deps.ledger.transfer(this.id, {
      id: transferId, kind: target.kind, target: number ?? (target as { extension: string }).extension, label: target.kind === 'number' ? target.label ?? null : null, channelId, by: actor.id, handOff,
    });
    this.transferLeg = { transferId, channelId, queueId: this.row.queueId };
    this.deps.registry.bind(this.nodeId, channelId, this);
    await this.releaseAgentLeg(agentChannelId, mixing);
    await this.ensureHolding(this.row.holdingBridgeId ?? `hold-${this.id}`);
    this.media.playAndForget([uri(transferPrompt(number))]);
    try {
      await node.channels.originate({
        endpoint, app: this.deps.telephony.app, appArgs: `${STASIS_ARGS.outbound},${this.id}`, callerId: this.presentedCallerId(), timeout: 45, channelId,
        variables: target.kind === 'agent' ? { HOTLINE_CALL_ID: this.id } : handOff,
      });
    } catch (err) {
      this.log.warn({ err }, 'transfer originate failed');
      await this.transferFailed(null);
    }
    this.deps.desktop?.send(actor.id, 'call.transferred', { callId: this.id, transferId, target });
    return { transferId };
  }

  /** The agent's leg and its bridge go; the agent is already in wrap-up. */
  private async releaseAgentLeg(agentChannelId: string | null, mixing: string | null): Promise<void> {
    if (agentChannelId) {
      this.deps.registry.unbind(this.nodeId, agentChannelId);
      await this.ignoreGone(this.node().channels.hangup(agentChannelId));
    }
    await this.stopMonitors();
    if (mixing) await this.destroyBridge(mixing);
  }

  private async onTransferEvent(e: NodeEvent, leg: { transferId: string; channelId: string }): Promise<void> {
    if (e.type === 'StasisStart' && this.row.state === 'transferring') {
      const bridgeId = `call-${this.id}`;
      this.row = await this.deps.ledger.transferAnswered(this.id, leg.transferId, bridgeId);
      const name = `call-${this.id}-x${leg.transferId.slice(0, 8)}`;
      await this.deps.ledger.recordingStarted(this.id, this.nodeId, name, this.deps.settings.recordingFormat);
      await this.bridgeParties(bridgeId, leg.channelId, name);
      return;
    }
    if (e.type === 'ChannelDestroyed' || e.type === 'StasisEnd') {
      this.deps.registry.unbind(this.nodeId, leg.channelId);
      if (this.row.state === 'transferring') {
        await this.transferFailed(e.type === 'ChannelDestroyed' ? e.cause : null);
        return;
      }
      this.transferLeg = undefined;
      if (this.row.state === 'transferred') {
        // The party the caller was transferred to hung up: the call is over.
        await this.hangupCaller('answered', [uri('goodbye')]);
      }
    }
  }

  /** The number did not answer: the caller hears so and goes back to the queue, first in line. */
  private async transferFailed(cause: number | null): Promise<void> {
    const leg = this.transferLeg;
    if (leg) {
      this.deps.registry.unbind(this.nodeId, leg.channelId);
      this.transferLeg = undefined;
    }
    const transferId = leg?.transferId;
    if (transferId) await this.deps.ledger.transferFailed(this.id, transferId, cause);
    this.media.playAndForget([uri('transfer-failed')]);
    const menu = await this.deps.ivr.currentMenu();
    const queue = (this.row.queueId ? await this.deps.queues.get(this.row.queueId) : undefined) ?? (await this.deps.queues.byCodeActive(menu?.menu.defaultQueue ?? this.deps.settings.fallbackQueueCode));
    if (!queue) {
      await this.hangupCaller('failed', [uri('service-unavailable')]);
      return;
    }
    await this.enqueue(queue, 'transferring', this.row.queuedAt ?? this.deps.ledger.now(), { reason: 'transfer_failed', transferId });
  }

  /** Consultation (咨询): the caller holds while the agent talks to an expert seat or a department. */
  private async startConsult(target: ControlTarget, actor: CommandActor): Promise<Record<string, unknown>> {
    if (target.kind === 'queue') throw new ValidationError('A consultation calls an agent extension or a number, not a queue', { field: 'target' }, 'invalid_consult_target');
    const number = target.kind === 'number' ? checkDialable(target.number) : undefined;
    const endpoint = target.kind === 'agent' ? agentEndpoint(target.extension) : outboundEndpoint(number!);
    const consult: ConsultInfo = {
      channelId: randomUUID(), state: 'dialing', transferId: randomUUID(),
      target: { kind: target.kind, value: number ?? (target as { extension: string }).extension, ...(target.kind === 'number' && target.label ? { label: target.label } : {}) },
    };
    await this.deps.ledger.startConsult(this.id, consult, actor.id);
    this.row = { ...this.row, consult, held: true };
    this.media.playAndForget([uri('hold')]);
    await this.ensureHolding(this.row.holdingBridgeId ?? `hold-${this.id}`);
    this.deps.registry.bind(this.nodeId, consult.channelId, this);
    try {
      await this.node().channels.originate({
        endpoint, app: this.deps.telephony.app, appArgs: `consult,${this.id}`, timeout: 45, channelId: consult.channelId,
        callerId: '"12345" <12345>', variables: { HOTLINE_CALL_ID: this.id },
      });
    } catch (err) {
      this.log.warn({ err }, 'consult originate failed');
      await this.endConsult(consult, 'failed');
      throw new ConflictError('The consultation could not be dialled', 'consult_failed');
    }
    this.deps.desktop?.send(actor.id, 'call.consult', { callId: this.id, state: 'dialing', target: consult.target });
    return { transferId: consult.transferId };
  }

  private async onConsultEvent(e: NodeEvent, consult: ConsultInfo): Promise<void> {
    if (e.type === 'StasisStart' && consult.state === 'dialing') {
      await this.node().bridges.addChannel(this.row.bridgeId ?? `call-${this.id}`, consult.channelId);
      await this.setConsult({ ...consult, state: 'talking' }, { step: 'talking', transferId: consult.transferId }, { answered: true });
      if (this.row.agentId) this.deps.desktop?.send(this.row.agentId, 'call.consult', { callId: this.id, state: 'talking', target: consult.target });
      return;
    }
    if (e.type === 'ChannelDestroyed' || e.type === 'StasisEnd') {
      const cause = e.type === 'ChannelDestroyed' ? e.cause : null;
      this.deps.registry.unbind(this.nodeId, consult.channelId);
      await this.setConsult(null, { step: consult.state === 'dialing' ? 'failed' : 'ended', transferId: consult.transferId, cause }, { outcome: consult.state === 'dialing' ? 'failed' : consult.state === 'conference' ? 'conferenced' : 'completed', ended: true, cause });
      // The caller stays on hold after a failed or ended consultation: the agent decides what next.
      if (this.row.agentId) this.deps.desktop?.send(this.row.agentId, 'call.consult', { callId: this.id, state: consult.state === 'dialing' ? 'failed' : 'ended', target: consult.target, cause });
    }
  }

  private async endConsult(consult: ConsultInfo, outcome: 'cancelled' | 'completed' | 'failed'): Promise<void> {
    this.deps.registry.unbind(this.nodeId, consult.channelId);
    await this.setConsult(null, { step: outcome, transferId: consult.transferId }, { outcome, ended: true });
    await this.ignoreGone(this.node().channels.hangup(consult.channelId));
  }

  private async setConsult(consult: ConsultInfo | null, data: Record<string, unknown>, transfer: Parameters<CallLedger['setConsult']>[3]): Promise<void> {
    await this.deps.ledger.setConsult(this.id, consult, data, transfer);
    this.row = { ...this.row, consult };
  }

  // --- Supervisors: monitor, whisper, barge (ARI snoop).

  /** Listens in on the agent's side (monitor), speaks to the agent only (whisper), or joins (barge). */
  supervise(supervisor: CommandActor, mode: 'monitor' | 'whisper' | 'barge'): Promise<Record<string, unknown>> {
    return this.runForResult(async () => {
      if (this.row.state !== 'connected' || !this.row.agentChannelId) throw new ConflictError(`The call is ${this.row.state}, not connected`, 'call_not_connected');
      if ([...this.monitorLegs.values()].some((m) => m.supervisorId === supervisor.id)) throw new ConflictError('Already listening to this call', 'already_monitoring');
      const extension = await this.deps.extensionOf?.(supervisor.id);
      if (!extension) throw new ConflictError('A supervisor needs an extension (an agent profile) to listen in', 'supervisor_without_extension');
      const node = this.node();
      const id = randomUUID();
      const leg: MonitorLeg = {
        id, supervisorId: supervisor.id, mode, supervisorChannelId: randomUUID(),
        snoopChannelId: mode === 'barge' ? undefined : randomUUID(), bridgeId: mode === 'barge' ? undefined : `mon-${id}`,
      };
      await this.deps.ledger.monitorStarted({ id, callId: this.id, supervisorId: supervisor.id, mode, snoopChannelId: leg.snoopChannelId ?? null, supervisorChannelId: leg.supervisorChannelId });
      this.monitorLegs.set(id, leg);
      this.deps.registry.bind(this.nodeId, leg.supervisorChannelId, this);
      if (leg.snoopChannelId) {
        this.deps.registry.bind(this.nodeId, leg.snoopChannelId, this);
        // Spy on both directions of the agent's channel; whisper goes out to the agent only.
        await node.channels.snoop(this.row.agentChannelId, { app: this.deps.telephony.app, appArgs: `snoop,${this.id}`, spy: 'both', whisper: mode === 'whisper' ? 'out' : 'none', snoopId: leg.snoopChannelId });
      }
      try {
        await node.channels.originate({
          endpoint: agentEndpoint(extension), app: this.deps.telephony.app, appArgs: `supervisor,${this.id}`, timeout: 30, channelId: leg.supervisorChannelId,
          callerId: `"${mode}" <${this.row.callerNumber || '12345'}>`, variables: { HOTLINE_CALL_ID: this.id },
        });
      } catch (err) {
        await this.stopMonitor(leg);
        throw err;
      }
      return { monitorId: id, mode };
    });
  }

  stopSupervising(supervisorId: string): Promise<Record<string, unknown>> {
    return this.runForResult(async () => {
      const leg = [...this.monitorLegs.values()].find((m) => m.supervisorId === supervisorId);
      if (!leg) throw new ConflictError('Not listening to this call', 'not_monitoring');
      await this.stopMonitor(leg);
      return { monitorId: leg.id };
    });
  }

  private async onMonitorEvent(e: NodeEvent, leg: MonitorLeg, channelId: string): Promise<void> {
    if (e.type === 'StasisStart' && channelId === leg.supervisorChannelId) {
      const node = this.node();
      if (leg.mode === 'barge') {
        await node.bridges.addChannel(this.row.bridgeId ?? `call-${this.id}`, leg.supervisorChannelId);
        return;
      }
      try {
        await node.bridges.create({ type: 'mixing', bridgeId: leg.bridgeId!, name: `hotline-monitor-${leg.id}` });
      } catch (err) {
        if (!isAriConflict(err)) throw err;
      }
      await node.bridges.addChannel(leg.bridgeId!, [leg.snoopChannelId!, leg.supervisorChannelId]);
      return;
    }
    if ((e.type === 'ChannelDestroyed' || e.type === 'StasisEnd') && this.monitorLegs.has(leg.id)) await this.stopMonitor(leg);
  }

  private async stopMonitor(leg: MonitorLeg): Promise<void> {
    if (!this.monitorLegs.delete(leg.id)) return;
    const node = this.node();
    for (const ch of [leg.supervisorChannelId, leg.snoopChannelId]) {
      if (!ch) continue;
      this.deps.registry.unbind(this.nodeId, ch);
      await this.ignoreGone(node.channels.hangup(ch));
    }
    if (leg.bridgeId) await this.destroyBridge(leg.bridgeId);
    await this.deps.ledger.monitorEnded({ id: leg.id, callId: this.id });
  }

  private async stopMonitors(): Promise<void> {
    for (const leg of [...this.monitorLegs.values()]) await this.stopMonitor(leg);
  }

  // --- Events.

  private async onEvent(e: NodeEvent): Promise<void> {
    const channelId = 'channel' in e && e.channel && typeof e.channel === 'object' && 'id' in e.channel ? (e.channel as { id: string }).id : undefined;
    if (channelId === this.callerChannelId) return this.onCallerEvent(e);
    if (channelId !== undefined && (channelId === this.offer?.channelId || channelId === this.row.agentChannelId)) return this.onAgentEvent(e, channelId);
    if (channelId !== undefined && channelId === this.row.consult?.channelId) return this.onConsultEvent(e, this.row.consult);
    if (channelId !== undefined && channelId === this.transferLeg?.channelId) return this.onTransferEvent(e, this.transferLeg);
    if (channelId !== undefined) {
      const m = [...this.monitorLegs.values()].find((x) => x.supervisorChannelId === channelId || x.snoopChannelId === channelId);
      if (m) return this.onMonitorEvent(e, m, channelId);
    }
    switch (e.type) {
      case 'PlaybackFinished':
        this.media.onPlaybackFinished(e.playback.id);
        return;
      case 'RecordingFinished':
      case 'RecordingFailed':
        // The voicemail (bridge recordings are handled in `handle`).
        if (e.type === 'RecordingFailed') this.voicemailName = undefined;
        await this.voicemailDone();
        return;
      default:
        return;
    }
  }

  private async onCallerEvent(e: NodeEvent): Promise<void> {
    switch (e.type) {
      case 'ChannelDtmfReceived':
        if (this.row.state === 'queued' && this.timerHandles.has('callbackWindow') && e.digit === '1') {
          this.clearTimer('callbackWindow');
          await this.callbackAndHangup('requested');
          return;
        }
        this.media.onDtmf(e.digit);
        return;
      case 'ChannelHangupRequest':
        // A BYE carries no cause (hold.jsonl); our own DELETE is a soft hangup with cause 32.
        this.callerHangupParty ??= e.soft ? 'system' : 'caller';
        this.callerHangupCause ??= e.cause;
        return;
      case 'StasisEnd':
        // The last event of a Stasis channel: no ChannelDestroyed follows (hold.jsonl).
        await this.callerGone(this.callerHangupCause);
        return;
      case 'ChannelDestroyed':
        await this.callerGone(e.cause, e.cause_txt);
        return;
      default:
        return;
    }
  }

  private async onAgentEvent(e: NodeEvent, channelId: string): Promise<void> {
    switch (e.type) {
      case 'StasisStart':
        await this.agentAnswered(channelId);
        return;
      case 'ChannelDestroyed':
      case 'StasisEnd':
        if (this.offer?.channelId === channelId && this.row.state === 'offering') {
          // Busy (17/486), no answer (19/480), rejected, failed: only ChannelDestroyed tells.
          if (e.type === 'ChannelDestroyed') await this.offerEnded(this.offer.offerId, { cause: e.cause, ...(e.tech_cause !== undefined ? { techCause: e.tech_cause } : {}) });
          return;
        }
        if (this.row.agentChannelId === channelId) {
          this.deps.registry.unbind(this.nodeId, channelId);
          await this.agentLeft();
        }
        return;
      default:
        return;
    }
  }

  /** The caller's channel left Stasis or was destroyed: the call ends, disposition by state. */
  /**
   * The caller is gone whatever the database says: under overload the end is retried (the
   * ledger already retries each transaction) for up to about five minutes rather than leaving
   * the record live. A restart's reconcile ends whatever is still left.
   */
  private async recordEnd(input: EndInput): Promise<Awaited<ReturnType<CallLedger['end']>>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.deps.ledger.end(this.id, input);
      } catch (err) {
        if (!isRetryableDbError(err) || attempt >= END_ATTEMPTS) throw err;
        this.log.warn({ err, attempt }, 'could not record the end of the call yet; retrying');
        await new Promise<void>((r) => this.deps.timers.setTimeout(r, 5000));
      }
    }
  }

  private async callerGone(cause?: number, causeText?: string): Promise<void> {
    if (this.ended) return;
    this.media.hangup();
    const party: HangupParty = this.callerHangupParty ?? 'caller';
    const state = this.row.state;
    const disposition = this.endingDisposition ?? abandonDisposition(state, this.selfServed);
    if (state === 'voicemail' && this.voicemailName) await this.voicemailDone();
    const res = await this.recordEnd({ disposition, hangupBy: state === 'survey' ? 'agent' : party, cause: cause ?? null, causeText: causeText ?? null });
    const node = this.node();
    if (res?.cancelledOffer) await this.ignoreGone(node.channels.hangup(res.cancelledOffer.channelId));
    if (state === 'connected' && this.row.agentChannelId) await this.ignoreGone(node.channels.hangup(this.row.agentChannelId));
    if (state === 'connected' && this.row.agentId) this.deps.desktop?.send(this.row.agentId, 'call.ended', { callId: this.id, by: party });
    if (res?.cancelledOffer) this.deps.desktop?.send(res.cancelledOffer.agentId, 'call.offer_withdrawn', { callId: this.id, offerId: res.cancelledOffer.id, reason: 'caller_left' });
    for (const leg of [this.row.consult?.channelId, this.transferLeg?.channelId]) if (leg) await this.ignoreGone(node.channels.hangup(leg));
    await this.stopMonitors();
    this.deps.desktop?.callEnded(this.id);
    await this.finish();
  }

  private endingDisposition: CallDisposition | undefined;

  /** We end the call (after a prompt): the StasisEnd that follows records it with this disposition. */
  private async hangupCaller(disposition: CallDisposition, prompts: string[] = []): Promise<void> {
    this.endingDisposition = disposition;
    this.callerHangupParty = 'system';
    if (prompts.length > 0) {
      void (async () => {
        try {
          await this.media.play(prompts);
        } catch {
          // gone already
        }
        await this.ignoreGone(this.node().channels.hangup(this.callerChannelId));
      })();
      return;
    }
    await this.ignoreGone(this.node().channels.hangup(this.callerChannelId));
  }

  private async finish(): Promise<void> {
    this.ended = true;
    this.clearQueueTimers();
    for (const h of this.timerHandles.values()) this.deps.timers.clearTimeout(h);
    this.timerHandles.clear();
    this.clearOffer();
    for (const b of [this.row.holdingBridgeId, this.row.bridgeId]) if (b) await this.destroyBridge(b);
    this.deps.registry.remove(this);
    this.resolveDone();
  }

  private async onError(err: unknown): Promise<void> {
    if (err instanceof CallGoneError) return;
    if (err instanceof StaleCallStateError) {
      this.log.info({ err }, 'call state moved meanwhile; step skipped');
      return;
    }
    if (isAriNotFound(err)) {
      this.log.info({ err }, 'channel or bridge gone; the hangup events follow');
      return;
    }
    this.log.error({ err, state: this.row.state }, 'call step failed');
  }

  // --- Recovery after a reconnect or restart.

  /**
   * Brings the session in line with what Asterisk holds now. `agentChannel` is the agent leg's
   * live channel (with its state) when one exists.
   */
  reconcile(live: {
    callerPresent: boolean; restarted: boolean; agentChannel: { id: string; state: string; inStasis: boolean } | undefined; bridgePresent: (id: string) => boolean;
    channel: (id: string) => { state: string; inStasis: boolean } | undefined;
  }): void {
    void this.run(async () => {
      this.media.releaseWaits();
      if (!live.callerPresent) {
        // Hung up while we were away, or lost with an Asterisk restart (then nobody hung up).
        if (live.restarted) {
          this.endingDisposition = 'lost';
          this.callerHangupParty = 'system';
        }
        await this.callerGone(undefined, live.restarted ? 'asterisk restarted' : undefined);
        return;
      }
      const state = this.row.state;
      await this.deps.ledger.note(this.id, 'recovered', { state, agentPresent: live.agentChannel !== undefined });
      switch (state) {
        case 'arrived':
        case 'ivr': {
          // The menu's progress is not kept: take the caller straight to an agent.
          const menu = await this.deps.ivr.currentMenu();
          await this.route(menu?.menu.defaultQueue ?? this.deps.settings.fallbackQueueCode, state, { recovered: true });
          return;
        }
        case 'queued':
        case 'offering': {
          await this.resumeQueue(live);
          return;
        }
        case 'connected': {
          // Supervisors listening in are not resumed (their legs are hung up as orphans).
          await this.deps.ledger.endMonitorsOf(this.id);
          const consult = this.row.consult;
          if (consult && live.channel(consult.channelId)?.inStasis) {
            this.deps.registry.bind(this.nodeId, consult.channelId, this);
          } else if (consult) {
            await this.setConsult(null, { step: 'lost', transferId: consult.transferId }, { outcome: 'failed', ended: true });
          }
          if (!live.agentChannel) {
            await this.agentLeft();
            return;
          }
          this.deps.registry.bind(this.nodeId, live.agentChannel.id, this);
          const bridgeId = this.row.bridgeId ?? `call-${this.id}`;
          if (!live.bridgePresent(bridgeId)) {
            // The conversation survived but its bridge did not: rebuild it, with a new recording.
            const name = `call-${this.id}-r${Date.now()}`;
            await this.deps.ledger.recordingStarted(this.id, this.nodeId, name, this.deps.settings.recordingFormat);
            await this.bridgeParties(bridgeId, live.agentChannel.id, name);
          } else {
            this.deps.registry.bind(this.nodeId, `bridge:${bridgeId}`, this);
          }
          return;
        }
        case 'survey':
          if (this.row.bridgeId) await this.destroyBridge(this.row.bridgeId);
          void this.surveyFlow();
          return;
        case 'transferring':
        case 'transferred': {
          const t = await this.deps.ledger.openTransfer(this.id);
          const leg = t?.channelId ? live.channel(t.channelId) : undefined;
          if (t?.channelId && leg?.inStasis) {
            this.transferLeg = { transferId: t.id, channelId: t.channelId, queueId: this.row.queueId };
            this.deps.registry.bind(this.nodeId, t.channelId, this);
            if (state === 'transferring' && leg.state === 'Up') await this.onTransferEvent({ type: 'StasisStart' } as NodeEvent, this.transferLeg);
            else if (state === 'transferred') this.deps.registry.bind(this.nodeId, `bridge:${this.row.bridgeId ?? `call-${this.id}`}`, this);
            return;
          }
          if (t?.channelId && leg) await this.ignoreGone(this.node().channels.hangup(t.channelId));
          if (state === 'transferring') {
            this.transferLeg = t?.channelId ? { transferId: t.id, channelId: t.channelId, queueId: this.row.queueId } : undefined;
            await this.transferFailed(null);
          } else {
            await this.hangupCaller('answered', [uri('goodbye')]);
          }
          return;
        }
        case 'voicemail':
          await this.voicemailDone();
          return;
        default:
          return;
      }
    });
  }

  private async resumeQueue(live: { agentChannel: { id: string; state: string; inStasis: boolean } | undefined; bridgePresent: (id: string) => boolean }): Promise<void> {
    const entry = await this.deps.ledger.entry(this.id);
    const open = await this.deps.ledger.openOffer(this.id);
    const queue = this.row.queueId ? await this.deps.queues.get(this.row.queueId) : undefined;
    if (!queue || !entry) {
      // The row says queued but the entry is gone (should not happen): queue the caller again.
      const menu = await this.deps.ivr.currentMenu();
      if (this.row.state === 'queued') await this.route(menu?.menu.defaultQueue ?? this.deps.settings.fallbackQueueCode, 'queued', { recovered: true });
      return;
    }
    this.queue = queue;
    await this.ensureHolding(this.row.holdingBridgeId ?? `hold-${this.id}`);
    if (open) {
      const agentLeg = live.agentChannel?.id === open.channelId ? live.agentChannel : undefined;
      if (this.row.state === 'offering' && agentLeg?.state === 'Up' && agentLeg.inStasis) {
        // The agent answered while we were away.
        this.offer = { offerId: open.id, agentId: open.agentId, extension: open.extension, channelId: open.channelId, ringTimer: undefined };
        await this.agentAnswered(open.channelId);
        return;
      }
      if (agentLeg) await this.ignoreGone(this.node().channels.hangup(agentLeg.id));
      const res = await this.deps.ledger.offerFailed(this.id, open.id, { outcome: 'lost' });
      if (res) this.row = { ...this.row, state: res.callState, agentId: null, agentChannelId: null };
    }
    this.armQueueTimers(queue, entry.enqueuedAt);
    this.kickAcd();
  }

  // --- Helpers.

  /** Tells the ACD this caller waits (and where, which saves it reading the entry). */
  private kickAcd(): void {
    this.deps.acd.kickEntry(this.id, this.row.queueId ? { queueId: this.row.queueId, nodeId: this.nodeId } : undefined);
  }

  private node(): AriNode {
    return this.deps.telephony.node(this.nodeId);
  }

  private async destroyBridge(bridgeId: string): Promise<void> {
    // Unbound after: the bridge's RecordingFinished comes while it is being destroyed.
    await this.ignoreGone(this.node().bridges.destroy(bridgeId));
    this.deps.registry.unbind(this.nodeId, `bridge:${bridgeId}`);
  }

  private async ignoreGone(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (isAriNotFound(err) || (err as { ariStatus?: number }).ariStatus === 422) return;
      throw err;
    }
  }

  private after(name: TimerName, ms: number, fn: () => Promise<void>): void {
    this.clearTimer(name);
    const h = this.deps.timers.setTimeout(() => {
      this.timerHandles.delete(name);
      void this.run(fn);
    }, ms);
    this.timerHandles.set(name, h);
  }

  private every(name: TimerName, ms: number, fn: () => Promise<void>): void {
    this.after(name, ms, async () => {
      if (this.ended) return;
      this.every(name, ms, fn);
      await fn();
    });
  }

  private clearTimer(name: TimerName): void {
    const h = this.timerHandles.get(name);
    if (h !== undefined) this.deps.timers.clearTimeout(h);
    this.timerHandles.delete(name);
  }

  private clearQueueTimers(): void {
    for (const n of ['announce', 'callbackOffer', 'maxWait', 'callbackWindow'] as const) this.clearTimer(n);
  }
}

function requireTarget(t: ControlTarget | undefined): ControlTarget {
  if (!t || typeof t !== 'object' || !('kind' in t)) throw new ValidationError('Give the target: a queue, an agent extension or a number', { field: 'target' }, 'target_required');
  return t;
}

/** What the caller hears while a transfer is dialled: the linkage platform's own prompt where there is one. */
function transferPrompt(number: string | undefined): string {
  switch (number) {
    case '110':
    case '119':
    case '120':
    case '122':
      return `transfer-${number}`;
    default:
      return 'transfer-department';
  }
}
