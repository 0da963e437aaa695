/**
 * What the call flow looks up about a caller and a queue: the caller's profile flags and
 * history at arrival, and for the position and expected-wait announcements a queue's order of
 * waiting callers, handle time and staffing. Those are asked every announcement interval by every
 * waiting caller (thousands at a busy hour), so each is one shared query per queue, cached
 * briefly, and only one load runs at a time.
 */
import type { Database } from '../../adapters/db/database.js';
import { isEligible } from '../../domain/acd/index.js';
import { REPEAT_WINDOW_HOURS, treatCaller, type ProfileFlag } from '../../domain/calls/caller.js';
import { DEFAULT_HANDLE_SECONDS } from '../../domain/calls/announcements.js';
import { maskPhone } from '../../domain/phone.js';
import type { PublicQueue } from '../queues/queues.service.js';
import { callerPhone } from '../citizens/phone.js';
import type { AcdRepository } from './acd.repository.js';
import type { CallRow, CallsRepository } from './calls.repository.js';
import type { CallerInfo } from './calls.session.js';
import { requirementOf } from './queue-directory.js';

const STATS_TTL_MS = 10_000;
const AHT_WINDOW_MS = 3_600_000;
/** A position announced may be this old: callers ahead who left in the last second still count. */
const POSITIONS_TTL_MS = 1000;

type QueueStats = { averageHandleSeconds: number; staffedAgents: number };
type Positions = ReadonlyMap<string, number>;

/** A value per key, loaded at most once per `ttlMs`, with one load in flight per key. */
class Shared<T> {
  private readonly values = new Map<string, { at: number; value: T }>();
  private readonly loading = new Map<string, Promise<T>>();

  constructor(private readonly ttlMs: number, private readonly now: () => number) {}

  get(key: string, load: () => Promise<T>): Promise<T> {
    const cached = this.values.get(key);
    if (cached && this.now() - cached.at < this.ttlMs) return Promise.resolve(cached.value);
    let p = this.loading.get(key);
    if (!p) {
      const started = this.now();
      p = load().then((value) => {
        this.values.set(key, { at: started, value });
        return value;
      }).finally(() => this.loading.delete(key));
      this.loading.set(key, p);
    }
    return p;
  }
}

export class CallInsights {
  private readonly stats: Shared<QueueStats>;
  private readonly positions: Shared<Positions>;

  constructor(private readonly db: Database, private readonly calls: CallsRepository, private readonly acd: AcdRepository, private readonly now: () => Date) {
    this.stats = new Shared(STATS_TTL_MS, () => this.now().getTime());
    this.positions = new Shared(POSITIONS_TTL_MS, () => this.now().getTime());
  }

  /**
   * How many callers wait ahead of this one in the queue (for the announcement); undefined when
   * it no longer waits there. A caller queued after the shared snapshot was taken is counted
   * from its own place in line.
   */
  async callersAhead(callId: string, queueId: string): Promise<number | undefined> {
    const order = await this.positions.get(queueId, async () => {
      const ids = await this.acd.waitingOrder(this.db, queueId);
      return new Map(ids.map((id, i) => [id, i]));
    });
    const at = order.get(callId);
    if (at !== undefined) return at;
    const entry = await this.acd.findEntry(this.db, callId);
    if (entry?.state !== 'waiting' || entry.queueId !== queueId) return undefined;
    return this.acd.countAhead(this.db, entry);
  }

  async lookupCaller(row: CallRow): Promise<CallerInfo> {
    const phone = callerPhone(row.callerNumber);
    const since = new Date(this.now().getTime() - REPEAT_WINDOW_HOURS * 3_600_000);
    const [profile, earlier, openTickets] = phone
      ? await Promise.all([this.calls.profile(this.db, phone), this.calls.recentCallCount(this.db, row.callerNumber, since, row.id), this.calls.openTicketCount(this.db, phone)])
      : [undefined, 0, 0];
    const t = treatCaller({
      profileFlags: (profile?.flags ?? []) as ProfileFlag[], harassmentAction: profile?.harassmentAction ?? 'warn',
      earlierCallsInWindow: earlier, openTickets, emergencyLinkage: row.direction === 'transfer_in',
    });
    return {
      phone, routingFlags: t.routingFlags, skipMenu: t.skipMenu, harassment: t.harassment,
      summary: { caller: phone ? maskPhone(phone) : null, profileFlags: profile?.flags ?? [], earlierCalls: earlier, openTickets, repeatCaller: t.repeatCaller, routingFlags: t.routingFlags },
    };
  }

  queueStats(queue: PublicQueue): Promise<QueueStats> {
    return this.stats.get(queue.id, () => this.loadQueueStats(queue));
  }

  private async loadQueueStats(queue: PublicQueue): Promise<QueueStats> {
    const nowMs = this.now().getTime();
    const [aht, staffed] = await Promise.all([this.calls.averageHandleSeconds(this.db, queue.id, new Date(nowMs - AHT_WINDOW_MS)), this.acd.staffedAgents(this.db)]);
    const skills = await this.acd.skillsWithStamp(this.db, staffed.map((a) => a.agentId));
    const req = requirementOf(queue);
    const eligible = staffed.filter((a) => isEligible({ agentId: a.agentId, languages: a.languages, idleSince: new Date(0), skills: skills.get(a.agentId)?.skills ?? [] }, req)).length;
    return { averageHandleSeconds: aht ?? DEFAULT_HANDLE_SECONDS, staffedAgents: eligible };
  }
}
