/**
 * Duplicate and repeat requests (GB/T 44189 7.1.3). For each accepted ticket, in the consumer's
 * transaction: earlier requests of the window are compared with `duplicateCandidates` (jieba
 * tokens, TF-IDF cosine, address bigrams) and stored as suggested merges with their scores; a
 * related earlier request of the same caller flags a repeat (一人多次); similar requests of many
 * callers in one area and period form a cluster (一事多人) with its counts. The merge itself
 * stays the agent's decision, through the tickets lifecycle `merge` action.
 */
import type { Database, Tx } from '../../adapters/db/database.js';
import { isDepartmentScoped, requireRole, type Principal } from '../../domain/auth.js';
import type { Clock } from '../../domain/clock.js';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import {
  cosine, DEFAULT_DUPLICATE_CONFIG, duplicateCandidates, keywords, profile, redactIdentity, tsQuery, type DedupRequest, type DuplicateConfig, type DuplicateReason, type TextProfile,
} from '../../domain/text/index.js';
import type { NewEvent } from '../events/events.js';
import type { AnalysedRequestRow, AnalysisRow, ClusterRow, DuplicatesRepository, RequestRow, SuggestionRow } from './duplicates.repository.js';

const READERS = ['agent', 'supervisor', 'admin', 'dept_handler'] as const;
const DAY_MS = 86_400_000;
/** Text profiles kept in memory: a ticket's text never changes, and recent tickets are compared again and again. */
const PROFILE_CACHE_SIZE = 20_000;

export interface ClusterSettings {
  /** Requests further apart than this do not form or extend a cluster. */
  readonly windowHours: number;
  /** Distinct callers from which similar requests count as concentrated. */
  readonly minCallers: number;
  /** Content similarity to the cluster's first request needed to join it. */
  readonly minContent: number;
}

export interface DuplicatesSettings {
  readonly duplicates: DuplicateConfig;
  readonly clusters: ClusterSettings;
}

export const DEFAULT_CLUSTER_SETTINGS: ClusterSettings = { windowHours: 72, minCallers: 3, minContent: 0.35 };

export interface DuplicatesDeps {
  readonly db: Database;
  readonly repo: DuplicatesRepository;
  readonly clock: Clock;
  readonly outbox: { append(tx: Tx, events: readonly NewEvent[]): Promise<unknown> };
  readonly settings: DuplicatesSettings;
}

export interface AnalysisResult { suggestions: number; isRepeat: boolean; repeatOf: string | null; clusterId: string | null }

export interface PublicCluster {
  id: string; areaCode: string; title: string; keywords: string[]; ticketCount: number; callerCount: number; firstSeenAt: string; lastSeenAt: string;
}

export interface PublicSuggestion {
  candidate: { id: string; number: string; title: string; status: string; createdAt: string };
  score: number; contentSimilarity: number; addressSimilarity: number | null; sameCaller: boolean; reasons: DuplicateReason[]; status: SuggestionRow['status'];
}

export class DuplicatesService {
  private readonly profiles = new Map<string, TextProfile>();

  constructor(private readonly deps: DuplicatesDeps) {
    const c = deps.settings.clusters;
    if (!(c.windowHours > 0) || !Number.isInteger(c.minCallers) || c.minCallers < 2 || !(c.minContent > 0 && c.minContent <= 1)) {
      throw new ValidationError('invalid cluster settings', { clusters: c }, 'invalid_cluster_config');
    }
  }

