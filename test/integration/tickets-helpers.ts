/** Shared set-up for the tickets integration tests: the real app, departments, staff, intake. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { expect } from 'vitest';
import type { TicketView } from '../../src/modules/tickets/tickets.view.js';
import { buildTestApp, type TestApp } from '../support/app.js';

export interface World {
  t: TestApp;
  sql: pg.Client;
  dataDir: string;
  agent: string;
  supervisor: string;
  call(token: string | null, method: InjectOptions['method'], url: string, payload?: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  dept(code: string, level?: string, parentId?: string, extra?: Record<string, unknown>): Promise<string>;
  intake(token: string, body?: Record<string, unknown>, headers?: Record<string, string>): Promise<IntakeBody>;
  act(token: string, id: string, action: string, payload?: Record<string, unknown>): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface IntakeBody {
  ticket: TicketView;
  acceptance: {
    accepted: boolean; reason?: string; label?: string; reply?: string; transferTo?: string[];
    emergencyHints: { service: string }[]; exclusionHints?: { reason: string }[];
  };
  verificationCode: string;
}

/** The ids (or another field) of a list response. */
export function itemIds(res: LightMyRequestResponse, field = 'id'): string[] {
  return res.json<{ items: Record<string, string>[] }>().items.map((i) => i[field]!);
}

let seq = 0;
export function phoneTicket(extra: Record<string, unknown> = {}): Record<string, unknown> {
  seq += 1;
  return {
    channel: 'phone', callId: `call-${seq}-${Date.now()}`, type: 'complaint', title: '小区门口路灯不亮', content: '幸福小区门口的路灯坏了好几天，晚上很黑。',
    address: '幸福路1号', areaCode: '330106001001', caller: { phone: '13800138000', name: '张三', address: '幸福小区3号楼' }, ...extra,
  };
}

export async function world(env: Record<string, string> = {}, opts: { withNats?: boolean } = {}): Promise<World> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'hotline-tickets-'));
  const t = await buildTestApp({ DATA_DIR: dataDir, ...env }, opts);
  const sql = new pg.Client({ connectionString: t.dbUrl });
  await sql.connect();
  const call: World['call'] = (token, method, url, payload, headers = {}) => t.hotline.app.inject({
    method, url: `/api/v1${url}`, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }, ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }),
  });
  const agent = (await t.createUser('agent1', 'agent')).token;
  const supervisor = (await t.createUser('super1', 'supervisor')).token;
  return {
    t, sql, dataDir, agent, supervisor, call,
    async dept(code, level = 'district', parentId, extra = {}) {
      const res = await call(t.adminToken, 'POST', '/departments', { code, name: `部门${code}`, level, ...(parentId ? { parentId } : {}), ...extra });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ id: string }>().id;
    },
    async intake(token, body = phoneTicket(), headers = {}) {
      const res = await call(token, 'POST', '/tickets', body, headers);
      expect(res.statusCode, res.body).toBe(201);
      return res.json<IntakeBody>();
    },
    act(token, id, action, payload = {}) {
      return call(token, 'POST', `/tickets/${id}/actions`, { action, ...payload });
    },
    async close() {
      await sql.end();
      await t.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
