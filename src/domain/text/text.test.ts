import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import { duplicateCandidates, type DedupRequest } from './duplicates.js';
import { normalizePhone, normalizeText, normalizeToken } from './normalize.js';
import { redactIdentity } from './redact.js';
import { queryTokens, searchDocument, tokenize, tokensForSearch, tsQuery } from './search.js';
import { segment } from './segmenter.js';
import { addressSimilarity, keywords, textSimilarity } from './similarity.js';

describe('normalisation', () => {
  it('folds full-width characters and case', () => {
    expect(normalizeText('ＷｉＦｉ　密码１２３，ＡＢＣ')).toBe('wifi 密码123,abc');
    expect(normalizeToken('「路灯」')).toBe('路灯');
    expect(normalizeToken('，')).toBe('');
  });

  it('normalises phone numbers for comparison', () => {
    expect(normalizePhone('+86 138-0013-8000')).toBe('13800138000');
    expect(normalizePhone('0086１３８００１３８０００')).toBe('13800138000');
    expect(normalizePhone('010-12345678')).toBe('01012345678');
  });
});

describe('segmentation and search tokens', () => {
  it('segments hotline vocabulary as a person reads it', () => {
    // The general dictionary alone gives 路|灯不亮.
    expect(segment('小区门口的路灯不亮了')).toEqual(['小区', '门口', '的', '路灯', '不亮', '了']);
    expect(tokenize('市民来电反映：幸福小区停水了，希望尽快处理。')).toEqual(['幸福', '小区', '停水']);
  });

  it('indexes compounds with their parts and drops punctuation and stop words', () => {
    expect(tokensForSearch('公司拖欠工资三个月！')).toEqual(['公司', '拖欠', '工资', '拖欠工资', '三个', '月']);
    expect(searchDocument('路灯不亮', null, '幸福小区')).toBe('路灯 不亮 幸福 小区');
    for (const token of tokensForSearch("O'Brien 说：a&b | c!(d) 路灯*坏了 <-> 'x'")) expect(token).toMatch(/^[\p{L}\p{N}]+$/u);
  });

  it('turns a query into tokens that match both the compound and its parts', () => {
    expect(queryTokens('拖欠工资')).toEqual(['拖欠', '工资']);
    expect(queryTokens('ＷｉＦｉ 路灯')).toEqual(['wifi', '路灯']);
    expect(queryTokens('的了吗')).toEqual([]);
    expect(tsQuery(['拖欠', '工资'])).toBe('拖欠 & 工资');
    expect(tsQuery(['停水', '停电'], 'or')).toBe('停水 | 停电');
    expect(tsQuery(["a'b", '&'])).toBe('ab');
    // A document about unpaid wages in other words still contains every query token.
    const doc = new Set(tokensForSearch('老板拖欠了我的工资'));
    expect(queryTokens('拖欠工资').every((t) => doc.has(t))).toBe(true);
  });
});

describe('similarity', () => {
  const streetlightA = '幸福小区3号楼门口的路灯不亮了已经三天，晚上走路很危险';
  const streetlightB = '幸福小区3号楼前面路灯坏了好几天，一到晚上黑乎乎的';
  const noiseA = '楼上装修噪音扰民，晚上十点还在施工';
  const noiseB = '隔壁工地晚上施工太吵了，睡不着觉';
  const wagesA = '公司拖欠工资三个月，老板不见人';
  const wagesB = '工地老板欠薪不给，农民工讨薪无门';
  const waterA = '小区停水了，什么时候恢复供水？';
  const waterB = '阳光花园小区今天早上开始停水，一直没有通知';

  it('scores the same matter told differently high', () => {
    expect(textSimilarity(streetlightA, streetlightB)).toBeGreaterThan(0.5);
    expect(textSimilarity(waterA, waterB)).toBeGreaterThan(0.4);
    // 欠薪 and 拖欠工资 are the same complaint.
    expect(textSimilarity(wagesA, wagesB)).toBeGreaterThan(0.35);
    expect(textSimilarity(noiseA, noiseB)).toBeGreaterThan(0.2);
  });

  it('scores unrelated matters low', () => {
    const pairs: [string, string][] = [
      [streetlightA, noiseA],
      [streetlightA, wagesA],
      [noiseB, waterA],
      [wagesA, waterB],
      [streetlightB, waterB],
      ['家里暖气不热，室温只有十五度', waterA],
    ];
    for (const [a, b] of pairs) expect(textSimilarity(a, b), `${a} / ${b}`).toBeLessThan(0.15);
  });

  it('is symmetric, 1 for the same text and 0 for empty text', () => {
    expect(textSimilarity(noiseA, noiseB)).toBeCloseTo(textSimilarity(noiseB, noiseA), 12);
    expect(textSimilarity(noiseA, noiseA)).toBeCloseTo(1, 12);
    expect(textSimilarity('', noiseA)).toBe(0);
    expect(textSimilarity('市民来电反映，希望相关部门尽快处理。', '市民来电反映问题，要求尽快解决')).toBe(0);
  });

  it('picks characteristic keywords', () => {
    expect(keywords(wagesA, 3)).toEqual(expect.arrayContaining(['拖欠工资', '拖欠']));
    expect(keywords(streetlightA)).toContain('路灯');
  });

  it('compares addresses on characters, sensitive to building numbers', () => {
    expect(addressSimilarity('幸福小区3号楼2单元', '幸福小区３号楼')).toBeCloseTo(0.8, 5);
    expect(addressSimilarity('幸福小区3号楼', '幸福小区5号楼')).toBeLessThan(0.7);
    expect(addressSimilarity('人民路88号', '解放路12号')).toBeLessThan(0.3);
    expect(addressSimilarity('', '人民路')).toBe(0);
  });
});

