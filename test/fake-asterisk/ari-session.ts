// Test helper: an unmodified ari-client session against the fake, recording every event the
// client parsed, with a way to await the next matching one.
import ariClient, { type Client } from 'ari-client';
import type { AriEvent } from './types.js';

export interface AriSession {
  client: Client;
  /** Events as ari-client emitted them (raw JSON objects), in arrival order. */
  received: AriEvent[];
  /** First received event (past or future) matching `pred`, skipping the first `from` events. */
  waitFor(pred: (e: AriEvent) => boolean, o?: { timeoutMs?: number; from?: number }): Promise<AriEvent>;
  close(): void;
}

export async function connectAri(url: string, username: string, password: string, app: string | string[] = 'hotline'): Promise<AriSession> {
  const client = await ariClient.connect(url, username, password);
  const received: AriEvent[] = [];
  const waiters = new Set<() => void>();
  // '*' is ari-client's catch-all event; its typings only list concrete event names.
  (client as unknown as NodeJS.EventEmitter).on('*', (e: AriEvent) => {
    received.push(e);
    for (const w of [...waiters]) w();
  });
  await client.start(app);
  return {
    client,
    received,
    waitFor(pred, o = {}) {
      const timeoutMs = o.timeoutMs ?? 5000;
      const from = o.from ?? 0;
      return new Promise((resolve, reject) => {
        let scanned = from;
        const check = (): boolean => {
          for (; scanned < received.length; scanned++) {
            const e = received[scanned]!;
            if (pred(e)) {
              resolve(e);
              return true;
            }
          }
          return false;
        };
        if (check()) return;
        const w = (): void => {
          if (check()) {
            waiters.delete(w);
            clearTimeout(timer);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`ari session: no matching event within ${timeoutMs} ms; last: ${received.slice(-5).map((e) => String(e.type)).join(', ')}`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    close() {
      client.stop();
    },
  };
}

/** `channel.id` of an event, if any. */
export function channelIdOf(e: AriEvent): string | undefined {
  const ch = e.channel as { id?: string } | undefined;
  return ch?.id;
}
