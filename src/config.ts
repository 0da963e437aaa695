/**
 * The only reader of `process.env`. Every setting is validated here, once, into a typed and
 * frozen object; a bad value stops start-up with one line naming the variable and what was
 * expected (ConfigError).
 */
import { isIP } from 'node:net';
import path from 'node:path';
import { passwordProblems } from './domain/password-policy.js';

export class ConfigError extends Error {
  constructor(readonly variable: string, readonly expected: string, readonly got: string | undefined) {
    super(`Invalid configuration: ${variable} must be ${expected}${got === undefined ? ' (it is not set)' : ` (got ${JSON.stringify(redactValue(variable, got))})`}`);
    this.name = 'ConfigError';
  }
}

const SECRET_NAME = /PASSWORD|SECRET|TOKEN|KEY/;
function redactValue(name: string, value: string): string {
  return SECRET_NAME.test(name) ? '***' : value;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface AriNodeConfig {
  readonly id: string;
  readonly url: string;
  readonly username: string;
  readonly password: string;
}

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly logPretty: boolean;
  readonly dataDir: string;
  readonly database: {
    /** Absent: the service starts embedded PostgreSQL under `dataDir`. */
    readonly url: string | undefined;
    readonly poolSize: number;
    readonly embeddedPort: number;
    readonly migrateOnStart: boolean;
  };
  readonly nats: {
    /** Absent: an in-process bus serves one instance. */
    readonly url: string | undefined;
    readonly stream: string;
    readonly subjectPrefix: string;
  };
  readonly outbox: { readonly batchSize: number; readonly pollMs: number; readonly maxBackoffMs: number };
  readonly ari: {
    /** Empty: telephony is off until ARI is configured. */
    readonly nodes: readonly AriNodeConfig[];
    readonly app: string;
    readonly requestTimeoutMs: number;
    readonly transport: 'keepalive' | 'ari-client';
    /** Idle pooled sockets are closed after this (below Asterisk's http.conf session_keep_alive). */
    readonly idleSocketMs: number;
  };
  readonly calls: {
    /** Queue code for callers when no IVR menu is published or a menu's queue is gone. */
    readonly fallbackQueueCode: string;
    readonly recordingFormat: 'wav' | 'wav16' | 'gsm' | 'ulaw' | 'alaw' | 'sln';
    readonly missedCallMinWaitSeconds: number;
    readonly surveyTimeoutSeconds: number;
    readonly callbackWindowSeconds: number;
    readonly voicemailMaxSeconds: number;
    readonly acdSweepMs: number;
  };
  readonly ami: {
    readonly host: string | undefined;
    readonly port: number;
    readonly username: string | undefined;
    readonly password: string | undefined;
    readonly actionTimeoutMs: number;
    readonly security: {
      readonly threshold: number;
      readonly windowMs: number;
      readonly blockMs: number;
      readonly allowCidrs: readonly string[];
      /** PJSIP ACL file (included by sip/pjsip.conf) the service rewrites; absent = alert only. */
      readonly blocklistFile: string | undefined;
      /** Module reloaded with the AMI `Reload` action after the file changed. */
      readonly reloadModule: string;
    };
  };
  readonly auth: {
    /** Absent outside production: the server keeps a random secret in DATA_DIR. */
    readonly jwtSecret: string | undefined;
    readonly sessionTtlSeconds: number;
    /** Per address and username (`max`), and per address whatever the username (`perAddressMax`). */
    readonly loginRateLimit: { readonly max: number; readonly perAddressMax: number; readonly windowMs: number };
    readonly bootstrapAdmin: { readonly username: string; readonly password: string } | undefined;
  };
  readonly http: { readonly bodyLimitBytes: number; readonly trustProxy: boolean; readonly shutdownGraceMs: number };
  /** Agent desktops and wallboards over WebSocket (src/modules/desktop). */
  readonly desktop: { readonly heartbeatMs: number; readonly helloTimeoutMs: number; readonly retentionHours: number; readonly maxBufferedBytes: number };
  readonly tickets: {
    /** 不满意 follow-up: automatic reopens per ticket (0 = none), then 督办 when `superviseWhenExhausted`. */
    readonly reopen: { readonly max: number; readonly superviseWhenExhausted: boolean };
    /** Duplicate suggestions: how far back to compare, and the content similarity that alone suggests one. */
    readonly duplicates: { readonly windowHours: number; readonly minSimilarity: number };
  };
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads one variable; empty strings count as unset so `FOO=` in a .env file means "default". */
function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function str(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(name, `an integer between ${min} and ${max}`, v);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `an integer between ${min} and ${max}`, v);
  return n;
}

