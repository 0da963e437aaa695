import { sql, type RawBuilder } from 'kysely';
import type { Executor, Tx } from '../../adapters/db/database.js';

/** What duplicate detection needs to know of a ticket. */
export interface RequestRow {
  id: string;
  number: string;
  title: string;
  content: string;
  address: string | null;
  areaCode: string | null;
  createdAt: Date;
  status: string;
  citizenId: string | null;
  phone: string | null;
  confidential: boolean;
}

/** The ticket to analyse, with the cluster it already belongs to (a re-analysis). */
export interface AnalysedRequestRow extends RequestRow { clusterId: string | null }

export interface ClusterRow {
  id: string;
  areaCode: string;
  title: string;
  sampleText: string;
  keywords: string[];
  ticketCount: number;
  callerCount: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

export interface SuggestionRow {
  candidateId: string;
  number: string;
  title: string;
  ticketStatus: string;
  candidateCreatedAt: Date;
  score: number;
  contentSimilarity: number;
  addressSimilarity: number | null;
  sameCaller: boolean;
  reasons: string[];
  status: 'open' | 'merged' | 'dismissed';
  candidateConfidential: boolean;
}

export interface AnalysisRow { ticketId: string; isRepeat: boolean; repeatOf: string | null; repeatCount: number; clusterId: string | null; analyzedAt: Date }

export interface NewSuggestion {
  candidateId: string; score: number; contentSimilarity: number; addressSimilarity: number | null; sameCaller: boolean; reasons: string[];
}

/** Tickets that are not real requests to compare with: never accepted, refused, withdrawn or already merged. */
const EXCLUDED = sql`('draft', 'not_accepted', 'cancelled', 'merged')`;
const REQUEST_COLUMNS = sql`t.id, t.number, t.title, t.content, t.address, t.area_code, t.created_at, t.status, t.citizen_id, c.phone, t.confidential`;
const CLUSTER_COLUMNS = sql`id, area_code, title, sample_text, keywords, ticket_count, caller_count, first_seen_at, last_seen_at`;

export class DuplicatesRepository {
  /**
   * The ticket to analyse. In a transaction it also takes its area's cluster lock (two requests
   * arriving together form one cluster), in the same round trip: the statements after it see what
   * the previous holder committed.
   */
  async request(db: Executor, ticketId: string): Promise<AnalysedRequestRow | undefined> {
    const res = await sql<AnalysedRequestRow & { areaLocked: boolean }>`SELECT ${REQUEST_COLUMNS}, (SELECT m.cluster_id FROM request_cluster_members m WHERE m.ticket_id = t.id) AS cluster_id,
        pg_advisory_xact_lock(hashtext('request_clusters:' || t.area_code)) IS NULL AS area_locked
      FROM tickets t LEFT JOIN citizens c ON c.id = t.citizen_id WHERE t.id = ${ticketId}`.execute(db);
    const row = res.rows[0];
    if (!row) return undefined;
    const { areaLocked: _, ...rest } = row;
    return rest;
  }

  /**
   * Earlier requests worth comparing, each branch bounded: the same caller; the same area
   * sharing one of the key words; anywhere, sharing the two heaviest words.
   */
  async candidates(db: Executor, f: { ticketId: string; from: Date; to: Date; citizenId: string | null; areaCode: string | null; anyWords: string; allWords: string;
    limits: { caller: number; area: number; anywhere: number } }): Promise<RequestRow[]> {
    const window = sql`created_at BETWEEN ${f.from} AND ${f.to} AND id <> ${f.ticketId} AND status NOT IN ${EXCLUDED}`;
    const branches: RawBuilder<unknown>[] = [];
    if (f.citizenId) {
      branches.push(sql`(SELECT id FROM tickets WHERE citizen_id = ${f.citizenId} AND ${window} ORDER BY created_at DESC LIMIT ${f.limits.caller})`);
    }
    if (f.areaCode && f.anyWords) {
      branches.push(sql`(SELECT id FROM tickets WHERE area_code = ${f.areaCode} AND ${window} AND search_vector @@ to_tsquery('simple', ${f.anyWords})
        ORDER BY created_at DESC LIMIT ${f.limits.area})`);
    }
    if (f.allWords) {
      branches.push(sql`(SELECT id FROM tickets WHERE ${window} AND search_vector @@ to_tsquery('simple', ${f.allWords}) ORDER BY created_at DESC LIMIT ${f.limits.anywhere})`);
    }
    if (branches.length === 0) return [];
    const res = await sql<RequestRow>`
      SELECT ${REQUEST_COLUMNS} FROM tickets t LEFT JOIN citizens c ON c.id = t.citizen_id
       WHERE t.id IN (${sql.join(branches, sql` UNION `)})`.execute(db);
    return res.rows;
  }

