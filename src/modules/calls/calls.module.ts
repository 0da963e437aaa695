/**
 * The inbound call flow and the ACD, on the telephony port; call records, callbacks and caller
 * profiles over REST. Without ARI (telephony off) only the records API runs.
 */
import { PgListener } from '../../adapters/db/listener.js';
import { AGENT_READY_CHANNEL } from '../agents/agent-states.service.js';
import type { AgentsExports } from '../agents/agents.module.js';
import type { IvrExports } from '../ivr/ivr.module.js';
import type { QueuesExports } from '../queues/queues.module.js';
import type { FeatureModule, ModuleContext } from '../registry.js';
import { AcdRepository } from './acd.repository.js';
import { AcdService } from './acd.service.js';
import type { ProgressPort } from './calls.ivr-flow.js';
import { CallInsights } from './calls.insights.js';
import { CallLedger } from './calls.ledger.js';
import { AsteriskRecordings } from './calls.recordings.js';
import { CallsRepository } from './calls.repository.js';
import { callsRoutes } from './calls.routes.js';
import { CallsService } from './calls.service.js';
import { CallRouter } from './calls.stasis.js';
import { CALL_COMMAND_CHANNEL, CallControl } from './calls.control.js';
import { ScreenPops, type DesktopSink, type DraftTickets } from './calls.screenpop.js';
import type { Principal } from '../../domain/auth.js';
import type { DraftsService } from '../tickets/drafts.service.js';
import type { IntakeService } from '../tickets/intake.service.js';
import { QueueDirectory } from './queue-directory.js';

export type CallsExports = {
  readonly calls: CallsService;
  readonly ledger: CallLedger;
  /** Undefined while telephony is off. */
  readonly router: CallRouter | undefined;
  readonly acd: AcdService | undefined;
  readonly recordings: AsteriskRecordings | undefined;
  readonly control: CallControl | undefined;
};

/** What the desktop module exports (src/modules/desktop), as far as calls use it. */
type DesktopModuleExports = DesktopSink & { setCallControl(port: { command: CallControl['command']; currentCall: CallControl['currentCall'] }): void };

/** The tickets module's drafts, when it is loaded: each call carries one from its first offer. */
function draftTickets(ctx: ModuleContext): DraftTickets | undefined {
  const t = ctx.modules.get('tickets')?.exports as { intake?: IntakeService; drafts?: DraftsService } | undefined;
  if (!t?.intake || !t.drafts) return undefined;
  const { intake, drafts } = t;
  return {
    draftFor: async (row, agentId, firstOffer) => {
      const agent: Principal = { kind: 'user', id: agentId, name: 'agent', role: 'agent', departmentId: null, centreId: row.centreId };
      return (await intake.draftForCall({ callId: row.id, phone: row.callerNumber, firstOffer }, agent))?.id ?? null;
    },
    callEnded: async (callId) => void (await drafts.callEnded(callId)),
  };
}

function required<T>(ctx: ModuleContext, name: string): T {
  const m = ctx.modules.get(name);
  if (!m?.exports) throw new Error(`the calls module needs the ${name} module before it`);
  return m.exports as T;
}

