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
