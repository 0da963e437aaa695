/**
 * Recording files live on the Asterisk node that recorded them. The service streams them to
 * authorised users, and measures each finished recording once (size for the call record),
 * a couple at a time so a burst of hang-ups does not flood Asterisk's HTTP server.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { TelephonyPort } from '../../adapters/ari/index.js';
import type { RecordingSource } from './calls.service.js';

const MAX_CONCURRENT = 2;
const MAX_PENDING = 10_000;

export class AsteriskRecordings implements RecordingSource {
  private readonly pending: { nodeId: string; name: string }[] = [];
  private active = 0;

  constructor(private readonly telephony: TelephonyPort, private readonly saveSize: (name: string, bytes: number) => Promise<void>, private readonly log: Logger) {}

  open(nodeId: string, name: string): Promise<Readable> {
    return this.telephony.node(nodeId).recordings.streamStoredFile(name);
  }

  /** Queue a finished recording for measuring. */
  measure(nodeId: string, name: string): void {
    if (this.pending.length >= MAX_PENDING) {
      this.log.warn({ name }, 'too many recordings waiting to be measured; size left unknown');
      return;
    }
    this.pending.push({ nodeId, name });
    this.pump();
  }

  /** Resolves when nothing is being measured (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.active > 0 || this.pending.length > 0) await new Promise((r) => setTimeout(r, 10));
  }

  private pump(): void {
    while (this.active < MAX_CONCURRENT && this.pending.length > 0) {
      const job = this.pending.shift()!;
      this.active++;
      void this.sizeOf(job.nodeId, job.name)
        .then((bytes) => this.saveSize(job.name, bytes))
        .catch((err: unknown) => this.log.warn({ err, name: job.name }, 'could not measure a recording'))
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }

  private async sizeOf(nodeId: string, name: string): Promise<number> {
    const stream = await this.open(nodeId, name);
    let bytes = 0;
    for await (const chunk of stream) bytes += (chunk as Buffer).length;
    return bytes;
  }
}
