/**
 * SIP brute-force guard: counts authentication/ACL failures per source address in a sliding
 * window; at the threshold it raises one alert and puts the address on a temporary block list.
 * Pure state machine: time comes in as epoch milliseconds, side effects (applying the block in
 * Asterisk, timers, events) belong to the caller.
 */
import { ValidationError } from '../errors.js';
import { cidrContains, parseCidr, parseIp, type Cidr } from './ip.js';
import { SlidingWindowCounter } from './sliding-window.js';

/** Asterisk security events that count as a failed attempt. */
export const SECURITY_FAILURE_KINDS = ['InvalidAccountID', 'ChallengeResponseFailed', 'InvalidPassword', 'FailedACL'] as const;
export type SecurityFailureKind = (typeof SECURITY_FAILURE_KINDS)[number];

export function isSecurityFailureKind(name: string): name is SecurityFailureKind {
  return (SECURITY_FAILURE_KINDS as readonly string[]).includes(name);
}

export interface SecurityFailure {
  readonly kind: SecurityFailureKind;
  /** Source IP address (no port). */
  readonly address: string;
  /** Asterisk service that raised it, e.g. `PJSIP` or `AMI`. */
  readonly service: string;
  readonly accountId?: string;
  readonly at: number;
}

export interface SecurityPolicy {
  /** Failures inside the window that trigger a block (the threshold-th failure blocks). */
  readonly threshold: number;
  readonly windowMs: number;
  readonly blockMs: number;
  /** Never blocked (own trunks, office ranges). Loopback is always allowed. */
  readonly allowCidrs: readonly string[];
}

export interface BlockEntry {
  readonly address: string;
  readonly blockedAt: number;
  readonly expiresAt: number;
  readonly failures: number;
  readonly reason: string;
  /** True when an operator blocked it by hand. */
  readonly manual: boolean;
}

export interface SecurityAlert {
  readonly address: string;
  readonly failures: number;
  readonly threshold: number;
  readonly windowMs: number;
  readonly kinds: readonly SecurityFailureKind[];
  readonly services: readonly string[];
  /** A sample of the account names tried (bounded). */
  readonly accountIds: readonly string[];
  readonly at: number;
  readonly blockedUntil: number;
}

export type GuardOutcome =
  | { readonly outcome: 'invalid_address'; readonly address: string }
  | { readonly outcome: 'allowlisted'; readonly address: string }
  | { readonly outcome: 'already_blocked'; readonly address: string; readonly entry: BlockEntry }
  | { readonly outcome: 'counted'; readonly address: string; readonly count: number }
  | { readonly outcome: 'blocked'; readonly address: string; readonly entry: BlockEntry; readonly alert: SecurityAlert };

/** Port: makes the block list effective in the voice platform (see adapters/ami/acl-file.ts). */
export interface AclApplier {
  /** Replaces the whole deny list with `entries` (idempotent; called after every change). */
  apply(entries: readonly BlockEntry[]): Promise<void>;
}

const ALWAYS_ALLOWED = ['127.0.0.0/8', '::1/128'];
const MAX_SAMPLE = 10;

interface Recent {
  kinds: Set<SecurityFailureKind>;
  services: Set<string>;
  accountIds: Set<string>;
}

export class SipGuard {
  private readonly allow: readonly Cidr[];
  private readonly counter: SlidingWindowCounter;
  private readonly blocks = new Map<string, BlockEntry>();
  private readonly recent = new Map<string, Recent>();

  constructor(private readonly policy: SecurityPolicy) {
    if (!Number.isInteger(policy.threshold) || policy.threshold < 1) throw new RangeError('threshold must be an integer >= 1');
    if (!(policy.blockMs > 0)) throw new RangeError('blockMs must be positive');
    this.allow = [...ALWAYS_ALLOWED, ...policy.allowCidrs].map(parseCidr);
    this.counter = new SlidingWindowCounter(policy.windowMs);
  }

  isAllowlisted(address: string): boolean {
    const ip = parseIp(address);
    return ip !== undefined && this.allow.some((c) => cidrContains(c, ip));
  }

  record(failure: SecurityFailure): GuardOutcome {
    const ip = parseIp(failure.address);
    if (!ip) return { outcome: 'invalid_address', address: failure.address };
    const address = ip.text;
    if (this.allow.some((c) => cidrContains(c, ip))) return { outcome: 'allowlisted', address };
    const existing = this.activeEntry(address, failure.at);
    if (existing) return { outcome: 'already_blocked', address, entry: existing };

