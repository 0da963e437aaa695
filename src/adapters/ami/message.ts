/**
 * Turns asterisk-manager's parsed objects into our typed messages, undoing its lossy bits:
 * it lower-cases keys (kept: AMI headers are case-insensitive), turns repeated keys into
 * arrays (joined with '\n' here), and splits `Variable`/`ChanVariable` on '=' into objects
 * (rebuilt to `name=value`, or `name` alone when nothing followed the '=').
 */
import type { AmiEvent, AmiFields, AmiResponse } from './types.js';

type Raw = Record<string, unknown>;

function flatten(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map((v) => flatten(v) ?? '').join('\n');
  if (value && typeof value === 'object') {
    return Object.entries(value as Raw).map(([k, v]) => {
      const text = flatten(v) ?? '';
      return text === '' ? k : `${k}=${text}`;
    }).join('\n');
  }
  return undefined;
}

export function toFields(raw: Raw): AmiFields {
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    const text = flatten(value);
    if (text !== undefined) fields[key.toLowerCase()] = text;
  }
  return fields;
}

export function toEvent(raw: Raw, receivedAt: Date): AmiEvent | undefined {
  const name = flatten(raw.event)?.split('\n')[0];
  if (!name) return undefined;
  const fields = toFields(raw);
  const actionId = fields.actionid;
  return actionId ? { name, fields, actionId, receivedAt } : { name, fields, receivedAt };
}

const HEADER_LINE = /^(response|privilege|actionid|message):/i;

/** Command output: `Output:` headers (current Asterisk) or a legacy `Response: Follows` body. */
function outputOf(raw: Raw): string[] {
  const out = raw.output;
  if (typeof out === 'string') return out.split(/\r?\n/);
  if (Array.isArray(out)) return out.map((line) => flatten(line) ?? '');
  if (typeof raw.content === 'string') {
    const lines = raw.content.split(/\r?\n/);
    while (lines.length > 0 && HEADER_LINE.test(lines[0] ?? '')) lines.shift();
    if (lines[lines.length - 1] === '--END COMMAND--') lines.pop();
    return lines;
  }
  return [];
}

export function toResponse(raw: Raw, events: readonly AmiEvent[] = []): AmiResponse {
  const fields = toFields(raw);
  return { response: fields.response ?? '', message: fields.message, fields, output: outputOf(raw), events };
}
