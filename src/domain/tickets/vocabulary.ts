/**
 * Ticket (工单) vocabulary of GB/T 44189-2024: English identifiers for code, storage and APIs,
 * Chinese labels for people. Every list is an `as const` tuple so the unions, label tables and
 * guards below stay in step with it.
 */

/** Builds a type guard for one of the vocabularies below. */
function guardFor<T extends string>(values: readonly T[]): (value: unknown) => value is T {
  const set = new Set<string>(values);
  return (value: unknown): value is T => typeof value === 'string' && set.has(value);
}

// --- Request types (诉求类型), GB/T 44189 3.2 / 4.2; 表扬 is common practice beyond the list.
export const REQUEST_TYPES = [
  'consultation',
  'help',
  'complaint',
  'report',
  'suggestion',
  'online_guidance',
  'praise',
] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];
export const REQUEST_TYPE_LABELS: Readonly<Record<RequestType, string>> = {
  consultation: '咨询',
  help: '求助',
  complaint: '投诉',
  report: '举报',
  suggestion: '意见建议',
  online_guidance: '在线办理指导',
  praise: '表扬',
};
export const isRequestType = guardFor(REQUEST_TYPES);

// --- Scope of intake (受理范围), GB/T 44189 6.1.1.
export const SCOPE_DOMAINS = [
  'economic_regulation',
  'market_supervision',
  'social_management',
  'public_service',
  'eco_environment',
] as const;
export type ScopeDomain = (typeof SCOPE_DOMAINS)[number];
export const SCOPE_DOMAIN_LABELS: Readonly<Record<ScopeDomain, string>> = {
  economic_regulation: '经济调节',
  market_supervision: '市场监管',
  social_management: '社会管理',
  public_service: '公共服务',
  eco_environment: '生态环境保护',
};
export const isScopeDomain = guardFor(SCOPE_DOMAINS);

// --- Intake channels (诉求渠道), exactly the list of GB/T 44189 6.2.1 (电话、短信、信箱、网站、移动端、小程序、公众号).
export const INTAKE_CHANNELS = [
  'phone',
  'sms',
  'mailbox',
  'website',
  'mobile_app',
  'mini_program',
  'official_account',
] as const;
export type IntakeChannel = (typeof INTAKE_CHANNELS)[number];
export const INTAKE_CHANNEL_LABELS: Readonly<Record<IntakeChannel, string>> = {
  phone: '电话',
  sms: '短信',
  mailbox: '信箱',
  website: '网站',
  mobile_app: '移动端',
  mini_program: '小程序',
  official_account: '公众号',
};
export const isIntakeChannel = guardFor(INTAKE_CHANNELS);

/**
 * Urgency (紧急程度). Three levels because the dispatch targets in the standards README have
 * three tiers: 1 h for urgent matters (特急), 2 h for water/power/gas/heat outages and extreme
 * weather (紧急), 24 h otherwise (一般). SLA defaults in `calendar/sla.ts` follow this mapping.
 */
export const URGENCY_LEVELS = ['normal', 'urgent', 'very_urgent'] as const;
export type Urgency = (typeof URGENCY_LEVELS)[number];
export const URGENCY_LABELS: Readonly<Record<Urgency, string>> = {
  normal: '一般',
  urgent: '紧急',
  very_urgent: '特急',
};
export const isUrgency = guardFor(URGENCY_LEVELS);

// --- Evaluation (评价) by the caller, GB/T 44189 7.1.1 and the post-call survey keys 1/2/3.
export const EVALUATIONS = ['satisfied', 'basically_satisfied', 'dissatisfied'] as const;
export type Evaluation = (typeof EVALUATIONS)[number];
export const EVALUATION_LABELS: Readonly<Record<Evaluation, string>> = {
  satisfied: '满意',
  basically_satisfied: '基本满意',
  dissatisfied: '不满意',
};
export const isEvaluation = guardFor(EVALUATIONS);

// --- Emergency services that 12345 transfers to instead of ticketing (GB/T 44189 7.2.1, 44190 6.3).
export const EMERGENCY_SERVICES = ['110', '119', '120', '122'] as const;
export type EmergencyService = (typeof EMERGENCY_SERVICES)[number];
export const EMERGENCY_SERVICE_LABELS: Readonly<Record<EmergencyService, string>> = {
  '110': '110 报警服务台',
  '119': '119 消防救援',
  '120': '120 医疗急救',
  '122': '122 交通事故报警',
};
export const isEmergencyService = guardFor(EMERGENCY_SERVICES);

/** A reason for not accepting a request (不予受理), with what the caller is told. */
export interface NotAcceptedReasonInfo {
  readonly label: string;
  /** Clause it rests on; "practice" where the standard's "包括但不限于" leaves it to the hotline. */
  readonly basis: string;
  /** Said or sent to the caller; polite, states the proper channel. */
  readonly reply: string;
}

