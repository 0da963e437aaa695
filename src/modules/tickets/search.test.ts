import { describe, expect, it } from 'vitest';
import { SYNONYMS } from '../../domain/text/index.js';
import { indexDocument, matchesTokens, needSets, planSearch, type SearchPlan } from './search.js';

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

  it('narrows a search to the words a match cannot do without (the index condition), and never loses a match', () => {
    const plan = planSearch('东方郡欠薪') as Extract<SearchPlan, { kind: 'tokens' }>;
    // 欠薪 is the key word but does not reach the score alone: it needs 东方 or 郡 beside it.
    expect(plan.need).toBe('(东方 & (欠薪 | (拖欠 & 工资))) | (郡 & (欠薪 | (拖欠 & 工资)))');
    expect(plan.any).toContain('|');
    const queries = ['东方郡欠薪', '路灯不亮', '我们小区晚上路灯不亮', '小区突然停水', '停水', '施工噪音扰民', '翠苑二区噪音扰民', '井盖丢失', '星光大道公寓居住证'];
    const tickets = ['小区门口路灯坏了好几天', '路灯一直不亮', '东方郡小区公司拖欠工资三个月', '家里没水了', '夜间施工噪音很大', '翠苑二区工地噪音扰民严重',
      '星光大道公寓办理居住证', '井盖丢失很危险', '小区突然停电', '幸福路今天停水没有通知'];
    let matched = 0;
    for (const q of queries) {
      const p = planSearch(q) as Extract<SearchPlan, { kind: 'tokens' }>;
      const sets = needSets(p.groups, p.minScore)!;
      expect(sets.length, q).toBeGreaterThan(0);
      for (const ticket of tickets) {
        const doc = indexDocument(ticket);
        const own = new Set(doc.own.split(' ').filter(Boolean));
        const expanded = new Set(doc.expanded.split(' ').filter(Boolean));
        const has = (t: string) => own.has(t) || expanded.has(t);
        const hit = (i: number) => {
          const g = p.groups[i]!;
          const synonyms = (SYNONYMS[g.token] ?? []).filter((x) => x !== g.token);
          return has(g.token) || (synonyms.length > 0 && synonyms.every(has));
        };
        if (matchesTokens(p, own, expanded)) {
          matched++;
          expect(sets.some((set) => set.every(hit)), `${q} / ${ticket}`).toBe(true);
        }
      }
    }
    expect(matched).toBeGreaterThan(5);
  });
});
