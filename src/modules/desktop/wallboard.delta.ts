/**
 * The wallboard's pure pieces: today's window in Asia/Shanghai, the service level, one
 * subscriber's view of the instance-wide snapshot, and the delta between two views. No I/O.
 */
import { AGENT_STATES, type AgentState, type NotReadyReason } from '../../domain/agents/index.js';

export interface QueueStats {
  code: string;
  name: string;
  serviceLevelSeconds: number;
  waiting: number;
  offering: number;
  longestWaitSeconds: number;
  answered: number;
  abandoned: number;
  serviceLevel: number | null;
  averageSpeedOfAnswerSeconds: number | null;
  averageHandleSeconds: number | null;
}

export interface WallboardAgent {
  displayName: string;
  centreId: string;
  state: AgentState;
  reason: NotReadyReason | null;
  since: string;
  extension: string | null;
  callId: string | null;
}

export type ByState = Record<Exclude<AgentState, 'offline'>, number>;

export interface WallboardView {
  queues: Record<string, QueueStats>;
  agents: Record<string, WallboardAgent>;
  agentsByState: ByState;
}

export interface WallboardDelta {
  queues?: Record<string, Partial<QueueStats>>;
  removedQueues?: string[];
  agents?: Record<string, Partial<WallboardAgent>>;
  removedAgents?: string[];
  agentsByState?: Partial<ByState>;
}

/** What one tick computes for the whole instance; each subscriber sees a slice of it. */
export interface WallboardSnapshot {
  /** Queue id → its centre and stats, for every queue any subscriber watches. */
  queues: ReadonlyMap<string, { centreId: string; stats: QueueStats }>;
  agents: ReadonlyMap<string, WallboardAgent>;
}

export interface WallboardScope {
  /** Undefined: every active queue of the centre (all centres for `allCentres`). */
  readonly queueIds: readonly string[] | undefined;
  readonly centreId: string;
  /** Admins see every centre. */
  readonly allCentres: boolean;
}

const CHINA_OFFSET_MS = 8 * 3600_000; // Asia/Shanghai: UTC+8 all year, no daylight saving

/** Midnight of `now`'s day in Asia/Shanghai, as an instant. */
export function shanghaiDayStart(now: Date): Date {
  const local = now.getTime() + CHINA_OFFSET_MS;
  return new Date(local - (((local % 86_400_000) + 86_400_000) % 86_400_000) - CHINA_OFFSET_MS);
}

/**
 * Service level over today's calls of a queue with threshold T (the queue's
 * service_level_seconds): answered within T / (answered + abandoned after waiting more than T).
 * Callers who gave up within T count neither way; null when the denominator is 0.
 */
export function serviceLevel(c: { answeredWithin: number; answered: number; abandonedAfter: number }): number | null {
  const denominator = c.answered + c.abandonedAfter;
  return denominator === 0 ? null : round(c.answeredWithin / denominator, 4);
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function emptyByState(): ByState {
  return Object.fromEntries(AGENT_STATES.filter((s) => s !== 'offline').map((s) => [s, 0])) as ByState;
}

/** One subscriber's view: its queues and the agents of its centre(s). */
export function viewFor(scope: WallboardScope, snap: WallboardSnapshot): WallboardView {
  const queues: Record<string, QueueStats> = {};
  if (scope.queueIds) {
    for (const id of scope.queueIds) {
      const q = snap.queues.get(id);
      if (q) queues[id] = q.stats;
    }
  } else {
    for (const [id, q] of snap.queues) if (scope.allCentres || q.centreId === scope.centreId) queues[id] = q.stats;
  }
  const agents: Record<string, WallboardAgent> = {};
  const agentsByState = emptyByState();
  for (const [id, a] of snap.agents) {
    if (!scope.allCentres && a.centreId !== scope.centreId) continue;
    if (a.state === 'offline') continue;
    agents[id] = a;
    agentsByState[a.state] += 1;
  }
  return { queues, agents, agentsByState };
}

function changedFields<T extends object>(prev: T, next: T): Partial<T> | undefined {
  let out: Partial<T> | undefined;
  for (const k of Object.keys(next) as (keyof T)[]) {
    if (prev[k] !== next[k]) {
      out ??= {};
      out[k] = next[k];
    }
  }
  return out;
}

function diffRecords<T extends object>(prev: Record<string, T>, next: Record<string, T>): { changed?: Record<string, Partial<T>>; removed?: string[] } {
  let changed: Record<string, Partial<T>> | undefined;
  let removed: string[] | undefined;
  for (const [id, n] of Object.entries(next)) {
    const p = prev[id];
    const c = p ? changedFields(p, n) : { ...n };
    if (c) (changed ??= {})[id] = c;
  }
  for (const id of Object.keys(prev)) if (!(id in next)) (removed ??= []).push(id);
  return { ...(changed ? { changed } : {}), ...(removed ? { removed } : {}) };
}

/** What changed from `prev` to `next`; null when nothing did (nothing is sent then). */
export function diffWallboard(prev: WallboardView, next: WallboardView): WallboardDelta | null {
  const q = diffRecords(prev.queues, next.queues);
  const a = diffRecords(prev.agents, next.agents);
  const byState = changedFields(prev.agentsByState, next.agentsByState);
  const delta: WallboardDelta = {
    ...(q.changed ? { queues: q.changed } : {}),
    ...(q.removed ? { removedQueues: q.removed } : {}),
    ...(a.changed ? { agents: a.changed } : {}),
    ...(a.removed ? { removedAgents: a.removed } : {}),
    ...(byState ? { agentsByState: byState } : {}),
  };
  return Object.keys(delta).length ? delta : null;
}

/** How a client applies a delta (used by the tests and documented for desktop developers). */
export function applyDelta(view: WallboardView, delta: WallboardDelta): WallboardView {
  const queues = { ...view.queues };
  for (const [id, c] of Object.entries(delta.queues ?? {})) queues[id] = { ...queues[id], ...c } as QueueStats;
  for (const id of delta.removedQueues ?? []) delete queues[id];
  const agents = { ...view.agents };
  for (const [id, c] of Object.entries(delta.agents ?? {})) agents[id] = { ...agents[id], ...c } as WallboardAgent;
  for (const id of delta.removedAgents ?? []) delete agents[id];
  return { queues, agents, agentsByState: { ...view.agentsByState, ...delta.agentsByState } };
}
