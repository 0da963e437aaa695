import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemIds, world, type World } from './tickets-helpers.js';

interface Candidate { department: { code: string }; matchedAreaCode: string; functionCodes: string[] }

let w: World;
beforeAll(async () => {
  w = await world();
});
afterAll(async () => w.close());

describe('departments: tree, partners, functions, jurisdictions', () => {
  it('builds the tree down to the grid and reads children and subtrees', async () => {
    const city = await w.dept('hz', 'city');
    const district = await w.dept('hz-xh', 'district', city);
    const street = await w.dept('hz-xh-bs', 'street', district);
    const grid = await w.dept('hz-xh-bs-g1', 'community', street);
    const badLevel = await w.call(w.t.adminToken, 'POST', '/departments', { code: 'bad', name: '错层', level: 'city', parentId: street });
    expect(badLevel.json().code).toBe('department_level_invalid');
    const sub = (await w.call(w.agent, 'GET', `/departments/${city}/subtree`)).json<{ items: { code: string; depth: number }[] }>();
    expect(sub.items.map((d) => [d.code, d.depth])).toEqual([['hz', 0], ['hz-xh', 1], ['hz-xh-bs', 2], ['hz-xh-bs-g1', 3]]);
    expect(itemIds(await w.call(w.agent, 'GET', `/departments/${district}/children`))).toEqual([street]);
    // Moving a department below its own descendant would make a cycle.
    const cycle = await w.call(w.t.adminToken, 'PATCH', `/departments/${district}`, { parentId: grid });
    expect(cycle.json().code).toBe('department_cycle');
    const busy = await w.call(w.t.adminToken, 'DELETE', `/departments/${street}`);
    expect(busy.json().code).toBe('department_has_active_children');
    expect((await w.call(w.t.adminToken, 'DELETE', `/departments/${grid}`)).json()).toMatchObject({ active: false });
    const renamed = await w.call(w.t.adminToken, 'PATCH', `/departments/${street}`, { name: '北山街道', description: '负责北山片区' });
    expect(renamed.json()).toMatchObject({ name: '北山街道', description: '负责北山片区' });
    expect((await w.call(w.agent, 'PATCH', `/departments/${street}`, { name: 'x' })).statusCode).toBe(403);
    const { rows } = await w.sql.query("SELECT type FROM outbox WHERE type LIKE 'department.%' ORDER BY seq");
    expect(rows.map((r) => r.type)).toEqual(expect.arrayContaining(['department.created', 'department.deactivated', 'department.updated']));
  });

  it('keeps partner units (water, power, gas, heat, telecom) as their own kind', async () => {
    const water = await w.dept('water-co', 'city', undefined, { kind: 'partner', partnerKind: 'water' });
    expect((await w.call(w.agent, 'GET', `/departments/${water}`)).json()).toMatchObject({ kind: 'partner', partnerKind: 'water' });
    const implicit = await w.call(w.t.adminToken, 'POST', '/departments', { code: 'power-co', name: '供电公司', level: 'city', partnerKind: 'power' });
    expect(implicit.json()).toMatchObject({ kind: 'partner', partnerKind: 'power' });
    const missing = await w.call(w.t.adminToken, 'POST', '/departments', { code: 'gas-co', name: '燃气', level: 'city', kind: 'partner' });
    expect(missing.json().code).toBe('partner_kind_required');
    const wrong = await w.call(w.t.adminToken, 'POST', '/departments', { code: 'gov-x', name: 'x', level: 'city', kind: 'government', partnerKind: 'gas' });
    expect(wrong.json().code).toBe('partner_kind_not_partner');
    const partners = itemIds(await w.call(w.agent, 'GET', '/departments?kind=partner'), 'code');
    expect(partners).toEqual(['power-co', 'water-co']);
  });

  it('suggests departments for a ticket by jurisdiction and function, most specific first', async () => {
    const cat = await w.call(w.supervisor, 'POST', '/categories', { code: 'lamp', name: '路灯维修', scopeDomain: 'public_service' });
    const lampCat = cat.json().id as string;
    const child = (await w.call(w.supervisor, 'POST', '/categories', { code: 'lamp.park', name: '公园路灯', parentId: lampCat })).json().id as string;
    const cityMgmt = await w.dept('cg', 'city');
    const districtMgmt = await w.dept('cg-xh', 'district', cityMgmt);
    const streetOffice = await w.dept('jd-bs', 'street', districtMgmt);
    for (const [id, code, name] of [[cityMgmt, '3301', '杭州市'], [districtMgmt, '330106', '西湖区'], [streetOffice, '330106001', '北山街道']] as const) {
      const res = await w.call(w.t.adminToken, 'PUT', `/departments/${id}/areas/${code}`, { areaName: name });
      expect(res.statusCode, res.body).toBe(200);
    }
    for (const id of [cityMgmt, districtMgmt]) {
      const res = await w.call(w.t.adminToken, 'POST', `/departments/${id}/functions`, { code: 'street-lighting', name: '城市照明', categoryId: lampCat });
      expect(res.statusCode, res.body).toBe(201);
    }
    expect((await w.call(w.t.adminToken, 'POST', `/departments/${cityMgmt}/functions`, { code: 'street-lighting', name: '重复' })).json().code).toBe('function_exists');
    const byArea = (await w.call(w.agent, 'GET', '/departments/candidates?areaCode=330106001002')).json<{ items: Candidate[] }>().items;
    expect(byArea.map((c) => [c.department.code, c.matchedAreaCode])).toEqual([['jd-bs', '330106001'], ['cg-xh', '330106'], ['cg', '3301']]);
    const byBoth = (await w.call(w.agent, 'GET', `/departments/candidates?areaCode=330106001002&categoryId=${child}`)).json<{ items: Candidate[] }>().items;
    expect(byBoth.map((c) => c.department.code)).toEqual(['cg-xh', 'cg']);
    expect(byBoth[0]?.functionCodes).toEqual(['street-lighting']);
    const elsewhere = (await w.call(w.agent, 'GET', '/departments/candidates?areaCode=330200&function=street-lighting')).json().items;
    expect(elsewhere).toEqual([]);
    expect((await w.call(w.agent, 'GET', '/departments/candidates')).json().code).toBe('candidates_filter_required');
    const areas = (await w.call(w.agent, 'GET', `/departments/${streetOffice}/areas`)).json().items;
    expect(areas).toEqual([{ departmentId: streetOffice, areaCode: '330106001', areaName: '北山街道' }]);
    expect((await w.call(w.t.adminToken, 'DELETE', `/departments/${streetOffice}/areas/330106001`)).statusCode).toBe(204);
    const fns = (await w.call(w.agent, 'GET', `/departments/${districtMgmt}/functions`)).json().items;
    expect((await w.call(w.t.adminToken, 'DELETE', `/departments/${districtMgmt}/functions/${fns[0].id}`)).statusCode).toBe(204);
  });

  it('confines a department handler to its own department', async () => {
    const mine = await w.dept('own-d');
    const other = await w.dept('other-d');
    const handler = (await w.t.createUser('dept-reader', 'dept_handler', mine)).token;
    expect((await w.call(handler, 'GET', `/departments/${mine}/functions`)).statusCode).toBe(200);
    expect((await w.call(handler, 'GET', `/departments/${other}`)).statusCode).toBe(403);
    expect((await w.call(handler, 'GET', `/departments/${other}/subtree`)).statusCode).toBe(403);
    expect(itemIds(await w.call(handler, 'GET', '/departments'))).toEqual([mine]);
  });
});
