import { describe, expect, it } from 'vitest';
import { SipGuard, type SecurityFailure } from './sip-guard.js';
import { SlidingWindowCounter } from './sliding-window.js';
import { ValidationError } from '../errors.js';

const policy = { threshold: 3, windowMs: 60_000, blockMs: 600_000, allowCidrs: ['10.0.0.0/8'] };
const fail = (address: string, at: number, extra: Partial<SecurityFailure> = {}): SecurityFailure => ({
  kind: 'InvalidPassword', address, service: 'PJSIP', accountId: 'agent1001', at, ...extra,
});

describe('SlidingWindowCounter', () => {
  it('forgets hits older than the window', () => {
    const c = new SlidingWindowCounter(1000);
    expect(c.hit('a', 0)).toBe(1);
    expect(c.hit('a', 500)).toBe(2);
    expect(c.hit('a', 1000)).toBe(2); // the hit at 0 left the window
    expect(c.count('a', 2600)).toBe(0);
    expect(c.size).toBe(0);
  });

  it('evicts the least recently hit key past maxKeys', () => {
    const c = new SlidingWindowCounter(1000, 2);
    c.hit('a', 0);
    c.hit('b', 1);
    c.hit('c', 2);
    expect(c.count('a', 3)).toBe(0);
    expect(c.count('c', 3)).toBe(1);
  });
});

describe('SipGuard', () => {
  it('counts per address and blocks at the threshold with one alert', () => {
    const g = new SipGuard(policy);
    expect(g.record(fail('203.0.113.7', 0))).toMatchObject({ outcome: 'counted', count: 1 });
    expect(g.record(fail('198.51.100.1', 1))).toMatchObject({ outcome: 'counted', count: 1 });
    expect(g.record(fail('203.0.113.7', 2, { kind: 'InvalidAccountID', accountId: 'admin' }))).toMatchObject({ outcome: 'counted', count: 2 });
    const third = g.record(fail('203.0.113.7', 3, { kind: 'ChallengeResponseFailed' }));
    expect(third.outcome).toBe('blocked');
    if (third.outcome !== 'blocked') return;
    expect(third.alert).toMatchObject({ address: '203.0.113.7', failures: 3, threshold: 3, blockedUntil: 600_003, services: ['PJSIP'] });
    expect([...third.alert.kinds].sort()).toEqual(['ChallengeResponseFailed', 'InvalidAccountID', 'InvalidPassword']);
    expect([...third.alert.accountIds].sort()).toEqual(['admin', 'agent1001']);
    expect(g.record(fail('203.0.113.7', 4, { kind: 'FailedACL' }))).toMatchObject({ outcome: 'already_blocked' });
    expect(g.blocked(5).map((e) => e.address)).toEqual(['203.0.113.7']);
  });

  it('does not block failures spread wider than the window', () => {
    const g = new SipGuard(policy);
    for (let i = 0; i < 10; i++) expect(g.record(fail('203.0.113.7', i * 30_001)).outcome).toBe('counted');
  });

  it('never blocks allow-listed ranges or loopback', () => {
    const g = new SipGuard(policy);
    for (let i = 0; i < 5; i++) {
      expect(g.record(fail('10.20.30.40', i)).outcome).toBe('allowlisted');
      expect(g.record(fail('127.0.0.1', i)).outcome).toBe('allowlisted');
      expect(g.record(fail('::1', i)).outcome).toBe('allowlisted');
    }
    expect(g.blocked(10)).toEqual([]);
    expect(() => g.block('10.1.1.1', 0)).toThrow(ValidationError);
  });

  it('expires blocks and reports them once', () => {
    const g = new SipGuard(policy);
    for (let i = 0; i < 3; i++) g.record(fail('203.0.113.7', i));
    expect(g.nextExpiry()).toBe(600_002);
    expect(g.expire(600_001)).toEqual([]);
    expect(g.expire(600_002).map((e) => e.address)).toEqual(['203.0.113.7']);
    expect(g.expire(600_003)).toEqual([]);
    expect(g.blocked(600_003)).toEqual([]);
    expect(g.nextExpiry()).toBeUndefined();
    // Counting starts over after expiry.
    expect(g.record(fail('203.0.113.7', 600_010))).toMatchObject({ outcome: 'counted', count: 1 });
  });

  it('supports manual block and unblock, normalising the address', () => {
    const g = new SipGuard(policy);
    const entry = g.block('::ffff:198.51.100.9', 100, { reason: 'scanner', durationMs: 1000 });
    expect(entry).toMatchObject({ address: '198.51.100.9', manual: true, expiresAt: 1100, reason: 'scanner' });
    expect(() => g.block('not-an-ip', 0)).toThrow(ValidationError);
    expect(g.unblock('198.51.100.9')?.address).toBe('198.51.100.9');
    expect(g.unblock('198.51.100.9')).toBeUndefined();
    expect(g.blocked(200)).toEqual([]);
  });

  it('ignores malformed source addresses', () => {
    expect(new SipGuard(policy).record(fail('garbage', 0)).outcome).toBe('invalid_address');
  });

  it('validates the policy', () => {
    expect(() => new SipGuard({ ...policy, threshold: 0 })).toThrow(RangeError);
    expect(() => new SipGuard({ ...policy, allowCidrs: ['10.0.0.0/99'] })).toThrow(RangeError);
  });
});
