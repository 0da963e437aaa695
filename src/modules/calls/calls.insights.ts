/**
 * What the call flow looks up about a caller and a queue: the caller's profile flags and
 * history at arrival, and a queue's handle time and staffing for the expected-wait
 * announcement (cached briefly: it is asked every announcement interval by every caller).
 */
import type { Database } from '../../adapters/db/database.js';
import { isEligible } from '../../domain/acd/index.js';
import { REPEAT_WINDOW_HOURS, treatCaller, type ProfileFlag } from '../../domain/calls/caller.js';
import { DEFAULT_HANDLE_SECONDS } from '../../domain/calls/announcements.js';
import { maskPhone } from '../../domain/phone.js';
import type { PublicQueue } from '../queues/queues.service.js';
import { normalizePhone } from '../citizens/phone.js';
import type { AcdRepository } from './acd.repository.js';
import type { CallRow, CallsRepository } from './calls.repository.js';
import type { CallerInfo } from './calls.session.js';
import { requirementOf } from './queue-directory.js';

const STATS_TTL_MS = 10_000;
const AHT_WINDOW_MS = 3_600_000;

export class CallInsights {
  private readonly stats = new Map<string, { at: number; value: { averageHandleSeconds: number; staffedAgents: number } }>();

  constructor(private readonly db: Database, private readonly calls: CallsRepository, private readonly acd: AcdRepository, private readonly now: () => Date) {}

  async lookupCaller(row: CallRow): Promise<CallerInfo> {
    let phone: string | null = null;
    try {
      phone = row.callerNumber ? normalizePhone(row.callerNumber) : null;
    } catch {
      phone = null; // withheld or not a number ('anonymous')
    }
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

  async queueStats(queue: PublicQueue): Promise<{ averageHandleSeconds: number; staffedAgents: number }> {
    const cached = this.stats.get(queue.id);
    const nowMs = this.now().getTime();
    if (cached && nowMs - cached.at < STATS_TTL_MS) return cached.value;
    const [aht, staffed] = await Promise.all([this.calls.averageHandleSeconds(this.db, queue.id, new Date(nowMs - AHT_WINDOW_MS)), this.acd.staffedAgents(this.db)]);
    const skills = await this.acd.agentSkills(this.db, staffed.map((a) => a.agentId));
    const req = requirementOf(queue);
    const eligible = staffed.filter((a) => isEligible({ agentId: a.agentId, languages: a.languages, idleSince: new Date(0), skills: skills.filter((s) => s.agentId === a.agentId) }, req)).length;
    const value = { averageHandleSeconds: aht ?? DEFAULT_HANDLE_SECONDS, staffedAgents: eligible };
    this.stats.set(queue.id, { at: nowMs, value });
    return value;
  }
}
