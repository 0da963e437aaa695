/**
 * AMI adapter: build it once in the composition root from config; services get the small
 * interfaces (AmiClient, EndpointDirectory, SipSecurity), never asterisk-manager.
 */
import type { Logger } from 'pino';
import type { AclApplier, SecurityPolicy } from '../../domain/security/index.js';
import { FileAclApplier } from './acl-file.js';
import type { BackoffOptions } from './backoff.js';
import { AmiConnection } from './connection.js';
import { EndpointMonitor, type EndpointDirectory } from './endpoint-monitor.js';
import { SecurityMonitor, type SipSecurity } from './security-monitor.js';
import type { AmiClient, AmiStatus, AmiTaskStatus } from './types.js';

export interface AmiAdapterConfig {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly actionTimeoutMs: number;
  readonly security: SecurityPolicy & {
    /** PJSIP ACL file included by pjsip.conf; without it (and without `applier`) blocks are not enforced. */
    readonly aclFile?: string;
    readonly aclSection?: string;
    /** Module reloaded with the AMI `Reload` action after the file changed (default res_pjsip.so). */
    readonly reloadModule?: string;
  };
  /** Defaults suit production; tests shorten them. */
  readonly tuning?: {
    readonly connectTimeoutMs?: number;
    readonly backoff?: Partial<BackoffOptions>;
    readonly authFailureDelayMs?: number;
    readonly pingIntervalMs?: number;
    readonly seedRetryMs?: number;
    /** Retry after `Permission denied` (listing and ACL reload; default 60 s). */
    readonly forbiddenRetryMs?: number;
    /** Retry of a failed ACL apply (default 5 s). */
    readonly applyRetryMs?: number;
    readonly maxHeldEvents?: number;
  };
}

/**
 * Connection state plus the two per-session tasks: seeding endpoint state and keeping the SIP
 * block list in force. A connected AMI whose user lacks a write class shows up here as
 * `forbidden` (with the refused action), not as a silent retry loop.
 */
export interface AmiAdapterStatus extends AmiStatus {
  readonly endpoints: AmiTaskStatus;
  readonly blocklist: AmiTaskStatus;
}

/**
 * Every action the adapter sends. docker/asterisk/manager.conf must permit all of them:
 * Events, Ping, Logoff need no class; PJSIPShow* need `system` (Outbound registrations also
 * accept `reporting`); Reload needs `system` or `config`.
 */
export const AMI_ACTIONS_USED = ['Events', 'Ping', 'Logoff', 'PJSIPShowEndpoints', 'PJSIPShowContacts', 'PJSIPShowRegistrationsOutbound', 'Reload'] as const;

export interface AmiAdapterDeps {
  /** Overrides the file-based applier (e.g. a firewall, or a test double). */
  readonly applier?: AclApplier;
  readonly clock?: () => number;
  readonly random?: () => number;
}

export interface AmiAdapter {
  readonly client: AmiClient;
  readonly endpoints: EndpointDirectory;
  readonly security: SipSecurity;
  /** Starts connecting (forever, in the background); never throws for an unreachable Asterisk. */
  start(): void;
  status(): AmiAdapterStatus;
  close(): Promise<void>;
}

