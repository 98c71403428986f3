import type { DomainCommand, EventMetadata } from '@nexus/events';

/** The outcome of an internal command: where its events landed, which were written. */
export interface CommandReceipt {
  readonly position: number;
  readonly eventTypes: string[];
}

/** A command the command side refused (a domain rule, or invalid data): never worth retrying as is. */
export class CommandRejectedError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

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
