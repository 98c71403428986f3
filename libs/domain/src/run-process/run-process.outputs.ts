import type {
  Actor,
  BudgetCommand,
  FailRun,
  LlmCallCompleted,
  LlmCallRequested,
  Role,
  RunCommand,
  ToolCallCommand,
  ToolCallPolicyDecision,
  ToolRisk,
} from '@nexus/events';
import type { DomainErrorCode } from '../errors';
import type { LlmCallMeter } from '../llm-call/llm-call.worst-case';

/** A message as the model receives it (the `LlmCallRequested` contract's element type). */
export type LlmMessage = LlmCallRequested['data']['messages'][number];
/** A tool call as the model asked for it. */
export type LlmToolCall = LlmCallCompleted['data']['toolCalls'][number];
/** A tool as the model is offered it. */
export type LlmToolDefinition = NonNullable<LlmCallRequested['data']['tools']>[number];

/** Every command the agent loop sends: to runs, budgets and tool calls. */
export type AgentLoopCommand = RunCommand | BudgetCommand | ToolCallCommand;

/**
 * What a decider's refusal of a sent command means, as data, so the executor needs no rule of its
 * own. Without it a refusal is an error: the event is handled again (and dead-lettered at last).
 */
export interface OnRefusal {
  /** The refusals (domain error codes) this covers; any other refusal is still an error. */
  readonly codes: readonly DomainErrorCode[];
  /**
   * `carry_on`: the command's work is done already (a redelivery) or no longer wanted, and the
   * outputs after it still apply. `stop`: the outputs after it must not happen (they assumed it).
   */
  readonly then: 'carry_on' | 'stop';
  /** Sent first when the refusal happens, its `detail` followed by the refusal's reason. */
  readonly send?: FailRun;
}

// A record, so that a new code cannot be left out of `ANY_REFUSAL`.
const domainErrorCodes: Readonly<Record<DomainErrorCode, true>> = {
  not_found: true, invalid_state: true, budget_exceeded: true, forbidden: true, approval_self: true, validation_failed: true, conflict: true,
};
/** Every refusal a decider can answer with. */
export const ANY_REFUSAL = Object.keys(domainErrorCodes) as readonly DomainErrorCode[];

/** Send a complete, schema-valid command as it is. */
export interface Send {
  readonly type: 'Send';
  readonly command: AgentLoopCommand;
  readonly onRefusal?: OnRefusal;
}

/**
 * Arm a durable timer that sends `command` at `dueAt`. Scheduling is idempotent by id: the first
 * schedule wins, unless `later` moves an existing timer to a later due time (never earlier).
 */
export interface Schedule {
  readonly type: 'Schedule';
  readonly timerId: string;
  readonly dueAt: string;
  readonly command: AgentLoopCommand;
  readonly later?: true;
}

/** A tool call the model asked for and the deployment can run, as the policy will be asked about it. */
export interface ToolCallDispatch {
  readonly runId: string;
  readonly sessionId: string;
  readonly toolCall: LlmToolCall;
  readonly tool: ToolFacts;
  /** The run's user with their roles, on whose behalf the tool runs (approvals compare approvers with it). */
  readonly requestedBy: Actor;
  /** Whether the gateway flagged a prompt-injection marker in anything the run's model read. */
  readonly injectionSuspected: boolean;
  readonly approvalTtlSeconds: number;
  readonly actor: Actor;
  readonly at: string;
  /**
   * Set for a fork that simulates calls it has no record of: the policy decides, a denial is
   * recorded as in any run, and otherwise the call is recorded as simulated and never runs.
   */
  readonly simulate?: { readonly originalRunId: string };
}

/**
 * Decide a tool call with `dispatchToolCall`, given the session's budget as it stands. The one
 * output that names a read instead of carrying its result: the policy weighs the budget left at
 * the moment of dispatch, and reading the budget at every run event to have it ready would add a
 * read to each reaction for the few that dispatch tools.
 */
export interface DecideToolCall {
  readonly type: 'DecideToolCall';
  readonly dispatch: ToolCallDispatch;
}

export type AgentLoopOutput = Send | Schedule | DecideToolCall;
/** The run process's outputs: commands, timers and tool calls to decide. */
export type RunProcessOutput = AgentLoopOutput;

/** A tool the deployment has, as the agent loop needs it (the registry's definition, minus its code). */
export interface ToolFacts {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly category: string;
  readonly risk: ToolRisk;
  /** JSON schema of the arguments, shown to the model. */
  readonly parameters: Record<string, unknown>;
  /** How long the tool runner lets one attempt run. */
  readonly timeoutMs: number;
}

/** The deployment's tools by name, in the registry's order (the order the model sees them in). */
export type ToolCatalog = ReadonlyMap<string, ToolFacts>;

/** One tool call as the policy sees it (the shape of `@nexus/policy`'s `PolicyInput`). */
export interface ToolPolicyQuestion {
  readonly principal: Actor;
  readonly action: { readonly tool: string; readonly category: string; readonly risk: ToolRisk };
  readonly resource: { readonly sessionId: string; readonly remainingBudgetTokens: number };
  readonly context: { readonly input: Readonly<Record<string, unknown>>; readonly run?: { readonly injectionSuspected: boolean } };
}

/** The policy's verdict (the shape of `@nexus/policy`'s `PolicyDecision`). */
export interface ToolPolicyVerdict {
  readonly decision: ToolCallPolicyDecision;
  readonly rule: string;
  readonly reason: string;
  readonly approverRoles: readonly Role[];
}

/** The policy, synchronous and side-effect free: a pure function the process may call. */
export type ToolPolicy = (question: ToolPolicyQuestion) => ToolPolicyVerdict;

/** What the process is told besides the event: the time, the deployment's settings and tools. */
export interface RunProcessContext {
  /** When the reaction happens (ISO); stamped on every command it builds. */
  readonly at: string;
  /** Prepended to the first step's messages; later steps replay what was sent. */
  readonly systemPrompt?: string;
  /** The tools the deployment can run; a call of any other fails as not available. */
  readonly tools: ToolCatalog;
  readonly policy: ToolPolicy;
  /** Counts and prices an LLM call for its reservation. */
  readonly meter: LlmCallMeter<LlmMessage>;
  /** The most an agent-loop LLM call may write (`NEXUS_LLM_MAX_TOKENS`). */
  readonly maxTokens: number;
  /** How long an LLM call's reservation lives before its expiry returns it (`NEXUS_RESERVATION_TTL_SECONDS`). */
  readonly reservationTtlSeconds: number;
  /** How long an approval may be waited for (`NEXUS_APPROVAL_TTL_SECONDS`). */
  readonly approvalTtlSeconds: number;
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
/** The id of the timer that expires one tool call's approval request. */
export const approvalExpiryTimerId = (toolCallId: string): string => `toolcall-${toolCallId}-approval-expiry`;

/** ISO time `seconds` after `iso`: pure arithmetic on a given time, the clock is never read. */
export const secondsAfter = (iso: string, seconds: number): string => new Date(Date.parse(iso) + seconds * 1000).toISOString();
