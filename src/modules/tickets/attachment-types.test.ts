import { describe, expect, it } from 'vitest';
import { sniff } from './attachment-types.js';

const b = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

describe('sniff', () => {
  it('recognises each kind by its first bytes', () => {
    expect(sniff(b([0xff, 0xd8, 0xff, 0xe0], 'JFIF'))).toEqual({ kind: 'photo', mime: 'image/jpeg' });
    expect(sniff(b([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a]))).toEqual({ kind: 'photo', mime: 'image/png' });
    expect(sniff(b('%PDF-1.7\n'))).toEqual({ kind: 'document', mime: 'application/pdf' });
    expect(sniff(b('ID3', [4, 0, 0]))).toEqual({ kind: 'audio', mime: 'audio/mpeg' });
    expect(sniff(b('RIFF', [0, 0, 0, 0], 'WAVEfmt '))).toEqual({ kind: 'audio', mime: 'audio/wav' });
    expect(sniff(b([0, 0, 0, 0x18], 'ftypisom', [0, 0, 0, 0]))).toEqual({ kind: 'video', mime: 'video/mp4' });
    expect(sniff(b([0, 0, 0, 0x18], 'ftypheic'))).toEqual({ kind: 'photo', mime: 'image/heic' });
  });

  it('refuses executables, scripts and plain ZIPs', () => {
    expect(sniff(b('MZ', [0x90, 0]))).toBeNull();
    expect(sniff(b('#!/bin/sh\n'))).toBeNull();
    expect(sniff(b('PK', [3, 4]), 'application/zip')).toBeNull();
    expect(sniff(b('PK', [3, 4]), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document')?.kind).toBe('document');
  });
});
