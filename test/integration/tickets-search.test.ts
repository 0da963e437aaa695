import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemIds, phoneTicket, world, type World } from './tickets-helpers.js';

// Realistic requests as agents type them; the key names what each is about.
const CORPUS: Record<string, [string, string]> = {
  lamp1: ['小区门口路灯坏了', '幸福小区门口的路灯坏了好几天，晚上很黑，老人出门不安全。'],
  lamp2: ['路灯不亮', '建设路与解放路交叉口路灯一直不亮，请尽快维修。'],
  lamp3: ['公园路灯损坏', '人民公园东门附近两盏路灯损坏，晚上散步看不清。'],
  noise1: ['施工噪音扰民', '工地夜间施工噪音扰民，晚上十一点还在打桩。'],
  noise2: ['广场舞噪音', '小区晚上广场舞音响太吵，影响休息。'],
  noise3: ['酒吧噪音', '楼下酒吧每天营业到凌晨，噪音很大。'],
  water1: ['小区突然停水', '阳光小区今天上午突然停水，没有任何通知。'],
  water2: ['家里没水了', '和平街5号楼从昨晚开始没水了，请问什么时候恢复。'],
  water3: ['自来水水质发黄', '打开水龙头流出的水发黄有异味。'],
  power1: ['小区突然停电', '阳光小区今天突然停电，冰箱里的东西都坏了。'],
  power2: ['频繁断电', '我们村最近一周频繁断电。'],
  wage1: ['拖欠工资', '建筑公司拖欠农民工工资三个月不发。'],
  wage2: ['老板欠薪', '餐馆老板欠薪两个月，找不到人。'],
  wage3: ['工资条咨询', '想咨询一下工资条上的个税扣除是否正确。'],
  manhole1: ['井盖丢失', '胜利路上有一个井盖丢失，很危险。'],
  manhole2: ['井盖松动', '学校门口的井盖松动，车辆经过响声很大。'],
  bike: ['自行车丢失', '在地铁站门口停放的自行车丢失了，想问能否调监控。'],
  elevator1: ['电梯坏了', '3号楼电梯坏了一个星期没人修。'],
  elevator2: ['电梯困人', '电梯经常停在两层之间。'],
  garbage1: ['垃圾清运不及时', '小区垃圾桶满了好几天没人清运，臭味很大。'],
  garbage2: ['垃圾分类咨询', '想了解垃圾分类的投放时间。'],
  parking: ['乱停车', '小区消防通道被私家车乱停车堵塞。'],
  heating: ['暖气不热', '家里暖气不热，室温只有十二度。'],
  smoke: ['油烟扰民', '楼下饭店油烟直排，家里全是油烟味。'],
  dog: ['流浪狗', '小区里有流浪狗咬人。'],
  bus: ['公交车绕行', '12路公交车最近绕行，不停靠人民医院站。'],
  school: ['学区划分', '咨询新建小区的学区划分。'],
  tax: ['个体户开票', '个体户如何申请开具增值税发票。'],
  price: ['预付卡退费', '健身房倒闭，预付卡无法退费。'],
  tree: ['树木遮挡', '小区树木遮挡路灯，晚上很暗，希望修剪。'],
};

let w: World;
const ids: Record<string, string> = {};
const byId: Record<string, string> = {};
beforeAll(async () => {
  w = await world();
  for (const [key, [title, content]] of Object.entries(CORPUS)) {
    const { ticket } = await w.intake(w.agent, phoneTicket({ title, content, caller: { phone: key === 'wage1' ? '13912345678' : '13800000000' } }));
    ids[key] = ticket.id;
    byId[ticket.id] = key;
  }
});
afterAll(async () => w.close());

async function search(q: string): Promise<string[]> {
  const res = await w.call(w.agent, 'GET', `/tickets?limit=200&q=${encodeURIComponent(q)}`);
  expect(res.statusCode, res.body).toBe(200);
  return itemIds(res).map((id) => byId[id]!).sort();
}

