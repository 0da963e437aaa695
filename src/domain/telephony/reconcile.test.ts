import { describe, expect, it } from 'vitest';
import { reconcileNode, type KnownCall, type LiveNodeState } from './reconcile.js';

const live = (channelIds: string[], bridges: Record<string, string[]> = {}, restarted = false): LiveNodeState => ({
  nodeId: 'ast1', channelIds, bridges: new Map(Object.entries(bridges)), restarted,
});
const call = (callId: string, channelIds: string[], bridgeIds: string[] = [], nodeId = 'ast1'): KnownCall => ({ callId, nodeId, channelIds, bridgeIds });

describe('reconcileNode', () => {
  it('sorts calls into intact, partial and vanished, and finds orphans', () => {
    const r = reconcileNode(
      live(['c1', 'a1', 'c2', 'x9'], { 'b-mix-1': ['c1', 'a1'], 'b-hold-2': ['c2'], 'b-stale': [] }),
      [
        call('queued', ['c2'], ['b-hold-2']),
        call('connected', ['c1', 'a1'], ['b-mix-1']),
        call('agent-left', ['c3', 'a3'], ['b-mix-3']),
        call('caller-left', ['c4'], ['b-hold-4']),
      ],
    );
    expect(r.calls).toEqual([
      { kind: 'intact', callId: 'queued', missingBridges: [] },
      { kind: 'intact', callId: 'connected', missingBridges: [] },
      { kind: 'vanished', callId: 'agent-left', cause: 'channels_gone' },
      { kind: 'vanished', callId: 'caller-left', cause: 'channels_gone' },
    ]);
    expect(r.orphanChannels).toEqual(['x9']);
    expect(r.orphanBridges).toEqual(['b-stale']);
  });

  it('reports a lost leg and a lost bridge of a connected call', () => {
    const r = reconcileNode(live(['c1'], {}), [call('connected', ['c1', 'a1'], ['b-mix-1'])]);
    expect(r.calls).toEqual([{ kind: 'partial', callId: 'connected', present: ['c1'], gone: ['a1'], missingBridges: ['b-mix-1'] }]);
  });

  it('treats every call as vanished after an Asterisk restart, even if an id is reused', () => {
    // Channel ids are <start time>.<counter>: a restarted Asterisk may hand out an old id again.
    const r = reconcileNode(live(['c1'], {}, true), [call('old', ['c1'])]);
    expect(r.calls).toEqual([{ kind: 'vanished', callId: 'old', cause: 'asterisk_restarted' }]);
    expect(r.orphanChannels).toEqual([]);
  });

  it('ignores calls of other nodes', () => {
    const r = reconcileNode(live(['c1']), [call('elsewhere', ['c1'], [], 'ast2')]);
    expect(r.calls).toEqual([]);
    expect(r.orphanChannels).toEqual(['c1']);
  });
});
