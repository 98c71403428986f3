import type { Actor, BudgetCommand, LlmCallCompleted, LlmCallRequested, RunCommand } from '@nexus/events';

/** A message as the model receives it (the `LlmCallRequested` contract's element type). */
export type LlmMessage = LlmCallRequested['data']['messages'][number];
/** A tool call as the model asked for it. */
export type LlmToolCall = LlmCallCompleted['data']['toolCalls'][number];

/**
 * Reserve budget for the next LLM call, then request it. The executor estimates the prompt's
 * tokens and the cost, sends `ReserveBudget` (with `runId`) and then `RequestLlmCall` with these
 * ids; a refused reservation becomes `FailRun{budget_exhausted}`. The ids are deterministic, so a
 * redelivered reaction re-issues the same commands and both deciders ignore the repeat.
 */
export interface StartLlmStep {
  readonly type: 'StartLlmStep';
  readonly runId: string;
  readonly sessionId: string;
  readonly step: number;
  readonly callId: string;
  readonly reservationId: string;
  readonly model: string;
  readonly messages: readonly LlmMessage[];
  /** The actor the executor's commands carry: the Nexus service in the run's tenant. */
  readonly actor: Actor;
  readonly at: string;
}

/** Consume the call's reservation at its actual usage (the rest goes back to the budget). */
export interface SettleLlmCall {
  readonly type: 'SettleLlmCall';
  readonly sessionId: string;
  readonly reservationId: string;
  readonly usage: LlmCallCompleted['data']['usage'];
  readonly costMicroUsd: number;
  readonly actor: Actor;
  readonly at: string;
}

/** A complete, schema-valid domain command that the executor sends as it is. */
export interface SendCommand {
  readonly type: 'Command';
  readonly command: RunCommand | BudgetCommand;
}

/** Release every reservation of the run that is still open (the executor reads the budget). */
export interface ReleaseRunReservations {
  readonly type: 'ReleaseRunReservations';
  readonly sessionId: string;
  readonly runId: string;
  readonly actor: Actor;
  readonly at: string;
}

/** Schedule a durable timer that sends `command` at `dueAt`; scheduling is idempotent by id. */
export interface ScheduleTimer {
  readonly type: 'ScheduleTimer';
  readonly timerId: string;
  readonly dueAt: string;
  readonly command: RunCommand | BudgetCommand;
}

/**
 * Hand a tool call to the tools pipeline (registry lookup, args digest, `RequestToolCall`).
 * Only emitted for tools the context declares available; until the tools milestone none are,
 * and the process records "tool not available" results instead.
 */
export interface DispatchToolCall {
  readonly type: 'DispatchToolCall';
  readonly runId: string;
  readonly sessionId: string;
  readonly step: number;
  readonly toolCall: LlmToolCall;
  /** The run's user, on whose behalf the tool runs (approval rules compare approvers with it). */
  readonly userId: string;
  readonly actor: Actor;
  readonly at: string;
  /**
   * Set for a fork that simulates calls it has no record of: the policy decides, a denial is
   * recorded as in any run, and otherwise the call is recorded as simulated and never runs.
   */
  readonly simulate?: { readonly originalRunId: string };
}

export type RunProcessIntent =
  | StartLlmStep
  | SettleLlmCall
  | SendCommand
  | ReleaseRunReservations
  | ScheduleTimer
  | DispatchToolCall;

/** What the process is told besides the event: the time and the deployment's settings. */
export interface RunProcessContext {
  /** When the reaction happens (ISO); stamped on every command it builds. */
  readonly at: string;
  /** Prepended to the first step's messages; later steps replay what was sent. */
  readonly systemPrompt?: string;
  /** Tool names an executor can run; absent or empty means none (every call fails as unavailable). */
  readonly toolsAvailable?: ReadonlySet<string>;
}

/** The user id Nexus's own services act as. */
export const NEXUS_SERVICE_USER_ID = 'nexus';

/** The Nexus service actor in a tenant. */
export const nexusServiceActor = (tenantId: string): Actor => ({ userId: NEXUS_SERVICE_USER_ID, roles: ['service'], tenantId });

/** Call ids and reservation ids of a step, deterministic so redelivery repeats them. */
export const stepCallId = (runId: string, step: number): string => `${runId}-s${step}`;
export const stepReservationId = (runId: string, step: number): string => `${runId}-s${step}`;
/** The id of a run's wall-clock timer. */
export const runDeadlineTimerId = (runId: string): string => `run-${runId}-deadline`;
