/**
 * After an ARI (re)connect, Asterisk's live channels and bridges are compared with the calls we
 * have rows for. Asterisk does not buffer events while the app is away, so this diff is the only
 * way to learn what happened meanwhile: which calls are intact, which lost a leg (e.g. the agent
 * hung up), which vanished entirely (caller left, or Asterisk restarted), and which of our channels
 * (in our Stasis app) have no call row (orphans to adopt or hang up). Pure: the call layer acts on
 * the result.
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

/**
 * Whether a channel is in one of our Stasis applications, from its `dialplan` fields. In the
 * recorded Asterisk 23.4.1 traces a channel in Stasis reports `app_name: "Stasis"` and
 * `app_data: "hotline,inbound"` (or just `"hotline"` when entered without arguments); an
 * originated leg still ringing reports `AppDial2` / `(Outgoing Line)`, a created one `""`.
 * GET /channels lists every channel of the node (agent-to-agent calls in [agents], dialplan legs,
 * MOH announcers, bridge recorders), so this is how ours are told apart.
 */
export function inStasisApp(dialplan: { readonly app_name?: string; readonly app_data?: string } | undefined, apps: readonly string[]): boolean {
  if (dialplan?.app_name !== 'Stasis') return false;
  const app = (dialplan.app_data ?? '').split(',')[0]?.trim();
  return app !== undefined && apps.includes(app);
}

/** What Asterisk reported for one node (the adapter's resync snapshot, reduced to ids). */
export interface LiveNodeState {
  readonly nodeId: string;
  /** Every live channel of the node: a call's leg counts as present when listed here. */
  readonly channelIds: readonly string[];
  /**
   * The channels that are ours: in our Stasis application, or legs we originated that have not
   * entered it yet. Only these can be orphans; other channels (agents calling each other,
   * announcers, recorders) are none of our business. `toLiveNodeState` fills it from the
   * adapter's snapshot. Absent: every live channel counts as ours (the old behaviour; avoid).
   */
  readonly appChannelIds?: readonly string[];
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
  /** Our live channels (in our Stasis app, or originated by us) that no call row claims. */
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
    orphanChannels: (live.appChannelIds ?? live.channelIds).filter((c) => !claimedChannels.has(c)),
    orphanBridges: [...live.bridges.keys()].filter((b) => !claimedBridges.has(b)),
  };
}
