/**
 * pino options shared by the process logger and Fastify. Phone numbers, tokens and passwords
 * never reach the log:
 *  - sensitive keys are censored at any depth (`{ ticket: { caller: { phone } } }` too);
 *  - request URLs keep their parameter names but lose sensitive values (`?phone=`, `?token=`);
 *  - phone-like numbers inside any text (messages, error messages and stacks) are masked.
 * The walk copies only what it changes, so an ordinary log line costs a few key lookups.
 */
import pino, { type LoggerOptions } from 'pino';
import { maskPhone } from './domain/phone.js';

type Kind = 'secret' | 'phone' | undefined;

// Keys are compared lower-cased without '-', '_' or spaces: apiKey, api_key and X-API-Key are one.
const SECRET_KEYS = new Set([
  'password', 'passwd', 'pwd', 'secret', 'token', 'apikey', 'xapikey', 'authorization', 'proxyauthorization', 'cookie', 'setcookie',
  'jwtsecret', 'accesstoken', 'refreshtoken', 'idtoken', 'sessiontoken', 'clientsecret', 'privatekey', 'secretkey', 'masterkey', 'passphrase',
]);
const SECRET_SUFFIXES = ['password', 'secret', 'token', 'apikey', 'passphrase'];
const PHONE_KEYS = new Set([
  'phone', 'phones', 'phonenumber', 'mobile', 'tel', 'telephone', 'msisdn', 'number', 'callernumber', 'callednumber', 'callbacknumber',
  'callerid', 'calleridnum', 'connectedlinenum', 'destination', 'ani', 'dnis',
]);
const PHONE_SUFFIXES = ['phone', 'phones', 'phonenumber', 'mobile', 'callernumber', 'callednumber', 'callbacknumber'];
// In a query string a bare `key` or `sig` is a credential as well.
const SECRET_QUERY_KEYS = new Set(['key', 'sig', 'signature', 'code']);

const kinds = new Map<string, Kind>();
function kindOf(key: string): Kind {
  let kind = kinds.get(key);
  if (kind === undefined && !kinds.has(key)) {
    const k = key.toLowerCase().replace(/[-_\s]/g, '');
    kind = SECRET_KEYS.has(k) || SECRET_SUFFIXES.some((s) => k.endsWith(s)) ? 'secret'
      : PHONE_KEYS.has(k) || PHONE_SUFFIXES.some((s) => k.endsWith(s)) ? 'phone' : undefined;
    if (kinds.size < 10_000) kinds.set(key, kind); // log keys are few; never grow without bound
  }
  return kind;
}

// Mainland mobile numbers (optionally +86), even when glued to letters: u13800138000, 来电13800138000.
const MOBILE = /(?<!\d)(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)/g;
// Any other run of 7+ digits (with +, spaces or dashes) standing on its own. Not: ids glued to
// letters (GD2026112300012), decimals (1795458559.1), a UUID's last group, dates.
const DIGIT_RUN = /(?<!\w|\d\.|\w-)\+?\d[\d -]{5,}\d(?!\w|\.\d|-\w)/g;
const MAYBE_NUMBER = /(?:\d[ -]?){6}\d/;
const DATE_START = /^\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2})?$/;

/** Masks phone-like numbers in free text, keeping the last four digits. */
export function maskText(text: string): string {
  if (!MAYBE_NUMBER.test(text)) return text; // the usual case: fewer than seven digits in a row
  return text
    .replace(MOBILE, (m) => maskPhone(m))
    .replace(DIGIT_RUN, (m) => (DATE_START.test(m) || m.replace(/\D/g, '').length < 7 ? m : maskPhone(m)));
}

function maskPhoneValue(value: unknown): unknown {
  if (typeof value === 'string') return /\d/.test(value) ? maskPhone(value) : value;
  if (typeof value === 'number' || typeof value === 'bigint') return maskPhone(String(value));
  if (Array.isArray(value)) return value.map(maskPhoneValue);
  return value === null || value === undefined ? value : '[redacted]';
}

const MAX_DEPTH = 10;
// Keys pino serializes itself (below): the walk leaves them to their serializer.
const SERIALIZED = new Set(['req', 'res', 'err']);

/** The value with sensitive keys censored and numbers in text masked; the same object if nothing changed. */
export function censor(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (value instanceof Error) return serializeError(value, depth);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const c = censor(v, depth + 1);
      if (c !== v) (out ??= value.slice())[i] = c;
    }
    return out ?? value;
  }
  if (value instanceof Date || Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    // A class instance: what JSON.stringify would write, censored.
    const json: unknown = typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON(): unknown }).toJSON() : { ...value };
    return typeof json === 'object' && json !== null ? censorEntries(json, depth) : censor(json, depth);
  }
  return censorEntries(value, depth);
}

