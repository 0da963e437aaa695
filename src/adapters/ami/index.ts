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
import type { AmiClient, AmiStatus } from './types.js';

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
    readonly reloadCommand?: string;
  };
  /** Defaults suit production; tests shorten them. */
  readonly tuning?: {
    readonly connectTimeoutMs?: number;
    readonly backoff?: Partial<BackoffOptions>;
    readonly authFailureDelayMs?: number;
    readonly pingIntervalMs?: number;
    readonly seedRetryMs?: number;
  };
}

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
  status(): AmiStatus;
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
  const endpoints = new EndpointMonitor(connection, log, tuning.seedRetryMs !== undefined ? { seedRetryMs: tuning.seedRetryMs } : {});
  const { aclFile, aclSection, reloadCommand, ...policy } = config.security;
  const applier = deps.applier ?? (aclFile
    ? new FileAclApplier(connection, log, { filePath: aclFile, ...(aclSection ? { section: aclSection } : {}), ...(reloadCommand ? { reloadCommand } : {}) })
    : undefined);
  const security = new SecurityMonitor(connection, log, {
    policy, ...(applier ? { applier } : {}), ...(deps.clock ? { clock: deps.clock } : {}),
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
    status: () => connection.status(),
    async close() {
      security.stop();
      endpoints.stop();
      await connection.close();
      // A block-list write may still be in flight; let it finish before the process goes.
      await security.settled();
    },
  };
}

export { AmiActionError } from './errors.js';
export { FileAclApplier, renderAclFile } from './acl-file.js';
export { AmiConnection, type AmiConnectionOptions } from './connection.js';
export { EndpointRegistry, addressFromUri, parseContactState, parseDeviceState } from './endpoint-registry.js';
export { EndpointMonitor, type EndpointDirectory } from './endpoint-monitor.js';
export { SecurityMonitor, parseAmiAddress, type SipSecurity } from './security-monitor.js';
export type {
  AmiActionOptions, AmiClient, AmiError, AmiEvent, AmiFields, AmiLinkState, AmiResponse, AmiStatus, ContactInfo, ContactState,
  DeviceState, EndpointStatus, EndpointStatusChange, OutboundRegistration, RegistrationState, Unsubscribe,
} from './types.js';
