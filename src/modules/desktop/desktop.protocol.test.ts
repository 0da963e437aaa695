import { describe, expect, it } from 'vitest';
import { CommandDedupe, MAX_CLIENT_MESSAGE_BYTES, parseClientMessage, planResume, replayComplete, type CommandReply } from './desktop.protocol.js';
import { COMMAND_SCHEMAS, schemaDocument } from './desktop.schemas.js';

const parse = (v: unknown) => parseClientMessage(typeof v === 'string' ? v : JSON.stringify(v));
const code = (v: unknown) => {
  const r = parse(v);
  return r.ok ? 'ok' : r.error.code;
};

describe('client messages', () => {
  it('accepts each well-formed message', () => {
    expect(parse({ v: 1, type: 'hello', token: 'a.b.c', lastSeq: '42' })).toMatchObject({ ok: true, msg: { type: 'hello', lastSeq: '42' } });
    expect(code({ v: 1, type: 'hello' })).toBe('ok');
    expect(code({ v: 1, type: 'ping', id: 'x' })).toBe('ok');
    expect(code({ v: 1, type: 'pong' })).toBe('ok');
    expect(code({ v: 1, type: 'subscribe_wallboard', queueIds: ['6f1c2a55-1111-4222-8333-444455556666'] })).toBe('ok');
    expect(code({ v: 1, type: 'unsubscribe_wallboard' })).toBe('ok');
    expect(code({ v: 1, type: 'command', id: 'c-1', command: { type: 'login', extension: '1001', state: 'not_ready', reason: 'break' } })).toBe('ok');
    expect(code({ v: 1, type: 'command', id: 'c-2', command: { type: 'transfer', target: { kind: 'queue', queueId: '6f1c2a55-1111-4222-8333-444455556666' } } })).toBe('ok');
    expect(code({ v: 1, type: 'command', id: 'c-3', command: { type: 'barge', agentId: '6f1c2a55-1111-4222-8333-444455556666' } })).toBe('ok');
  });

  it('gives every bad message a stable code', () => {
    expect(code('nope')).toBe('invalid_json');
    expect(code('"text"')).toBe('invalid_message');
    expect(code({ type: 'ping' })).toBe('unsupported_version');
    expect(code({ v: '1', type: 'ping' })).toBe('unsupported_version');
    expect(code({ v: 1 })).toBe('unknown_message_type');
    expect(code({ v: 1, type: 'welcome' })).toBe('unknown_message_type'); // a server message
    expect(code({ v: 1, type: 'hello', lastSeq: '-1' })).toBe('invalid_message');
    expect(code({ v: 1, type: 'hello', lastSeq: 7 })).toBe('invalid_message');
    expect(code({ v: 1, type: 'subscribe_wallboard', queueIds: ['q1'] })).toBe('invalid_message');
    expect(code({ v: 1, type: 'subscribe_wallboard', queueIds: [] })).toBe('invalid_message');
    expect(code({ v: 1, type: 'ping', id: 'x'.repeat(MAX_CLIENT_MESSAGE_BYTES) })).toBe('message_too_large');
  });

  it('answers a bad command by its id when the id can be read, with the paths that failed', () => {
    const bad = parse({ v: 1, type: 'command', id: 'c9', command: { type: 'not_ready', reason: 'nap' } });
    expect(bad).toMatchObject({ ok: false, commandId: 'c9', error: { code: 'invalid_command', details: { errors: [{ path: '/reason' }] } } });
    expect(parse({ v: 1, type: 'command', id: 'c9', command: { type: 'teleport' } })).toMatchObject({ ok: false, commandId: 'c9', error: { code: 'invalid_command' } });
    expect(parse({ v: 1, type: 'command', id: 'c9', command: { type: 'hold', extra: 1 } })).toMatchObject({ ok: false, commandId: 'c9' });
    expect(parse({ v: 1, type: 'command', id: 'c9', command: { type: 'login', extension: '999' } })).toMatchObject({ ok: false, commandId: 'c9' });
    // No usable id: an error message instead.
    expect(parse({ v: 1, type: 'command', id: 'has space', command: { type: 'ready' } })).toMatchObject({ ok: false, error: { code: 'invalid_message' } });
    expect(parse({ v: 1, type: 'command', command: { type: 'ready' } })).not.toHaveProperty('commandId');
  });

  it('documents every command and message as JSON Schema', () => {
    const doc = schemaDocument();
    expect(Object.keys(doc.commands as object)).toEqual(Object.keys(COMMAND_SCHEMAS));
    expect(JSON.parse(JSON.stringify(doc))).toMatchObject({ version: 1, client: { hello: { type: 'object' } }, server: { welcome: { type: 'object' } } });
  });
});

describe('command ids', () => {
  it('runs an id once and gives every retry the same reply, also while it runs', async () => {
    const dedupe = new CommandDedupe();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const exec = async (): Promise<CommandReply> => {
      runs += 1;
      await gate;
      return { ok: true, result: { n: runs } };
    };
    const first = dedupe.run('a', exec);
    const second = dedupe.run('a', exec);
    expect(second.repeated).toBe(true);
    release();
    expect(await first.reply).toEqual({ ok: true, result: { n: 1 } });
    expect(await second.reply).toEqual({ ok: true, result: { n: 1 } });
    expect(await dedupe.run('a', exec).reply).toEqual({ ok: true, result: { n: 1 } });
    expect(runs).toBe(1);
    await dedupe.run('b', exec).reply;
    expect(runs).toBe(2);
  });

  it('remembers a bounded number of ids', async () => {
    const dedupe = new CommandDedupe(3);
    for (const id of ['1', '2', '3', '4']) await dedupe.run(id, async () => ({ ok: true, result: {} })).reply;
    expect(dedupe.size).toBe(3);
    expect(dedupe.run('1', async () => ({ ok: true, result: { again: true } })).repeated).toBe(false); // forgotten: the oldest
    expect(dedupe.run('4', async () => ({ ok: true, result: {} })).repeated).toBe(true);
  });
});

describe('resume', () => {
  it('plans a replay of exactly the missed numbers', () => {
    expect(planResume(undefined, 10n)).toEqual({ kind: 'fresh' });
    expect(planResume('10', 10n)).toEqual({ kind: 'up_to_date' });
    expect(planResume('7', 10n)).toEqual({ kind: 'replay', after: 7n, through: 10n });
    expect(planResume('0', 3n)).toEqual({ kind: 'replay', after: 0n, through: 3n });
    expect(planResume('11', 10n)).toEqual({ kind: 'resync', reason: 'ahead' });
    expect(planResume('1', 2000n, 1000)).toEqual({ kind: 'resync', reason: 'too_many' });
    expect(planResume('1000', 2000n, 1000)).toMatchObject({ kind: 'replay' });
  });

  it('asks for a resync when retention removed any of them', () => {
    const plan = { after: 7n, through: 10n };
    expect(replayComplete(plan, [8n, 9n, 10n])).toBe(true);
    expect(replayComplete(plan, [9n, 10n])).toBe(false); // 8 pruned
    expect(replayComplete(plan, [])).toBe(false);
    expect(replayComplete(plan, [8n, 10n, 11n])).toBe(false);
  });
});
