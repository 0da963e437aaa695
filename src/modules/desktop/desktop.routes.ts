/**
 * GET /api/v1/desktop/ws (WebSocket) and GET /api/v1/desktop/schema. The WebSocket route only
 * adapts `ws` to the session's DesktopSocket; it authenticates in the session (a Bearer header
 * on the upgrade, or the hello's token), not in the HTTP auth hook, so that a browser, which
 * cannot set headers on a WebSocket, gets the same close codes as any other client.
 */
import websocket from '@fastify/websocket';
import { Type } from 'typebox';
import type { RawData, WebSocket } from 'ws';
import type { App } from '../../http/types.js';
import type { DesktopGateway } from './desktop.gateway.js';
import { schemaDocument } from './desktop.schemas.js';
import type { UpgradeAuth } from './desktop.session.js';

/** Frames above this are refused by `ws` itself (close 1009); up to it the session answers message_too_large. */
const MAX_FRAME_BYTES = 64 * 1024;

function text(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

export function upgradeAuth(headers: Record<string, string | string[] | undefined>): UpgradeAuth {
  const header = headers.authorization;
  const apiKey = headers['x-api-key'];
  const hasKey = typeof apiKey === 'string' && apiKey.length > 0;
  if (typeof header === 'string' && header.length > 0) {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    return m ? { bearer: m[1]!, apiKey: hasKey, malformed: false } : { bearer: undefined, apiKey: hasKey, malformed: true };
  }
  return { bearer: undefined, apiKey: hasKey, malformed: false };
}

export async function desktopRoutes(app: App, opts: { gateway: DesktopGateway }): Promise<void> {
  const { gateway } = opts;
  const schema = schemaDocument();
  await app.register(websocket, {
    options: { maxPayload: MAX_FRAME_BYTES },
    // At shutdown desktops are told why (1001) and reconnect to another instance.
    preClose(done) {
      gateway.closeAll();
      const wss = this.websocketServer;
      const deadline = setTimeout(() => {
        for (const c of wss.clients) c.terminate();
      }, 1000);
      deadline.unref();
      wss.close(() => {
        clearTimeout(deadline);
        done();
      });
      for (const c of wss.clients) if (c.readyState === c.OPEN) c.close(1001, 'server_shutting_down');
    },
  });

  app.get('/desktop/schema', {
    schema: {
      tags: ['desktop'],
      summary: 'JSON Schemas of every desktop WebSocket message (protocol version 1)',
      response: { 200: Type.Object({ version: Type.Integer() }, { additionalProperties: true }) },
    },
  }, async () => schema);

  app.get('/desktop/ws', { websocket: true, schema: { tags: ['desktop'], summary: 'Agent desktop and wallboard WebSocket' } }, (socket: WebSocket, req) => {
    const session = gateway.connect({
      send: (t) => socket.send(t),
      get bufferedAmount() {
        return socket.bufferedAmount;
      },
      close: (code, reason) => socket.close(code, reason),
      ping: () => socket.ping(),
      terminate: () => socket.terminate(),
    }, upgradeAuth(req.headers));
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) session.onBinary();
      else session.onMessage(text(data));
    });
    socket.on('close', () => session.onClose());
  });
}