  /** Analyses one ticket inside the consumer's transaction; re-running it refreshes the same rows. */
  async analyze(tx: Tx, ticketId: string): Promise<AnalysisResult | undefined> {
    const t = await this.deps.repo.request(tx, ticketId);
    if (!t) return undefined;
    const cfg = this.deps.settings.duplicates;
    const now = this.deps.clock.now();
    const text = `${t.title} ${t.content}`;
    const mine = this.profileOf(t.id, text);
    const words = keywords(mine, 4); // one jieba pass for both
    const pool = await this.deps.repo.candidates(tx, {
      ticketId: t.id, from: new Date(t.createdAt.getTime() - cfg.windowDays * DAY_MS), to: t.createdAt, citizenId: t.citizenId, areaCode: t.areaCode,
      anyWords: tsQuery(words, 'or'), allWords: tsQuery(words.slice(0, 2), 'and'), limits: { caller: 20, area: 40, anywhere: 20 },
    });
    const found = duplicateCandidates({ ...toDedup(t), profile: mine }, pool.map((p) => ({ ...toDedup(p), profile: this.profileOf(p.id, `${p.title} ${p.content}`) })), cfg);
    const sameCaller = found.filter((c) => c.reasons.includes('same_caller'));
    const repeatOf = sameCaller[0]?.id ?? null;
    const clustered = t.areaCode ? await this.assignCluster(tx, t, mine, words, now) : null;
    const analysis: AnalysisRow = { ticketId: t.id, isRepeat: repeatOf !== null, repeatOf, repeatCount: sameCaller.length, clusterId: clustered?.id ?? null, analyzedAt: now };
    await this.deps.repo.saveAnalysis(tx, analysis, found.map((c) => ({
      candidateId: c.id, score: c.score, contentSimilarity: c.contentSimilarity, addressSimilarity: c.addressSimilarity, sameCaller: c.sameCaller, reasons: [...c.reasons],
    })));
    const events: NewEvent[] = [];
    if (found.length > 0) {
      events.push({ type: 'duplicates.suggested', payload: { ticketId: t.id, number: t.number, candidates: found.slice(0, 5).map((c) => ({ ticketId: c.id, score: c.score, reasons: c.reasons })) } });
    }
    if (repeatOf) events.push({ type: 'duplicates.repeat_flagged', payload: { ticketId: t.id, number: t.number, repeatOf, repeatCount: sameCaller.length } });
    if (clustered?.changed) {
      const c = clustered.row;
      events.push({ type: 'duplicates.cluster_updated', payload: { clusterId: c.id, areaCode: c.areaCode, title: c.title, ticketCount: c.ticketCount, callerCount: c.callerCount, ticketId: t.id } });
    }
    await this.deps.outbox.append(tx, events);
    return { suggestions: found.length, isRepeat: repeatOf !== null, repeatOf, clusterId: clustered?.id ?? null };
  }

  /** After a merge (tickets lifecycle), the suggestion that proposed it is settled. */
  async merged(tx: Tx, duplicateId: string, masterId: string, by: string): Promise<void> {
    await this.deps.repo.markMerged(tx, duplicateId, masterId, this.deps.clock.now(), by);
  }

  async suggestions(ticketId: string, actor: Principal): Promise<{ ticketId: string; analyzedAt: string | null; repeat: { isRepeat: boolean; repeatOf: string | null; repeatCount: number }; clusterId: string | null; items: PublicSuggestion[] }> {
    const { dept, confidential } = await this.scopeToTicket(ticketId, actor);
    const [analysis, rows] = await Promise.all([this.deps.repo.analysis(this.deps.db, ticketId), this.deps.repo.suggestions(this.deps.db, ticketId, dept)]);
    // 保密 toward departments: whether the caller asked before (一人多次) tells who asked.
    const hideCaller = dept !== undefined && confidential;
    const repeatVisible = !hideCaller && analysis?.repeatOf && (!dept || rows.some((r) => r.candidateId === analysis.repeatOf));
    return {
      ticketId,
      analyzedAt: analysis ? analysis.analyzedAt.toISOString() : null,
      repeat: hideCaller
        ? { isRepeat: false, repeatOf: null, repeatCount: 0 }
        : { isRepeat: analysis?.isRepeat ?? false, repeatOf: repeatVisible ? analysis.repeatOf : null, repeatCount: analysis?.repeatCount ?? 0 },
      clusterId: analysis?.clusterId ?? null,
      items: rows.map((r) => toSuggestion(r, dept !== undefined && (confidential || r.candidateConfidential))),
    };
  }

  async dismiss(ticketId: string, candidateId: string, actor: Principal): Promise<void> {
    requireRole(actor, ['agent', 'supervisor', 'admin']);
    if (!(await this.deps.repo.dismiss(this.deps.db, ticketId, candidateId, this.deps.clock.now(), actor.id))) {
      throw new NotFoundError('Open suggestion', `${ticketId}/${candidateId}`, 'suggestion_not_found');
    }
  }