export function callsModule(ctx: ModuleContext): FeatureModule {
  const { queues } = required<QueuesExports>(ctx, 'queues');
  const { agentStates } = required<AgentsExports>(ctx, 'agents');
  const { ivr } = required<IvrExports>(ctx, 'ivr');
  const progress = ctx.modules.get('tickets')?.exports?.tickets as ProgressPort | undefined;
  const settings = ctx.config.calls;
  const repo = new CallsRepository();
  const acdRepo = new AcdRepository();
  const directory = new QueueDirectory(queues);
  queues.onChange(() => directory.invalidate());
  const ledger = new CallLedger(ctx.db, repo, acdRepo, agentStates, ctx.outbox, ctx.clock, { missedCallMinWaitSeconds: settings.missedCallMinWaitSeconds },
    ctx.logger, async (queueId) => (queueId ? (await directory.get(queueId))?.wrapUpSeconds ?? 0 : 0));

  const desktop = ctx.modules.get('desktop')?.exports as DesktopModuleExports | undefined;
  const telephony = ctx.telephony;
  let control: CallControl | undefined;
  let commandListener: PgListener | undefined;
  let router: CallRouter | undefined;
  let acd: AcdService | undefined;
  let listener: PgListener | undefined;
  const recordings = telephony ? new AsteriskRecordings(telephony, (name, bytes) => ledger.recordingSize(name, bytes), ctx.logger.child({ component: 'recordings' })) : undefined;
  const calls = new CallsService(ctx.db, repo, acdRepo, ledger, directory, recordings, () => ctx.clock.now(), (callId) => acd?.kickEntry(callId));
  if (telephony && recordings) {
    const rec = recordings;
    const insights = new CallInsights(ctx.db, repo, acdRepo, () => ctx.clock.now());
    const acdService: AcdService = new AcdService({
      db: ctx.db, repo: acdRepo, agentStates, queues: directory, outbox: ctx.outbox, clock: ctx.clock, logger: ctx.logger.child({ component: 'acd' }),
      instanceId: ctx.instanceId, settings: { sweepMs: settings.acdSweepMs },
      localNodes: () => callRouter.readyNodes(),
      dispatch: (offer) => callRouter.dispatchOffer(offer),
      settleOrphan: async (offerId) => {
        const offer = await acdRepo.findOffer(ctx.db, offerId);
        if (offer) await ledger.offerFailed(offer.callId, offerId, { outcome: 'lost' });
      },
    });
    acd = acdService;
    const screenPops = new ScreenPops(ctx.db, repo, directory, desktop, draftTickets(ctx), (callId) => callRouter.get(callId), ctx.logger.child({ component: 'screen-pop' }));
    const callRouter: CallRouter = new CallRouter({
      telephony, db: ctx.db, calls: repo, ledger, logger: ctx.logger.child({ component: 'calls' }), features: agentStates,
      session: {
        telephony, ledger, acd: acdService, queues: directory, ivr, progress, desktop: screenPops,
        extensionOf: (userId) => repo.extensionOf(ctx.db, userId),
        opening: { isOpen: async (id) => (await queues.openingStatus(id)).open },
        lookupCaller: (row) => insights.lookupCaller(row),
        queueStats: (q) => insights.queueStats(q),
        callersAhead: (callId, queueId) => insights.callersAhead(callId, queueId),
        recordingSize: (nodeId, name) => rec.measure(nodeId, name),
        timers: ctx.timers,
        settings: {
          fallbackQueueCode: settings.fallbackQueueCode, recordingFormat: settings.recordingFormat, surveyTimeoutSeconds: settings.surveyTimeoutSeconds,
          callbackWindowSeconds: settings.callbackWindowSeconds, voicemailMaxSeconds: settings.voicemailMaxSeconds,
        },
      },
    });
    router = callRouter;
    control = new CallControl({
      db: ctx.db, calls: repo, service: calls, agentStates, session: (id) => callRouter.get(id), instanceId: ctx.instanceId,
      notify: (payload) => acdRepo.notify(ctx.db, CALL_COMMAND_CHANNEL, payload), currentCallView: (agentId) => screenPops.currentCallView(agentId),
      logger: ctx.logger.child({ component: 'call-control' }),
    });
    const callControl = control;
    commandListener = new PgListener(ctx.databaseUrl, CALL_COMMAND_CHANNEL, (payload) => callControl.onNotification(payload), ctx.logger.child({ component: 'call-command-listener' }));
    agentStates.onReady((agentId) => acdService.kickAgent(agentId));
    // Agents made ready on another instance: that instance's ACD offers them too, and ours may
    // hold the better caller.
    listener = new PgListener(ctx.databaseUrl, AGENT_READY_CHANNEL, (payload) => {
      if (!payload) return;
      try {
        const { agentId, instance } = JSON.parse(payload) as { agentId?: string; instance?: string };
        if (agentId && instance !== ctx.instanceId) acdService.kickAgent(agentId);
      } catch {
        ctx.logger.warn('malformed agent-ready notification');
      }
    }, ctx.logger.child({ component: 'acd-listener' }));
  }

  if (control) {
    const port = control;
    desktop?.setCallControl({ command: (p, c) => port.command(p, c), currentCall: (agentId) => port.currentCall(agentId) });
  }
  const exports: CallsExports = { calls, ledger, router, acd, recordings, control };
  return {
    name: 'calls',
    routes: (app) => callsRoutes(app, { calls }),
    start: async () => {
      if (!router || !acd) return;
      router.start();
      await listener?.start();
      await commandListener?.start();
      acd.start();
    },
    stop: async () => {
      await router?.stop();
      await acd?.stop();
      await listener?.stop();
      await commandListener?.stop();
      control?.close();
    },
    healthChecks: [{
      name: 'calls', required: false,
      check: async () => (router && acd
        ? { status: 'up', liveCalls: router.size, acd: { ...acd.stats }, nodes: router.readyNodes() }
        : { status: 'disabled', detail: 'ARI_URL not set: no call flow' }),
    }],
    exports,
  };
}
