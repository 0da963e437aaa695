import { describe, expect, it } from 'vitest';
import {
  applyDelta, diffWallboard, emptyByState, serviceLevel, shanghaiDayStart, viewFor,
  type QueueStats, type WallboardAgent, type WallboardSnapshot, type WallboardView,
} from './wallboard.delta.js';

const stats = (over: Partial<QueueStats> = {}): QueueStats => ({
  code: 'Q', name: '综合', serviceLevelSeconds: 15, waiting: 0, offering: 0, longestWaitSeconds: 0,
  answered: 0, abandoned: 0, serviceLevel: null, averageSpeedOfAnswerSeconds: null, averageHandleSeconds: null, ...over,
});
const agent = (over: Partial<WallboardAgent> = {}): WallboardAgent => ({
  displayName: '张三', centreId: 'main', state: 'ready', reason: null, since: '2026-03-02T01:00:00.000Z', extension: '1001', callId: null, ...over,
});
const view = (queues: Record<string, QueueStats>, agents: Record<string, WallboardAgent> = {}): WallboardView => {
  const byState = emptyByState();
  for (const a of Object.values(agents)) if (a.state !== 'offline') byState[a.state] += 1;
  return { queues, agents, agentsByState: byState };
};

describe('today in Asia/Shanghai', () => {
  it('starts at 16:00 UTC the day before', () => {
    expect(shanghaiDayStart(new Date('2026-03-02T10:00:00Z')).toISOString()).toBe('2026-03-01T16:00:00.000Z');
    expect(shanghaiDayStart(new Date('2026-03-02T15:59:59Z')).toISOString()).toBe('2026-03-01T16:00:00.000Z');
    expect(shanghaiDayStart(new Date('2026-03-02T16:00:00Z')).toISOString()).toBe('2026-03-02T16:00:00.000Z');
    expect(shanghaiDayStart(new Date('1969-12-31T20:00:00Z')).toISOString()).toBe('1969-12-31T16:00:00.000Z');
  });
});

describe('service level', () => {
  it('is answered within T over answered plus those who gave up after T', () => {
    expect(serviceLevel({ answeredWithin: 8, answered: 10, abandonedAfter: 2 })).toBe(0.6667);
    expect(serviceLevel({ answeredWithin: 10, answered: 10, abandonedAfter: 0 })).toBe(1);
    expect(serviceLevel({ answeredWithin: 0, answered: 0, abandonedAfter: 3 })).toBe(0);
    expect(serviceLevel({ answeredWithin: 0, answered: 0, abandonedAfter: 0 })).toBeNull();
  });
});

describe('deltas', () => {
  it('is null when nothing changed', () => {
    const v = view({ q1: stats({ waiting: 2 }) }, { a1: agent() });
    expect(diffWallboard(v, structuredClone(v))).toBeNull();
  });

  it('carries only the changed fields, new items whole and removed ids', () => {
    const prev = view({ q1: stats({ waiting: 2, longestWaitSeconds: 30 }), q2: stats() }, { a1: agent(), a2: agent({ displayName: '李四' }) });
    const next = view({ q1: stats({ waiting: 3, longestWaitSeconds: 31 }), q3: stats({ code: 'Q3' }) }, { a1: agent({ state: 'not_ready', reason: 'meal' }), a3: agent({ displayName: '王五' }) });
    const d = diffWallboard(prev, next)!;
    expect(d).toEqual({
      queues: { q1: { waiting: 3, longestWaitSeconds: 31 }, q3: stats({ code: 'Q3' }) },
      removedQueues: ['q2'],
      agents: { a1: { state: 'not_ready', reason: 'meal' }, a3: agent({ displayName: '王五' }) },
      removedAgents: ['a2'],
      agentsByState: { ready: 1, not_ready: 1 },
    });
    expect(applyDelta(prev, d)).toEqual(next);
  });

  it('keeps null as a value (no calls yet), distinct from a removed item', () => {
    const prev = view({ q1: stats({ serviceLevel: 0.5 }) });
    const next = view({ q1: stats({ serviceLevel: null }) });
    const d = diffWallboard(prev, next)!;
    expect(d).toEqual({ queues: { q1: { serviceLevel: null } } });
    expect(applyDelta(prev, d)).toEqual(next);
  });
});

describe('a subscriber\'s view', () => {
  const snap: WallboardSnapshot = {
    queues: new Map([
      ['q1', { centreId: 'main', stats: stats({ code: 'Q1' }) }],
      ['q2', { centreId: 'district', stats: stats({ code: 'Q2' }) }],
    ]),
    agents: new Map([
      ['a1', agent()],
      ['a2', agent({ centreId: 'district', state: 'on_call' })],
      ['a3', agent({ state: 'offline' })],
    ]),
  };

  it('shows the queues asked for, or every queue of the centre, and that centre\'s logged-in agents', () => {
    const mine = viewFor({ queueIds: undefined, centreId: 'main', allCentres: false }, snap);
    expect(Object.keys(mine.queues)).toEqual(['q1']);
    expect(Object.keys(mine.agents)).toEqual(['a1']);
    expect(mine.agentsByState).toEqual({ ready: 1, not_ready: 0, ringing: 0, on_call: 0, wrap_up: 0 });
    const picked = viewFor({ queueIds: ['q2', 'gone'], centreId: 'main', allCentres: false }, snap);
    expect(Object.keys(picked.queues)).toEqual(['q2']);
    const admin = viewFor({ queueIds: undefined, centreId: 'main', allCentres: true }, snap);
    expect(Object.keys(admin.queues)).toEqual(['q1', 'q2']);
    expect(admin.agentsByState).toMatchObject({ ready: 1, on_call: 1 });
  });
});
