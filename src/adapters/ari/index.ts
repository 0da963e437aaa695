/**
 * The ARI adapter's public API. Services depend on the port types (`TelephonyPort`, `AriNode`,
 * events); the composition root calls `createTelephony`.
 */
import type { Logger } from 'pino';
import { AriManager } from './manager.js';
import type { ManagerDeps } from './manager.js';
import type { AriSettings, TelephonyPort } from './types.js';

export type * from './models.js';
export type * from './types.js';
export { AriHttpError, isAriConflict, isAriNotFound } from './errors.js';
export { AriManager, DEFAULT_TRANSPORT } from './manager.js';
export { DEFAULT_IDLE_SOCKET_MS } from './transport-keepalive.js';
export type { ManagerDeps } from './manager.js';
export { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { KeyedSerialQueue } from './serial-queue.js';
export { toLiveNodeState } from './resync.js';
export type { DispatcherStats } from './dispatcher.js';

/**
 * Builds the telephony port from configuration, e.g.
 * `createTelephony({ nodes: config.ari.nodes, app: config.ari.app, requestTimeoutMs, transport }, logger)`.
 * Call `start()` to connect and `stop()` on shutdown.
 */
export function createTelephony(settings: AriSettings, logger: Logger, deps?: ManagerDeps): AriManager & TelephonyPort {
  return new AriManager(settings, logger.child({ component: 'ari' }), deps);
}
