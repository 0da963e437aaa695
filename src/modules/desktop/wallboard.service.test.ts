import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../adapters/db/database.js';
import type { Principal } from '../../domain/auth.js';
import type { DesktopRepository } from './desktop.repository.js';
import type { WallboardDelta, WallboardView } from './wallboard.delta.js';
import { WallboardService, type WallboardSubscriber } from './wallboard.service.js';

const SUP: Principal = { kind: 'user', id: 's1', name: 'sup', role: 'supervisor', departmentId: null, centreId: 'main' };
const Q = '6f1c2a55-1111-4222-8333-444455556666';

function setup() {
  let waiting = 0;
  const repo = {
    queues: async () => [{ id: Q, code: 'Q', name: '综合', centreId: 'main', serviceLevelSeconds: 15 }],
    live: async () => (waiting ? [{ queueId: Q, waiting, offering: 0, oldest: null }] : []),
    today: async () => [],
    handleTimes: async () => [],
  } as unknown as DesktopRepository;
  const service = new WallboardService({
    db: {} as Database, repo, agentStates: { list: async () => [] }, clock: { now: () => new Date('2026-03-02T01:00:00Z') }, logger: pino({ level: 'silent' }), intervalMs: 200,
  });
  const got: Array<{ type: string; body: WallboardView | WallboardDelta; at: number }> = [];
  const sub: WallboardSubscriber = { principal: SUP, sendWallboard: (type: string, body: WallboardView | WallboardDelta) => got.push({ type, body, at: performance.now() }) };
  return { service, sub, got, set: (n: number) => (waiting = n) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('wallboard pacing', () => {
  it('sends nothing when nothing changed, and skips a tick that comes too soon after the full state', async () => {
    const { service, sub, got, set } = setup();
    await service.subscribe(sub, undefined);
    expect(got.map((g) => g.type)).toEqual(['wallboard']);
    set(1);
    await service.tick(); // less than an interval after the full state
    expect(got).toHaveLength(1);
    await sleep(210);
    await service.tick();
    expect(got.map((g) => g.type)).toEqual(['wallboard', 'wallboard_delta']);
    expect(got[1]!.body).toEqual({ queues: { [Q]: { waiting: 1 } } });
    await sleep(210);
    await service.tick(); // no change
    expect(got).toHaveLength(2);
  });

  it('coalesces changes between ticks into one delta and never sends two within an interval', async () => {
    const { service, sub, got, set } = setup();
    await service.subscribe(sub, [Q]);
    await sleep(210);
    set(1);
    set(2);
    set(3);
    await service.tick();
    await service.tick(); // at once again: held back
    expect(got.filter((g) => g.type === 'wallboard_delta').map((g) => g.body)).toEqual([{ queues: { [Q]: { waiting: 3 } } }]);
    set(4);
    await service.tick();
    expect(got).toHaveLength(2);
    await sleep(210);
    await service.tick();
    expect(got.at(-1)!.body).toEqual({ queues: { [Q]: { waiting: 4 } } });
    for (let i = 1; i < got.length; i++) expect(got[i]!.at - got[i - 1]!.at).toBeGreaterThanOrEqual(200);
    service.unsubscribe(sub);
    expect(service.subscribers).toBe(0);
  });
});