  /** Same-area requests of the period not yet in a cluster, sharing a key word. */
  async clusterPool(db: Executor, f: { ticketId: string; areaCode: string; from: Date; to: Date; anyWords: string; limit: number }): Promise<RequestRow[]> {
    const res = await sql<RequestRow>`
      SELECT ${REQUEST_COLUMNS} FROM tickets t LEFT JOIN citizens c ON c.id = t.citizen_id
       WHERE t.area_code = ${f.areaCode} AND t.created_at BETWEEN ${f.from} AND ${f.to} AND t.id <> ${f.ticketId}
         AND t.status NOT IN ${EXCLUDED} AND t.search_vector @@ to_tsquery('simple', ${f.anyWords})
         AND NOT EXISTS (SELECT 1 FROM request_cluster_members m WHERE m.ticket_id = t.id)
       ORDER BY t.created_at DESC LIMIT ${f.limit}`.execute(db);
    return res.rows;
  }

  async recentClusters(db: Executor, areaCode: string, since: Date): Promise<ClusterRow[]> {
    const res = await sql<ClusterRow>`SELECT ${CLUSTER_COLUMNS} FROM request_clusters WHERE area_code = ${areaCode} AND last_seen_at >= ${since}
      ORDER BY last_seen_at DESC LIMIT 50`.execute(db);
    return res.rows;
  }

  async createCluster(tx: Tx, c: { areaCode: string; title: string; sampleText: string; keywords: string[]; at: Date }): Promise<string> {
    const row = await tx.insertInto('requestClusters').values({
      areaCode: c.areaCode, title: c.title, sampleText: c.sampleText, keywords: c.keywords, ticketCount: 1, callerCount: 1,
      firstSeenAt: c.at, lastSeenAt: c.at, createdAt: c.at, updatedAt: c.at,
    }).returning('id').executeTakeFirstOrThrow();
    return row.id;
  }

  async addMembers(tx: Tx, clusterId: string, members: readonly { ticketId: string; citizenId: string | null }[], at: Date): Promise<void> {
    if (members.length === 0) return;
    await tx.insertInto('requestClusterMembers').values(members.map((m) => ({ clusterId, ticketId: m.ticketId, citizenId: m.citizenId, addedAt: at })))
      .onConflict((oc) => oc.column('ticketId').doNothing()).execute();
  }

  /** Counts and first/last seen from the members themselves, so they never drift. */
  async refreshCluster(tx: Tx, clusterId: string, at: Date): Promise<ClusterRow> {
    const res = await sql<ClusterRow>`
      UPDATE request_clusters rc SET
        ticket_count = s.tickets, caller_count = GREATEST(s.callers, 1), first_seen_at = s.first, last_seen_at = s.last, updated_at = ${at}
      FROM (SELECT count(*)::int AS tickets, count(DISTINCT m.citizen_id)::int AS callers, min(t.created_at) AS first, max(t.created_at) AS last
              FROM request_cluster_members m JOIN tickets t ON t.id = m.ticket_id WHERE m.cluster_id = ${clusterId}) s
      WHERE rc.id = ${clusterId}
      RETURNING rc.id, rc.area_code, rc.title, rc.sample_text, rc.keywords, rc.ticket_count, rc.caller_count, rc.first_seen_at, rc.last_seen_at`.execute(tx);
    return res.rows[0]!;
  }