export function createAmiAdapter(config: AmiAdapterConfig, logger: Logger, deps: AmiAdapterDeps = {}): AmiAdapter {
  const log = logger.child({ component: 'ami' });
  const { tuning = {} } = config;
  const connection = new AmiConnection({
    host: config.host,
    port: config.port,
    username: config.username,
    password: config.password,
    actionTimeoutMs: config.actionTimeoutMs,
    ...(tuning.connectTimeoutMs !== undefined ? { connectTimeoutMs: tuning.connectTimeoutMs } : {}),
    ...(tuning.backoff ? { backoff: tuning.backoff } : {}),
    ...(tuning.authFailureDelayMs !== undefined ? { authFailureDelayMs: tuning.authFailureDelayMs } : {}),
    ...(tuning.pingIntervalMs !== undefined ? { pingIntervalMs: tuning.pingIntervalMs } : {}),
    ...(deps.random ? { random: deps.random } : {}),
  }, log);
  const endpoints = new EndpointMonitor(connection, log, {
    ...(tuning.seedRetryMs !== undefined ? { seedRetryMs: tuning.seedRetryMs } : {}),
    ...(tuning.forbiddenRetryMs !== undefined ? { forbiddenRetryMs: tuning.forbiddenRetryMs } : {}),
    ...(tuning.maxHeldEvents !== undefined ? { maxHeldEvents: tuning.maxHeldEvents } : {}),
  });
  const { aclFile, aclSection, reloadModule, ...policy } = config.security;
  const applier = deps.applier ?? (aclFile
    ? new FileAclApplier(connection, log, { filePath: aclFile, ...(aclSection ? { section: aclSection } : {}), ...(reloadModule ? { reloadModule } : {}) })
    : undefined);
  const security = new SecurityMonitor(connection, log, {
    policy, ...(applier ? { applier } : {}), ...(deps.clock ? { clock: deps.clock } : {}),
    ...(tuning.applyRetryMs !== undefined ? { retryMs: tuning.applyRetryMs } : {}),
    ...(tuning.forbiddenRetryMs !== undefined ? { forbiddenRetryMs: tuning.forbiddenRetryMs } : {}),
  });
  return {
    client: connection,
    endpoints,
    security,
    start() {
      endpoints.start();
      security.start();
      connection.start();
    },
    status: () => ({ ...connection.status(), endpoints: endpoints.seedStatus(), blocklist: security.applyStatus() }),
    async close() {
      security.stop();
      endpoints.stop();
      await connection.close();
      // A block-list write may still be in flight; let it finish before the process goes.
      await security.settled();
    },
  };
}

export { AmiActionError, isPermissionDenied } from './errors.js';
export { FileAclApplier, renderAclFile } from './acl-file.js';
export { AmiConnection, type AmiConnectionOptions } from './connection.js';
export { EndpointRegistry, addressFromUri, parseContactState, parseDeviceState } from './endpoint-registry.js';
export { EndpointMonitor, type EndpointDirectory } from './endpoint-monitor.js';
export { SecurityMonitor, parseAmiAddress, type SipSecurity } from './security-monitor.js';
export type {
  AmiActionOptions, AmiClient, AmiError, AmiEvent, AmiFields, AmiLinkState, AmiResponse, AmiStatus, AmiTaskState, AmiTaskStatus, ContactInfo, ContactState,
  DeviceState, EndpointStatus, EndpointStatusChange, OutboundRegistration, RegistrationState, Unsubscribe,
} from './types.js';

/**
 * The /readyz entry for AMI: `up` when connected with endpoint state seeded (or being seeded)
 * and the block list in force; `degraded` when connected but a task fails (e.g. the AMI user
 * lacks a write class: `detail` names the refused action); `down` when not connected.
 */
export function amiReadiness(s: AmiAdapterStatus): { status: 'up' | 'degraded' | 'down'; detail?: string; [extra: string]: unknown } {
  const task = (t: AmiTaskStatus) => ({ state: t.state, since: t.since.toISOString(), ...(t.error ? { error: t.error.message, ...(t.error.action ? { action: t.error.action } : {}) } : {}) });
  const problems = ([['endpoint seeding', s.endpoints], ['SIP block list', s.blocklist]] as const)
    .filter(([, t]) => t.state === 'failed' || t.state === 'forbidden')
    .map(([what, t]) => `${what} ${t.state}: ${t.error?.message ?? 'unknown error'}`);
  const status = s.state !== 'connected' ? 'down' : problems.length > 0 ? 'degraded' : 'up';
  const detail = s.state !== 'connected' ? s.lastError?.message : problems.join('; ') || undefined;
  return {
    status, state: s.state, since: s.since.toISOString(), ...(detail ? { detail } : {}),
    endpoints: task(s.endpoints), blocklist: task(s.blocklist),
  };
}
