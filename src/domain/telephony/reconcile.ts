/**
 * After an ARI (re)connect, Asterisk's live channels and bridges are compared with the calls we
 * have rows for. Asterisk does not buffer events while the app is away, so this diff is the only
 * way to learn what happened meanwhile: which calls are intact, which lost a leg (e.g. the agent
 * hung up), which vanished entirely (caller left, or Asterisk restarted), and which channels sit in
 * Stasis with no call row (orphans to adopt or hang up). Pure: the call layer acts on the result.
 */

/** What the call layer knows of one call on one node. */
export interface KnownCall {
  readonly callId: string;
  readonly nodeId: string;
  /** Every channel leg we track (caller, agent, consult, snoop…). */
  readonly channelIds: readonly string[];
  /** Bridges the call uses (holding bridge while queued, mixing bridge when connected). */
  readonly bridgeIds: readonly string[];
}

/** What Asterisk reported for one node (the adapter's resync snapshot, reduced to ids). */
export interface LiveNodeState {
  readonly nodeId: string;
  readonly channelIds: readonly string[];
  /** Bridge id → the channel ids in it. */
  readonly bridges: ReadonlyMap<string, readonly string[]>;
  /** True when Asterisk restarted since we last saw it: nothing of before survived. */
  readonly restarted: boolean;
}

export type CallReconciliation =
  | { readonly kind: 'intact'; readonly callId: string; readonly missingBridges: readonly string[] }
  | { readonly kind: 'partial'; readonly callId: string; readonly present: readonly string[]; readonly gone: readonly string[]; readonly missingBridges: readonly string[] }
  | { readonly kind: 'vanished'; readonly callId: string; readonly cause: 'asterisk_restarted' | 'channels_gone' };

export interface ReconcileResult {
  readonly nodeId: string;
  readonly calls: readonly CallReconciliation[];
  /** Live channels no call row claims. */
  readonly orphanChannels: readonly string[];
  /** Live bridges no call row claims (left over from a crash; safe to destroy when empty). */
  readonly orphanBridges: readonly string[];
}

export function reconcileNode(live: LiveNodeState, known: readonly KnownCall[]): ReconcileResult {
  const liveChannels = new Set(live.channelIds);
  const claimedChannels = new Set<string>();
  const claimedBridges = new Set<string>();
  const calls: CallReconciliation[] = [];
  for (const call of known) {
    if (call.nodeId !== live.nodeId) continue;
    for (const c of call.channelIds) claimedChannels.add(c);
    for (const b of call.bridgeIds) claimedBridges.add(b);
    const present = call.channelIds.filter((c) => liveChannels.has(c) && !live.restarted);
    const gone = call.channelIds.filter((c) => !present.includes(c));
    const missingBridges = call.bridgeIds.filter((b) => !live.bridges.has(b));
    if (present.length === 0) {
      calls.push({ kind: 'vanished', callId: call.callId, cause: live.restarted ? 'asterisk_restarted' : 'channels_gone' });
    } else if (gone.length === 0) {
      calls.push({ kind: 'intact', callId: call.callId, missingBridges });
    } else {
      calls.push({ kind: 'partial', callId: call.callId, present, gone, missingBridges });
    }
  }
  return {
    nodeId: live.nodeId,
    calls,
    orphanChannels: live.channelIds.filter((c) => !claimedChannels.has(c)),
    orphanBridges: [...live.bridges.keys()].filter((b) => !claimedBridges.has(b)),
  };
}
