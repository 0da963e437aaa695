// Loader and normaliser for the recorded ARI traces (../shared/ari-traces/*.jsonl).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AriEvent } from './types.js';

export interface RestRecord {
  seq: number;
  kind: 'rest';
  method: string;
  path: string;
  query: Record<string, string>;
  reqBody?: unknown;
  status: number;
  body: unknown;
}
export interface EventRecord {
  seq: number;
  kind: 'event';
  event: AriEvent;
}
export type TraceRecord = RestRecord | EventRecord | { seq: number; kind: 'ws-upgrade' | 'ws-close' | 'note'; [k: string]: unknown };

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** `../shared/ari-traces` relative to the repository root. */
export const TRACES_DIR = resolve(REPO_ROOT, '..', 'shared', 'ari-traces');

export function tracesAvailable(): boolean {
  return existsSync(TRACES_DIR);
}

export function loadTrace(name: string): TraceRecord[] {
  const file = join(TRACES_DIR, name.endsWith('.jsonl') ? name : `${name}.jsonl`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TraceRecord);
}

/** RTP quality variables Asterisk sets from media at hangup: there is no media in the fake. */
export function isMediaNoise(e: AriEvent): boolean {
  return e.type === 'ChannelVarset' && typeof e.variable === 'string' && e.variable.startsWith('RTPAUDIOQOS');
}

export function traceEvents(records: TraceRecord[]): AriEvent[] {
  return records.filter((r): r is EventRecord => r.kind === 'event').map((r) => r.event).filter((e) => !isMediaNoise(e));
}

/** REST calls of the scenario (the swagger documents loaded at connect are left out). */
export function traceRest(records: TraceRecord[]): RestRecord[] {
  return records.filter((r): r is RestRecord => r.kind === 'rest' && !r.path.startsWith('/ari/api-docs/'));
}

const UNIQUEID = /^\d{9,}\.\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SIP_CALL_ID = /^\d+-\d+@[\d.]+$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/;
const ID_IN_TEXT = /(\d{9,}\.\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+-\d+@[\d.]+)/g;

/**
 * Makes two runs comparable: ids (channel uniqueids, UUIDs, SIP Call-IDs) become `#n` in order
 * of first appearance, timestamps `<ts>`, channel-name counters `-N`, and values that depend
 * on timing or history (recording duration, `probe-<ms>` names) a placeholder. Key order is kept, so
 * JSON.stringify of two normalised values compares fields, order and values.
 */
export class Normaliser {
  private readonly ids = new Map<string, string>();

  id(s: string): string {
    let v = this.ids.get(s);
    if (!v) {
      v = `#${this.ids.size + 1}`;
      this.ids.set(s, v);
    }
    return v;
  }

  private str(s: string): string {
    if (TIMESTAMP.test(s)) return '<ts>';
    if (UNIQUEID.test(s) || UUID.test(s) || SIP_CALL_ID.test(s)) return this.id(s);
    return s
      .replace(/probe-\d+/g, 'probe-<n>')
      .replace(ID_IN_TEXT, (m) => this.id(m)).replace(/-[0-9a-f]{8}(;\d)?(?=$|,)/g, '-N$1');
  }

  norm(v: unknown): unknown {
    if (typeof v === 'string') return this.str(v);
    if (Array.isArray(v)) return v.map((x) => this.norm(x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        // Recording length depends on real media (the trace has 3 s of a 5 s maximum).
        out[k] = k === 'duration' && typeof x === 'number' ? '<number>' : this.norm(x);
      }
      return out;
    }
    return v;
  }
}
