/**
 * One error hierarchy for the whole service. Each subclass carries a stable, machine-readable
 * `code` (part of the public API: clients switch on it) and an HTTP status, mapped once in
 * `src/http/problem.ts` to RFC 9457 problem details.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  /** Extra members for the problem-details body (e.g. `allowed` next steps). */
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }
}

export class ValidationError extends DomainError {
  readonly code: string;
  readonly status = 400;
  constructor(message: string, details?: Record<string, unknown>, code = 'validation_failed') {
    super(message, details);
    this.code = code;
  }
}

export class UnauthenticatedError extends DomainError {
  readonly code: string;
  readonly status = 401;
  constructor(message = 'Authentication is required', code = 'unauthenticated') {
    super(message);
    this.code = code;
  }
}

export class ForbiddenError extends DomainError {
  readonly code: string;
  readonly status = 403;
  constructor(message = 'You are not allowed to do this', code = 'forbidden', details?: Record<string, unknown>) {
    super(message, details);
    this.code = code;
  }
}

export class NotFoundError extends DomainError {
  readonly code: string;
  readonly status = 404;
  constructor(what: string, id: string | number, code = 'not_found') {
    super(`${what} ${String(id)} was not found`, { resource: what, id });
    this.code = code;
  }
}

export class ConflictError extends DomainError {
  readonly code: string;
  readonly status = 409;
  constructor(message: string, code = 'conflict', details?: Record<string, unknown>) {
    super(message, details);
    this.code = code;
  }
}

/** A state machine refused a transition; `allowed` lists the legal next steps. */
export class IllegalTransitionError extends DomainError {
  readonly code = 'illegal_transition';
  readonly status = 409;
  constructor(entity: string, from: string, action: string, allowed: readonly string[]) {
    super(`${entity} in state '${from}' cannot '${action}'`, { from, action, allowed: [...allowed] });
  }
}

export class TooManyRequestsError extends DomainError {
  readonly code = 'rate_limited';
  readonly status = 429;
}

/** A dependency (database, NATS, Asterisk) is not reachable or did not answer in time. */
export class UnavailableError extends DomainError {
  readonly code: string;
  readonly status = 503;
  constructor(message: string, code = 'dependency_unavailable', options?: { cause?: unknown }) {
    super(message, undefined, options);
    this.code = code;
  }
}

export class TimeoutError extends DomainError {
  readonly code: string;
  readonly status = 504;
  constructor(message: string, code = 'dependency_timeout') {
    super(message);
    this.code = code;
  }
}
