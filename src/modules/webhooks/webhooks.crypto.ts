/**
 * Webhook secrets and signatures. The service must sign with the secret itself, so a digest
 * will not do: secrets are sealed with AES-256-GCM under a key derived (HKDF-SHA256) from
 * configuration, bound to their webhook id so a sealed secret cannot be moved to another row.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { UnavailableError } from '../../domain/errors.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A new signing secret, shown to the department once: `whsec_` + 256 random bits. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** The last characters of a secret, so a department can tell which one it holds. */
export function secretHint(secret: string): string {
  return `…${secret.slice(-4)}`;
}

/** A webhook secret sealed under another master key: the delivery cannot be signed. */
export class SecretUnavailableError extends UnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'webhook_secret_unavailable', options);
  }
}

export class SecretBox {
  private readonly key: Buffer;
  /** Names the key, so a secret sealed under an older key fails clearly instead of decrypting to noise. */
  readonly keyId: string;

  constructor(masterKey: string) {
    if (masterKey.length < 32) throw new Error('the webhook secret key must have at least 32 characters');
    this.key = Buffer.from(hkdfSync('sha256', masterKey, 'hotline-webhooks', 'webhook-secret-v1', 32));
    this.keyId = createHmac('sha256', this.key).update('key-id').digest('hex').slice(0, 16);
  }

  seal(secret: string, webhookId: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(webhookId));
    const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64');
  }

  open(sealed: string, keyId: string, webhookId: string): string {
    if (keyId !== this.keyId) throw new SecretUnavailableError('the signing secret was sealed with another key; rotate the webhook secret');
    const raw = Buffer.from(sealed, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(webhookId));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new SecretUnavailableError('the signing secret cannot be decrypted; rotate the webhook secret', { cause: err });
    }
  }
}

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, the X-Hotline-Signature header. */
export function signature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does (documented for departments; used by tests): recompute and compare in
 * constant time, and refuse timestamps too far from now to stop replays.
 */
export function verifySignature(secret: string, header: string, timestamp: number, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signature(secret, timestamp, body));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
