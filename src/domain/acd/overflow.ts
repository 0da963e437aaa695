/**
 * Overflow chains: a queue that waits too long (or is closed) hands its callers to another queue,
 * which may hand them on. A chain must end (no loop) and stay short. Pure.
 */

/** Queues a caller can pass through by overflow, counting the first one. */
export const MAX_OVERFLOW_CHAIN = 5;

export type OverflowCheck =
  | { readonly ok: true; readonly chain: readonly string[] }
  | { readonly ok: false; readonly code: 'overflow_loop' | 'overflow_chain_too_long'; readonly chain: readonly string[] };

/**
 * The chain starting at `queueId` once its overflow target becomes `target` (null = no queue
 * target), given every other queue's current target. Reports a loop or a chain longer than
 * MAX_OVERFLOW_CHAIN, with the chain walked so far.
 */
export function checkOverflowChain(targets: ReadonlyMap<string, string | null>, queueId: string, target: string | null): OverflowCheck {
  const chain = [queueId];
  const seen = new Set(chain);
  let next = target;
  while (next !== null) {
    chain.push(next);
    if (seen.has(next)) return { ok: false, code: 'overflow_loop', chain };
    if (chain.length > MAX_OVERFLOW_CHAIN) return { ok: false, code: 'overflow_chain_too_long', chain };
    seen.add(next);
    next = targets.get(next) ?? null;
  }
  return { ok: true, chain };
}

/** Queues whose chain would pass through `queueId` (they overflow into it, directly or not). */
export function upstreamOf(targets: ReadonlyMap<string, string | null>, queueId: string): string[] {
  const out: string[] = [];
  for (const start of targets.keys()) {
    if (start === queueId) continue;
    let next = targets.get(start) ?? null;
    for (let i = 0; next !== null && i < MAX_OVERFLOW_CHAIN * 4; i++) {
      if (next === queueId) {
        out.push(start);
        break;
      }
      next = targets.get(next) ?? null;
    }
  }
  return out.sort();
}
