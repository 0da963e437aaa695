/**
 * Operator configuration of the ACD through the real app: skills, opening schedules, queues
 * (defaults, ranges, overflow chains), agents and the IVR menu, each mistake with its own code.
 */
import type { InjectOptions } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let sql: pg.Client;
let operator: string;
let agentToken: string;
beforeAll(async () => {
  t = await buildTestApp({}, { start: false });
  sql = new pg.Client({ connectionString: t.dbUrl });
  await sql.connect();
  operator = (await t.createUser('ops', 'operator')).token;
  agentToken = (await t.createUser('agent-a', 'agent')).token;
});
afterAll(async () => {
  await sql.end();
  await t.close();
});

/** What the tests read from response bodies; the assertions check the rest. */
interface Resource {
  id: string; code: string; name: string; version: number; valid: boolean; chain: string[];
  items: Resource[]; problems: { code: string }[]; [key: string]: unknown;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const call = (opts: InjectOptions & { token?: string }) => t.hotline.app.inject({ ...opts, headers: bearer(opts.token ?? operator) });
async function ok<T = Resource>(opts: InjectOptions & { token?: string }, status = 200): Promise<T> {
  const res = await call(opts);
  expect(res.statusCode, res.body).toBe(status);
  return (status === 204 ? undefined : res.json<T>()) as T;
}
async function problem(opts: InjectOptions & { token?: string }, status: number, code: string): Promise<Resource> {
  const res = await call(opts);
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  const body = res.json<Resource>();
  expect(body.code).toBe(code);
  return body;
}
const skill = (code: string, name: string) => ok({ method: 'POST', url: '/api/v1/skills', payload: { code, name } }, 201);
const queue = (payload: Record<string, unknown>) => ok({ method: 'POST', url: '/api/v1/queues', payload }, 201);

describe('skills', () => {
  it('creates, lists, renames and refuses duplicate codes', async () => {
    const s = await skill('MANDARIN', '普通话');
    expect(s).toMatchObject({ code: 'MANDARIN', name: '普通话', active: true });
    await problem({ method: 'POST', url: '/api/v1/skills', payload: { code: 'MANDARIN', name: 'x' } }, 409, 'skill_code_taken');
    await problem({ method: 'POST', url: '/api/v1/skills', payload: { code: 'bad code', name: 'x' } }, 400, 'validation_failed');
    const renamed = await ok({ method: 'PATCH', url: `/api/v1/skills/${s.id}`, payload: { name: '普通话（标准）' } });
    expect(renamed.name).toBe('普通话（标准）');
    const list = await ok({ url: '/api/v1/skills', token: agentToken });
    expect(list.items.map((i) => i.code)).toContain('MANDARIN');
    await problem({ url: `/api/v1/skills/${crypto.randomUUID()}` }, 404, 'skill_not_found');
  });

  it('only operators and admins change configuration', async () => {
    await problem({ method: 'POST', url: '/api/v1/skills', token: agentToken, payload: { code: 'X', name: 'x' } }, 403, 'role_forbidden');
    await problem({ method: 'POST', url: '/api/v1/queues', token: agentToken, payload: { code: 'X', name: 'x' } }, 403, 'role_forbidden');
  });
});

describe('schedules', () => {
  it('stores weekly hours and holidays and answers whether it is open', async () => {
    const office = [{ start: '08:30', end: '12:00' }, { start: '13:30', end: '17:30' }];
    const s = await ok({ method: 'POST', url: '/api/v1/schedules', payload: { code: 'OFFICE', name: '工作日', weekly: { mon: office, tue: office, wed: office, thu: office, fri: office } } }, 201);
    expect(s).toMatchObject({ utcOffsetMinutes: 480, exceptions: [] });
    // Monday 2026-03-02 10:00 Beijing time.
    expect(await ok({ url: `/api/v1/schedules/${s.id}/status?at=2026-03-02T02:00:00.000Z` })).toEqual({ open: true, alwaysOpen: false, closesAt: '2026-03-02T04:00:00.000Z' });
    const holiday = await ok({ method: 'PUT', url: `/api/v1/schedules/${s.id}/exceptions/2026-03-02`, payload: { name: '临时闭馆' } });
    expect(holiday).toEqual({ date: '2026-03-02', name: '临时闭馆', periods: [] });
    expect(await ok({ url: `/api/v1/schedules/${s.id}/status?at=2026-03-02T02:00:00.000Z` })).toEqual({ open: false, alwaysOpen: false, opensAt: '2026-03-03T00:30:00.000Z' });
    const rows = await sql.query('SELECT to_char(date, \'YYYY-MM-DD\') AS d FROM schedule_exceptions WHERE schedule_id = $1', [s.id]);
    expect(rows.rows).toEqual([{ d: '2026-03-02' }]);
    await ok({ method: 'DELETE', url: `/api/v1/schedules/${s.id}/exceptions/2026-03-02` }, 204);
    await problem({ method: 'DELETE', url: `/api/v1/schedules/${s.id}/exceptions/2026-03-02` }, 404, 'schedule_exception_not_found');
  });

  it('names each mistake', async () => {
    await problem({ method: 'POST', url: '/api/v1/schedules', payload: { code: 'S1', name: 's', weekly: { monday: [] } } }, 400, 'unknown_weekday');
    await problem({ method: 'POST', url: '/api/v1/schedules', payload: { code: 'S1', name: 's', weekly: { mon: [{ start: '18:00', end: '09:00' }] } } }, 400, 'invalid_opening_period');
    await problem({ method: 'POST', url: '/api/v1/schedules', payload: { code: 'S1', name: 's', weekly: { mon: [{ start: '08:00', end: '12:00' }, { start: '11:00', end: '13:00' }] } } }, 400, 'opening_periods_overlap');
    const s = await ok({ method: 'POST', url: '/api/v1/schedules', payload: { code: 'S2', name: 's', weekly: {} } }, 201);
    await problem({ method: 'PUT', url: `/api/v1/schedules/${s.id}/exceptions/2026-02-30`, payload: { name: 'x' } }, 400, 'invalid_date');
  });
});

describe('queues', () => {
  it('applies the defaults, with a 15 s service level and 7×24 without a schedule', async () => {
    const q = await queue({ code: 'GENERAL', name: '综合服务' });
    expect(q).toMatchObject({
      centreId: 'main', maxWaitSeconds: 300, announcementIntervalSeconds: 60, callbackOfferSeconds: 120, wrapUpSeconds: 30, ringTimeoutSeconds: 20,
      serviceLevelSeconds: 15, overflow: { action: 'none', queueId: null }, scheduleId: null, active: true, version: 1, requiredSkills: [], priorityRules: [],
    });
    expect(await ok({ url: `/api/v1/queues/${q.id}/status` })).toEqual({ open: true, alwaysOpen: true });
    await problem({ method: 'POST', url: '/api/v1/queues', payload: { code: 'GENERAL', name: 'again' } }, 409, 'queue_code_taken');
  });

  it('keeps null as null in a body (no callback offer), while query strings are still coerced', async () => {
    const q = await queue({ code: 'NO-CALLBACK', name: '不回电', callbackOfferSeconds: null });
    expect(q.callbackOfferSeconds).toBeNull();
    const patched = await ok({ method: 'PATCH', url: `/api/v1/queues/${q.id}`, payload: { callbackOfferSeconds: 45 } });
    expect(patched.callbackOfferSeconds).toBe(45);
    expect((await ok({ method: 'PATCH', url: `/api/v1/queues/${q.id}`, payload: { callbackOfferSeconds: null } })).callbackOfferSeconds).toBeNull();
    // A number sent as a string in JSON is a type error, not a silent conversion.
    await problem({ method: 'PATCH', url: `/api/v1/queues/${q.id}`, payload: { wrapUpSeconds: '10' } }, 400, 'validation_failed');
    expect((await ok<{ items: unknown[] }>({ url: '/api/v1/queues?limit=1' })).items).toHaveLength(1);
  });

  it('stores required skills, priority rules, language and a schedule', async () => {
    const yibao = await skill('YIBAO', '医保');
    const sched = await ok({ method: 'POST', url: '/api/v1/schedules', payload: { code: 'YIBAO-HOURS', name: '医保专席', weekly: { mon: [{ start: '09:00', end: '17:00' }] } } }, 201);
    const q = await queue({
      code: 'YIBAO', name: '医保专席', language: 'zh', requiredSkills: [{ skillId: yibao.id, minLevel: 3 }],
      priorityRules: [{ flag: 'elderly', boost: 20 }, { flag: 'repeat_caller', boost: 5 }], scheduleId: sched.id, wrapUpSeconds: 45,
    });
    expect(q.requiredSkills).toEqual([{ skillId: yibao.id, skillCode: 'YIBAO', skillName: '医保', minLevel: 3 }]);
    expect(q.priorityRules).toEqual([{ flag: 'elderly', boost: 20 }, { flag: 'repeat_caller', boost: 5 }]);
    expect(await ok({ url: `/api/v1/queues/${q.id}/status?at=2026-03-01T02:00:00.000Z` })).toMatchObject({ open: false, opensAt: '2026-03-02T01:00:00.000Z' });
    await problem({ method: 'DELETE', url: `/api/v1/skills/${yibao.id}` }, 409, 'skill_in_use');
    await problem({ method: 'DELETE', url: `/api/v1/schedules/${sched.id}` }, 409, 'schedule_in_use');
  });

  it.each([
    [{ maxWaitSeconds: 5 }, 400, 'queue_limit_out_of_range'],
    [{ ringTimeoutSeconds: 500 }, 400, 'queue_limit_out_of_range'],
    [{ wrapUpSeconds: -1 }, 400, 'queue_limit_out_of_range'],
    [{ serviceLevelSeconds: 0 }, 400, 'queue_limit_out_of_range'],
    [{ announcementIntervalSeconds: 5 }, 400, 'queue_limit_out_of_range'],
    [{ maxWaitSeconds: 60, callbackOfferSeconds: 90 }, 400, 'callback_offer_after_max_wait'],
    [{ maxWaitSeconds: 60, callbackOfferSeconds: 30, serviceLevelSeconds: 90 }, 400, 'service_level_exceeds_max_wait'],
    [{ overflow: { action: 'queue' } }, 400, 'overflow_queue_required'],
    [{ overflow: { action: 'voicemail', queueId: '00000000-0000-4000-8000-000000000000' } }, 400, 'overflow_queue_not_applicable'],
    [{ overflow: { action: 'hangup' } }, 400, 'invalid_overflow_action'],
    [{ overflow: { action: 'queue', queueId: '00000000-0000-4000-8000-000000000000' } }, 404, 'overflow_target_not_found'],
    [{ priorityRules: [{ flag: 'vip', boost: 5 }] }, 400, 'unknown_caller_flag'],
    [{ priorityRules: [{ flag: 'elderly', boost: 500 }] }, 400, 'priority_boost_out_of_range'],
    [{ requiredSkills: [{ skillId: '00000000-0000-4000-8000-000000000000', minLevel: 9 }] }, 400, 'skill_level_out_of_range'],
    [{ requiredSkills: [{ skillId: '00000000-0000-4000-8000-000000000000', minLevel: 2 }] }, 404, 'skill_not_found'],
    [{ language: 'Mandarin' }, 400, 'invalid_language'],
    [{ centreId: 'nowhere' }, 404, 'centre_not_found'],
    [{ scheduleId: '00000000-0000-4000-8000-000000000000' }, 404, 'schedule_not_found'],
    [{ extra: 1 }, 400, 'validation_failed'],
  ])('refuses %j with %s %s', async (patch, status, code) => {
    const body = await problem({ method: 'POST', url: '/api/v1/queues', payload: { code: `BAD-${code}`.slice(0, 60), name: 'bad', ...patch } }, status, code);
    if (status === 400 && code !== 'validation_failed') expect(body.problems[0]!.code).toBe(code);
  });

  it('follows overflow chains and refuses loops, naming the chain', async () => {
    const a = await queue({ code: 'OV-A', name: 'A' });
    const b = await queue({ code: 'OV-B', name: 'B', overflow: { action: 'queue', queueId: a.id } });
    const c = await queue({ code: 'OV-C', name: 'C', overflow: { action: 'queue', queueId: b.id } });
    const loop = await problem({ method: 'PATCH', url: `/api/v1/queues/${a.id}`, payload: { overflow: { action: 'queue', queueId: c.id } } }, 409, 'overflow_loop');
    expect(loop.chain).toEqual(['OV-A', 'OV-C', 'OV-B', 'OV-A']);
    await problem({ method: 'PATCH', url: `/api/v1/queues/${a.id}`, payload: { overflow: { action: 'queue', queueId: a.id } } }, 409, 'overflow_loop');
    // A target another queue overflows into cannot be deactivated.
    await problem({ method: 'DELETE', url: `/api/v1/queues/${a.id}` }, 409, 'queue_is_overflow_target');
    // Ending the chain in voicemail is fine; then A can go.
    const b2 = await ok({ method: 'PATCH', url: `/api/v1/queues/${b.id}`, payload: { overflow: { action: 'voicemail' }, expectedVersion: 1 } });
    expect(b2).toMatchObject({ overflow: { action: 'voicemail', queueId: null }, version: 2 });
    await problem({ method: 'PATCH', url: `/api/v1/queues/${b.id}`, payload: { name: 'B!', expectedVersion: 1 } }, 409, 'queue_version_conflict');
    expect((await ok({ method: 'DELETE', url: `/api/v1/queues/${a.id}` })).active).toBe(false);
    await problem({ method: 'PATCH', url: `/api/v1/queues/${c.id}`, payload: { overflow: { action: 'queue', queueId: a.id } } }, 409, 'overflow_target_inactive');
  });

  it('refuses chains that are too long', async () => {
    // L4 → L3 → L2 → L1 → L0: five queues, the longest chain allowed.
    let prev: string | null = null;
    for (let i = 0; i < 5; i++) {
      const q: { id: string } = await queue({ code: `LONG-${i}`, name: `L${i}`, ...(prev ? { overflow: { action: 'queue', queueId: prev } } : {}) });
      prev = q.id;
    }
    const body = await problem({ method: 'POST', url: '/api/v1/queues', payload: { code: 'LONG-5', name: 'L5', overflow: { action: 'queue', queueId: prev } } }, 409, 'overflow_chain_too_long');
    expect(body.chain).toEqual(['LONG-5', 'LONG-4', 'LONG-3', 'LONG-2', 'LONG-1', 'LONG-0']);
  });

  it('serialises concurrent edits so that two of them cannot build a loop together', async () => {
    const x = await queue({ code: 'RACE-X', name: 'X' });
    const y = await queue({ code: 'RACE-Y', name: 'Y' });
    const [rx, ry] = await Promise.all([
      call({ method: 'PATCH', url: `/api/v1/queues/${x.id}`, payload: { overflow: { action: 'queue', queueId: y.id } } }),
      call({ method: 'PATCH', url: `/api/v1/queues/${y.id}`, payload: { overflow: { action: 'queue', queueId: x.id } } }),
    ]);
    expect([rx.statusCode, ry.statusCode].sort()).toEqual([200, 409]);
    expect([rx.json().code, ry.json().code]).toContain('overflow_loop');
  });

  it('announces changes in the same transaction', async () => {
    const q = await queue({ code: 'EVENTS', name: 'E' });
    const { rows } = await sql.query("SELECT type, payload FROM outbox WHERE type LIKE 'queue.%' AND payload->'queue'->>'id' = $1", [q.id]);
    expect(rows).toEqual([expect.objectContaining({ type: 'queue.created' })]);
  });
});

describe('agents', () => {
  it('makes a user an agent with extension, endpoint, skills and languages', async () => {
    const en = await skill('ENGLISH', 'English');
    const biz = await skill('ENTERPRISE', '企业服务');
    const user = await t.createUser('agent-b', 'agent');
    const a = await ok({ method: 'POST', url: '/api/v1/agents', payload: { userId: user.id, extension: '1001', languages: ['zh', 'en'], skills: [{ skillId: en.id, level: 4 }, { skillId: biz.id, level: 2 }] } }, 201);
    expect(a).toMatchObject({ id: user.id, username: 'agent-b', extension: '1001', endpoint: 'PJSIP/agent1001', languages: ['zh', 'en'], active: true });
    expect(a.skills).toEqual([
      { skillId: en.id, skillCode: 'ENGLISH', skillName: 'English', level: 4 },
      { skillId: biz.id, skillCode: 'ENTERPRISE', skillName: '企业服务', level: 2 },
    ]);
    // The agent starts offline, with a state row.
    expect((await sql.query('SELECT state, version FROM agent_states WHERE agent_id = $1', [user.id])).rows).toEqual([{ state: 'offline', version: 1 }]);
    expect(await ok({ url: '/api/v1/agents/me', token: user.token })).toMatchObject({ id: user.id });
    const changed = await ok({ method: 'PATCH', url: `/api/v1/agents/${user.id}`, payload: { extension: '1002', skills: [{ skillId: en.id, level: 5 }] } });
    expect(changed).toMatchObject({ extension: '1002', endpoint: 'PJSIP/agent1002', skills: [expect.objectContaining({ skillCode: 'ENGLISH', level: 5 })] });
    const list = await ok({ url: `/api/v1/agents?skillId=${en.id}` });
    expect(list.items.map((i) => i.id)).toEqual([user.id]);
  });

  it('names each mistake', async () => {
    const sup = await t.createUser('sup-c', 'supervisor');
    const ops = await t.createUser('ops-c', 'operator');
    const agent = await t.createUser('agent-c', 'agent');
    const s = await skill('GJJ', '公积金');
    await problem({ method: 'POST', url: '/api/v1/agents', payload: { userId: agent.id, extension: '2001' } }, 400, 'invalid_agent_extension');
    await problem({ method: 'POST', url: '/api/v1/agents', payload: { userId: agent.id, extension: '10a1' } }, 400, 'invalid_agent_extension');
    await problem({ method: 'POST', url: '/api/v1/agents', payload: { userId: ops.id, extension: '1101' } }, 400, 'user_not_call_taker');
    await problem({ method: 'POST', url: '/api/v1/agents', payload: { userId: crypto.randomUUID(), extension: '1101' } }, 404, 'user_not_found');
    await problem({ method: 'POST', url: '/api/v1/agents', payload: { userId: agent.id, extension: '1101', languages: ['Chinese'] } }, 400, 'invalid_language');
    await problem({ method: 'POST', url: '/api/v1/agents', payload: { userId: agent.id, extension: '1101', languages: [] } }, 400, 'languages_required');
    await problem({ method: 'POST', url: '/api/v1/agents', payload: { userId: agent.id, extension: '1101', skills: [{ skillId: s.id, level: 6 }] } }, 400, 'skill_level_out_of_range');
    await problem({ method: 'POST', url: '/api/v1/agents', payload: { userId: agent.id, extension: '1101', skills: [{ skillId: s.id, level: 1 }, { skillId: s.id, level: 2 }] } }, 400, 'duplicate_skill');
    await problem({ method: 'POST', url: '/api/v1/agents', payload: { userId: agent.id, extension: '1101', skills: [{ skillId: crypto.randomUUID(), level: 2 }] } }, 404, 'skill_not_found');
    // A supervisor who also answers calls can be an agent.
    await ok({ method: 'POST', url: '/api/v1/agents', payload: { userId: sup.id, extension: '1101' } }, 201);
    await problem({ method: 'POST', url: '/api/v1/agents', payload: { userId: sup.id, extension: '1102' } }, 409, 'agent_exists');
    await problem({ method: 'POST', url: '/api/v1/agents', payload: { userId: agent.id, extension: '1101' } }, 409, 'extension_taken');
    await problem({ url: '/api/v1/agents', token: agentToken }, 403, 'role_forbidden');
    await problem({ url: '/api/v1/agents/me', token: agentToken }, 404, 'not_an_agent');
  });
});

interface MenuAction { action: string; queue?: string; node?: string; promptId?: string }
interface MenuNode { id: string; promptIds: string[]; timeoutSeconds: number; maxRetries: number; options: Record<string, MenuAction> }
interface MenuDoc { rootNodeId: string; defaultQueue: string; nodes: MenuNode[] }

describe('IVR menu', () => {
  const menu = (patch: Partial<MenuDoc> = {}): MenuDoc => ({
    rootNodeId: 'main',
    defaultQueue: 'GENERAL',
    nodes: [
      { id: 'main', promptIds: ['menu-main', 'menu-language'], timeoutSeconds: 5, maxRetries: 2, options: { 0: { action: 'operator' }, 1: { action: 'progress_query' }, 2: { action: 'submenu', node: 'biz' }, 9: { action: 'queue', queue: 'IVR-EN', promptId: 'connecting-foreign-language' } } },
      { id: 'biz', promptIds: ['menu-agent-anytime'], timeoutSeconds: 5, maxRetries: 1, options: { 1: { action: 'queue', queue: 'IVR-BIZ', promptId: 'connecting-business' }, 2: { action: 'callback' }, '#': { action: 'submenu', node: 'main' } } },
    ],
    ...patch,
  });

  it('publishes versions, validated against prompts and queues', async () => {
    await queue({ code: 'IVR-EN', name: '外语坐席', language: 'en' });
    await queue({ code: 'IVR-BIZ', name: '企业服务' });
    await problem({ url: '/api/v1/ivr/menu' }, 404, 'ivr_menu_not_configured');
    const v1 = await ok({ method: 'PUT', url: '/api/v1/ivr/menu', payload: { document: menu(), note: '初版', baseVersion: 0 } });
    expect(v1).toMatchObject({ version: 1, note: '初版', document: menu() });
    expect(await ok({ url: '/api/v1/ivr/menu' })).toMatchObject({ version: 1 });
    await problem({ method: 'PUT', url: '/api/v1/ivr/menu', payload: { document: menu(), baseVersion: 0 } }, 409, 'ivr_menu_version_conflict');
    const v2 = await ok({ method: 'PUT', url: '/api/v1/ivr/menu', payload: { document: menu({ defaultQueue: 'IVR-BIZ' }), baseVersion: 1 } });
    expect(v2.version).toBe(2);
    expect((await ok({ url: '/api/v1/ivr/menu/versions' })).items.map((i) => i.version)).toEqual([2, 1]);
    expect(await ok({ url: '/api/v1/ivr/menu/versions/1' })).toMatchObject({ version: 1, document: { defaultQueue: 'GENERAL' } });
    await problem({ url: '/api/v1/ivr/menu/versions/9' }, 404, 'ivr_menu_version_not_found');
    // A queue the menu in force uses stays active.
    const biz = (await ok({ url: '/api/v1/queues?limit=200' })).items.find((q) => q.code === 'IVR-BIZ')!;
    await problem({ method: 'DELETE', url: `/api/v1/queues/${biz.id}` }, 409, 'queue_in_ivr_menu');
    const { rows } = await sql.query("SELECT payload FROM outbox WHERE type = 'ivr.menu_published' ORDER BY seq");
    expect(rows.map((r: { payload: { version: number } }) => r.payload.version)).toEqual([1, 2]);
  });

  it.each([
    ['ivr_invalid_digit', (m: MenuDoc) => { m.nodes[0]!.options.x = { action: 'repeat' }; }],
    ['ivr_zero_reserved', (m: MenuDoc) => { m.nodes[0]!.options[0] = { action: 'callback' }; }],
    ['ivr_unknown_queue', (m: MenuDoc) => { m.nodes[1]!.options[1]!.queue = 'NO-SUCH'; }],
    ['ivr_unknown_node', (m: MenuDoc) => { m.nodes[0]!.options[2]!.node = 'ghost'; }],
    ['ivr_unknown_prompt', (m: MenuDoc) => { m.nodes[0]!.promptIds.push('not-a-prompt'); }],
    ['ivr_unreachable_node', (m: MenuDoc) => { m.nodes.push({ id: 'lost', promptIds: ['menu-main'], timeoutSeconds: 5, maxRetries: 1, options: {} }); }],
    ['ivr_menu_too_deep', (m: MenuDoc) => {
      m.nodes[1]!.options[3] = { action: 'submenu', node: 'deeper' };
      m.nodes.push({ id: 'deeper', promptIds: ['menu-main'], timeoutSeconds: 5, maxRetries: 1, options: {} });
    }],
    ['ivr_timeout_out_of_range', (m: MenuDoc) => { m.nodes[0]!.timeoutSeconds = 60; }],
    ['ivr_root_missing', (m: MenuDoc) => { m.rootNodeId = 'start'; }],
    ['ivr_action_target_required', (m: MenuDoc) => { m.nodes[0]!.options[5] = { action: 'queue' }; }],
  ])('refuses a menu with %s and reports it by dry run too', async (code, mutate) => {
    const doc = menu();
    mutate(doc);
    const body = await problem({ method: 'PUT', url: '/api/v1/ivr/menu', payload: { document: doc } }, 400, code);
    expect(body.problems.map((p) => p.code)).toContain(code);
    const dry = await ok({ method: 'POST', url: '/api/v1/ivr/menu/validate', payload: { document: doc } });
    expect(dry.valid).toBe(false);
    expect(dry.problems.map((p) => p.code)).toContain(code);
  });

  it('lists the prompts a menu can use', async () => {
    const { items } = await ok({ url: '/api/v1/ivr/prompts' });
    expect(items.map((p: { id: string }) => p.id)).toContain('menu-main');
  });
});
