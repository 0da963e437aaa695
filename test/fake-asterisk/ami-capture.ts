/**
 * Raw AMI streams (as recorded in ../shared/ari-traces/ami-*.txt): banner line, then messages
 * of `Key: Value` lines ended by an empty line, CRLF throughout.
 */
export type AmiFrame = ReadonlyArray<readonly [string, string]>;

export interface AmiCapture {
  readonly banner: string | undefined;
  readonly frames: readonly AmiFrame[];
}

export function parseAmiCapture(text: string): AmiCapture {
  const lines = text.split(/\r?\n/);
  let banner: string | undefined;
  if (lines[0]?.startsWith('Asterisk Call Manager/')) banner = lines.shift();
  const frames: AmiFrame[] = [];
  let current: [string, string][] = [];
  for (const line of lines) {
    if (line === '') {
      if (current.length > 0) frames.push(current);
      current = [];
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`not an AMI header line: ${JSON.stringify(line)}`);
    current.push([line.slice(0, colon), line.slice(colon + 1).replace(/^ /, '')]);
  }
  if (current.length > 0) frames.push(current);
  return { banner, frames };
}

export function frameGet(frame: AmiFrame, key: string): string | undefined {
  const k = key.toLowerCase();
  return frame.find(([name]) => name.toLowerCase() === k)?.[1];
}

/** Event frames only (drops the login response and the Goodbye). */
export function captureEvents(capture: AmiCapture): AmiFrame[] {
  return capture.frames.filter((f) => f[0]?.[0] === 'Event');
}

export function serializeFrame(frame: AmiFrame): string {
  return `${frame.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
}
