/**
 * IP addresses and CIDR ranges as numbers, for allow-list checks. Pure: no DNS, no sockets.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are treated as the IPv4 address they carry, so a
 * v4 allow-list also covers a dual-stack listener.
 */
export type IpFamily = 4 | 6;

export interface ParsedIp {
  readonly family: IpFamily;
  readonly value: bigint;
  /** Canonical text: dotted quad for v4, lower-case compressed-free full form for v6. */
  readonly text: string;
}

export interface Cidr {
  readonly family: IpFamily;
  readonly network: bigint;
  readonly prefix: number;
  readonly text: string;
}

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseV6(text: string): bigint | undefined {
  let src = text.toLowerCase();
  const zone = src.indexOf('%');
  if (zone >= 0) src = src.slice(0, zone);
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two hextets.
  const lastColon = src.lastIndexOf(':');
  if (lastColon >= 0 && src.slice(lastColon + 1).includes('.')) {
    const v4 = parseV4(src.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    src = `${src.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = src.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  return value;
}

function v4Text(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
}

function v6Text(value: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  return groups.join(':');
}

/** Parses an IPv4 or IPv6 address (brackets allowed); undefined when it is not one. */
export function parseIp(input: string): ParsedIp | undefined {
  const text = input.trim().replace(/^\[(.*)\]$/, '$1');
  const v4 = parseV4(text);
  if (v4 !== undefined) return { family: 4, value: v4, text: v4Text(v4) };
  if (!text.includes(':')) return undefined;
  const v6 = parseV6(text);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) {
    const mapped = v6 & 0xffffffffn;
    return { family: 4, value: mapped, text: v4Text(mapped) };
  }
  return { family: 6, value: v6, text: v6Text(v6) };
}

/** Parses `a.b.c.d/n`, `x::y/n`, or a bare address (a /32 or /128). Throws on garbage. */
export function parseCidr(input: string): Cidr {
  const [addr = '', prefixText, ...rest] = input.trim().split('/');
  const ip = parseIp(addr);
  const bits = ip?.family === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (!ip || rest.length > 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > bits || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
    throw new RangeError(`not an IP address or CIDR range: ${input}`);
  }
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { family: ip.family, network: ip.value & mask, prefix, text: `${ip.text}/${prefix}` };
}

export function cidrContains(cidr: Cidr, ip: ParsedIp): boolean {
  if (cidr.family !== ip.family) return false;
  const bits = cidr.family === 6 ? 128 : 32;
  const mask = cidr.prefix === 0 ? 0n : ((1n << BigInt(cidr.prefix)) - 1n) << BigInt(bits - cidr.prefix);
  return (ip.value & mask) === cidr.network;
}