  async clusters(f: { since?: string; minCallers?: number; areaCode?: string; after?: string; limit: number }, actor: Principal): Promise<{ items: PublicCluster[]; next: string | null }> {
    requireRole(actor, READERS);
    const since = f.since ? new Date(f.since) : new Date(this.deps.clock.now().getTime() - this.deps.settings.clusters.windowHours * 3600_000);
    const rows = await this.deps.repo.clusters(this.deps.db, {
      since, minCallers: f.minCallers ?? this.deps.settings.clusters.minCallers, limit: f.limit,
      ...(f.areaCode ? { areaPrefix: f.areaCode } : {}), ...(f.after ? { after: decodeCursor(f.after) } : {}),
      ...(isDepartmentScoped(actor) ? { departmentId: actor.departmentId! } : {}),
    });
    const last = rows.at(-1);
    return { items: rows.map(toCluster), next: rows.length === f.limit && last ? encodeCursor(last) : null };
  }

  async cluster(id: string, actor: Principal): Promise<PublicCluster & { tickets: { id: string; number: string; title: string; status: string; createdAt: string }[] }> {
    requireRole(actor, READERS);
    const dept = isDepartmentScoped(actor) ? actor.departmentId! : undefined;
    const row = await this.deps.repo.cluster(this.deps.db, id);
    const members = row ? await this.deps.repo.clusterMembers(this.deps.db, id, dept) : [];
    // A department sees a cluster only through the tickets it holds.
    if (!row || (dept && members.length === 0)) throw new NotFoundError('Cluster', id, 'cluster_not_found');
    return {
      ...toCluster(row),
      tickets: members.map((m) => ({ id: m.ticketId, number: m.number, title: dept && m.confidential ? redactIdentity(m.title) : m.title, status: m.status, createdAt: m.createdAt.toISOString() })),
    };
  }

  async repeats(f: { since?: string; limit: number }, actor: Principal): Promise<{ items: { ticketId: string; number: string; title: string; repeatOf: string | null; repeatCount: number; analyzedAt: string }[] }> {
    requireRole(actor, READERS);
    const since = f.since ? new Date(f.since) : new Date(this.deps.clock.now().getTime() - this.deps.settings.duplicates.windowDays * DAY_MS);
    const rows = await this.deps.repo.repeats(this.deps.db, { since, limit: f.limit, ...(isDepartmentScoped(actor) ? { departmentId: actor.departmentId! } : {}) });
    return { items: rows.map((r) => ({ ticketId: r.ticketId, number: r.number, title: r.title, repeatOf: isDepartmentScoped(actor) ? null : r.repeatOf, repeatCount: r.repeatCount, analyzedAt: r.analyzedAt.toISOString() })) };
  }

