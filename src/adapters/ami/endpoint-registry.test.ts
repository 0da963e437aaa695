import { describe, expect, it } from 'vitest';
import { EndpointRegistry, addressFromUri, parseContactState, parseDeviceState } from './endpoint-registry.js';
import type { AmiEvent } from './types.js';

const t0 = new Date(1_000);
const t1 = new Date(2_000);
const ev = (name: string, fields: Record<string, string>): AmiEvent => ({
  name, fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.toLowerCase(), v])), receivedAt: t0,
});

describe('parsers', () => {
  it('reads both device-state spellings', () => {
    expect(parseDeviceState('NOT_INUSE')).toBe('not_inuse');
    expect(parseDeviceState('Not in use')).toBe('not_inuse');
    expect(parseDeviceState('Ring+Inuse')).toBe('ringinuse');
    expect(parseDeviceState('On Hold')).toBe('onhold');
    expect(parseDeviceState('weird')).toBe('unknown');
  });
  it('maps contact states', () => {
    expect(['Reachable', 'Unreachable', 'Created', 'Removed', 'NonQualified', 'Unknown', 'Updated'].map(parseContactState))
      .toEqual(['reachable', 'unreachable', 'created', 'removed', 'nonqualified', 'unknown', 'updated']);
  });
  it('extracts host:port from contact URIs', () => {
    expect(addressFromUri('sip:1001@192.0.2.10:5062;ob')).toBe('192.0.2.10:5062');
    expect(addressFromUri('<sips:1001@[2001:db8::5]:5061;transport=tls>')).toBe('[2001:db8::5]:5061');
    expect(addressFromUri('sip:carrier.example.net')).toBe('carrier.example.net');
    expect(addressFromUri('tel:+861012345')).toBeUndefined();
  });
});

describe('EndpointRegistry', () => {
  const seeded = (): EndpointRegistry => {
    const r = new EndpointRegistry();
    r.seed({
      endpoints: [ev('EndpointList', { ObjectName: 'agent1001', Aor: 'agent1001', DeviceState: 'Unavailable' }), ev('EndpointList', { ObjectName: 'trunk', Aor: 'trunk-aor', DeviceState: 'Not in use' })],
      contacts: [ev('ContactList', { ObjectName: 'trunk-aor;@abc', Endpoint: '', Uri: 'sip:carrier.example.net:5060', Status: 'Unreachable', RoundtripUsec: 'N/A' })],
      registrations: [ev('AuthDetail', { ObjectName: 'x' })],
    }, t0);
    return r;
  };

  it('seeds from list events, resolving contacts through AORs', () => {
    const r = seeded();
    expect(r.get('agent1001')).toMatchObject({ online: false, contacts: [], deviceState: 'unavailable' });
    // A known contact that is unreachable beats the "Not in use" device hint.
    expect(r.get('trunk')).toMatchObject({ online: false, contacts: [{ address: 'carrier.example.net:5060', status: 'unreachable' }] });
    expect(r.registrations()).toEqual([]);
  });

  it('emits a change only when something a consumer cares about moved', () => {
    const r = seeded();
    const up = r.apply(ev('ContactStatus', { URI: 'sip:agent1001@192.0.2.10:5062', ContactStatus: 'Created', AOR: 'agent1001', EndpointName: 'agent1001', RoundtripUsec: '0' }), t1);
    expect(up).toHaveLength(1);
    expect(up[0]).toMatchObject({ onlineChanged: true, contactsChanged: true, current: { online: true, since: t1 } });
    // The qualify result arrives: status changes, online does not.
    const q = r.apply(ev('ContactStatus', { URI: 'sip:agent1001@192.0.2.10:5062', ContactStatus: 'Reachable', AOR: 'agent1001', EndpointName: 'agent1001', RoundtripUsec: '800' }), t1);
    expect(q[0]).toMatchObject({ onlineChanged: false, contactsChanged: true });
    // A re-REGISTER (Updated) keeps the qualify result and changes nothing visible.
    expect(r.apply(ev('ContactStatus', { URI: 'sip:agent1001@192.0.2.10:5062', ContactStatus: 'Updated', AOR: 'agent1001', EndpointName: 'agent1001', RoundtripUsec: '0' }), t1)).toEqual([]);
    expect(r.get('agent1001')?.contacts[0]).toMatchObject({ status: 'reachable', rttMs: 0.8 });
    // Device state only flags deviceStateChanged.
    const busy = r.apply(ev('DeviceStateChange', { Device: 'PJSIP/agent1001', State: 'INUSE' }), t1);
    expect(busy[0]).toMatchObject({ onlineChanged: false, contactsChanged: false, deviceStateChanged: true });
    expect(r.apply(ev('DeviceStateChange', { Device: 'Queue:hotline-agents_avail', State: 'INUSE' }), t1)).toEqual([]);
  });

  it('re-seeding drops endpoints that are gone and reports them offline', () => {
    const r = seeded();
    r.apply(ev('PeerStatus', { ChannelType: 'PJSIP', Peer: 'PJSIP/agent1001', PeerStatus: 'Reachable' }), t1);
    expect(r.get('agent1001')?.online).toBe(true);
    const changes = r.seed({ endpoints: [ev('EndpointList', { ObjectName: 'trunk', Aor: 'trunk-aor', DeviceState: 'Not in use' })], contacts: [], registrations: [] }, t1);
    expect(r.get('agent1001')).toBeUndefined();
    expect(changes.find((c) => c.endpoint === 'agent1001')).toMatchObject({ onlineChanged: true, current: { online: false } });
    expect(r.get('trunk')?.online).toBe(true);
  });

  it('follows outbound registrations by Registry events', () => {
    const r = new EndpointRegistry();
    r.seed({
      endpoints: [ev('EndpointList', { ObjectName: 'trunk', Aor: 'trunk', DeviceState: 'Unavailable' })],
      contacts: [],
      registrations: [ev('OutboundRegistrationDetail', { ObjectName: 'reg', Endpoint: 'trunk', ServerUri: 'sip:pbx.example', ClientUri: 'sip:12345@pbx.example', Status: 'Unregistered' })],
    }, t0);
    expect(r.get('trunk')).toMatchObject({ online: false, registration: 'unregistered' });
    const c = r.apply(ev('Registry', { ChannelType: 'PJSIP', Username: 'sip:12345@pbx.example', Domain: 'sip:pbx.example', Status: 'Registered' }), t1);
    expect(c[0]).toMatchObject({ onlineChanged: true, current: { online: true, registration: 'registered' } });
    expect(r.registrations()[0]).toMatchObject({ name: 'reg', status: 'registered', since: t1 });
    // Unknown registrations are still recorded (no endpoint to update).
    expect(r.apply(ev('Registry', { ChannelType: 'PJSIP', Username: 'sip:a@b', Domain: 'sip:b', Status: 'Failed' }), t1)).toEqual([]);
    expect(r.registrations().map((g) => g.name)).toEqual(['reg', 'sip:a@b@sip:b']);
  });
});
