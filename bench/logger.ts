/**
 * Cost of log redaction: plain pino vs pino with `loggerOptions` (deep key censoring, text
 * masking, URL masking), writing to a sink that drops the bytes.
 *
 *   npx tsx bench/logger.ts [--lines 200000] [--runs 5]
 *
 * Reported: nanoseconds per log line, median of the runs, for a few typical line shapes.
 */
import { loadavg } from 'node:os';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { loggerOptions } from '../src/logger.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const LINES = arg('lines', 200_000);
const RUNS = arg('runs', 5);

const sink = () => new Writable({ write(_c, _e, cb) { cb(); } });
const plain = pino({ level: 'info' }, sink());
const redacted = pino(loggerOptions('info', false), sink());

const shapes: Record<string, (l: Logger, i: number) => void> = {
  'message only': (l, i) => l.info(`relay published ${i} events`),
  'flat object': (l, i) => l.info({ component: 'outbox-relay', published: i, ms: 3 }, 'batch done'),
  'nested object': (l, i) => l.info({ call: { channelId: '1795458559.1', state: 'Up', caller: { number: '13800138000' } }, step: i }, 'call answered'),
  'error': (l) => l.warn({ err: new Error('connect ECONNREFUSED 127.0.0.1:4222') }, 'NATS is not reachable'),
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function measure(l: Logger, shape: (l: Logger, i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < LINES; i++) shape(l, i);
  return Number(process.hrtime.bigint() - t0) / LINES;
}

console.log(`lines per run ${LINES}, runs ${RUNS}, load average ${loadavg()[0]!.toFixed(2)}`);
console.log('| line | plain pino ns/line | with redaction ns/line |');
console.log('| --- | --- | --- |');
for (const [name, shape] of Object.entries(shapes)) {
  measure(plain, shape); // warm-up
  measure(redacted, shape);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    a.push(measure(plain, shape));
    b.push(measure(redacted, shape));
  }
  console.log(`| ${name} | ${median(a).toFixed(0)} | ${median(b).toFixed(0)} |`);
}