/** A decimal share such as 0.6, between min and max. */
function fraction(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n < min || n > max) throw new ConfigError(name, `a decimal between ${min} and ${max}`, v);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(name, 'a boolean (true/false, 1/0, yes/no, on/off)', v);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(name, `one of ${allowed.join(', ')}`, v);
  return v as T;
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const v = raw(env, name);
  if (v === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw new ConfigError(name, `a URL with scheme ${protocols.join(' or ')}`, redactUrl(v));
  }
  if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
    throw new ConfigError(name, `a URL with scheme ${protocols.join(' or ')}`, redactUrl(v));
  }
  return v;
}

/** Never echo credentials embedded in a URL into an error line. */
function redactUrl(v: string): string {
  return v.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

function urlList(env: Env, name: string, protocols: readonly string[]): string[] {
  const v = raw(env, name);
  if (v === undefined) return [];
  return v.split(',').map((part) => part.trim()).filter(Boolean).map((part) => url({ [name]: part }, name, protocols)!);
}

function validCidr(item: string): boolean {
  const [addr, bits, extra] = item.split('/');
  if (addr === undefined || bits === undefined || extra !== undefined || !/^\d{1,3}$/.test(bits)) return false;
  const family = isIP(addr);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

function cidrList(env: Env, name: string, fallback: string[]): string[] {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.every(validCidr)) throw new ConfigError(name, 'a comma-separated list of IPv4 or IPv6 CIDRs such as 10.0.0.0/8, fd00::/8', v);
  return items;
}

/** An address or host name to listen on: no port, scheme or path. */
function listenHost(env: Env, name: string, fallback: string): string {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  const label = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
  if (isIP(v) === 0 && !(v.length <= 253 && v.split('.').every((l) => label.test(l)))) {
    throw new ConfigError(name, 'an IP address or host name such as 0.0.0.0, ::, 127.0.0.1 or localhost (no port, scheme or path)', v);
  }
  return v;
}

function named(env: Env, name: string, re: RegExp, expected: string, fallback: string): string {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!re.test(v)) throw new ConfigError(name, expected, v);
  return v;
}

