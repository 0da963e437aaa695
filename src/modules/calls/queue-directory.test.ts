import { describe, expect, it } from 'vitest';
import type { PublicQueue, QueuesService } from '../queues/queues.service.js';
import { QueueDirectory } from './queue-directory.js';

const queue = (id: string, wrapUpSeconds: number): PublicQueue => ({
  id, code: id, name: id, centreId: 'c', language: null, requiredSkills: [], priorityRules: [], maxWaitSeconds: 300,
  overflow: { action: 'callback', queueId: null }, announcementIntervalSeconds: 30, callbackOfferSeconds: null,
  wrapUpSeconds, ringTimeoutSeconds: 20, serviceLevelSeconds: 15, scheduleId: null, active: true, version: 1, createdAt: '', updatedAt: '',
});

/** A queues service whose loads wait until the test lets them finish. */
function slowQueues() {
  let current: PublicQueue[] = [queue('q1', 5)];
  const pending: Array<() => void> = [];
  let loads = 0;
  const service = {
    all: () => {
      loads += 1;
      const snapshot = current;
      return new Promise<PublicQueue[]>((resolve) => pending.push(() => resolve(snapshot)));
    },
  } as unknown as QueuesService;
  return {
    service,
    set: (q: PublicQueue[]) => { current = q; },
    finish: () => { for (const p of pending.splice(0)) p(); },
    get loads() { return loads; },
  };
}

describe('QueueDirectory', () => {
  it('waits for the first load, then serves the snapshot while a refresh runs', async () => {
    let now = 0;
    const q = slowQueues();
    const dir = new QueueDirectory(q.service, 2000, () => now);
    const first = dir.get('q1');
    q.finish();
    expect((await first)?.wrapUpSeconds).toBe(5);

    q.set([queue('q1', 9)]);
    now = 5000; // stale: a reload starts, but the reader is not held up by it
    expect((await dir.get('q1'))?.wrapUpSeconds).toBe(5);
    expect(q.loads).toBe(2);
    expect((await dir.get('q1'))?.wrapUpSeconds).toBe(5); // one reload at a time
    expect(q.loads).toBe(2);
    q.finish();
    await new Promise((r) => setImmediate(r));
    expect((await dir.get('q1'))?.wrapUpSeconds).toBe(9);
  });

  it('an unknown queue waits for a reload (a queue just created)', async () => {
    let now = 0;
    const q = slowQueues();
    const dir = new QueueDirectory(q.service, 2000, () => now);
    const first = dir.get('q1');
    q.finish();
    await first;
    q.set([queue('q1', 5), queue('q2', 3)]);
    now = 500;
    const created = dir.get('q2');
    await new Promise((r) => setImmediate(r));
    expect(q.loads).toBe(2);
    q.finish();
    expect((await created)?.wrapUpSeconds).toBe(3);
  });
});