  /** The analysis and its suggestions in one statement. */
  async saveAnalysis(tx: Tx, a: AnalysisRow, suggestions: readonly NewSuggestion[]): Promise<void> {
    const rows = JSON.stringify(suggestions.map((s) => ({
      candidate_id: s.candidateId, score: s.score, content_similarity: s.contentSimilarity, address_similarity: s.addressSimilarity, same_caller: s.sameCaller, reasons: s.reasons,
    })));
    await sql`
      WITH a AS (
        INSERT INTO duplicate_analyses (ticket_id, is_repeat, repeat_of, repeat_count, cluster_id, analyzed_at)
        VALUES (${a.ticketId}, ${a.isRepeat}, ${a.repeatOf}, ${a.repeatCount}, ${a.clusterId}, ${a.analyzedAt})
        ON CONFLICT (ticket_id) DO UPDATE SET is_repeat = excluded.is_repeat, repeat_of = excluded.repeat_of, repeat_count = excluded.repeat_count,
          cluster_id = excluded.cluster_id, analyzed_at = excluded.analyzed_at)
      INSERT INTO duplicate_suggestions (ticket_id, candidate_id, score, content_similarity, address_similarity, same_caller, reasons, created_at)
      SELECT ${a.ticketId}, s.candidate_id, s.score, s.content_similarity, s.address_similarity, s.same_caller, s.reasons, ${a.analyzedAt}
        FROM json_to_recordset(${rows}::json) AS s(candidate_id uuid, score real, content_similarity real, address_similarity real, same_caller boolean, reasons text[])
      ON CONFLICT (ticket_id, candidate_id) DO UPDATE SET score = excluded.score, content_similarity = excluded.content_similarity,
        address_similarity = excluded.address_similarity, same_caller = excluded.same_caller, reasons = excluded.reasons`.execute(tx);
  }

