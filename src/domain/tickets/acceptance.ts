/**
 * Acceptance check (受理审查), GB/T 44189 6.1. The agent decides; this module turns the agent's
 * findings into a decision with the reply the caller hears, and scans the text for signs of an
 * emergency or an excluded matter so the desktop can ask the agent to confirm.
 */
import {
  EMERGENCY_SERVICE_LABELS,
  NOT_ACCEPTED_REASONS,
  NOT_ACCEPTED_REASON_INFO,
  type EmergencyService,
  type NotAcceptedReason,
} from './vocabulary.js';

export interface EmergencyHint {
  readonly service: EmergencyService;
  readonly keyword: string;
  /** e.g. "转接 119 消防救援" for the desktop. */
  readonly advice: string;
}

export interface ExclusionHint {
  readonly reason: NotAcceptedReason;
  readonly keyword: string;
}

export interface AcceptanceInput {
  /** What the caller asks for (subject and description). */
  readonly content: string;
  /** Exclusions the agent has established (ticked on the intake form). */
  readonly findings?: readonly NotAcceptedReason[];
  /** False when the matter lies outside the hotline's administrative area. */
  readonly inJurisdiction?: boolean;
  /** Services the agent chose for an emergency transfer; defaults to those hinted by the text. */
  readonly transferTo?: readonly EmergencyService[];
}

export type AcceptanceDecision =
  | {
      readonly accepted: true;
      readonly emergencyHints: readonly EmergencyHint[];
      readonly exclusionHints: readonly ExclusionHint[];
    }
  | {
      readonly accepted: false;
      readonly reason: NotAcceptedReason;
      readonly label: string;
      readonly reply: string;
      /** Every finding, in priority order; `reason` is the first. */
      readonly reasons: readonly NotAcceptedReason[];
      /** Set for emergencies: where to transfer the caller instead of opening a ticket. */
      readonly transferTo: readonly EmergencyService[];
      readonly emergencyHints: readonly EmergencyHint[];
    };

// Situations happening now that belong to an emergency line. Kept specific: a bare 受伤 in a
// work-injury compensation complaint is not an emergency, so these are hints, never decisions.
const EMERGENCY_KEYWORDS: Readonly<Record<EmergencyService, readonly string[]>> = {
  '119': ['着火', '起火', '失火', '火灾', '冒烟', '浓烟', '爆炸', '煤气泄漏', '燃气泄漏', '天然气泄漏', '液化气泄漏', '被困', '困在电梯'],
  '110': ['抢劫', '抢夺', '持刀', '砍人', '杀人', '绑架', '劫持', '打架', '斗殴', '行凶', '家暴', '入室盗窃', '正在偷', '跳楼', '轻生', '自杀', '失踪'],
  '120': ['急救', '受伤', '昏迷', '晕倒', '不省人事', '大出血', '吐血', '呼吸困难', '心脏病发', '中毒', '抽搐', '溺水', '触电'],
  '122': ['车祸', '交通事故', '撞车', '追尾', '撞人', '肇事逃逸', '翻车'],
};

// Phrases that suggest an excluded matter (GB/T 44189 6.1.2 a)); the agent must confirm.
const EXCLUSION_KEYWORDS: Readonly<Partial<Record<NotAcceptedReason, readonly string[]>>> = {
  litigation: ['已起诉', '已经起诉', '法院立案', '已立案', '正在诉讼', '法院判决', '开庭'],
  arbitration: ['仲裁', '劳动仲裁'],
  discipline_inspection: ['纪委', '纪检', '监委', '贪污', '受贿'],
  administrative_review: ['行政复议'],
  information_disclosure: ['信息公开申请', '依申请公开'],
  petition: ['信访', '上访'],
};

const SERVICE_ORDER: readonly EmergencyService[] = ['119', '110', '120', '122'];

/** Emergency keywords found in the text, one hint per (service, keyword), in service order. */
export function detectEmergency(text: string): EmergencyHint[] {
  const hints: EmergencyHint[] = [];
  for (const service of SERVICE_ORDER) {
    for (const keyword of EMERGENCY_KEYWORDS[service]) {
      if (text.includes(keyword)) {
        hints.push({ service, keyword, advice: `转接 ${EMERGENCY_SERVICE_LABELS[service]}` });
      }
    }
  }
  return hints;
}

/** Emergency services suggested by the text, without duplicates. */
export function suggestedTransfers(text: string): EmergencyService[] {
  return [...new Set(detectEmergency(text).map((h) => h.service))];
}

/** Phrases suggesting an excluded matter, at most one hint per reason. */
export function detectExclusions(text: string): ExclusionHint[] {
  const hints: ExclusionHint[] = [];
  for (const reason of NOT_ACCEPTED_REASONS) {
    // One hint per reason: 劳动仲裁 and 仲裁 are the same finding.
    const keyword = (EXCLUSION_KEYWORDS[reason] ?? []).find((k) => text.includes(k));
    if (keyword !== undefined) hints.push({ reason, keyword });
  }
  return hints;
}

export function checkAcceptance(input: AcceptanceInput): AcceptanceDecision {
  const emergencyHints = detectEmergency(input.content);
  const found = new Set<NotAcceptedReason>(input.findings ?? []);
  if (input.inJurisdiction === false) found.add('outside_jurisdiction');
  if (input.transferTo !== undefined && input.transferTo.length > 0) found.add('emergency');
  const reasons = NOT_ACCEPTED_REASONS.filter((r) => found.has(r));
  const first = reasons[0];
  if (first === undefined) {
    return { accepted: true, emergencyHints, exclusionHints: detectExclusions(input.content) };
  }
  const transferTo =
    first === 'emergency'
      ? input.transferTo !== undefined && input.transferTo.length > 0
        ? [...new Set(input.transferTo)]
        : [...new Set(emergencyHints.map((h) => h.service))]
      : [];
  const info = NOT_ACCEPTED_REASON_INFO[first];
  const reply =
    first === 'emergency' && transferTo.length > 0
      ? `您反映的情况属于紧急事项，正在为您转接${transferTo.join('、')}，请保持电话畅通。`
      : info.reply;
  return { accepted: false, reason: first, label: info.label, reply, reasons, transferTo, emergencyHints };
}
