import { DomainError, type DomainErrorCode } from '@nexus/domain';
import type { DomainCommand, EventMetadata } from '@nexus/events';

/** The outcome of an internal command: where its events landed, which were written. */
export interface CommandReceipt {
  readonly position: number;
  readonly eventTypes: string[];
}

/**
 * A refusal that did not come from a decider in this process: one that crossed the wire (its
 * domain error's code and message, and the status command-api answered with), or an internal
 * command the command side refused without a decider (invalid data, a conflict that outlasted the
 * retries). It is a `DomainError`, because every command sender refuses with one — in process, the
 * decider's own error as it was thrown. So a caller tests `instanceof DomainError` and its `code`
 * (not a subclass such as `BudgetExceededError`, which only a sender in the same process keeps):
 * never worth retrying as is.
 */
export class CommandRejectedError extends DomainError {
  constructor(
    readonly status: number,
    readonly code: DomainErrorCode,
    detail: string,
  ) {
    super(detail);
  }
}

const domainErrorCodes: Record<DomainErrorCode, true> = {
  not_found: true,
  invalid_state: true,
  budget_exceeded: true,
  forbidden: true,
  approval_self: true,
  validation_failed: true,
  conflict: true,
};

/** Whether a problem code names a refusal (a domain error's code), not a failure of the command side. */
export const isDomainErrorCode = (code: string): code is DomainErrorCode => Object.hasOwn(domainErrorCodes, code);

/**
 * The command side could not take the command now (NATS away, no command-api answering, or its
 * database away): worth retrying as it is, and not a refusal — nothing was decided.
 */
export class CommandSideUnavailableError extends Error {
  override readonly name = 'CommandSideUnavailableError';
  /** Consumers retry a transient failure without counting it toward dead letters. */
  readonly transient = true;
}

/**
 * How Nexus's own services (agent loop, llm-gateway, tool-runner, timers) send domain commands to
 * the command side, so every write still passes a decider: over NATS request/reply between
 * processes, or a direct call when they share the command-api's process.
 */
export interface CommandSenderPort {
  send(command: DomainCommand, metadata: EventMetadata): Promise<CommandReceipt>;
}

export const COMMAND_SENDER = Symbol('CommandSenderPort');

/** The subject command-api instances serve internal commands on (one queue group). */
export const INTERNAL_COMMANDS_SUBJECT = 'nexus.commands';
export const INTERNAL_COMMANDS_QUEUE = 'command-api';

/** The reply on the wire. */
export type InternalCommandReply =
  | { readonly ok: true; readonly receipt: CommandReceipt }
  | { readonly ok: false; readonly status: number; readonly code: string; readonly detail: string };
