/**
 * The ticket as the state machine sees it: status, assignment, deadlines and the orthogonal
 * flags (督办, overdue, extension pending, counters). Content, callers and attachments live in the
 * repository; the state machine never needs them.
 */
import type { Evaluation, NotAcceptedReason, RequestType, Urgency } from './vocabulary.js';

export const TICKET_STATUSES = [
  'draft',
  'accepted',
  'dispatched',
  'returned',
  'in_progress',
  'replied',
  'closed',
  'revisited',
  'evaluated',
  'not_accepted',
  'merged',
  'cancelled',
] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

export const TICKET_STATUS_LABELS: Readonly<Record<TicketStatus, string>> = {
  draft: '草稿',
  accepted: '已受理',
  dispatched: '已派单',
  returned: '已退单（争议审核）',
  in_progress: '办理中',
  replied: '已答复（待审核）',
  closed: '已办结',
  revisited: '已回访',
  evaluated: '已评价',
  not_accepted: '不予受理',
  merged: '已合并',
  cancelled: '已撤销',
};

/** Statuses in which the request is still being worked on: supervision and reminders apply. */
export const OPEN_STATUSES: readonly TicketStatus[] = ['accepted', 'dispatched', 'returned', 'in_progress', 'replied'];
/** Statuses no action leaves. */
export const FINAL_STATUSES: readonly TicketStatus[] = ['not_accepted', 'merged', 'cancelled'];

export function isOpenStatus(status: TicketStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

export const TICKET_ACTIONS = [
  'accept',
  'not_accept',
  'direct_answer',
  'dispatch',
  'sign',
  'return',
  'redispatch',
  'uphold_dispatch',
  'co_opinion',
  'reply',
  'approve_reply',
  'reject_reply',
  'revisit',
  'evaluate',
  'reopen',
  'supervise',
  'lift_supervision',
  'remind',
  'request_extension',
  'approve_extension',
  'reject_extension',
  'merge',
  'absorb_duplicate',
  'cancel',
  'sla_warning',
  'mark_overdue',
] as const;
export type TicketActionType = (typeof TICKET_ACTIONS)[number];

export const TICKET_ACTION_LABELS: Readonly<Record<TicketActionType, string>> = {
  accept: '受理',
  not_accept: '不予受理',
  direct_answer: '直办',
  dispatch: '派单',
  sign: '签收',
  return: '退单',
  redispatch: '争议审核·改派',
  uphold_dispatch: '争议审核·维持原派',
  co_opinion: '协办意见',
  reply: '答复',
  approve_reply: '审核通过',
  reject_reply: '审核退回',
  revisit: '回访',
  evaluate: '评价',
  reopen: '重办',
  supervise: '督办',
  lift_supervision: '解除督办',
  remind: '催办',
  request_extension: '延期申请',
  approve_extension: '延期审批·同意',
  reject_extension: '延期审批·不同意',
  merge: '合并',
  absorb_duplicate: '并入重复工单',
  cancel: '撤单',
  sla_warning: '超时预警',
  mark_overdue: '超期',
};

export const ACTOR_ROLES = ['agent', 'supervisor', 'operator', 'dept_handler', 'admin', 'system'] as const;
export type ActorRole = (typeof ACTOR_ROLES)[number];

export const ACTOR_ROLE_LABELS: Readonly<Record<ActorRole, string>> = {
  agent: '话务员',
  supervisor: '班长/督办员',
  operator: '运维人员',
  dept_handler: '承办部门',
  admin: '管理员',
  system: '系统',
};

export interface Actor {
  readonly role: ActorRole;
  readonly id: string;
  /** Required for dept_handler: department actions are allowed only on that department's tickets. */
  readonly departmentId?: string | undefined;
}

export interface PendingExtension {
  readonly requestedDueAt: Date;
  readonly reason: string;
  readonly departmentId: string;
  readonly requestedAt: Date;
}

export interface TicketState {
  readonly id: string;
  readonly status: TicketStatus;
  readonly type: RequestType;
  readonly urgency: Urgency;
  /** 主办 department. */
  readonly mainDepartmentId: string | null;
  /** 协办 departments. */
  readonly coDepartmentIds: readonly string[];
  /** Co-handlers that have submitted an opinion to the main department. */
  readonly coOpinionDepartmentIds: readonly string[];
  readonly dispatchDueAt: Date | null;
  /** Response deadline (签收时限): the main department signs by then; set at each dispatch. */
  readonly responseDueAt: Date | null;
  /** Completion deadline (办结时限). */
  readonly dueAt: Date | null;
  readonly supervised: boolean;
  readonly warned: boolean;
  readonly overdue: boolean;
  readonly extension: PendingExtension | null;
  readonly extensionCount: number;
  readonly reminderCount: number;
  readonly reopenCount: number;
  readonly returnCount: number;
  readonly revisitAttempts: number;
  readonly evaluation: Evaluation | null;
  readonly notAcceptedReason: NotAcceptedReason | null;
  readonly mergedInto: string | null;
  readonly mergedTicketIds: readonly string[];
  /** Bumped by every transition; the repository uses it for optimistic locking. */
  readonly version: number;
}

export interface NewTicket {
  readonly id: string;
  readonly type: RequestType;
  readonly urgency?: Urgency;
}

/** A draft ticket, as opened when a call is offered or an online request arrives. */
export function newTicketState(init: NewTicket): TicketState {
  return {
    id: init.id,
    status: 'draft',
    type: init.type,
    urgency: init.urgency ?? 'normal',
    mainDepartmentId: null,
    coDepartmentIds: [],
    coOpinionDepartmentIds: [],
    dispatchDueAt: null,
    responseDueAt: null,
    dueAt: null,
    supervised: false,
    warned: false,
    overdue: false,
    extension: null,
    extensionCount: 0,
    reminderCount: 0,
    reopenCount: 0,
    returnCount: 0,
    revisitAttempts: 0,
    evaluation: null,
    notAcceptedReason: null,
    mergedInto: null,
    mergedTicketIds: [],
    version: 0,
  };
}
