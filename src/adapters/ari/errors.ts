/**
 * Errors of ARI requests. Callers switch on the class or on `code`:
 * - `AriHttpError` — Asterisk answered 4xx/5xx; `ariStatus` and `ariMessage` are Asterisk's
 *   (e.g. 404 "Channel not found", 409 "Bridge isn't playing music").
 * - `TimeoutError` code `ari_timeout` — no answer within the request deadline.
 * - `UnavailableError` code `ari_unavailable` — the node is not reachable (refused, reset, down).
 */
import { DomainError, TimeoutError, UnavailableError } from '../../domain/errors.js';

const CODES: Readonly<Record<number, string>> = {
  400: 'ari_bad_request',
  401: 'ari_unauthorized',
  403: 'ari_forbidden',
  404: 'ari_not_found',
  409: 'ari_conflict',
  412: 'ari_precondition_failed',
  422: 'ari_unprocessable',
};

export class AriHttpError extends DomainError {
  readonly code: string;
  /** Our own API's status when this bubbles up: Asterisk failed us, so 502. */
  readonly status = 502;

  constructor(
    readonly nodeId: string,
    readonly operation: string,
    readonly ariStatus: number,
    readonly ariMessage: string,
  ) {
    super(`ARI ${operation} on node ${nodeId} failed with ${ariStatus}: ${ariMessage}`, { nodeId, operation, ariStatus, ariMessage });
    this.code = CODES[ariStatus] ?? (ariStatus >= 500 ? 'ari_server_error' : 'ari_http_error');
  }
}

export function ariTimeout(nodeId: string, operation: string, ms: number): TimeoutError {
  return new TimeoutError(`ARI ${operation} on node ${nodeId} got no answer within ${ms} ms`, 'ari_timeout');
}

export function ariUnavailable(nodeId: string, operation: string, cause: unknown): UnavailableError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new UnavailableError(`ARI ${operation} on node ${nodeId} is unavailable: ${reason}`, 'ari_unavailable', { cause });
}

export const isAriNotFound = (err: unknown): boolean => err instanceof AriHttpError && err.ariStatus === 404;
export const isAriConflict = (err: unknown): boolean => err instanceof AriHttpError && err.ariStatus === 409;

/** Asterisk's error bodies are `{"message": "..."}`; anything else is kept as text. */
export function ariMessageFrom(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'message' in parsed && typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON
  }
  return body.trim().slice(0, 500);
}