function censorEntries(value: object, depth: number, skip?: ReadonlySet<string>): unknown {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    if (skip?.has(key)) continue;
    const v = (value as Record<string, unknown>)[key];
    const kind = kindOf(key);
    const c = kind === 'secret' ? (v === undefined || v === null || v === '' ? v : '[redacted]')
      : kind === 'phone' ? maskPhoneValue(v)
        : censor(v, depth + 1);
    if (c !== v) (out ??= { ...value })[key] = c;
  }
  return out ?? value;
}

function serializeError(err: unknown, depth = 0): unknown {
  const s = pino.stdSerializers.err(err as Error) as unknown;
  if (typeof s !== 'object' || s === null) return censor(s, depth);
  // The serializer's object has a special prototype; write a plain, censored copy.
  return censorEntries({ ...s }, depth);
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  headers?: Record<string, unknown>;
  socket?: { remoteAddress?: string; remotePort?: number };
}

/** The URL as logged: sensitive query values replaced, numbers in the path masked. */
export function maskUrl(url: string): string {
  const q = url.indexOf('?');
  const path = maskText(q === -1 ? url : url.slice(0, q));
  if (q === -1) return path;
  const query = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq === -1) return maskText(pair);
    const rawKey = pair.slice(0, eq);
    const rawValue = pair.slice(eq + 1);
    const key = decode(rawKey);
    const kind = kindOf(key) ?? (SECRET_QUERY_KEYS.has(key.toLowerCase()) ? 'secret' : undefined);
    if (kind === 'secret') return rawValue === '' ? pair : `${rawKey}=[redacted]`;
    const value = decode(rawValue);
    const masked = kind === 'phone' ? String(maskPhoneValue(value)) : maskText(value);
    return masked === value ? pair : `${rawKey}=${encodeURIComponent(masked)}`;
  });
  return `${path}?${query.join('&')}`;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** The value logged under `key`, censored as the walk would. */
function censorKey(key: string, value: unknown): unknown {
  return (censorEntries({ [key]: value }, 0) as Record<string, unknown>)[key];
}

// pino applies no formatter to child-logger bindings (`log.child({ callerNumber })`), only
// serializers by key; these cover the usual sensitive names and the objects that carry them.
const BINDING_KEYS = [
  'password', 'secret', 'token', 'apiKey', 'api_key', 'authorization', 'cookie', 'jwtSecret', 'accessToken', 'refreshToken',
  'phone', 'phoneNumber', 'mobile', 'number', 'callerNumber', 'calledNumber', 'callbackNumber', 'callerId', 'destination',
  'caller', 'callee', 'call', 'ticket', 'citizen', 'user', 'body', 'query', 'params', 'headers', 'payload', 'event',
];
const bindingSerializers = Object.fromEntries(BINDING_KEYS.map((key) => [key, (value: unknown) => censorKey(key, value)]));

export const serializers = {
  ...bindingSerializers,
  /** Fastify's request log (`incoming request`): no headers, and the URL masked. */
  req(req: LoggedRequest): Record<string, unknown> {
    return {
      method: req.method,
      url: typeof req.url === 'string' ? maskUrl(req.url) : req.url,
      host: req.host ?? req.headers?.host,
      remoteAddress: req.ip ?? req.socket?.remoteAddress,
      remotePort: req.socket?.remotePort,
    };
  },
  err: (err: unknown) => serializeError(err),
};

export function loggerOptions(level: string, pretty: boolean): LoggerOptions {
  return {
    level,
    serializers,
    formatters: {
      log: (obj) => censorEntries(obj, 0, SERIALIZED) as Record<string, unknown>,
      bindings: (bindings) => censorEntries(bindings, 0) as Record<string, unknown>,
    },
    hooks: {
      // Free-text messages (and string arguments) get numbers masked too. `log.error(err)` takes
      // its message from err.message: pass it masked instead.
      logMethod(args, method) {
        const [first, second] = args as unknown[];
        let out: unknown[] = first instanceof Error && typeof second !== 'string' ? [first, first.message, ...args.slice(1)] : args;
        for (let i = 0; i < out.length; i++) {
          const a = out[i];
          if (typeof a !== 'string') continue;
          const m = maskText(a);
          if (m !== a) (out === args ? (out = [...out]) : out)[i] = m;
        }
        method.apply(this, out as Parameters<typeof method>);
      },
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } } : {}),
  };
}