describe('Chinese full-text search', () => {
  it('finds what a person would expect, and not the rest', async () => {
    expect(await search('路灯不亮')).toEqual(['lamp1', 'lamp2', 'lamp3']);
    expect(await search('噪音')).toEqual(['noise1', 'noise2', 'noise3']);
    expect(await search('停水')).toEqual(['water1', 'water2']);
    // The long form finds the same outage; a colloquial 没水 alone counts half and stays below the bar.
    expect(await search('小区突然停水')).toEqual(['water1']);
    expect(await search('停电')).toEqual(['power1', 'power2']);
    expect(await search('拖欠工资')).toEqual(['wage1', 'wage2']);
    expect(await search('欠薪')).toEqual(['wage1', 'wage2']);
    expect(await search('井盖')).toEqual(['manhole1', 'manhole2']);
    expect(await search('井盖丢失')).toEqual(['manhole1', 'manhole2']);
    expect(await search('电梯坏了')).toEqual(['elevator1', 'elevator2']);
    // Every noise complaint is relevant to 施工噪音; nothing else is.
    expect(await search('施工噪音')).toEqual(['noise1', 'noise2', 'noise3']);
  });

  it('keeps unrelated requests out of a long description', async () => {
    const found = await search('我们小区晚上路灯不亮');
    expect(found).toEqual(expect.arrayContaining(['lamp1', 'lamp2']));
    expect(found).not.toContain('noise2');
    expect(found).not.toContain('dog');
    expect(found).not.toContain('power1');
  });

  it('falls back to substring and trigram matching for what does not segment', async () => {
    expect(await search('12路')).toEqual(['bus']);
    expect(await search('火星基地')).toEqual([]);
  });
});

describe('lists', () => {
  it('pages newest first with no duplicates or gaps, also when timestamps tie', async () => {
    // Half the tickets share one instant: the id breaks the tie.
    await w.sql.query("UPDATE tickets SET created_at = '2026-01-05T02:00:00Z' WHERE id = ANY($1)", [Object.values(ids).slice(0, 15)]);
    const all = (await w.sql.query('SELECT id FROM tickets ORDER BY created_at DESC, id DESC')).rows.map((r) => r.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await w.call(w.agent, 'GET', `/tickets?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      seen.push(...itemIds(res));
      cursor = res.json().next;
    } while (cursor);
    expect(seen).toEqual(all);
    expect((await w.call(w.agent, 'GET', '/tickets?cursor=bm9wZQ')).json().code).toBe('invalid_cursor');
  });

  it('filters by status, type, channel, overdue, date range and caller phone', async () => {
    const deptId = await w.dept('search-dept');
    await w.act(w.agent, ids['lamp1']!, 'dispatch', { mainDepartmentId: deptId });
    await w.sql.query('UPDATE tickets SET overdue = true WHERE id = $1', [ids['heating']]);
    const get = async (qs: string) => itemIds(await w.call(w.agent, 'GET', `/tickets?limit=200&${qs}`)).map((id) => byId[id]);
    expect(await get('status=dispatched')).toEqual(['lamp1']);
    expect(await get(`departmentId=${deptId}`)).toEqual(['lamp1']);
    expect(await get('overdue=true')).toEqual(['heating']);
    expect(await get('phone=139-1234-5678')).toEqual(['wage1']);
    expect((await get('type=complaint')).length).toBe(30);
    expect(await get('channel=sms')).toEqual([]);
    const old = await get('createdFrom=2026-01-05T00:00:00Z&createdTo=2026-01-06T00:00:00Z');
    expect(old).toHaveLength(15);
    expect(await get('q=路灯&status=dispatched')).toEqual(['lamp1']);
  });

  it('answers rare and missing words from the indexes when the newest tickets hold no match', async () => {
    // 2,100 newer tickets about one thing: the first, bounded step over the newest 2,000 finds
    // nothing for the other words, so the second step must find the older matches.
    await w.sql.query(`INSERT INTO tickets (number, channel, type, title, content, status, created_by_type, created_at, search_vector)
      SELECT 'GD20990101' || lpad(g::text, 6, '0'), 'website', 'complaint', '电梯坏了', '楼里电梯又坏了 ' || g, 'accepted', 'system',
             now() + g * interval '1 ms', setweight(to_tsvector('simple', '电梯 坏了'), 'A') FROM generate_series(1, 2100) AS g`);
    const search = async (q: string) => (await w.call(w.agent, 'GET', `/tickets?limit=20&q=${encodeURIComponent(q)}`)).json<{ items: { id: string; title: string }[] }>().items;
    expect((await search('井盖丢失')).map((t) => byId[t.id])).toContain('manhole1');
    expect((await search('暖气不热')).map((t) => byId[t.id])).toEqual(['heating']);
    expect(await search('星光大道公寓居住证')).toEqual([]);
    const elevator = await search('电梯坏了');
    expect(elevator).toHaveLength(20);
    expect(elevator.every((t) => t.title === '电梯坏了' && byId[t.id] === undefined)).toBe(true); // the newest, all fillers
  });
});
