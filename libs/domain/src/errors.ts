/**
 * Typed domain errors. Each carries a stable `code` that the apps map to RFC 9457 problem
 * documents in one exception filter; the message is safe to show to a client.
 */
export type DomainErrorCode =
  | 'not_found'
  | 'invalid_state'
  | 'budget_exceeded'
  | 'forbidden'
  | 'approval_self'
  | 'validation_failed'
  | 'conflict';

export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The aggregate does not exist, or belongs to another tenant (never leak which). */
export class NotFoundError extends DomainError {
  readonly code = 'not_found';
}

/** The command is not allowed in the aggregate's current status. */
export class InvalidStateError extends DomainError {
  readonly code = 'invalid_state';
}

/** A reservation or consumption would take a budget dimension past its limit. */
export class BudgetExceededError extends DomainError {
  readonly code = 'budget_exceeded';
}

/** The actor lacks the role the command needs. */
export class ForbiddenError extends DomainError {
  readonly code = 'forbidden';
}

/** An approver tried to approve or reject their own request. */
export class ApprovalSelfError extends DomainError {
  readonly code = 'approval_self';
}

/** The command's data breaks a rule that a schema cannot express (e.g. consume > reserved). */
export class DomainValidationError extends DomainError {
  readonly code = 'validation_failed';
}
