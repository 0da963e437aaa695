/**
 * The keep-alive transport against an in-process HTTP server standing in for Asterisk's
 * (what matters here is HTTP behaviour, not ARI semantics).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TimeoutError, UnavailableError } from '../../domain/errors.js';
import { AriHttpError } from './errors.js';
import { fillPath, queryString } from './transport.js';
import type { AriRequest } from './transport.js';
import { KeepAliveTransport } from './transport-keepalive.js';

interface Seen { method: string; url: string; auth: string | undefined; type: string | undefined; body: string; socket: number }

async function server(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const sockets = new Map<unknown, number>();
  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      if (!sockets.has(req.socket)) sockets.set(req.socket, sockets.size);
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, type: req.headers['content-type'], body, socket: sockets.get(req.socket) ?? -1 });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }),
  };
}

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

function transport(url: string, timeoutMs = 1000, maxSockets = 4): KeepAliveTransport {
  const t = new KeepAliveTransport({ nodeId: 'n1', url, username: 'hotline', password: 's3cret', timeoutMs, maxSockets });
  closers.push(() => t.close());
  return t;
}

const answer: AriRequest = { resource: 'channels', operation: 'answer', method: 'POST', path: '/channels/{channelId}/answer', pathParams: { channelId: '1795458513.1' }, response: 'void' };

describe('request building', () => {
  it('fills and encodes path parameters, and refuses a missing one', () => {
    expect(fillPath({ ...answer, pathParams: { channelId: 'a/b c' } })).toBe('/channels/a%2Fb%20c/answer');
    expect(() => fillPath({ ...answer, pathParams: {} })).toThrow(/missing path parameter channelId/);
  });

  it('joins repeated values with commas and drops undefined ones', () => {
    expect(queryString({ media: ['sound:a', 'digits:12'], beep: false, timeout: 20, lang: undefined })).toBe('?media=sound%3Aa%2Cdigits%3A12&beep=false&timeout=20');
    expect(queryString({})).toBe('');
  });
});

describe('KeepAliveTransport', () => {
  it('sends basic auth, query and JSON body, and reuses a bounded set of connections', async () => {
    const srv = await server((_req, res) => { res.writeHead(204); res.end(); });
    closers.push(() => srv.close());
    const t = transport(srv.url, 1000, 4);
    await t.send({ resource: 'channels', operation: 'originate', method: 'POST', path: '/channels', query: { endpoint: 'PJSIP/agent1001', timeout: 20 }, body: { variables: { CASE_ID: 'X' } }, response: 'void' });
    expect(srv.seen[0]).toMatchObject({
      method: 'POST', url: '/ari/channels?endpoint=PJSIP%2Fagent1001&timeout=20', auth: `Basic ${Buffer.from('hotline:s3cret').toString('base64')}`,
      type: 'application/json', body: '{"variables":{"CASE_ID":"X"}}',
    });
    await Promise.all(Array.from({ length: 50 }, () => t.send(answer)));
    expect(new Set(srv.seen.map((s) => s.socket)).size).toBeLessThanOrEqual(4);
    expect(t.stats()).toMatchObject({ inFlight: 0 });
    expect(t.stats().sockets).toBeLessThanOrEqual(4);
  });

  it('turns 4xx into AriHttpError with Asterisk\'s status and message', async () => {
    const srv = await server((_req, res) => { res.writeHead(404, { 'content-type': 'application/json' }); res.end('{"message":"Channel not found"}'); });
    closers.push(() => srv.close());
    const err = await transport(srv.url).send({ ...answer, method: 'GET', operation: 'get', path: '/channels/{channelId}', response: 'json' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AriHttpError);
    expect(err).toMatchObject({ ariStatus: 404, ariMessage: 'Channel not found', code: 'ari_not_found', operation: 'channels.get' });
  });

  it('parses JSON, returns Buffers for binary and undefined for 204', async () => {
    const bytes = Buffer.from([0x52, 0x49, 0x46, 0x46, 0xff, 0x00, 0x80, 0xfe]);
    const srv = await server((req, res) => {
      if (req.url?.endsWith('/file')) { res.writeHead(200, { 'content-type': 'audio/wav' }); res.end(bytes); return; }
      if (req.method === 'GET') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('[{"id":"c1"}]'); return; }
      res.writeHead(204); res.end();
    });
    closers.push(() => srv.close());
    const t = transport(srv.url);
    await expect(t.send({ resource: 'channels', operation: 'list', method: 'GET', path: '/channels', response: 'json' })).resolves.toEqual([{ id: 'c1' }]);
    const file = await t.send({ resource: 'recordings', operation: 'getStoredFile', method: 'GET', path: '/recordings/stored/{recordingName}/file', pathParams: { recordingName: 'r' }, response: 'binary' });
    expect(Buffer.isBuffer(file) && file.equals(bytes)).toBe(true);
    await expect(t.send(answer)).resolves.toBeUndefined();
  });

  it('fails at the deadline with ari_timeout and frees the socket', async () => {
    const srv = await server(() => { /* never answers */ });
    closers.push(() => srv.close());
    const t = transport(srv.url, 100);
    const t0 = Date.now();
    const err = await t.send(answer).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'ari_timeout' });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(t.stats().inFlight).toBe(0);
    // The destroyed socket leaves the pool on its 'close' event, a moment later.
    for (let i = 0; i < 100 && t.stats().sockets !== 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(t.stats().sockets).toBe(0);
  });

  it('fails with ari_unavailable when the connection is refused', async () => {
    const srv = await server(() => {});
    const url = srv.url;
    await srv.close();
    const err = await transport(url).send(answer).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ code: 'ari_unavailable' });
  });
});
