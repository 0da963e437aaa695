import { describe, expect, it } from 'vitest';
import { indexDocument, matchesTokens, planSearch, type SearchPlan } from './search.js';

function matches(query: string, ticket: string): boolean {
  const plan = planSearch(query) as Extract<SearchPlan, { kind: 'tokens' }>;
  const doc = indexDocument(ticket);
  const own = new Set(doc.own.split(' ').filter(Boolean));
  const expanded = new Set(doc.expanded.split(' ').filter(Boolean));
  return matchesTokens(plan, own, expanded);
}

describe('ticket search planning', () => {
  it('weighs rare words above common ones', () => {
    const plan = planSearch('小区路灯') as Extract<SearchPlan, { kind: 'tokens' }>;
    const [xiaoqu, ludeng] = plan.groups;
    expect(ludeng!.weight).toBeGreaterThan(xiaoqu!.weight);
  });

  it('matches what a person would expect', () => {
    expect(matches('路灯不亮', '小区门口路灯坏了好几天')).toBe(true);
    expect(matches('路灯不亮', '路灯一直不亮')).toBe(true);
    expect(matches('路灯不亮', '电梯坏了')).toBe(false);
    expect(matches('我们小区晚上路灯不亮', '小区门口路灯坏了好几天晚上很黑')).toBe(true);
    expect(matches('我们小区晚上路灯不亮', '小区晚上广场舞噪音太大')).toBe(false);
    expect(matches('小区突然停水', '幸福路今天停水没有通知')).toBe(true);
    expect(matches('小区突然停水', '小区突然停电')).toBe(false);
    expect(matches('停水', '家里没水了')).toBe(true);
    expect(matches('欠薪', '公司拖欠工资三个月')).toBe(true);
    expect(matches('施工噪音扰民', '夜间施工噪音很大')).toBe(true);
    expect(matches('井盖丢失', '自行车丢失')).toBe(false);
  });

  it('expands synonyms into the index with a lower weight', () => {
    expect(indexDocument('家里没水了')).toEqual({ own: '家里 没水', expanded: '停水' });
  });

  it('falls back to substring matching without tokens', () => {
    expect(planSearch('的')).toEqual({ kind: 'substring', text: '的' });
  });
});
