import { describe, expect, it } from 'vitest';
import { cidrContains, parseCidr, parseIp } from './ip.js';

describe('parseIp', () => {
  it('parses IPv4 and rejects malformed quads', () => {
    expect(parseIp('203.0.113.7')).toMatchObject({ family: 4, text: '203.0.113.7' });
    expect(parseIp('256.1.1.1')).toBeUndefined();
    expect(parseIp('1.2.3')).toBeUndefined();
    expect(parseIp('hello')).toBeUndefined();
  });

  it('parses IPv6 with compression, brackets and zone ids', () => {
    expect(parseIp('2001:db8::1')?.text).toBe('2001:db8:0:0:0:0:0:1');
    expect(parseIp('[2001:db8::1]')?.text).toBe('2001:db8:0:0:0:0:0:1');
    expect(parseIp('fe80::1%eth0')?.family).toBe(6);
    expect(parseIp('1::2::3')).toBeUndefined();
    expect(parseIp('12345::1')).toBeUndefined();
  });

  it('treats IPv4-mapped IPv6 as IPv4', () => {
    expect(parseIp('::ffff:198.51.100.4')).toMatchObject({ family: 4, text: '198.51.100.4' });
  });
});

describe('cidr', () => {
  it('matches addresses inside the range only', () => {
    const net = parseCidr('10.1.0.0/16');
    expect(cidrContains(net, parseIp('10.1.255.3')!)).toBe(true);
    expect(cidrContains(net, parseIp('10.2.0.1')!)).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0'), parseIp('8.8.8.8')!)).toBe(true);
    expect(cidrContains(parseCidr('2001:db8::/32'), parseIp('2001:db8:ffff::9')!)).toBe(true);
    expect(cidrContains(parseCidr('2001:db8::/32'), parseIp('10.0.0.1')!)).toBe(false);
  });

  it('accepts bare addresses and normalises host bits', () => {
    expect(parseCidr('192.0.2.9').text).toBe('192.0.2.9/32');
    expect(parseCidr('192.0.2.9/24').network).toBe(parseIp('192.0.2.0')!.value);
  });

  it('throws on garbage', () => {
    expect(() => parseCidr('10.0.0.0/33')).toThrow(RangeError);
    expect(() => parseCidr('10.0.0.0/x')).toThrow(RangeError);
    expect(() => parseCidr('nope/8')).toThrow(RangeError);
  });
});
