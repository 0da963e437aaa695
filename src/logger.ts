/**
 * pino options shared by the process logger and Fastify. Phone numbers, tokens and passwords
 * never reach the log: known keys are censored by path, and numbers inside free text are masked.
 */
import type { LoggerOptions } from 'pino';
import { maskPhone, maskPhonesInText } from './domain/phone.js';

const SECRET_PATHS = [
  'password', '*.password', 'secret', '*.secret', 'token', '*.token', 'apiKey', '*.apiKey', 'jwtSecret', '*.jwtSecret',
  'req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', 'headers.authorization',
];
const PHONE_PATHS = [
  'phone', '*.phone', 'callerNumber', '*.callerNumber', 'number', '*.number', '*.caller.number',
  'calledNumber', '*.calledNumber', 'destination', '*.destination',
];

export function loggerOptions(level: string, pretty: boolean): LoggerOptions {
  return {
    level,
    redact: {
      paths: [...SECRET_PATHS, ...PHONE_PATHS],
      censor: (value: unknown, path: string[]) => {
        const key = path[path.length - 1] ?? '';
        if (PHONE_PATHS.some((p) => p === key || p.endsWith(`.${key}`))) return typeof value === 'string' ? maskPhone(value) : '[redacted]';
        return '[redacted]';
      },
    },
    hooks: {
      // Free-text messages (and string arguments) get numbers masked too.
      logMethod(args, method) {
        const masked = args.map((a: unknown) => (typeof a === 'string' ? maskPhonesInText(a) : a)) as Parameters<typeof method>;
        method.apply(this, masked);
      },
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } } : {}),
  };
}
