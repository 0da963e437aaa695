/**
 * Registration state of PJSIP endpoints (agent phones, trunks), built from AMI:
 * the list actions on (re)connect (EndpointList, ContactList, OutboundRegistrationDetail) and
 * the live events ContactStatus, PeerStatus, DeviceStateChange and Registry. No I/O: feed it
 * events, get back the changes to publish.
 *
 * `online` = some contact is not Unreachable, or the outbound registration is Registered, or
 * (when no contact is known) the last endpoint-level hint (PeerStatus, device state) said so.
 */
import type {
  AmiEvent, ContactInfo, ContactState, DeviceState, EndpointStatus, EndpointStatusChange, OutboundRegistration, RegistrationState,
} from './types.js';

interface EndpointRecord {
  readonly endpoint: string;
  readonly contacts: Map<string, ContactInfo>;
  deviceState: DeviceState;
  /** Endpoint-level hint from PeerStatus / DeviceStateChange; undefined = none yet. */
  peerOnline: boolean | undefined;
  registration: RegistrationState | undefined;
  online: boolean;
  since: Date;
}

export interface SeedSnapshot {
  readonly endpoints: readonly AmiEvent[];
  readonly contacts: readonly AmiEvent[];
  readonly registrations: readonly AmiEvent[];
}

const DEVICE_STATES: Record<string, DeviceState> = {
  UNKNOWN: 'unknown', NOTINUSE: 'not_inuse', INUSE: 'inuse', BUSY: 'busy', INVALID: 'invalid', UNAVAILABLE: 'unavailable',
  RINGING: 'ringing', RINGINUSE: 'ringinuse', ONHOLD: 'onhold',
};

/** Both spellings: DeviceStateChange says `NOT_INUSE`, EndpointList says `Not in use`. */
export function parseDeviceState(text: string | undefined): DeviceState {
  return DEVICE_STATES[(text ?? '').toUpperCase().replace(/[^A-Z]/g, '')] ?? 'unknown';
}

/** ContactStatus / ContactList status; undefined for `Removed`. */
export function parseContactState(text: string | undefined): ContactState | 'removed' {
  switch ((text ?? '').toLowerCase()) {
    case 'reachable': case 'avail': return 'reachable';
    case 'unreachable': case 'unavail': return 'unreachable';
    case 'created': return 'created';
    case 'updated': return 'updated';
    case 'removed': return 'removed';
    case 'nonqualified': case 'unqualified': return 'nonqualified';
    default: return 'unknown';
  }
}

export function parseRegistrationState(text: string | undefined): RegistrationState {
  const s = (text ?? '').toLowerCase();
  return s === 'registered' || s === 'unregistered' || s === 'rejected' || s === 'failed' ? s : 'unknown';
}

