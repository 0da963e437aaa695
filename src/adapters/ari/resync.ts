import type { LiveNodeState } from '../../domain/telephony/reconcile.js';
import type { ResyncSnapshot } from './types.js';

/** Reduces a resync snapshot to what `reconcileNode` compares with the call rows. */
export function toLiveNodeState(snapshot: ResyncSnapshot): LiveNodeState {
  return {
    nodeId: snapshot.nodeId,
    channelIds: snapshot.channels.map((c) => c.id),
    appChannelIds: snapshot.appChannels.map((c) => c.id),
    bridges: new Map(snapshot.bridges.map((b) => [b.id, b.channels])),
    restarted: snapshot.restarted,
  };
}
