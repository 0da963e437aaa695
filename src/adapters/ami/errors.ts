import { DomainError } from '../../domain/errors.js';
import type { AmiResponse } from './types.js';

/** Asterisk answered an action with `Response: Error` (bad gateway, from the caller's view). */
export class AmiActionError extends DomainError {
  readonly code = 'ami_action_failed';
  readonly status = 502;
  constructor(
    readonly action: string,
    readonly response: AmiResponse,
  ) {
    super(`AMI action ${action} failed: ${response.message ?? response.response}`, { action, amiMessage: response.message });
  }
}

/**
 * Asterisk refused the action for lack of a manager.conf `write` class (manager.c answers
 * `Permission denied`). The session's classes are fixed at login, so retrying soon is pointless.
 */
export function isPermissionDenied(err: unknown): err is AmiActionError {
  return err instanceof AmiActionError && /^permission denied/i.test(err.response.message ?? '');
}
