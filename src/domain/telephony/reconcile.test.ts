import { describe, expect, it } from 'vitest';
import { inStasisApp, reconcileNode, type KnownCall, type LiveNodeState } from './reconcile.js';

const live = (channelIds: string[], bridges: Record<string, string[]> = {}, restarted = false, appChannelIds = channelIds): LiveNodeState => ({
  nodeId: 'ast1', channelIds, appChannelIds, bridges: new Map(Object.entries(bridges)), restarted,
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

  it('counts only our channels as orphans, but any live channel as a present leg', () => {
    // GET /channels lists all of them: an agent-to-agent call, a MOH announcer, a bridge recorder,
    // and our caller who is in the dialplan between two Stasis visits (continueInDialplan).
    const r = reconcileNode(
      live(['c1', 'agent-a', 'agent-b', 'announcer', 'recorder', 'c2'], {}, false, ['c1']),
      [call('in-dialplan', ['c2'])],
    );
    expect(r.orphanChannels).toEqual(['c1']);
    expect(r.calls).toEqual([{ kind: 'intact', callId: 'in-dialplan', missingBridges: [] }]);
  });

  it('tells Stasis channels of our app from the dialplan fields Asterisk reports', () => {
    // Values as in the recorded traces.
    expect(inStasisApp({ app_name: 'Stasis', app_data: 'hotline,inbound' }, ['hotline'])).toBe(true);
    expect(inStasisApp({ app_name: 'Stasis', app_data: 'hotline' }, ['hotline'])).toBe(true);
    expect(inStasisApp({ app_name: 'AppDial2', app_data: '(Outgoing Line)' }, ['hotline'])).toBe(false);
    expect(inStasisApp({ app_name: '', app_data: '' }, ['hotline'])).toBe(false);
    expect(inStasisApp({ app_name: 'Stasis', app_data: 'hotline2,x' }, ['hotline'])).toBe(false);
    expect(inStasisApp({ app_name: 'Stasis', app_data: 'other,hotline' }, ['hotline', 'other'])).toBe(true);
    expect(inStasisApp({ app_name: 'Dial', app_data: 'PJSIP/agent1002' }, ['hotline'])).toBe(false);
    expect(inStasisApp(undefined, ['hotline'])).toBe(false);
  });

  it('ignores calls of other nodes', () => {
    const r = reconcileNode(live(['c1']), [call('elsewhere', ['c1'], [], 'ast2')]);
    expect(r.calls).toEqual([]);
    expect(r.orphanChannels).toEqual(['c1']);
  });
});