// Control characters, and a leading `~` (no shell expands it here: it would name a folder "~").
function badPath(v: string): boolean {
  return v.startsWith('~') || [...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}

function dirPath(env: Env, name: string, fallback: string): string {
  const v = raw(env, name) ?? fallback;
  if (badPath(v)) throw new ConfigError(name, 'a directory path, absolute or relative to the working directory ("~" is not expanded)', v);
  return path.resolve(v);
}

/** A file another program (Asterisk) names too: only an absolute path means the same file to both. */
function absoluteFile(env: Env, name: string): string | undefined {
  const v = raw(env, name);
  if (v === undefined) return undefined;
  if (badPath(v) || !path.isAbsolute(v) || v.endsWith('/')) {
    throw new ConfigError(name, 'an absolute file path such as /var/lib/hotline/sip/pjsip-blocklist.conf (Asterisk includes the same file)', v);
  }
  return path.normalize(v);
}

// JetStream: names are also folder names (no . * > / \ or spaces, under 32 characters); subject
// tokens are dot-separated and must not be wildcards.
const STREAM_NAME = /^[A-Za-z0-9_-]{1,32}$/;
const SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const STASIS_APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'], 'development');
  const dataDir = dirPath(env, 'DATA_DIR', '.data');
  const logPretty = bool(env, 'LOG_PRETTY', false);
  if (logPretty && nodeEnv === 'production') throw new ConfigError('LOG_PRETTY', 'false in production (pino-pretty is a development dependency)', raw(env, 'LOG_PRETTY'));

  const jwtSecret = raw(env, 'JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32) throw new ConfigError('JWT_SECRET', 'at least 32 characters', jwtSecret);
  if (jwtSecret === undefined && nodeEnv === 'production') throw new ConfigError('JWT_SECRET', 'set in production (at least 32 random characters)', undefined);
  if (nodeEnv === 'production' && raw(env, 'DATABASE_URL') === undefined) {
    throw new ConfigError('DATABASE_URL', 'set in production (embedded PostgreSQL is for development and is not in the image)', undefined);
  }

  const ariUrls = urlList(env, 'ARI_URL', ['http', 'https']);
  const ariUser = raw(env, 'ARI_USER');
  const ariPassword = raw(env, 'ARI_PASSWORD');
  if (ariUrls.length > 0 && ariUser === undefined) throw new ConfigError('ARI_USER', 'set when ARI_URL is set', undefined);
  if (ariUrls.length > 0 && ariPassword === undefined) throw new ConfigError('ARI_PASSWORD', 'set when ARI_URL is set', undefined);
  if (ariUrls.length === 0 && (ariUser !== undefined || ariPassword !== undefined)) {
    throw new ConfigError('ARI_URL', 'set when ARI_USER or ARI_PASSWORD is set (without it telephony stays off)', undefined);
  }
  const ariNodeIds = raw(env, 'ARI_NODE_IDS')?.split(',').map((s) => s.trim());
  if (ariNodeIds && ariNodeIds.length !== ariUrls.length) {
    throw new ConfigError('ARI_NODE_IDS', `one id per ARI_URL entry (${ariUrls.length})`, raw(env, 'ARI_NODE_IDS'));
  }
  if (ariNodeIds && (ariNodeIds.some((id) => !NODE_ID.test(id)) || new Set(ariNodeIds).size !== ariNodeIds.length)) {
    throw new ConfigError('ARI_NODE_IDS', 'distinct, non-empty ids of letters, digits, ".", "_" or "-" (at most 32 characters each)', raw(env, 'ARI_NODE_IDS'));
  }

  const amiHost = raw(env, 'AMI_HOST');
  const amiUser = raw(env, 'AMI_USER');
  const amiPassword = raw(env, 'AMI_PASSWORD');
  if (amiHost !== undefined && amiUser === undefined) throw new ConfigError('AMI_USER', 'set when AMI_HOST is set', undefined);
  if (amiHost !== undefined && amiPassword === undefined) throw new ConfigError('AMI_PASSWORD', 'set when AMI_HOST is set', undefined);
  if (amiHost === undefined && (amiUser !== undefined || amiPassword !== undefined)) {
    throw new ConfigError('AMI_HOST', 'set when AMI_USER or AMI_PASSWORD is set (without it nothing is monitored)', undefined);
  }
  const blocklistFile = absoluteFile(env, 'SIP_BLOCKLIST_FILE');
  if (amiHost === undefined && blocklistFile !== undefined) {
    throw new ConfigError('AMI_HOST', 'set when SIP_BLOCKLIST_FILE is set (blocks follow the security events AMI reports)', undefined);
  }

  const adminUser = raw(env, 'BOOTSTRAP_ADMIN_USER');
  const adminPassword = raw(env, 'BOOTSTRAP_ADMIN_PASSWORD');
  if (adminUser !== undefined && adminPassword === undefined) throw new ConfigError('BOOTSTRAP_ADMIN_PASSWORD', 'set when BOOTSTRAP_ADMIN_USER is set', undefined);
  const weak = adminPassword !== undefined ? passwordProblems(adminPassword, adminUser ?? '') : [];
  if (weak.length) throw new ConfigError('BOOTSTRAP_ADMIN_PASSWORD', `a strong password (${weak.join('; ')})`, adminPassword);
  if (adminUser !== undefined && !/^[a-z0-9._-]{3,64}$/i.test(adminUser)) {
    throw new ConfigError('BOOTSTRAP_ADMIN_USER', '3-64 characters of letters, digits, dot, underscore or dash', adminUser);
  }

  const config: Config = {
    env: nodeEnv,
    host: listenHost(env, 'HOST', '127.0.0.1'),
    port: int(env, 'PORT', 3000, 0, 65535),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'silent' : 'info'),
    logPretty,
    dataDir,
    database: {
      url: url(env, 'DATABASE_URL', ['postgres', 'postgresql']),
      poolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 500),
      embeddedPort: int(env, 'EMBEDDED_PG_PORT', 5433, 1024, 65535),
      migrateOnStart: bool(env, 'DATABASE_MIGRATE_ON_START', true),
    },
    nats: {
      url: url(env, 'NATS_URL', ['nats', 'tls']),
      stream: named(env, 'NATS_STREAM', STREAM_NAME, 'a JetStream stream name: 1-32 letters, digits, "_" or "-" (no ".", "*", ">", "/", spaces)', 'HOTLINE'),
      subjectPrefix: named(env, 'NATS_SUBJECT_PREFIX', SUBJECT_PREFIX, 'subject tokens of letters, digits, "_" or "-" separated by single dots, such as hotline or city.hotline (no wildcards or spaces)', 'hotline'),
    },
    outbox: {
      batchSize: int(env, 'OUTBOX_BATCH_SIZE', 200, 1, 10_000),
      pollMs: int(env, 'OUTBOX_POLL_MS', 1000, 10, 60_000),
      maxBackoffMs: int(env, 'OUTBOX_MAX_BACKOFF_MS', 30_000, 100, 600_000),
    },
    ari: {
      nodes: ariUrls.map((u, i) => ({ id: ariNodeIds?.[i] ?? `ast${i + 1}`, url: u, username: ariUser!, password: ariPassword! })),
      app: named(env, 'ARI_APP', STASIS_APP_NAME, 'a Stasis application name: letters, digits, ".", "_" or "-" (it appears in ARI URLs and in Stasis() in the dialplan)', 'hotline'),
      requestTimeoutMs: int(env, 'ARI_REQUEST_TIMEOUT_MS', 5000, 100, 120_000),
      transport: oneOf(env, 'ARI_TRANSPORT', ['keepalive', 'ari-client'], 'keepalive'),
      idleSocketMs: int(env, 'ARI_IDLE_SOCKET_MS', 10_000, 100, 600_000),
    },
    calls: {
      fallbackQueueCode: named(env, 'CALLS_FALLBACK_QUEUE', /^[A-Za-z0-9._-]{1,64}$/, 'a queue code (letters, digits, . _ -)', 'general'),
      recordingFormat: oneOf(env, 'CALLS_RECORDING_FORMAT', ['wav', 'wav16', 'gsm', 'ulaw', 'alaw', 'sln'], 'wav'),
      missedCallMinWaitSeconds: int(env, 'CALLS_MISSED_MIN_WAIT_SECONDS', 5, 0, 3600),
      surveyTimeoutSeconds: int(env, 'CALLS_SURVEY_TIMEOUT_SECONDS', 8, 2, 60),
      callbackWindowSeconds: int(env, 'CALLS_CALLBACK_WINDOW_SECONDS', 10, 2, 60),
      voicemailMaxSeconds: int(env, 'CALLS_VOICEMAIL_MAX_SECONDS', 120, 10, 600),
      acdSweepMs: int(env, 'ACD_SWEEP_MS', 1000, 100, 60_000),
    },
    ami: {
      host: amiHost,
      port: int(env, 'AMI_PORT', 5038, 1, 65535),
      username: amiUser,
      password: amiPassword,
      actionTimeoutMs: int(env, 'AMI_ACTION_TIMEOUT_MS', 5000, 100, 120_000),
      security: {
        threshold: int(env, 'SIP_SECURITY_THRESHOLD', 10, 1, 100_000),
        windowMs: int(env, 'SIP_SECURITY_WINDOW_SECONDS', 60, 1, 86_400) * 1000,
        blockMs: int(env, 'SIP_SECURITY_BLOCK_SECONDS', 3600, 1, 30 * 86_400) * 1000,
        allowCidrs: cidrList(env, 'SIP_SECURITY_ALLOW_CIDRS', ['127.0.0.0/8']),
        blocklistFile,
        reloadModule: str(env, 'SIP_BLOCKLIST_RELOAD_MODULE', 'res_pjsip.so'),
      },
    },
    auth: {
      jwtSecret,
      sessionTtlSeconds: int(env, 'SESSION_TTL_SECONDS', 12 * 3600, 60, 30 * 86_400),
      loginRateLimit: {
        max: int(env, 'LOGIN_RATE_LIMIT_MAX', 10, 1, 10_000),
        perAddressMax: int(env, 'LOGIN_RATE_LIMIT_PER_ADDRESS_MAX', 100, 1, 100_000),
        windowMs: int(env, 'LOGIN_RATE_LIMIT_WINDOW_SECONDS', 300, 1, 86_400) * 1000,
      },
      bootstrapAdmin: adminUser !== undefined && adminPassword !== undefined ? { username: adminUser, password: adminPassword } : undefined,
    },
    http: {
      bodyLimitBytes: int(env, 'HTTP_BODY_LIMIT_BYTES', 1_048_576, 1024, 512 * 1_048_576),
      trustProxy: bool(env, 'HTTP_TRUST_PROXY', false),
      shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 30_000, 100, 600_000),
    },
    desktop: {
      heartbeatMs: int(env, 'DESKTOP_HEARTBEAT_MS', 15_000, 100, 300_000),
      helloTimeoutMs: int(env, 'DESKTOP_HELLO_TIMEOUT_MS', 5000, 100, 60_000),
      retentionHours: int(env, 'DESKTOP_RETENTION_HOURS', 24, 1, 720),
      maxBufferedBytes: int(env, 'DESKTOP_MAX_BUFFERED_BYTES', 1_048_576, 16_384, 67_108_864),
    },
    tickets: {
      reopen: { max: int(env, 'TICKET_REOPEN_MAX', 1, 0, 10), superviseWhenExhausted: bool(env, 'TICKET_REOPEN_SUPERVISE', true) },
      duplicates: {
        windowHours: int(env, 'DUPLICATE_WINDOW_HOURS', 720, 1, 8760),
        minSimilarity: fraction(env, 'DUPLICATE_MIN_SIMILARITY', 0.6, 0.05, 1),
      },
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
