import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../domain/auth.js';
import { UnauthenticatedError } from '../../domain/errors.js';
import { DesktopHub } from './desktop.hub.js';
import { DesktopSession, type DesktopSocket, type SessionContext } from './desktop.session.js';

class FakeSocket implements DesktopSocket {
  sent: Array<Record<string, unknown>> = [];
  bufferedAmount = 0;
  closed: { code: number; reason: string } | undefined;
  pings = 0;
  send(text: string): void {
    this.sent.push(JSON.parse(text) as Record<string, unknown>);
  }
  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
  }
  ping(): void {
    this.pings += 1;
  }
  terminate(): void {}
}

const AGENT: Principal = { kind: 'user', id: '6f1c2a55-1111-4222-8333-444455556666', name: 'zhang', role: 'agent', departmentId: null, centreId: 'main', sessionId: 's1' };
const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2VjcmV0LXNpZ25hdHVyZQ';

function context(lines: string[] = []): SessionContext {
  const logger = pino({ level: 'debug' }, new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString()); cb(); } }));
  return {
    auth: { authenticateToken: async (t) => { if (t !== TOKEN) throw new UnauthenticatedError('bad', 'token_invalid'); return AGENT; } },
    agentStates: {
      get: async () => { throw Object.assign(new Error('no'), { code: 'not_an_agent' }); },
      login: async () => { throw new Error('unused'); }, logout: async () => { throw new Error('unused'); }, changeBy: async () => { throw new Error('unused'); },
    },
    callControl: () => undefined,
    log: { lastSeq: async () => 0n, resume: async () => ({ resync: false, messages: [] }), opened: async () => 1, closed: async () => 0 },
    publish: async () => undefined,
    hub: new DesktopHub(async () => [], logger),
    wallboard: { subscribe: async () => undefined, unsubscribe: () => undefined },
    clock: { now: () => new Date('2026-03-02T01:00:00Z') },
    logger,
    settings: { heartbeatMs: 1000, helloTimeoutMs: 60_000, maxBufferedBytes: 1000 },
    instanceId: 'i1',
    freshSince: () => new Date(0),
    onOpen: () => undefined,
    onClosed: () => undefined,
    shuttingDown: () => false,
  };
}

async function openSession(ctx = context()): Promise<{ s: DesktopSession; socket: FakeSocket }> {
  const socket = new FakeSocket();
  const s = new DesktopSession(socket, ctx, { bearer: undefined, apiKey: false, malformed: false });
  s.onMessage(JSON.stringify({ v: 1, type: 'hello', token: TOKEN }));
  for (let i = 0; i < 50 && !s.isOpen; i++) await new Promise((r) => setImmediate(r));
  expect(socket.sent[0]).toMatchObject({ type: 'welcome', snapshot: { agent: null, currentCall: null } });
  return { s, socket };
}

describe('desktop session', () => {
  it('closes a socket whose unsent data passes the limit instead of buffering more', async () => {
    const { s, socket } = await openSession();
    socket.bufferedAmount = 1001;
    s.onMessage(JSON.stringify({ v: 1, type: 'ping' }));
    expect(socket.closed).toEqual({ code: 4002, reason: 'slow_consumer' });
    const sent = socket.sent.length;
    s.sendText('{"v":1}');
    expect(socket.sent).toHaveLength(sent); // nothing more is queued
  });

  it('closes after two unanswered pings; any message answers', async () => {
    const { s, socket } = await openSession();
    s.beat();
    s.beat();
    s.onMessage(JSON.stringify({ v: 1, type: 'pong' }));
    s.beat();
    s.beat();
    expect(socket.closed).toBeUndefined();
    s.beat();
    expect(socket.closed).toEqual({ code: 4001, reason: 'heartbeat_timeout' });
    expect(socket.sent.filter((m) => m.type === 'ping')).toHaveLength(4);
    expect(socket.pings).toBe(4);
  });

  it('never writes a token to the log', async () => {
    const lines: string[] = [];
    const ctx = context(lines);
    await openSession(ctx);
    const bad = new FakeSocket();
    const s = new DesktopSession(bad, ctx, { bearer: undefined, apiKey: false, malformed: false });
    s.onMessage(JSON.stringify({ v: 1, type: 'hello', token: `${TOKEN}x` }));
    for (let i = 0; i < 20 && !bad.closed; i++) await new Promise((r) => setImmediate(r));
    expect(bad.closed).toEqual({ code: 4401, reason: 'token_invalid' });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(TOKEN.slice(0, 20));
  });
});
