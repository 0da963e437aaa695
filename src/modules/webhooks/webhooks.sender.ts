/**
 * The HTTP side of deliveries, over Node's fetch (undici keeps connections alive per origin).
 * Redirects are not followed (a webhook is registered for one URL), the whole exchange has a
 * deadline, and only the start of a response body is read for the log.
 */
import type { WebhookSender } from './webhooks.service.js';

const BODY_LOG_BYTES = 2000;

export const fetchSender: WebhookSender = {
  async send({ url, headers, body, timeoutMs }) {
    const signal = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal });
    } catch (err) {
      throw new Error(describe(err, timeoutMs), { cause: err });
    }
    let text = '';
    try {
      text = await readStart(res, BODY_LOG_BYTES);
    } catch {
      // The status is what counts; a body cut off by the deadline is not a failure.
    }
    return { status: res.status, body: text, retryAfter: res.headers.get('retry-after') };
  },
};

async function readStart(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Leaving the loop early cancels the stream: a huge answer is not downloaded.
  for await (const value of res.body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(value);
    size += value.byteLength;
    if (size >= maxBytes) break;
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, maxBytes));
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no response within ${timeoutMs} ms`;
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message ?? 'request failed'}: ${cause}` : (e.message ?? 'request failed');
}
