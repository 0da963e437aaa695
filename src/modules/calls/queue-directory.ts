/**
 * The queues as the call flow and the ACD read them: a snapshot of every queue's settings,
 * refreshed at most every `ttlMs` (operator edits reach routing within that time), with the
 * agent-eligibility rules of src/domain/acd applied. Once a snapshot exists a refresh runs in
 * the background and readers get the snapshot at once: the ledger and the ACD read queues inside
 * their transactions, and awaiting a reload there would take a second pool connection while
 * holding one (under load every connection ends up waiting for another: pool starvation).
 */
import { isEligible, type AgentCandidate, type Requirement } from '../../domain/acd/index.js';
import type { QueuesService, PublicQueue } from '../queues/queues.service.js';

const MISS_RELOAD_MS = 200;

export class QueueDirectory {
  private byId = new Map<string, PublicQueue>();
  private byCode = new Map<string, PublicQueue>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  /** No snapshot yet, or it was invalidated: readers wait for the load. */
  private mustWait = true;
  private loading: Promise<void> | undefined;

  constructor(private readonly queues: QueuesService, private readonly ttlMs = 2000, private readonly now: () => number = Date.now) {}

  async get(id: string): Promise<PublicQueue | undefined> {
    await this.fresh();
    if (!this.byId.has(id)) await this.missed();
    return this.byId.get(id);
  }

  async byCodeActive(code: string): Promise<PublicQueue | undefined> {
    await this.fresh();
    if (!this.byCode.get(code)?.active) await this.missed();
    const q = this.byCode.get(code);
    return q?.active ? q : undefined;
  }

  async active(): Promise<PublicQueue[]> {
    await this.fresh();
    return [...this.byId.values()].filter((q) => q.active);
  }

  /** Ids of the queues (active or not: their waiting callers still need serving) the agent can serve. */
  async eligibleQueueIds(agent: Pick<AgentCandidate, 'skills' | 'languages'>): Promise<string[]> {
    await this.fresh();
    const out: string[] = [];
    for (const q of this.byId.values()) {
      if (isEligible({ agentId: '', idleSince: new Date(0), ...agent }, requirementOf(q))) out.push(q.id);
    }
    return out;
  }

  /** A queue just created (or activated) is not in the snapshot yet: look again, at most every 200 ms. */
  private async missed(): Promise<void> {
    if (this.now() - this.loadedAt < MISS_RELOAD_MS) return;
    await this.reload();
  }

  /** Forget the snapshot (after a local change, or in tests). */
  invalidate(): void {
    this.mustWait = true;
  }

  private async fresh(): Promise<void> {
    if (this.mustWait) {
      await this.reload();
      return;
    }
    if (this.now() - this.loadedAt < this.ttlMs) return;
    this.reload().catch(() => undefined); // stale until then; the next reader retries a failed load
  }

  private reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const all = await this.queues.all();
        this.byId = new Map(all.map((q) => [q.id, q]));
        this.byCode = new Map(all.map((q) => [q.code, q]));
        this.loadedAt = this.now();
        this.mustWait = false;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}

export function requirementOf(q: PublicQueue): Requirement {
  return { requiredSkills: q.requiredSkills.map((s) => ({ skillId: s.skillId, minLevel: s.minLevel })), language: q.language };
}
