import { Type } from 'typebox';
import { principalOf } from '../../http/auth.js';
import { errorResponses } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import type { TelephonyService } from './telephony.service.js';

const Contact = Type.Object({ uri: Type.String(), address: Type.Union([Type.String(), Type.Null()]), status: Type.String(), rttMs: Type.Optional(Type.Number()) }, { additionalProperties: true });
const Endpoint = Type.Object({
  endpoint: Type.String(), online: Type.Boolean(), contacts: Type.Array(Contact), deviceState: Type.String(),
  registration: Type.Optional(Type.String()), since: Type.String({ format: 'date-time' }),
});
const Registration = Type.Object({ name: Type.String(), endpoint: Type.Union([Type.String(), Type.Null()]), serverUri: Type.String(), clientUri: Type.String(), status: Type.String(), since: Type.String({ format: 'date-time' }) });
const Block = Type.Object({
  address: Type.String(), blockedAt: Type.String({ format: 'date-time' }), expiresAt: Type.String({ format: 'date-time' }),
  failures: Type.Integer(), reason: Type.String(), manual: Type.Boolean(),
});
const Address = Type.String({ minLength: 2, maxLength: 45, pattern: '^[0-9A-Fa-f:.]+$', description: 'IPv4 or IPv6 address' });

const toBlock = (b: { address: string; blockedAt: number; expiresAt: number; failures: number; reason: string; manual: boolean }) => ({
  ...b, blockedAt: new Date(b.blockedAt).toISOString(), expiresAt: new Date(b.expiresAt).toISOString(),
});

export async function telephonyRoutes(app: App, opts: { telephony: TelephonyService }): Promise<void> {
  const { telephony } = opts;
  app.get('/telephony/endpoints', {
    schema: { tags: ['telephony'], summary: 'Registration state of agent phones and trunks (AMI)', response: { 200: Type.Object({ items: Type.Array(Endpoint) }), ...errorResponses(503) } },
    config: { auth: { roles: ['supervisor', 'operator', 'admin'] } },
  }, async () => ({
    items: telephony.endpoints().map((e) => ({
      ...e, contacts: e.contacts.map((c) => ({ ...c, address: c.address ?? null })), since: e.since.toISOString(),
      ...(e.registration ? { registration: e.registration } : {}),
    })),
  }));

  app.get('/telephony/registrations', {
    schema: { tags: ['telephony'], summary: 'Outbound trunk registrations (AMI)', response: { 200: Type.Object({ items: Type.Array(Registration) }), ...errorResponses(503) } },
    config: { auth: { roles: ['supervisor', 'operator', 'admin'] } },
  }, async () => ({ items: telephony.registrations().map((r) => ({ ...r, endpoint: r.endpoint ?? null, since: r.since.toISOString() })) }));

  app.get('/telephony/sip-blocks', {
    schema: { tags: ['telephony'], summary: 'Addresses blocked after repeated SIP authentication failures', response: { 200: Type.Object({ items: Type.Array(Block) }), ...errorResponses(503) } },
    config: { auth: { roles: ['operator', 'admin'] } },
  }, async () => ({ items: telephony.blocks().map(toBlock) }));

  app.post('/telephony/sip-blocks', {
    schema: {
      tags: ['telephony'], summary: 'Block an address by hand',
      body: Type.Object({ address: Address, reason: Type.String({ minLength: 1, maxLength: 200 }), durationSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 86_400 })) }, { additionalProperties: false }),
      response: { 201: Block, ...errorResponses(409, 503) },
    },
    config: { auth: { roles: ['operator', 'admin'] }, audit: { action: 'sip_block.create', resource: 'sip_block' } },
  }, async (req, reply) => reply.code(201).send(toBlock(await telephony.block(req.body.address, req.body.reason, req.body.durationSeconds, principalOf(req)))));

  app.delete('/telephony/sip-blocks/:address', {
    schema: { tags: ['telephony'], summary: 'Lift a block', params: Type.Object({ address: Address }), response: { 204: Type.Null(), ...errorResponses(404, 503) } },
    config: { auth: { roles: ['operator', 'admin'] }, audit: { action: 'sip_block.delete', resource: 'sip_block' } },
  }, async (req, reply) => {
    await telephony.unblock(req.params.address, principalOf(req));
    return reply.code(204).send(null);
  });
}