describe('duplicateCandidates (7.1.3)', () => {
  const now = new Date('2025-03-10T02:00:00Z');
  const daysAgo = (n: number): Date => new Date(now.getTime() - n * 86_400_000);
  const incoming: DedupRequest = {
    id: 'NEW',
    receivedAt: now,
    content: '上周反映的幸福小区3号楼门口路灯不亮，到现在还没有修好',
    callerPhone: '+86 13800138000',
    address: '幸福小区3号楼',
  };
  const pool: DedupRequest[] = [
    { id: 'SAME_CALLER', receivedAt: daysAgo(6), content: '幸福小区门口的路灯坏了，晚上很黑', callerPhone: '13800138000', address: '幸福小区' },
    { id: 'SAME_PLACE', receivedAt: daysAgo(2), content: '3号楼前面的路灯好几天不亮了', callerPhone: '13900000001', address: '幸福小区3号楼2单元' },
    { id: 'OTHER_TOPIC_SAME_PLACE', receivedAt: daysAgo(1), content: '楼上装修噪音扰民，晚上十点还在施工', callerPhone: '13900000002', address: '幸福小区3号楼' },
    { id: 'OTHER_PLACE', receivedAt: daysAgo(3), content: '人民路与解放路交叉口路灯不亮', callerPhone: '13900000003', address: '人民路解放路口' },
    { id: 'TOO_OLD', receivedAt: daysAgo(45), content: '幸福小区3号楼门口的路灯不亮', callerPhone: '13800138000', address: '幸福小区3号楼' },
    { id: 'SAME_CALLER_OTHER_TOPIC', receivedAt: daysAgo(4), content: '公司拖欠工资三个月', callerPhone: '13800138000', address: null },
    { id: 'NEW', receivedAt: now, content: incoming.content, callerPhone: '13800138000', address: '幸福小区3号楼' },
  ];

  it('finds the same caller and the same place, and nothing else', () => {
    const found = duplicateCandidates(incoming, pool);
    expect(found.map((c) => c.id).sort()).toEqual(['SAME_CALLER', 'SAME_PLACE']);
    const byId = Object.fromEntries(found.map((c) => [c.id, c]));
    expect(byId['SAME_CALLER']).toMatchObject({ sameCaller: true });
    expect(byId['SAME_CALLER']!.reasons).toContain('same_caller');
    expect(byId['SAME_PLACE']).toMatchObject({ sameCaller: false });
    expect(byId['SAME_PLACE']!.reasons).toContain('same_address');
    for (const c of found) expect(c.score).toBeGreaterThan(0.3);
    expect(found[0]!.score).toBeGreaterThanOrEqual(found[1]!.score);
  });

  it('honours the window, the thresholds and the limit', () => {
    expect(duplicateCandidates(incoming, pool, { windowDays: 60 }).map((c) => c.id)).toContain('TOO_OLD');
    expect(duplicateCandidates(incoming, pool, { sameCallerMinContent: 0.99, sameAddressMinContent: 0.99, contentOnlyMin: 0.99 })).toEqual([]);
    expect(duplicateCandidates(incoming, pool, { limit: 1 })).toHaveLength(1);
    expect(() => duplicateCandidates(incoming, pool, { windowDays: 0 })).toThrow(ValidationError);
    expect(() => duplicateCandidates(incoming, pool, { contentOnlyMin: 2 })).toThrow(ValidationError);
  });

  it('suggests the same matter from another caller at an unknown address only when it is very close', () => {
    const found = duplicateCandidates(
      { id: 'N2', receivedAt: now, content: '幸福小区3号楼门口路灯不亮了好几天，晚上走路很危险' },
      [{ id: 'C', receivedAt: daysAgo(1), content: '幸福小区3号楼门口的路灯不亮了已经三天，晚上走路很危险' }],
    );
    expect(found).toEqual([
      expect.objectContaining({ id: 'C', reasons: ['similar_content'], sameCaller: false, addressSimilarity: null }),
    ]);
  });
});

describe('identity redaction (保密 toward departments)', () => {
  it('masks numbers, e-mail addresses, ID cards and the callers’ own names, and leaves the matter readable', () => {
    const text = '来电人张三丰（张三）电话13912345678，邮箱zhang.san@example.cn，身份证33010619900101123X，反映GD20261123000001路灯不亮，2025-03-01起';
    const out = redactIdentity(text, ['张三', '张三丰', null, '王']);
    for (const hidden of ['张三', '13912345678', 'zhang.san', '33010619900101123X']) expect(out).not.toContain(hidden);
    expect(out).toContain('***@example.cn');
    expect(out).toContain('*******5678');
    expect(out).toContain('GD20261123000001路灯不亮'); // ticket numbers and the matter stay
    expect(out).toContain('2025-03-01');
    expect(out).toContain('来电人***（**）');
    expect(redactIdentity('王先生说路灯坏了', ['王'])).toBe('王先生说路灯坏了'); // one character would mask ordinary words
  });
});
