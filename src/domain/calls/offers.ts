/**
 * What became of an offer to an agent's phone. An originated agent leg that fails never enters
 * Stasis: its outcome arrives only as ChannelDestroyed with the Q.850 `cause` (and the SIP
 * status as `tech_cause`), e.g. 17/486 busy, 19/480 no answer (../shared/ari-traces). Pure.
 */

export const OFFER_OUTCOMES = ['answered', 'no_answer', 'busy', 'rejected', 'failed', 'caller_abandoned', 'cancelled', 'lost'] as const;
export type OfferOutcome = (typeof OFFER_OUTCOMES)[number];

export const OFFER_OUTCOME_LABELS: Readonly<Record<OfferOutcome, string>> = {
  answered: '已接听', no_answer: '未接听', busy: '忙', rejected: '拒接', failed: '呼叫失败',
  caller_abandoned: '来电方挂机', cancelled: '已取消', lost: '结果未知',
};

/** The outcome of an agent leg destroyed before it answered, from its hangup cause. */
export function offerOutcomeFromCause(cause: number | undefined): OfferOutcome {
  switch (cause) {
    case 17: // user busy (SIP 486)
      return 'busy';
    case 18: // no user responding
    case 19: // no answer (SIP 480 after the originate timeout)
      return 'no_answer';
    case 21: // call rejected (SIP 603)
      return 'rejected';
    default:
      return 'failed';
  }
}

/**
 * Outcomes that were the agent's doing (or their phone's): the agent goes not-ready with
 * reason `no_answer` so the ACD stops offering them calls they will not take.
 */
export function outcomeBlamesAgent(outcome: OfferOutcome): boolean {
  return outcome === 'no_answer' || outcome === 'busy' || outcome === 'rejected' || outcome === 'failed';
}

/** Seconds after the ring timeout before an offer with no outcome counts as lost. */
export const OFFER_GRACE_SECONDS = 10;