/** `sip:1001@192.0.2.10:5062;ob` → `192.0.2.10:5062` (IPv6 hosts keep their brackets). */
export function addressFromUri(uri: string): string | undefined {
  const m = /^sips?:(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?/i.exec(uri.trim().replace(/^<|>$/g, ''));
  if (!m?.[1]) return undefined;
  return m[2] ? `${m[1]}:${m[2]}` : m[1];
}

function rttMs(usec: string | undefined): number | undefined {
  if (usec === undefined || !/^\d+$/.test(usec)) return undefined;
  const n = Number(usec);
  return n > 0 ? Math.round(n / 100) / 10 : undefined;
}

function viaAddress(fields: Readonly<Record<string, string>>): string | undefined {
  if (fields.viaaddress) return fields.viaaddress;
  if (fields.viaaddr) return fields.viaport && fields.viaport !== '0' ? `${fields.viaaddr}:${fields.viaport}` : fields.viaaddr;
  return undefined;
}

function pjsipName(resource: string | undefined): string | undefined {
  const m = /^PJSIP\/(.+)$/i.exec(resource ?? '');
  return m?.[1];
}

function sameContacts(a: readonly ContactInfo[], b: readonly ContactInfo[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((c, i) => c.uri === b[i]?.uri && c.address === b[i]?.address && c.status === b[i]?.status);
}

export class EndpointRegistry {
  private readonly records = new Map<string, EndpointRecord>();
  private readonly aorOwner = new Map<string, string>();
  private readonly outbound = new Map<string, OutboundRegistration>();

  list(): EndpointStatus[] {
    return [...this.records.values()].map((r) => this.view(r)).sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  }

  get(endpoint: string): EndpointStatus | undefined {
    const r = this.records.get(endpoint);
    return r ? this.view(r) : undefined;
  }

  registrations(): OutboundRegistration[] {
    return [...this.outbound.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Replaces everything with a fresh listing; endpoints no longer listed go offline and are dropped. */
  seed(snapshot: SeedSnapshot, now: Date): EndpointStatusChange[] {
    const before = new Map([...this.records].map(([k, r]) => [k, this.view(r)]));
    const previousRecords = new Map(this.records);
    this.records.clear();
    this.aorOwner.clear();
    this.outbound.clear();
    for (const e of snapshot.endpoints) {
      const name = e.fields.objectname;
      if (!name) continue;
      const r = this.record(name, now, previousRecords.get(name));
      r.contacts.clear();
      r.registration = undefined;
      r.deviceState = parseDeviceState(e.fields.devicestate);
      r.peerOnline = this.deviceHint(r.deviceState) ?? undefined;
      for (const aor of (e.fields.aor ?? '').split(',').map((s) => s.trim()).filter(Boolean)) this.aorOwner.set(aor, name);
    }
    for (const c of snapshot.contacts) {
      const aor = (c.fields.objectname ?? '').split(';@')[0] ?? '';
      const endpoint = this.owner(c.fields.endpoint, aor);
      const uri = c.fields.uri;
      if (!endpoint || !uri) continue;
      const status = parseContactState(c.fields.status);
      if (status === 'removed') continue;
      this.record(endpoint, now, previousRecords.get(endpoint)).contacts.set(uri, this.contact(uri, status, c.fields));
    }
    for (const g of snapshot.registrations) {
      const name = g.fields.objectname;
      if (!name || g.name !== 'OutboundRegistrationDetail') continue;
      const reg: OutboundRegistration = {
        name, endpoint: g.fields.endpoint || undefined, serverUri: g.fields.serveruri ?? '', clientUri: g.fields.clienturi ?? '',
        status: parseRegistrationState(g.fields.status), since: now,
      };
      this.outbound.set(name, reg);
      if (reg.endpoint) this.record(reg.endpoint, now, previousRecords.get(reg.endpoint)).registration = reg.status;
    }
    const changes: EndpointStatusChange[] = [];
    for (const r of this.records.values()) this.settle(r, now, before.get(r.endpoint), changes);
    for (const [name, prev] of before) {
      if (this.records.has(name)) continue;
      const current: EndpointStatus = { ...prev, online: false, contacts: [], since: prev.online ? now : prev.since };
      changes.push({ endpoint: name, previous: prev, current, onlineChanged: prev.online, contactsChanged: prev.contacts.length > 0, deviceStateChanged: false });
    }
    return changes;
  }

  /** Applies one live event; returns the resulting changes (usually zero or one). */
  apply(event: AmiEvent, now: Date): EndpointStatusChange[] {
    const f = event.fields;
    switch (event.name) {
      case 'ContactStatus': {
        const uri = f.uri;
        const endpoint = this.owner(f.endpointname, f.aor ?? '');
        if (!uri || !endpoint) return [];
        return this.update(endpoint, now, (r) => {
          // Contact-level news supersedes an earlier endpoint-level hint.
          r.peerOnline = undefined;
          const status = parseContactState(f.contactstatus);
          if (status === 'removed') {
            r.contacts.delete(uri);
            return;
          }
          const known = r.contacts.get(uri);
          // Created/Updated say "registered", not "qualified": keep a known qualify result.
          const keep = (status === 'updated' || status === 'created') && known && known.status !== 'created' && known.status !== 'updated';
          r.contacts.set(uri, this.contact(uri, keep ? known.status : status, f, known));
        });
      }
      case 'PeerStatus': {
        const endpoint = pjsipName(f.peer);
        if (!endpoint || (f.channeltype && f.channeltype.toUpperCase() !== 'PJSIP')) return [];
        const s = (f.peerstatus ?? '').toLowerCase();
        const hint = s === 'reachable' || s === 'registered' || s === 'lagged' ? true
          : s === 'unreachable' || s === 'unregistered' || s === 'rejected' ? false : undefined;
        if (hint === undefined) return [];
        return this.update(endpoint, now, (r) => { r.peerOnline = hint; });
      }
      case 'DeviceStateChange': {
        const endpoint = pjsipName(f.device);
        if (!endpoint) return [];
        const state = parseDeviceState(f.state);
        return this.update(endpoint, now, (r) => {
          r.deviceState = state;
          const hint = this.deviceHint(state);
          if (hint !== undefined) r.peerOnline = hint;
        });
      }
      case 'Registry': {
        if (f.channeltype && f.channeltype.toUpperCase() !== 'PJSIP') return [];
        const status = parseRegistrationState(f.status);
        const match = [...this.outbound.values()].find((g) => g.clientUri === f.username && g.serverUri === f.domain)
          ?? [...this.outbound.values()].find((g) => g.serverUri === f.domain || g.clientUri === f.username);
        const name = match?.name ?? `${f.username ?? ''}@${f.domain ?? ''}`;
        const reg: OutboundRegistration = {
          name, endpoint: match?.endpoint, serverUri: f.domain ?? match?.serverUri ?? '', clientUri: f.username ?? match?.clientUri ?? '',
          status, since: match?.status === status ? match.since : now,
        };
        this.outbound.set(name, reg);
        return reg.endpoint ? this.update(reg.endpoint, now, (r) => { r.registration = status; }) : [];
      }
      default:
        return [];
    }
  }

  private deviceHint(state: DeviceState): boolean | undefined {
    if (state === 'unavailable') return false;
    return state === 'unknown' || state === 'invalid' ? undefined : true;
  }

  private owner(endpointName: string | undefined, aor: string): string | undefined {
    if (endpointName) return endpointName;
    return this.aorOwner.get(aor) ?? (aor || undefined);
  }

  private contact(uri: string, status: ContactState, f: Readonly<Record<string, string>>, known?: ContactInfo): ContactInfo {
    const rtt = rttMs(f.roundtripusec) ?? (status === 'reachable' ? known?.rttMs : undefined);
    const userAgent = f.useragent || known?.userAgent;
    return {
      uri,
      address: viaAddress(f) ?? known?.address ?? addressFromUri(uri),
      status,
      ...(rtt !== undefined ? { rttMs: rtt } : {}),
      ...(userAgent ? { userAgent } : {}),
    };
  }

  private record(endpoint: string, now: Date, previous?: EndpointRecord): EndpointRecord {
    let r = this.records.get(endpoint);
    if (!r) {
      r = previous ?? { endpoint, contacts: new Map(), deviceState: 'unknown', peerOnline: undefined, registration: undefined, online: false, since: now };
      this.records.set(endpoint, r);
    }
    return r;
  }

  private update(endpoint: string, now: Date, mutate: (r: EndpointRecord) => void): EndpointStatusChange[] {
    const existing = this.records.get(endpoint);
    const before = existing ? this.view(existing) : undefined;
    const r = this.record(endpoint, now);
    mutate(r);
    const changes: EndpointStatusChange[] = [];
    this.settle(r, now, before, changes);
    return changes;
  }

  private settle(r: EndpointRecord, now: Date, before: EndpointStatus | undefined, out: EndpointStatusChange[]): void {
    const contacts = [...r.contacts.values()];
    const online = contacts.some((c) => c.status !== 'unreachable') || r.registration === 'registered' || (contacts.length === 0 && r.peerOnline === true);
    if (before === undefined || before.online !== online) r.since = now;
    r.online = online;
    const current = this.view(r);
    const onlineChanged = before === undefined || before.online !== current.online;
    const contactsChanged = before === undefined ? current.contacts.length > 0 : !sameContacts(before.contacts, current.contacts);
    const deviceStateChanged = before !== undefined && before.deviceState !== current.deviceState;
    if (onlineChanged || contactsChanged || deviceStateChanged) {
      out.push({ endpoint: r.endpoint, previous: before, current, onlineChanged, contactsChanged, deviceStateChanged });
    }
  }

  private view(r: EndpointRecord): EndpointStatus {
    const contacts = [...r.contacts.values()].sort((a, b) => a.uri.localeCompare(b.uri));
    return {
      endpoint: r.endpoint, online: r.online, contacts, deviceState: r.deviceState, since: r.since,
      ...(r.registration ? { registration: r.registration } : {}),
    };
  }
}