  /**
   * Joins the most similar recent cluster of the area, or forms one when enough distinct
   * callers made similar requests there within the period. Serialised per area.
   */
  private async assignCluster(tx: Tx, t: AnalysedRequestRow, mine: TextProfile, words: string[], now: Date): Promise<{ id: string; row: ClusterRow; changed: boolean } | null> {
    const s = this.deps.settings.clusters;
    const areaCode = t.areaCode!;
    if (t.clusterId) {
      const row = await this.deps.repo.cluster(tx, t.clusterId);
      return row ? { id: t.clusterId, row, changed: false } : null; // already counted (a re-analysis)
    }
    // The area's lock was taken with the request (repo.request): cluster decisions are serialised per area.
    const since = new Date(t.createdAt.getTime() - s.windowHours * 3600_000);
    let best: { row: ClusterRow; sim: number } | undefined;
    for (const c of await this.deps.repo.recentClusters(tx, areaCode, since)) {
      // A cluster's sample is fixed when it forms.
      const sim = cosine(mine, this.profileOf(`cluster:${c.id}`, c.sampleText));
      if (sim >= s.minContent && (!best || sim > best.sim)) best = { row: c, sim };
    }
    if (best) {
      await this.deps.repo.addMembers(tx, best.row.id, [{ ticketId: t.id, citizenId: t.citizenId }], now);
      const row = await this.deps.repo.refreshCluster(tx, best.row.id, now);
      return { id: row.id, row, changed: true };
    }
    const anyWords = tsQuery(words, 'or');
    if (!anyWords) return null;
    const pool = await this.deps.repo.clusterPool(tx, { ticketId: t.id, areaCode, from: since, to: t.createdAt, anyWords, limit: 100 });
    const similar = pool.filter((p) => cosine(mine, this.profileOf(p.id, `${p.title} ${p.content}`)) >= s.minContent);
    const callers = new Set([t.citizenId, ...similar.map((p) => p.citizenId)].filter((c): c is string => c !== null));
    if (callers.size < s.minCallers) return null;
    const seed = [...similar].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())[0]!;
    const id = await this.deps.repo.createCluster(tx, {
      areaCode, title: seed.title, sampleText: `${seed.title} ${seed.content}`.slice(0, 1000), keywords: words, at: now,
    });
    await this.deps.repo.addMembers(tx, id, [...similar, t].map((p) => ({ ticketId: p.id, citizenId: p.citizenId })), now);
    const row = await this.deps.repo.refreshCluster(tx, id, now);
    return { id, row, changed: true };
  }

  /** Staff see every ticket; a department only tickets it holds (and then only those candidates). */
  private async scopeToTicket(ticketId: string, actor: Principal): Promise<{ dept: string | undefined; confidential: boolean }> {
    requireRole(actor, READERS);
    const dept = isDepartmentScoped(actor) ? actor.departmentId! : undefined;
    const visible = await this.deps.repo.visibleTicket(this.deps.db, ticketId, dept);
    if (!visible) throw new NotFoundError('Ticket', ticketId, 'ticket_not_found');
    return { dept, confidential: visible.confidential };
  }

  /** The text's profile, from the cache when this ticket (or cluster) was profiled before. */
  private profileOf(key: string, text: string): TextProfile {
    const hit = this.profiles.get(key);
    if (hit) {
      this.profiles.delete(key); // most recently used last
      this.profiles.set(key, hit);
      return hit;
    }
    const p = profile(text);
    this.profiles.set(key, p);
    if (this.profiles.size > PROFILE_CACHE_SIZE) this.profiles.delete(this.profiles.keys().next().value!);
    return p;
  }
}

export const DEFAULT_DUPLICATES_SETTINGS: DuplicatesSettings = { duplicates: DEFAULT_DUPLICATE_CONFIG, clusters: DEFAULT_CLUSTER_SETTINGS };

function toDedup(r: RequestRow): DedupRequest {
  return { id: r.id, receivedAt: r.createdAt, content: `${r.title} ${r.content}`, callerPhone: r.phone, address: r.address };
}

/** `hideCaller`: a department must not learn that a confidential caller is behind both tickets. */
function toSuggestion(r: SuggestionRow, hideCaller: boolean): PublicSuggestion {
  const reasons = (r.reasons as DuplicateReason[]).filter((x) => !hideCaller || x !== 'same_caller');
  return {
    candidate: { id: r.candidateId, number: r.number, title: hideCaller && r.candidateConfidential ? redactIdentity(r.title) : r.title, status: r.ticketStatus, createdAt: r.candidateCreatedAt.toISOString() },
    score: r.score, contentSimilarity: r.contentSimilarity, addressSimilarity: r.addressSimilarity, sameCaller: hideCaller ? false : r.sameCaller, reasons, status: r.status,
  };
}

function toCluster(r: ClusterRow): PublicCluster {
  return {
    id: r.id, areaCode: r.areaCode, title: r.title, keywords: r.keywords, ticketCount: r.ticketCount, callerCount: r.callerCount,
    firstSeenAt: r.firstSeenAt.toISOString(), lastSeenAt: r.lastSeenAt.toISOString(),
  };
}

function encodeCursor(r: ClusterRow): string {
  return Buffer.from(`${r.lastSeenAt.toISOString()}|${r.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(date.getTime())) throw new ValidationError('The cursor is not one this API gave out', { field: 'after' }, 'cursor_invalid');
  return { at: date, id };
}
