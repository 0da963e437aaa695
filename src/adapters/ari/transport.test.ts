/**
 * The keep-alive transport against an in-process HTTP server standing in for Asterisk's
 * (what matters here is HTTP behaviour, not ARI semantics).
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
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

function transport(url: string, timeoutMs = 1000, maxSockets = 4, idleSocketMs?: number): KeepAliveTransport {
  const t = new KeepAliveTransport({ nodeId: 'n1', url, username: 'hotline', password: 's3cret', timeoutMs, maxSockets, ...(idleSocketMs !== undefined ? { idleSocketMs } : {}) });
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

/**
 * A raw HTTP/1.1 server that answers keep-alive requests and can close a connection the moment a
 * request arrives on it, as Asterisk does when its session_keep_alive wait ends just as we reuse
 * the socket (main/http.c closes without reading or answering).
 */
async function rawServer(onRequest: (conn: number, nth: number, socket: net.Socket) => 'answer' | 'close' | 'partial'): Promise<{ url: string; connections: () => number; answered: string[]; close(): Promise<void> }> {
  let connections = 0;
  const answered: string[] = [];
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((socket) => {
    const conn = ++connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = '';
    let nth = 0;
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        buf = buf.slice(end + 4 + length);
        const what = onRequest(conn, ++nth, socket);
        if (what === 'close') { socket.destroy(); return; }
        if (what === 'partial') { socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"id"'); socket.destroy(); return; }
        answered.push(`${conn}:${head.split(' ')[0] ?? ''}`);
        socket.write('HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n');
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    connections: () => connections,
    answered,
    close: () => new Promise<void>((r) => { for (const so of sockets) so.destroy(); srv.close(() => r()); }),
  };
}

const dtmf: AriRequest = { resource: 'channels', operation: 'sendDTMF', method: 'POST', path: '/channels/{channelId}/dtmf', pathParams: { channelId: 'c1' }, query: { dtmf: '1' }, response: 'void' };

describe('KeepAliveTransport and idle keep-alive sockets', () => {
  it('closes pooled sockets it has not used for idleSocketMs (below Asterisk\'s session_keep_alive)', async () => {
    const srv = await server((_req, res) => { res.writeHead(204); res.end(); });
    closers.push(() => srv.close());
    const t = transport(srv.url, 1000, 4, 50);
    await t.send(answer);
    expect(t.stats().sockets).toBe(1);
    for (let i = 0; i < 200 && t.stats().sockets !== 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(t.stats().sockets).toBe(0);
  });

  it('repeats a POST once on a fresh socket when the pooled one is closed before any answer', async () => {
    // Connection 1 answers its first request, then closes as the second one arrives.
    const srv = await rawServer((conn, nth) => (conn === 1 && nth === 2 ? 'close' : 'answer'));
    closers.push(() => srv.close());
    const t = transport(srv.url, 1000, 1, 60_000);
    await t.send(dtmf);
    await expect(t.send(dtmf)).resolves.toBeUndefined();
    // Sent twice on the wire, carried out once: the first copy was never read.
    expect(srv.answered).toEqual(['1:POST', '2:POST']);
    expect(srv.connections()).toBe(2);
    expect(t.stats()).toMatchObject({ retried: 1, inFlight: 0 });
  });

  it('does not repeat a request whose fresh socket fails, nor one whose answer had begun', async () => {
    const refuses = await rawServer(() => 'close');
    closers.push(() => refuses.close());
    const err = await transport(refuses.url).send(dtmf).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ari_unavailable' });
    expect(refuses.connections()).toBe(1);

    const cut = await rawServer((conn, nth) => (conn === 1 && nth === 2 ? 'partial' : 'answer'));
    closers.push(() => cut.close());
    const t = transport(cut.url, 1000, 1, 60_000);
    await t.send(dtmf);
    await expect(t.send(dtmf)).rejects.toBeInstanceOf(Error);
    expect(cut.connections()).toBe(1);
    expect(t.stats().retried).toBe(0);
  });
});