// Order matters: when several apply, the first one listed is reported (emergencies first).
export const NOT_ACCEPTED_REASONS = [
  'emergency',
  'litigation',
  'arbitration',
  'discipline_inspection',
  'administrative_review',
  'information_disclosure',
  'petition',
  'state_secret',
  'trade_secret',
  'personal_privacy',
  'public_order',
  'outside_jurisdiction',
  'harassment',
] as const;
export type NotAcceptedReason = (typeof NOT_ACCEPTED_REASONS)[number];
export const isNotAcceptedReason = guardFor(NOT_ACCEPTED_REASONS);

export const NOT_ACCEPTED_REASON_INFO: Readonly<Record<NotAcceptedReason, NotAcceptedReasonInfo>> = {
  emergency: {
    label: '紧急事项（转110/119/120/122）',
    basis: 'GB/T 44189 3.1, 7.2.1',
    reply: '您反映的情况属于紧急事项，12345热线受理非紧急诉求，请立即拨打相应的紧急电话（110、119、120、122），我们也可以为您转接。',
  },
  litigation: {
    label: '已进入诉讼程序',
    basis: 'GB/T 44189 6.1.2 a)',
    reply: '您反映的事项已进入诉讼程序，依法应通过诉讼途径解决，请与受理法院联系，热线不予受理。',
  },
  arbitration: {
    label: '已进入仲裁程序',
    basis: 'GB/T 44189 6.1.2 a)',
    reply: '您反映的事项已进入仲裁程序，依法应通过仲裁途径解决，请与受理的仲裁机构联系，热线不予受理。',
  },
  discipline_inspection: {
    label: '纪检监察事项',
    basis: 'GB/T 44189 6.1.2 a)',
    reply: '您反映的事项属于纪检监察范围，请向纪检监察机关反映（可拨打12388或通过其网站举报），热线不予受理。',
  },
  administrative_review: {
    label: '已进入行政复议程序',
    basis: 'GB/T 44189 6.1.2 a)',
    reply: '您反映的事项属于行政复议范围，依法应通过行政复议途径解决，请向行政复议机关提出申请，热线不予受理。',
  },
  information_disclosure: {
    label: '政府信息公开申请',
    basis: 'GB/T 44189 6.1.2 a)',
    reply: '您的请求属于政府信息公开申请，请按照《政府信息公开条例》向相关行政机关提出申请，热线不予受理。',
  },
  petition: {
    label: '已进入信访程序',
    basis: 'GB/T 44189 6.1.2 a)',
    reply: '您反映的事项已进入信访程序，请按照信访程序向有关信访工作机构了解办理情况，热线不再重复受理。',
  },
  state_secret: {
    label: '涉及国家秘密',
    basis: 'GB/T 44189 6.1.2 b)',
    reply: '您反映的事项涉及国家秘密，不能通过热线受理，请通过保密渠道向有关机关反映。',
  },
  trade_secret: {
    label: '涉及商业秘密',
    basis: 'GB/T 44189 6.1.2 b)',
    reply: '您反映的事项涉及商业秘密，热线不予受理，您可以依法向市场监管部门或人民法院寻求保护。',
  },
  personal_privacy: {
    label: '涉及个人隐私',
    basis: 'GB/T 44189 6.1.2 b)',
    reply: '您的请求涉及他人个人隐私，热线不能提供或处理，请通过合法途径办理。',
  },
  public_order: {
    label: '违反社会公序良俗',
    basis: 'GB/T 44189 6.1.2 c)',
    reply: '您反映的内容违反社会公序良俗，热线不予受理。',
  },
  outside_jurisdiction: {
    label: '不属于本行政区域',
    basis: 'GB/T 44189 3.2',
    reply: '您反映的事项不属于本行政区域，请拨打事项所在地的12345热线反映。',
  },
  harassment: {
    label: '恶意或变相滋扰热线',
    basis: 'GB/T 44189 8.1.4',
    reply: '您的来电内容与政务服务诉求无关，请勿占用热线资源，以免影响其他群众反映诉求。',
  },
};

export function notAcceptedReasonLabel(reason: NotAcceptedReason): string {
  return NOT_ACCEPTED_REASON_INFO[reason].label;
}

export function notAcceptedReply(reason: NotAcceptedReason): string {
  return NOT_ACCEPTED_REASON_INFO[reason].reply;
}

/**
 * A call id on a phone ticket: a UUID (the calls table's id) or an Asterisk channel/linked id
 * such as 1700000000.123; letters, digits and . _ : - only, so it never carries free text.
 */
export const CALL_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$';
const CALL_ID = new RegExp(CALL_ID_PATTERN);

export function isCallId(value: string): boolean {
  return CALL_ID.test(value);
}
