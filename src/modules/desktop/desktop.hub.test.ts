import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DesktopHub, type HubMember } from './desktop.hub.js';
import type { StoredDesktopMessage } from './desktop.service.js';

const msg = (agentId: string, seq: number): StoredDesktopMessage => ({ seq: String(seq), agentId, at: '2026-03-02T01:00:00.000Z', type: 'call.note', payload: { seq } });

function member(userId: string, through: bigint): HubMember & { got: number[] } {
  const got: number[] = [];
  return { userId, through, got, sendText: (t) => got.push((JSON.parse(t) as { payload: { seq: number } }).payload.seq) };
}

/** A log of numbers 1..n for the gap filler. */
function hubWithLog(n: number, calls: Array<[bigint, bigint]> = []): DesktopHub {
  return new DesktopHub(async (agentId, after, through) => {
    calls.push([after, through]);
    const out: StoredDesktopMessage[] = [];
    for (let s = after + 1n; s <= through && s <= BigInt(n); s++) out.push(msg(agentId, Number(s)));
    return out;
  }, pino({ level: 'silent' }));
}

describe('desktop hub', () => {
  it('drops the second copy of a message', async () => {
    const hub = hubWithLog(10);
    const m = member('u1', 3n);
    await hub.join('u1', async () => m);
    for (const s of [4, 4, 5, 4, 5]) hub.deliver(msg('u1', s));
    await hub.settled('u1');
    expect(m.got).toEqual([4, 5]);
  });

  it('fills a gap from the log before a message that came early', async () => {
    const calls: Array<[bigint, bigint]> = [];
    const hub = hubWithLog(10, calls);
    const m = member('u1', 3n);
    await hub.join('u1', async () => m);
    hub.deliver(msg('u1', 7));
    hub.deliver(msg('u1', 5)); // the late copy of one already filled
    hub.deliver(msg('u1', 8));
    await hub.settled('u1');
    expect(m.got).toEqual([4, 5, 6, 7, 8]);
    expect(calls).toEqual([[3n, 6n]]);
  });

  it('sends a later desktop of the user only what is newer than its welcome', async () => {
    const hub = hubWithLog(10);
    const first = member('u1', 2n);
    await hub.join('u1', async () => first);
    // Number 3 was committed (and is in the second desktop's welcome) but has not arrived here yet.
    const second = member('u1', 3n);
    await hub.join('u1', async () => second);
    hub.deliver(msg('u1', 3));
    hub.deliver(msg('u1', 4));
    await hub.settled('u1');
    expect(first.got).toEqual([3, 4]);
    expect(second.got).toEqual([4]);
  });

  it('holds deliveries until a joining desktop has its welcome', async () => {
    const hub = hubWithLog(10);
    const first = member('u1', 1n);
    await hub.join('u1', async () => first);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const second = member('u1', 0n);
    const joining = hub.join('u1', async () => {
      await gate;
      second.through = 2n;
      return second;
    });
    hub.deliver(msg('u1', 2));
    hub.deliver(msg('u1', 3));
    expect(first.got).toEqual([]); // queued behind the join
    release();
    await joining;
    await hub.settled('u1');
    expect(first.got).toEqual([2, 3]);
    expect(second.got).toEqual([3]);
  });

  it('ignores users without a desktop here and forgets a user whose last desktop left', async () => {
    const hub = hubWithLog(10);
    hub.deliver(msg('nobody', 1));
    const m = member('u1', 0n);
    await hub.join('u1', async () => m);
    expect(hub.count('u1')).toBe(1);
    hub.leave(m);
    expect(hub.count('u1')).toBe(0);
    hub.deliver(msg('u1', 1));
    await hub.settled('u1');
    expect(m.got).toEqual([]);
    // A join that finds the desktop gone adds nobody.
    await hub.join('u1', async () => null);
    expect(hub.count('u1')).toBe(0);
  });
});
