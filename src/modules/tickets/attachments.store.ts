/** Attachments on disk by content: DATA_DIR/attachments/<first two hex>/<sha256>. Writes are atomic (temp + rename). */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';

export interface StoredBlob { readonly sha256: string; readonly size: number; readonly head: Buffer }

export interface BlobStore {
  /** Streams into a temporary file, hashing and measuring; `check` sees the first bytes and the size so far and may throw to abort. */
  write(source: Readable, check: (head: Buffer, size: number) => void): Promise<StoredBlob>;
  open(sha256: string): Readable;
  exists(sha256: string): Promise<boolean>;
}

export class FileBlobStore implements BlobStore {
  constructor(private readonly root: string, private readonly sniffBytes: number) {}

  private pathOf(sha256: string): string {
    return path.join(this.root, sha256.slice(0, 2), sha256);
  }

  async write(source: Readable, check: (head: Buffer, size: number) => void): Promise<StoredBlob> {
    const tmpDir = path.join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    let head = Buffer.alloc(0);
    const sniffBytes = this.sniffBytes;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (head.length < sniffBytes) head = Buffer.concat([head, chunk.subarray(0, sniffBytes - head.length)]);
        try {
          // Decide as soon as the type is known, so a disallowed file is not read to its end.
          if (head.length >= sniffBytes) check(head, size);
        } catch (err) {
          done(err as Error);
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmp, { flags: 'wx' }));
      if (head.length < sniffBytes) check(head, size); // files shorter than the sniff window
      const sha256 = hash.digest('hex');
      const final = this.pathOf(sha256);
      await mkdir(path.dirname(final), { recursive: true });
      if (await this.exists(sha256)) await rm(tmp, { force: true });
      else await rename(tmp, final);
      return { sha256, size, head };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  open(sha256: string): Readable {
    return createReadStream(this.pathOf(sha256));
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }
}
