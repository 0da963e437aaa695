/**
 * What may be attached (photo, document, audio, video) and how big, decided by the file's first
 * bytes (magic numbers), never by its name or the declared Content-Type.
 */
export const ATTACHMENT_KINDS = ['photo', 'document', 'audio', 'video'] as const;
export type AttachmentKind = (typeof ATTACHMENT_KINDS)[number];

const MB = 1024 * 1024;
export const DEFAULT_SIZE_LIMITS: Readonly<Record<AttachmentKind, number>> = {
  photo: 10 * MB,
  document: 20 * MB,
  audio: 50 * MB,
  video: 200 * MB,
};

/** Bytes needed to recognise every type below. */
export const SNIFF_BYTES = 16;

export interface SniffedType { readonly kind: AttachmentKind; readonly mime: string }

const ascii = (b: Uint8Array, at: number, text: string): boolean =>
  b.length >= at + text.length && [...text].every((ch, i) => b[at + i] === ch.charCodeAt(0));
const bytes = (b: Uint8Array, at: number, values: readonly number[]): boolean =>
  b.length >= at + values.length && values.every((v, i) => b[at + i] === v);

// ISO base media (MP4, MOV, 3GP, HEIC, M4A): 'ftyp' at offset 4, then the major brand.
function isoBrand(b: Uint8Array): string | null {
  return ascii(b, 4, 'ftyp') && b.length >= 12 ? String.fromCharCode(...b.subarray(8, 12)) : null;
}

// OOXML (docx/xlsx/pptx) and ZIP share a signature; a ZIP is accepted only when declared as OOXML.
const OOXML: readonly string[] = [
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
];

export function sniff(head: Uint8Array, declaredMime?: string): SniffedType | null {
  const b = head;
  if (bytes(b, 0, [0xff, 0xd8, 0xff])) return { kind: 'photo', mime: 'image/jpeg' };
  if (bytes(b, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'photo', mime: 'image/png' };
  if (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')) return { kind: 'photo', mime: 'image/gif' };
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return { kind: 'photo', mime: 'image/webp' };
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WAVE')) return { kind: 'audio', mime: 'audio/wav' };
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'AVI ')) return { kind: 'video', mime: 'video/x-msvideo' };
  if (ascii(b, 0, '%PDF-')) return { kind: 'document', mime: 'application/pdf' };
  if (bytes(b, 0, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return { kind: 'document', mime: 'application/msword' };
  if (bytes(b, 0, [0x50, 0x4b, 0x03, 0x04]) && declaredMime && OOXML.includes(declaredMime)) return { kind: 'document', mime: declaredMime };
  if (ascii(b, 0, '#!AMR')) return { kind: 'audio', mime: 'audio/amr' };
  if (ascii(b, 0, 'OggS')) return { kind: 'audio', mime: 'audio/ogg' };
  if (ascii(b, 0, 'ID3') || bytes(b, 0, [0xff, 0xfb]) || bytes(b, 0, [0xff, 0xf3]) || bytes(b, 0, [0xff, 0xf2])) return { kind: 'audio', mime: 'audio/mpeg' };
  if (bytes(b, 0, [0x1a, 0x45, 0xdf, 0xa3])) return { kind: 'video', mime: 'video/webm' };
  const brand = isoBrand(b);
  if (brand !== null) {
    if (['heic', 'heix', 'mif1'].includes(brand)) return { kind: 'photo', mime: 'image/heic' };
    if (brand === 'M4A ') return { kind: 'audio', mime: 'audio/mp4' };
    if (brand === 'qt  ') return { kind: 'video', mime: 'video/quicktime' };
    if (brand.startsWith('3gp')) return { kind: 'video', mime: 'video/3gpp' };
    return { kind: 'video', mime: 'video/mp4' };
  }
  return null;
}