  /** A merge between two tickets settles the suggestions that linked them, either way round. */
  async markMerged(db: Executor, a: string, b: string, at: Date, by: string): Promise<number> {
    const r = await db.updateTable('duplicateSuggestions').set({ status: 'merged', resolvedAt: at, resolvedBy: by })
      .where((eb) => eb.or([eb.and([eb('ticketId', '=', a), eb('candidateId', '=', b)]), eb.and([eb('ticketId', '=', b), eb('candidateId', '=', a)])]))
      .where('status', '=', 'open').executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async dismiss(db: Executor, ticketId: string, candidateId: string, at: Date, by: string): Promise<boolean> {
    const r = await db.updateTable('duplicateSuggestions').set({ status: 'dismissed', resolvedAt: at, resolvedBy: by })
      .where('ticketId', '=', ticketId).where('candidateId', '=', candidateId).where('status', '=', 'open').executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async analysis(db: Executor, ticketId: string): Promise<AnalysisRow | undefined> {
    return db.selectFrom('duplicateAnalyses').selectAll().where('ticketId', '=', ticketId).executeTakeFirst();
  }

  /** Suggestions of a ticket, best first; with `departmentId`, only candidates that department holds. */
  async suggestions(db: Executor, ticketId: string, departmentId: string | undefined): Promise<SuggestionRow[]> {
    const res = await sql<SuggestionRow>`
      SELECT s.candidate_id, t.number, t.title, t.status AS ticket_status, t.created_at AS candidate_created_at, s.score, s.content_similarity,
             s.address_similarity, s.same_caller, s.reasons, s.status, t.confidential AS candidate_confidential
        FROM duplicate_suggestions s JOIN tickets t ON t.id = s.candidate_id
       WHERE s.ticket_id = ${ticketId} ${departmentId ? sql`AND ${holds(sql`s.candidate_id`, departmentId)}` : sql``}
       ORDER BY s.score DESC, s.candidate_id`.execute(db);
    return res.rows;
  }

  /** The ticket if it exists (and, with `departmentId`, that department holds it). */
  async visibleTicket(db: Executor, ticketId: string, departmentId: string | undefined): Promise<{ confidential: boolean } | undefined> {
    const res = await sql<{ confidential: boolean }>`SELECT t.confidential FROM tickets t
      WHERE t.id = ${ticketId} ${departmentId ? sql`AND ${holds(sql`t.id`, departmentId)}` : sql``}`.execute(db);
    return res.rows[0];
  }

  /** Clusters seen since `since` with at least `minCallers` callers, busiest period first; keyset on (last_seen_at, id). */
  async clusters(db: Executor, f: { since: Date; minCallers: number; areaPrefix?: string; departmentId?: string; after?: { at: Date; id: string }; limit: number }): Promise<ClusterRow[]> {
    const res = await sql<ClusterRow>`
      SELECT ${CLUSTER_COLUMNS} FROM request_clusters rc
       WHERE rc.last_seen_at >= ${f.since} AND rc.caller_count >= ${f.minCallers}
         ${f.areaPrefix ? sql`AND rc.area_code LIKE ${`${f.areaPrefix}%`}` : sql``}
         ${f.after ? sql`AND (rc.last_seen_at, rc.id) < (${f.after.at}, ${f.after.id}::uuid)` : sql``}
         ${f.departmentId ? sql`AND EXISTS (SELECT 1 FROM request_cluster_members m WHERE m.cluster_id = rc.id AND ${holds(sql`m.ticket_id`, f.departmentId)})` : sql``}
       ORDER BY rc.last_seen_at DESC, rc.id DESC LIMIT ${f.limit}`.execute(db);
    return res.rows;
  }

  async cluster(db: Executor, id: string): Promise<ClusterRow | undefined> {
    const res = await sql<ClusterRow>`SELECT ${CLUSTER_COLUMNS} FROM request_clusters WHERE id = ${id}`.execute(db);
    return res.rows[0];
  }

  async clusterMembers(db: Executor, clusterId: string, departmentId: string | undefined): Promise<{ ticketId: string; number: string; title: string; status: string; createdAt: Date; confidential: boolean }[]> {
    const res = await sql<{ ticketId: string; number: string; title: string; status: string; createdAt: Date; confidential: boolean }>`
      SELECT t.id AS ticket_id, t.number, t.title, t.status, t.created_at, t.confidential
        FROM request_cluster_members m JOIN tickets t ON t.id = m.ticket_id
       WHERE m.cluster_id = ${clusterId} ${departmentId ? sql`AND ${holds(sql`m.ticket_id`, departmentId)}` : sql``}
       ORDER BY t.created_at, t.id LIMIT 500`.execute(db);
    return res.rows;
  }

  /**
   * Recent repeat requests (一人多次), newest first. A department never sees that the caller of
   * a confidential ticket called before: those stay out of its list.
   */
  async repeats(db: Executor, f: { since: Date; departmentId?: string; limit: number }): Promise<(AnalysisRow & { number: string; title: string })[]> {
    const res = await sql<AnalysisRow & { number: string; title: string }>`
      SELECT a.ticket_id, a.is_repeat, a.repeat_of, a.repeat_count, a.cluster_id, a.analyzed_at, t.number, t.title
        FROM duplicate_analyses a JOIN tickets t ON t.id = a.ticket_id
       WHERE a.is_repeat AND a.analyzed_at >= ${f.since} ${f.departmentId ? sql`AND ${holds(sql`a.ticket_id`, f.departmentId)} AND NOT t.confidential` : sql``}
       ORDER BY a.analyzed_at DESC, a.ticket_id DESC LIMIT ${f.limit}`.execute(db);
    return res.rows;
  }
}

/** The department currently holds the ticket (main or co, not released). */
function holds(ticketId: RawBuilder<unknown>, departmentId: string): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (SELECT 1 FROM ticket_departments td WHERE td.ticket_id = ${ticketId} AND td.department_id = ${departmentId} AND td.released_at IS NULL)`;
}
