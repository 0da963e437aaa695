import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TRANSPORT } from './adapters/ari/index.js';
import { ConfigError, loadConfig } from './config.js';

function fails(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadConfig', () => {
  it('runs on embedded defaults with nothing set', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.database.url).toBeUndefined();
    expect(c.nats.url).toBeUndefined();
    expect(c.ari.nodes).toEqual([]);
    expect(c.ami.host).toBeUndefined();
    expect(c.dataDir).toMatch(/\.data$/);
  });

  it('is deeply frozen', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.database)).toBe(true);
    expect(Object.isFrozen(c.ami.security.allowCidrs)).toBe(true);
  });

  it('reads every documented variable', () => {
    const c = loadConfig({
      NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '8080', LOG_LEVEL: 'debug', DATA_DIR: '/var/lib/hotline',
      DATABASE_URL: 'postgres://u:p@db:5432/hotline', NATS_URL: 'nats://nats:4222', JWT_SECRET: 'x'.repeat(40),
      ARI_URL: 'http://ast1:8088,http://ast2:8088', ARI_NODE_IDS: 'a,b', ARI_USER: 'hotline', ARI_PASSWORD: 'pw',
      AMI_HOST: 'ast1', AMI_PORT: '5039', AMI_USER: 'mon', AMI_PASSWORD: 'pw', SIP_SECURITY_ALLOW_CIDRS: '10.0.0.0/8, fd00::/8',
    });
    expect(c.ari.nodes).toEqual([
      { id: 'a', url: 'http://ast1:8088', username: 'hotline', password: 'pw' },
      { id: 'b', url: 'http://ast2:8088', username: 'hotline', password: 'pw' },
    ]);
    expect(c.ami).toMatchObject({ host: 'ast1', port: 5039 });
    expect(c.ami.security.allowCidrs).toEqual(['10.0.0.0/8', 'fd00::/8']);
    expect(c.logLevel).toBe('debug');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT', 'an integer between 0 and 65535'],
    [{ PORT: '70000' }, 'PORT', 'an integer between 0 and 65535'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'one of fatal, error'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV', 'one of development, production, test'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL', 'a URL with scheme postgres or postgresql'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL', 'a URL'],
    [{ DATABASE_POOL_SIZE: '0' }, 'DATABASE_POOL_SIZE', 'an integer between 1'],
    [{ NATS_URL: 'http://nats:4222' }, 'NATS_URL', 'a URL with scheme nats or tls'],
    [{ ARI_URL: 'ftp://ast' }, 'ARI_URL', 'a URL with scheme http or https'],
    [{ ARI_URL: 'http://ast:8088' }, 'ARI_USER', 'set when ARI_URL is set'],
    [{ ARI_URL: 'http://ast:8088', ARI_USER: 'u' }, 'ARI_PASSWORD', 'set when ARI_URL is set'],
    [{ ARI_URL: 'http://a:8088,http://b:8088', ARI_USER: 'u', ARI_PASSWORD: 'p', ARI_NODE_IDS: 'a' }, 'ARI_NODE_IDS', 'one id per ARI_URL entry'],
    [{ ARI_TRANSPORT: 'carrier-pigeon' }, 'ARI_TRANSPORT', 'one of keepalive, ari-client'],
    [{ AMI_HOST: 'ast' }, 'AMI_USER', 'set when AMI_HOST is set'],
    [{ AMI_HOST: 'ast', AMI_USER: 'u' }, 'AMI_PASSWORD', 'set when AMI_HOST is set'],
    [{ AMI_PORT: '-1' }, 'AMI_PORT', 'an integer between 1 and 65535'],
    [{ SIP_SECURITY_ALLOW_CIDRS: '10.0.0.0/33' }, 'SIP_SECURITY_ALLOW_CIDRS', 'IPv4 or IPv6 CIDRs'],
    [{ SIP_SECURITY_ALLOW_CIDRS: '300.1.1.1/8' }, 'SIP_SECURITY_ALLOW_CIDRS', 'IPv4 or IPv6 CIDRs'],
    [{ SIP_SECURITY_ALLOW_CIDRS: 'fd00::/129' }, 'SIP_SECURITY_ALLOW_CIDRS', 'IPv4 or IPv6 CIDRs'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET', 'at least 32 characters'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET', 'set in production'],
    [{ BOOTSTRAP_ADMIN_USER: 'admin' }, 'BOOTSTRAP_ADMIN_PASSWORD', 'set when BOOTSTRAP_ADMIN_USER is set'],
    [{ BOOTSTRAP_ADMIN_USER: 'admin', BOOTSTRAP_ADMIN_PASSWORD: 'password' }, 'BOOTSTRAP_ADMIN_PASSWORD', 'a strong password'],
    [{ BOOTSTRAP_ADMIN_USER: 'a dmin!', BOOTSTRAP_ADMIN_PASSWORD: 'Sturdy-Passw0rd-1' }, 'BOOTSTRAP_ADMIN_USER', '3-64 characters'],
    [{ LOG_PRETTY: 'maybe' }, 'LOG_PRETTY', 'a boolean'],
    [{ HTTP_BODY_LIMIT_BYTES: '12.5' }, 'HTTP_BODY_LIMIT_BYTES', 'an integer'],
    [{ HOST: '0.0.0.0:3000' }, 'HOST', 'an IP address or host name'],
    [{ HOST: 'http://localhost' }, 'HOST', 'no port, scheme or path'],
    [{ HOST: 'my host' }, 'HOST', 'an IP address or host name'],
    [{ NATS_STREAM: 'HOTLINE.EVENTS' }, 'NATS_STREAM', 'a JetStream stream name'],
    [{ NATS_STREAM: 'HOT>LINE' }, 'NATS_STREAM', 'a JetStream stream name'],
    [{ NATS_STREAM: 'S'.repeat(33) }, 'NATS_STREAM', '1-32 letters'],
    [{ NATS_SUBJECT_PREFIX: 'hotline.*' }, 'NATS_SUBJECT_PREFIX', 'no wildcards'],
    [{ NATS_SUBJECT_PREFIX: 'hotline.' }, 'NATS_SUBJECT_PREFIX', 'separated by single dots'],
    [{ NATS_SUBJECT_PREFIX: 'a..b' }, 'NATS_SUBJECT_PREFIX', 'separated by single dots'],
    [{ NATS_SUBJECT_PREFIX: 'hot line' }, 'NATS_SUBJECT_PREFIX', 'no wildcards or spaces'],
    [{ ARI_APP: 'hotline,extra' }, 'ARI_APP', 'a Stasis application name'],
    [{ ARI_APP: 'hot/line' }, 'ARI_APP', 'a Stasis application name'],
    [{ ARI_URL: 'http://a:8088,http://b:8088', ARI_USER: 'u', ARI_PASSWORD: 'p', ARI_NODE_IDS: 'a,a' }, 'ARI_NODE_IDS', 'distinct, non-empty ids'],
    [{ ARI_URL: 'http://a:8088,http://b:8088', ARI_USER: 'u', ARI_PASSWORD: 'p', ARI_NODE_IDS: 'a,' }, 'ARI_NODE_IDS', 'distinct, non-empty ids'],
    [{ ARI_URL: 'http://a:8088', ARI_USER: 'u', ARI_PASSWORD: 'p', ARI_NODE_IDS: 'ast 1' }, 'ARI_NODE_IDS', 'distinct, non-empty ids'],
    [{ ARI_USER: 'hotline' }, 'ARI_URL', 'set when ARI_USER or ARI_PASSWORD is set'],
    [{ ARI_PASSWORD: 'pw' }, 'ARI_URL', 'set when ARI_USER or ARI_PASSWORD is set'],
    [{ AMI_USER: 'hotline' }, 'AMI_HOST', 'set when AMI_USER or AMI_PASSWORD is set'],
    [{ AMI_PASSWORD: 'pw' }, 'AMI_HOST', 'set when AMI_USER or AMI_PASSWORD is set'],
    [{ SIP_BLOCKLIST_FILE: '/var/lib/hotline/sip/pjsip-blocklist.conf' }, 'AMI_HOST', 'set when SIP_BLOCKLIST_FILE is set'],
    [{ AMI_HOST: 'ast', AMI_USER: 'u', AMI_PASSWORD: 'p', SIP_BLOCKLIST_FILE: 'sip/blocklist.conf' }, 'SIP_BLOCKLIST_FILE', 'an absolute file path'],
    [{ AMI_HOST: 'ast', AMI_USER: 'u', AMI_PASSWORD: 'p', SIP_BLOCKLIST_FILE: '/var/lib/hotline/sip/' }, 'SIP_BLOCKLIST_FILE', 'an absolute file path'],
    [{ DATA_DIR: '~/hotline' }, 'DATA_DIR', '"~" is not expanded'],
    [{ DATA_DIR: 'data\nmore' }, 'DATA_DIR', 'a directory path'],
    [{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) }, 'DATABASE_URL', 'set in production'],
    [{ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), DATABASE_URL: 'postgres://db/h', LOG_PRETTY: 'true' }, 'LOG_PRETTY', 'false in production'],
    [{ LOGIN_RATE_LIMIT_PER_ADDRESS_MAX: '0' }, 'LOGIN_RATE_LIMIT_PER_ADDRESS_MAX', 'an integer between 1'],
  ])('rejects %j naming %s', (env, variable, expected) => {
    const err = fails(env);
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    expect(err.message).toContain(expected);
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('never echoes secrets in the error line', () => {
    expect(fails({ JWT_SECRET: 'tooshort-secret' }).message).not.toContain('tooshort-secret');
    expect(fails({ DATABASE_URL: 'mysql://user:hunter2@db/x' }).message).not.toContain('hunter2');
    expect(fails({ BOOTSTRAP_ADMIN_USER: 'admin', BOOTSTRAP_ADMIN_PASSWORD: 'weakling' }).message).not.toContain('weakling');
  });

  it('accepts the usual listen addresses, names and paths', () => {
    for (const host of ['0.0.0.0', '::', '127.0.0.1', 'localhost', 'hotline-1.internal']) expect(loadConfig({ HOST: host }).host).toBe(host);
    const c = loadConfig({
      NATS_STREAM: 'HOTLINE_T1796178824278', NATS_SUBJECT_PREFIX: 'city.hotline', ARI_APP: 'hotline-2',
      ARI_URL: 'http://a:8088,http://b:8088', ARI_USER: 'u', ARI_PASSWORD: 'p', ARI_NODE_IDS: 'ast-a, ast.b',
      AMI_HOST: 'a', AMI_USER: 'u', AMI_PASSWORD: 'p', SIP_BLOCKLIST_FILE: '/var/lib/hotline/sip/../sip/blocklist.conf', DATA_DIR: 'data',
    });
    expect(c.nats).toMatchObject({ stream: 'HOTLINE_T1796178824278', subjectPrefix: 'city.hotline' });
    expect(c.ari.nodes.map((n) => n.id)).toEqual(['ast-a', 'ast.b']);
    expect(c.ami.security.blocklistFile).toBe('/var/lib/hotline/sip/blocklist.conf');
    expect(path.isAbsolute(c.dataDir)).toBe(true);
    expect(c.auth.loginRateLimit).toEqual({ max: 10, perAddressMax: 100, windowMs: 300_000 });
  });

  it('defaults ARI_TRANSPORT to the adapter\'s default', () => {
    // config.ts keeps the literal: importing DEFAULT_TRANSPORT would load the ARI adapter (and
    // ari-client) into every process that reads its configuration. This keeps the two equal.
    expect(loadConfig({}).ari.transport).toBe(DEFAULT_TRANSPORT);
  });

  it('reads the ticket policies: 不满意 reopens and the duplicate window and threshold', () => {
    expect(loadConfig({}).tickets).toEqual({ reopen: { max: 1, superviseWhenExhausted: true }, duplicates: { windowHours: 720, minSimilarity: 0.6 } });
    const c = loadConfig({ TICKET_REOPEN_MAX: '0', TICKET_REOPEN_SUPERVISE: 'no', DUPLICATE_WINDOW_HOURS: '72', DUPLICATE_MIN_SIMILARITY: '0.75' });
    expect(c.tickets).toEqual({ reopen: { max: 0, superviseWhenExhausted: false }, duplicates: { windowHours: 72, minSimilarity: 0.75 } });
    for (const [env, variable, expected] of [
      [{ TICKET_REOPEN_MAX: '11' }, 'TICKET_REOPEN_MAX', 'an integer between 0 and 10'],
      [{ TICKET_REOPEN_MAX: 'twice' }, 'TICKET_REOPEN_MAX', 'an integer between 0 and 10'],
      [{ TICKET_REOPEN_SUPERVISE: 'maybe' }, 'TICKET_REOPEN_SUPERVISE', 'a boolean'],
      [{ DUPLICATE_WINDOW_HOURS: '0' }, 'DUPLICATE_WINDOW_HOURS', 'an integer between 1 and 8760'],
      [{ DUPLICATE_MIN_SIMILARITY: '1.5' }, 'DUPLICATE_MIN_SIMILARITY', 'a decimal between 0.05 and 1'],
      [{ DUPLICATE_MIN_SIMILARITY: '60%' }, 'DUPLICATE_MIN_SIMILARITY', 'a decimal between 0.05 and 1'],
    ] as const) {
      const err = fails(env);
      expect(err.variable).toBe(variable);
      expect(err.message).toContain(expected);
    }
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '  ' }).port).toBe(3000);
  });
});
