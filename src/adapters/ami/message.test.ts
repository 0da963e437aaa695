import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';
import { toEvent, toFields, toResponse } from './message.js';

describe('AMI message normalisation', () => {
  it('rebuilds asterisk-manager variable objects and joins repeated headers', () => {
    // What asterisk-manager makes of `Variable: SIPDOMAIN` and of two `ChanVariable: a=b` lines.
    const fields = toFields({ event: 'VarSet', variable: { SIPDOMAIN: '' }, value: '127.0.0.1', chanvariable: { A: '1', B: 'x=y' }, dup: ['1', '2'] });
    expect(fields).toMatchObject({ variable: 'SIPDOMAIN', value: '127.0.0.1', chanvariable: 'A=1\nB=x=y', dup: '1\n2' });
  });

  it('builds events with their ActionID', () => {
    const at = new Date(0);
    expect(toEvent({ event: 'EndpointList', actionid: 'a-1', objectname: 'agent1001' }, at)).toEqual({
      name: 'EndpointList', actionId: 'a-1', fields: { event: 'EndpointList', actionid: 'a-1', objectname: 'agent1001' }, receivedAt: at,
    });
    expect(toEvent({ response: 'Success' }, at)).toBeUndefined();
  });

  it('reads Command output in the current and the legacy format', () => {
    expect(toResponse({ response: 'Success', message: 'Command output follows', output: ['a', 'b'] }).output).toEqual(['a', 'b']);
    expect(toResponse({ response: 'Success', output: 'only' }).output).toEqual(['only']);
    const legacy = toResponse({ response: 'follows', content: 'Response: Follows\nPrivilege: Command\nActionID: 7\nline 1\nline 2' });
    expect(legacy.output).toEqual(['line 1', 'line 2']);
    expect(toResponse({ response: 'Error', message: 'Permission denied' })).toMatchObject({ response: 'Error', message: 'Permission denied', output: [] });
  });
});

describe('backoffDelay', () => {
  const opts = { initialMs: 100, maxMs: 1000, jitter: 0.5 };
  it('grows exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelay(n, opts, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  it('jitters down by at most the jitter share', () => {
    expect(backoffDelay(3, opts, () => 1)).toBe(200);
    expect(backoffDelay(3, { ...opts, jitter: 0 }, () => 1)).toBe(400);
  });
});
