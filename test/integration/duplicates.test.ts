/**
 * Duplicate and repeat requests (GB/T 44189 7.1.3) on the real app: tickets taken through the
 * intake API are analysed by the duplicates consumer; suggestions with scores, the repeat flag,
 * clusters of concentrated requests with their counts, merge and dismissal, and department scoping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuplicatesService } from '../../src/modules/duplicates/duplicates.service.js';
import { until } from '../support/wait.js';
import { phoneTicket, world, type World } from './tickets-helpers.js';

let w: World;
let handlerToken = '';
let deptId = '';

interface Suggestions {
  analyzedAt: string | null;
  repeat: { isRepeat: boolean; repeatOf: string | null; repeatCount: number };
  clusterId: string | null;
  items: { candidate: { id: string; title: string }; score: number; contentSimilarity: number; addressSimilarity: number | null; sameCaller: boolean; reasons: string[]; status: string }[];
}
interface Cluster { id: string; areaCode: string; title: string; ticketCount: number; callerCount: number; firstSeenAt: string; lastSeenAt: string }

/** A phone ticket of this caller, accepted at intake; resolves once the duplicates consumer analysed it. */
async function request(phone: string, title: string, content: string, where: { address: string; areaCode: string }): Promise<string> {
  const { ticket } = await w.intake(w.agent, phoneTicket({ title, content, ...where, caller: { phone, name: '市民' } }));
  await analysed(ticket.id);
  return ticket.id;
}

