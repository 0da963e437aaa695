/** ARI timestamp format, as in the traces: `2026-11-23T18:29:35.231+0000` (UTC). */
export function ariTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

export function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Asterisk's text for Q.850 causes (ast_cause2str) for the causes the fake produces. */
const CAUSE_TEXT: Record<number, string> = {
  0: 'Unknown',
  1: 'Unallocated (unassigned) number',
  16: 'Normal Clearing',
  17: 'User busy',
  18: 'No user responding',
  19: 'User alerting, no answer',
  21: 'Call Rejected',
  26: 'Answered elsewhere',
  27: 'Destination out of order',
  28: 'Invalid number format',
  31: 'Normal, unspecified',
  34: 'Circuit/channel congestion',
  38: 'Network out of order',
  41: 'Temporary failure',
  58: 'Bearer capability not available',
  127: 'Interworking, unspecified',
};

export function causeText(cause: number): string {
  return CAUSE_TEXT[cause] ?? 'Unknown';
}

/** `DELETE /channels/{id}?reason=` values and their Q.850 causes (ARI reference). */
export const HANGUP_REASON_CAUSE: Record<string, number> = {
  normal: 16,
  busy: 17,
  congestion: 34,
  no_answer: 19,
  timeout: 18,
  rejected: 21,
  unallocated: 1,
  normal_unspecified: 31,
  number_incomplete: 28,
  codec_mismatch: 58,
  interworking: 127,
  failure: 38,
  answered_elsewhere: 26,
};

/** Parses `Name <number>` / `number` / `"Name" <number>` caller ids. */
export function parseCallerId(s: string | undefined): { name: string; number: string } | undefined {
  if (s === undefined || s === '') return undefined;
  const m = /^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$/.exec(s);
  if (m) return { name: m[1]!.trim(), number: m[2]!.trim() };
  return { name: '', number: s.trim() };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A tiny valid PCM WAV (8 kHz mono 16-bit) of the given length: what a stored recording file looks like. */
export function silentWav(seconds: number): Buffer {
  const samples = Math.max(1, Math.round(8000 * Math.min(seconds, 2)));
  const dataLen = samples * 2;
  const buf = Buffer.alloc(44 + dataLen);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataLen, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(8000, 24);
  buf.writeUInt32LE(16000, 28); // byte rate
  buf.writeUInt16LE(2, 32); // block align
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataLen, 40);
  return buf;
}