    const count = this.counter.hit(address, failure.at);
    // A count of 1 means earlier failures left the window: start a fresh sample.
    const recent = count === 1 || !this.recent.has(address) ? this.freshRecent(address) : this.recent.get(address)!;
    recent.kinds.add(failure.kind);
    recent.services.add(failure.service);
    if (failure.accountId && recent.accountIds.size < MAX_SAMPLE) recent.accountIds.add(failure.accountId);
    if (count < this.policy.threshold) return { outcome: 'counted', address, count };

    const entry: BlockEntry = {
      address,
      blockedAt: failure.at,
      expiresAt: failure.at + this.policy.blockMs,
      failures: count,
      reason: `${count} failed SIP attempts within ${Math.round(this.policy.windowMs / 1000)} s`,
      manual: false,
    };
    this.blocks.set(address, entry);
    this.counter.reset(address);
    this.recent.delete(address);
    const alert: SecurityAlert = {
      address,
      failures: count,
      threshold: this.policy.threshold,
      windowMs: this.policy.windowMs,
      kinds: [...recent.kinds],
      services: [...recent.services],
      accountIds: [...recent.accountIds],
      at: failure.at,
      blockedUntil: entry.expiresAt,
    };
    return { outcome: 'blocked', address, entry, alert };
  }

  /** Operator block. Refuses allow-listed and malformed addresses. */
  block(address: string, now: number, options: { reason?: string; durationMs?: number } = {}): BlockEntry {
    const ip = parseIp(address);
    if (!ip) throw new ValidationError(`not an IP address: ${address}`, { address }, 'invalid_ip_address');
    if (this.allow.some((c) => cidrContains(c, ip))) {
      throw new ValidationError(`address ${ip.text} is allow-listed and cannot be blocked`, { address: ip.text }, 'address_allowlisted');
    }
    const durationMs = options.durationMs ?? this.policy.blockMs;
    if (!(durationMs > 0)) throw new ValidationError('block duration must be positive', { durationMs }, 'invalid_block_duration');
    const entry: BlockEntry = {
      address: ip.text, blockedAt: now, expiresAt: now + durationMs, failures: 0, reason: options.reason ?? 'blocked by operator', manual: true,
    };
    this.blocks.set(ip.text, entry);
    this.counter.reset(ip.text);
    return entry;
  }

  /** Removes a block (and the address' failure history); undefined when it was not blocked. */
  unblock(address: string): BlockEntry | undefined {
    const key = parseIp(address)?.text ?? address;
    const entry = this.blocks.get(key);
    this.blocks.delete(key);
    this.counter.reset(key);
    this.recent.delete(key);
    return entry;
  }

  /** Active blocks at `now`, oldest first. */
  blocked(now: number): BlockEntry[] {
    return [...this.blocks.values()].filter((e) => e.expiresAt > now).sort((a, b) => a.blockedAt - b.blockedAt || a.address.localeCompare(b.address));
  }

  /** Drops expired blocks and stale counters; returns the blocks that expired. */
  expire(now: number): BlockEntry[] {
    const expired: BlockEntry[] = [];
    for (const entry of this.blocks.values()) if (entry.expiresAt <= now) expired.push(entry);
    for (const entry of expired) this.blocks.delete(entry.address);
    this.counter.sweep(now);
    for (const key of [...this.recent.keys()]) if (this.counter.count(key, now) === 0) this.recent.delete(key);
    return expired;
  }

  /** When the next block expires, for scheduling; undefined when nothing is blocked. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const e of this.blocks.values()) if (next === undefined || e.expiresAt < next) next = e.expiresAt;
    return next;
  }

  failures(address: string, now: number): number {
    return this.counter.count(parseIp(address)?.text ?? address, now);
  }

  private activeEntry(address: string, now: number): BlockEntry | undefined {
    const entry = this.blocks.get(address);
    return entry && entry.expiresAt > now ? entry : undefined;
  }

  private freshRecent(address: string): Recent {
    const recent: Recent = { kinds: new Set(), services: new Set(), accountIds: new Set() };
    this.recent.set(address, recent);
    return recent;
  }
}