async function suggestions(id: string, token = w.agent): Promise<Suggestions> {
  const res = await w.call(token, 'GET', `/duplicates/tickets/${id}/suggestions`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Suggestions>();
}

async function analysed(id: string): Promise<Suggestions> {
  return until(async () => {
    const s = await suggestions(id);
    return s.analyzedAt !== null && s;
  }, `analysis of ${id}`);
}

async function clusters(query = '', token = w.supervisor): Promise<Cluster[]> {
  const res = await w.call(token, 'GET', `/duplicates/clusters${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: Cluster[] }>().items;
}

const XINGFU = { address: '西湖区幸福路18号幸福小区3号楼', areaCode: '330106001001' };
const CUIYUAN = { address: '西湖区翠苑二区北侧工地', areaCode: '330106002003' };
const RENMIN = { address: '拱墅区人民路128号', areaCode: '330105003001' };

beforeAll(async () => {
  w = await world();
  deptId = await w.dept('dup-cgj');
  handlerToken = (await w.t.createUser('dup-handler', 'dept_handler', deptId)).token;
});

afterAll(async () => {
  await w?.close();
});

describe('repeat requests of one caller (一人多次)', () => {
  let first = '';
  let again = '';

  it('flags the second request about the same streetlight and suggests merging it', async () => {
    first = await request('13800138001', '幸福小区路灯不亮', '幸福小区3号楼门口的路灯不亮了，晚上出门很黑，请尽快维修。', XINGFU);
    const s1 = await suggestions(first);
    expect(s1.items).toEqual([]);
    expect(s1.repeat.isRepeat).toBe(false);

    again = await request('13800138001', '路灯还是没修', '上周反映过幸福小区3号楼门口路灯坏了，到现在路灯还是不亮。', XINGFU);
    const s2 = await suggestions(again);
    expect(s2.repeat).toEqual({ isRepeat: true, repeatOf: first, repeatCount: 1 });
    expect(s2.items).toHaveLength(1);
    const [top] = s2.items;
    expect(top!.candidate.id).toBe(first);
    expect(top!.sameCaller).toBe(true);
    expect(top!.reasons).toContain('same_caller');
    expect(top!.reasons).toContain('same_address');
    expect(top!.score).toBeGreaterThan(0.4);
    expect(top!.status).toBe('open');

    const repeats = (await w.call(w.supervisor, 'GET', '/duplicates/repeats')).json<{ items: { ticketId: string; repeatOf: string }[] }>().items;
    expect(repeats).toContainEqual(expect.objectContaining({ ticketId: again, repeatOf: first }));
  });

  it('does not call an unrelated request of the same caller a repeat', async () => {
    const other = await request('13800138001', '社保卡补办咨询', '请问社保卡丢了去哪里补办，需要带什么材料？', XINGFU);
    const s = await suggestions(other);
    expect(s.repeat.isRepeat).toBe(false);
    expect(s.items.map((i) => i.candidate.id)).not.toContain(first);
  });

  it('settles the suggestion when the agent merges, and lets agents dismiss one', async () => {
    const merged = await w.act(w.agent, again, 'merge', { masterTicketId: first, reason: '同一来电人重复反映路灯问题' });
    expect(merged.statusCode, merged.body).toBe(200);
    await until(async () => (await suggestions(again)).items[0]?.status === 'merged', 'the suggestion marked merged');

    // Another caller at the same address about the same light: a suggestion the agent rejects.
    const neighbour = await request('13900139002', '3号楼门口路灯坏了', '幸福小区3号楼门口那盏路灯一直不亮，邻居都说反映过。', XINGFU);
    const s = await suggestions(neighbour);
    const top = s.items.find((i) => i.candidate.id === first);
    expect(top?.reasons).toContain('same_address');
    expect(top?.sameCaller).toBe(false);
    expect(s.repeat.isRepeat).toBe(false);
    // The merged duplicate is no longer a candidate: the master stands for it.
    expect(s.items.map((i) => i.candidate.id)).not.toContain(again);
    const dismissed = await w.call(w.agent, 'POST', `/duplicates/tickets/${neighbour}/suggestions/${first}/dismiss`);
    expect(dismissed.statusCode, dismissed.body).toBe(204);
    expect((await suggestions(neighbour)).items.find((i) => i.candidate.id === first)?.status).toBe('dismissed');
    const twice = await w.call(w.agent, 'POST', `/duplicates/tickets/${neighbour}/suggestions/${first}/dismiss`);
    expect(twice.statusCode).toBe(404);
    expect(twice.json<{ code: string }>().code).toBe('suggestion_not_found');
  });
});

describe('the same place, different callers', () => {
  it('suggests a missing manhole cover reported twice at one address', async () => {
    const a = await request('13700137003', '人民路井盖缺失', '人民路128号门口的井盖缺失了，路过的人很容易掉下去，存在安全隐患。', RENMIN);
    const b = await request('13600136004', '井盖丢了很危险', '人民路128号附近有个井盖丢了，晚上看不见，很危险，请赶紧处理。', RENMIN);
    const s = await suggestions(b);
    const hit = s.items.find((i) => i.candidate.id === a);
    expect(hit, JSON.stringify(s.items)).toBeDefined();
    expect(hit!.reasons).toContain('same_address');
    expect(hit!.addressSimilarity).toBe(1);
    expect(s.repeat.isRepeat).toBe(false);
  });
});

describe('concentrated requests (一事多人)', () => {
  const noise = [
    ['13500135011', '工地夜间施工噪音扰民', '翠苑二区北侧的建筑工地每天晚上十一点以后还在施工，噪音很大，严重影响休息。'],
    ['13500135012', '投诉工地夜间施工', '翠苑二区旁边工地半夜还在施工，机器轰鸣噪音扰民，孩子没法睡觉。'],
    ['13500135013', '夜间施工太吵', '翠苑二区附近工地夜间施工噪音太大，希望有关部门管一管。'],
    ['13500135014', '工地噪音扰民', '翠苑二区北面工地晚上施工噪音扰民，已经持续一个星期了。'],
  ] as const;
  const ids: string[] = [];

  it('forms a cluster once three callers report the same issue in one area, and counts the next', async () => {
    const bikes = await request('13500135019', '共享单车乱停放', '翠苑二区小区门口共享单车乱停乱放，堵住了人行道。', CUIYUAN);
    for (const [phone, title, content] of noise.slice(0, 2)) ids.push(await request(phone, title, content, CUIYUAN));
    expect((await clusters('?areaCode=330106002003')).length).toBe(0);

    ids.push(await request(noise[2][0], noise[2][1], noise[2][2], CUIYUAN));
    const [formed] = await clusters('?areaCode=330106002003');
    expect(formed).toMatchObject({ areaCode: CUIYUAN.areaCode, ticketCount: 3, callerCount: 3, title: noise[0][1] });
    expect((await suggestions(ids[2]!)).clusterId).toBe(formed!.id);

    ids.push(await request(noise[3][0], noise[3][1], noise[3][2], CUIYUAN));
    const [grown] = await clusters('?areaCode=3301');
    expect(grown).toMatchObject({ id: formed!.id, ticketCount: 4, callerCount: 4 });
    const detail = (await w.call(w.supervisor, 'GET', `/duplicates/clusters/${formed!.id}`)).json<{ tickets: { id: string }[] }>();
    expect(detail.tickets.map((t) => t.id).sort()).toEqual([...ids].sort());
    expect(detail.tickets.map((t) => t.id)).not.toContain(bikes);
    expect((await suggestions(bikes)).clusterId).toBeNull();
  });

  it('a caller asking again adds a ticket but not a caller', async () => {
    const again = await request(noise[0][0], '工地又在夜间施工', '翠苑二区北侧工地今晚又在夜间施工，噪音扰民问题还是没有解决。', CUIYUAN);
    const [c] = await clusters('?areaCode=330106002003');
    expect(c).toMatchObject({ ticketCount: 5, callerCount: 4 });
    expect((await suggestions(again)).repeat.isRepeat).toBe(true);
    ids.push(again);
  });

  it('re-analysing a ticket does not count it twice', async () => {
    const service = w.t.hotline.modules.get('duplicates')!.exports!['duplicates'] as DuplicatesService;
    await w.t.hotline.db.db.transaction().execute((tx) => service.analyze(tx, ids[3]!));
    const [c] = await clusters('?areaCode=330106002003');
    expect(c).toMatchObject({ ticketCount: 5, callerCount: 4 });
  });

  it('filters clusters by caller count and validates the query', async () => {
    expect(await clusters('?areaCode=330106002003&minCallers=5')).toEqual([]);
    const bad = await w.call(w.supervisor, 'GET', '/duplicates/clusters?areaCode=abc');
    expect(bad.statusCode).toBe(400);
    const cursor = await w.call(w.supervisor, 'GET', '/duplicates/clusters?after=bm9wZQ');
    expect(cursor.json<{ code: string }>().code).toBe('cursor_invalid');
  });

  it('a department sees only what it holds', async () => {
    expect((await w.call(handlerToken, 'GET', `/duplicates/tickets/${ids[1]}/suggestions`)).statusCode).toBe(404);
    expect(await clusters('', handlerToken)).toEqual([]);

    const dispatched = await w.act(w.agent, ids[1]!, 'dispatch', { mainDepartmentId: deptId });
    expect(dispatched.statusCode, dispatched.body).toBe(200);
    const mine = await suggestions(ids[1]!, handlerToken);
    // Its candidates belong to no department yet: the department sees none of them.
    expect(mine.items).toEqual([]);
    const visible = await clusters('', handlerToken);
    expect(visible.map((c) => c.areaCode)).toEqual([CUIYUAN.areaCode]);
    const detail = (await w.call(handlerToken, 'GET', `/duplicates/clusters/${visible[0]!.id}`)).json<{ tickets: { id: string }[]; ticketCount: number }>();
    expect(detail.tickets.map((t) => t.id)).toEqual([ids[1]]);
    expect(detail.ticketCount).toBe(5);
    // Staff see all the candidates of the same ticket.
    expect((await suggestions(ids[1]!)).items.length).toBeGreaterThan(0);
    expect((await w.call(handlerToken, 'POST', `/duplicates/tickets/${ids[1]}/suggestions/${ids[0]}/dismiss`)).statusCode).toBe(403);
  });
});
