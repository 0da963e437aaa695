import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSecret, SecretBox, SecretUnavailableError, signature, verifySignature } from './webhooks.crypto.js';

const KEY = 'k'.repeat(40);
const ID = '6f1c1a52-4a38-4a0f-9a4e-8f0b0d2f3c11';

describe('webhook secrets', () => {
  it('seals and opens a secret bound to its webhook', () => {
    const box = new SecretBox(KEY);
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const sealed = box.seal(secret, ID);
    expect(sealed).not.toContain(secret.slice(6));
    expect(box.open(sealed, box.keyId, ID)).toBe(secret);
    // Moved to another webhook's row, it does not open.
    expect(() => box.open(sealed, box.keyId, '00000000-0000-4000-8000-000000000000')).toThrow(SecretUnavailableError);
  });

  it('names the key, so a changed key fails clearly', () => {
    const a = new SecretBox(KEY);
    const b = new SecretBox(`${KEY}!`);
    expect(a.keyId).not.toBe(b.keyId);
    expect(() => b.open(a.seal('whsec_x', ID), a.keyId, ID)).toThrow(/another key/);
    expect(() => new SecretBox('short')).toThrow(/32 characters/);
  });
});

describe('signatures', () => {
  it('is the hex HMAC-SHA256 of "<timestamp>.<body>"', () => {
    const body = '{"event":"ticket.dispatched"}';
    const expected = createHmac('sha256', 'whsec_test').update(`1700000000.${body}`).digest('hex');
    expect(signature('whsec_test', 1700000000, body)).toBe(`sha256=${expected}`);
  });

  it('verifies, and refuses another body, secret or a stale timestamp', () => {
    const body = '{"a":1}';
    const sig = signature('whsec_test', 1700000000, body);
    expect(verifySignature('whsec_test', sig, 1700000000, body, 1700000010)).toBe(true);
    expect(verifySignature('whsec_test', sig, 1700000000, '{"a":2}', 1700000010)).toBe(false);
    expect(verifySignature('whsec_other', sig, 1700000000, body, 1700000010)).toBe(false);
    expect(verifySignature('whsec_test', sig, 1700000000, body, 1700001000)).toBe(false);
  });
});
