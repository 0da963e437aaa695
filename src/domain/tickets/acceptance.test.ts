import { describe, expect, it } from 'vitest';
import { checkAcceptance, detectEmergency, detectExclusions, suggestedTransfers } from './acceptance.js';
import {
  EVALUATIONS,
  EVALUATION_LABELS,
  INTAKE_CHANNELS,
  INTAKE_CHANNEL_LABELS,
  NOT_ACCEPTED_REASONS,
  NOT_ACCEPTED_REASON_INFO,
  REQUEST_TYPES,
  REQUEST_TYPE_LABELS,
  SCOPE_DOMAINS,
  SCOPE_DOMAIN_LABELS,
  URGENCY_LABELS,
  isIntakeChannel,
  isNotAcceptedReason,
  isRequestType,
  notAcceptedReply,
} from './vocabulary.js';

describe('vocabulary', () => {
  it('carries the Chinese labels of GB/T 44189', () => {
    expect(REQUEST_TYPES.map((t) => REQUEST_TYPE_LABELS[t])).toEqual(['咨询', '求助', '投诉', '举报', '意见建议', '在线办理指导', '表扬']);
    expect(SCOPE_DOMAINS.map((d) => SCOPE_DOMAIN_LABELS[d])).toEqual(['经济调节', '市场监管', '社会管理', '公共服务', '生态环境保护']);
    expect(INTAKE_CHANNELS.map((c) => INTAKE_CHANNEL_LABELS[c])).toEqual(['电话', '短信', '信箱', '网站', '移动端', '小程序', '公众号']);
    expect(EVALUATIONS.map((e) => EVALUATION_LABELS[e])).toEqual(['满意', '基本满意', '不满意']);
    expect(URGENCY_LABELS.very_urgent).toBe('特急');
  });

  it('guards unknown values', () => {
    expect(isRequestType('complaint')).toBe(true);
    expect(isRequestType('投诉')).toBe(false);
    expect(isRequestType(undefined)).toBe(false);
    expect(isIntakeChannel('fax')).toBe(false);
    expect(isNotAcceptedReason('petition')).toBe(true);
  });

  it('gives every not-accepted reason a label, a basis and a polite reply', () => {
    for (const reason of NOT_ACCEPTED_REASONS) {
      const info = NOT_ACCEPTED_REASON_INFO[reason];
      expect(info.label.length).toBeGreaterThan(1);
      expect(info.basis).toMatch(/GB\/T 44189/);
      expect(info.reply).toMatch(/。$/);
    }
    expect(notAcceptedReply('litigation')).toContain('诉讼途径');
  });
});

describe('emergency hints', () => {
  it('points fires, crimes, injuries and crashes to the right line', () => {
    expect(suggestedTransfers('我家楼下着火了，好多浓烟')).toEqual(['119']);
    expect(suggestedTransfers('有人在小区门口持刀抢劫')).toEqual(['110']);
    expect(suggestedTransfers('路口发生车祸，有人受伤倒地')).toEqual(['120', '122']);
    expect(suggestedTransfers('厨房煤气泄漏了怎么办')).toEqual(['119']);
    expect(detectEmergency('老人在家晕倒了')[0]).toMatchObject({ service: '120', keyword: '晕倒', advice: '转接 120 医疗急救' });
  });

  it('stays quiet on ordinary requests', () => {
    expect(detectEmergency('小区路灯不亮已经三天了')).toEqual([]);
    expect(detectEmergency('公司拖欠工资三个月')).toEqual([]);
  });
});

describe('checkAcceptance', () => {
  it('accepts an ordinary request and passes hints along for the agent', () => {
    const d = checkAcceptance({ content: '劳动仲裁裁决后公司仍拖欠工资，想咨询怎么申请强制执行' });
    expect(d.accepted).toBe(true);
    if (d.accepted) expect(d.exclusionHints.map((h) => h.reason)).toEqual(['arbitration']);
  });

  it('does not accept what the agent found excluded, reporting the first reason in priority order', () => {
    const d = checkAcceptance({ content: '关于房屋纠纷', findings: ['petition', 'litigation'] });
    expect(d).toMatchObject({ accepted: false, reason: 'litigation', reasons: ['litigation', 'petition'], transferTo: [] });
    if (!d.accepted) expect(d.reply).toBe(NOT_ACCEPTED_REASON_INFO.litigation.reply);
  });

  it('refuses matters outside the jurisdiction', () => {
    expect(checkAcceptance({ content: '外地小区物业问题', inJurisdiction: false })).toMatchObject({
      accepted: false,
      reason: 'outside_jurisdiction',
    });
  });

  it('transfers a confirmed emergency instead of opening a ticket', () => {
    const hinted = checkAcceptance({ content: '隔壁着火了还有人被困', findings: ['emergency'] });
    expect(hinted).toMatchObject({ accepted: false, reason: 'emergency', transferTo: ['119'] });
    if (!hinted.accepted) expect(hinted.reply).toContain('正在为您转接119');
    const chosen = checkAcceptance({ content: '出事了', transferTo: ['110', '120', '110'] });
    expect(chosen).toMatchObject({ accepted: false, reason: 'emergency', transferTo: ['110', '120'] });
    const unspecified = checkAcceptance({ content: '情况紧急', findings: ['emergency'] });
    if (!unspecified.accepted) expect(unspecified.reply).toBe(NOT_ACCEPTED_REASON_INFO.emergency.reply);
  });

  it('detects the excluded-matter phrases', () => {
    expect(detectExclusions('这件事我已经起诉了，也去信访过').map((h) => h.reason)).toEqual(['litigation', 'petition']);
  });
});
