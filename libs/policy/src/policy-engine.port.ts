import type { Actor, Role, ToolCallPolicyDecision, ToolRisk } from '@nexus/events';

/** One tool call as the policy sees it. */
export interface PolicyInput {
  /** The requester (the run's user): id, roles and tenant. */
  readonly principal: Actor;
  /** The tool being called, as the registry describes it (MCP tools included). */
  readonly action: {
    readonly tool: string;
    readonly category: string;
    readonly risk: ToolRisk;
  };
  readonly resource: {
    readonly sessionId: string;
    /** Tokens the session's budget has left; an integer, never negative in practice. */
    readonly remainingBudgetTokens: number;
  };
  readonly context: {
    /** The tool call's input arguments. */
    readonly input: Readonly<Record<string, unknown>>;
    /**
     * The run so far: whether the gateway flagged a prompt-injection marker in one of its tool
     * results (the model may be steered by data it read). Absent: nothing was flagged.
     */
    readonly run?: { readonly injectionSuspected: boolean };
  };
}

/**
 * The verdict, shaped like the `RecordPolicyDecision` command: `rule` is the `@id` of the policy
 * that decided (or `default-deny` when none matched), `approverRoles` is empty unless approval
 * is required. Approver ≠ requester is the tool-call decider's rule, not the policy's.
 */
export interface PolicyDecision {
  readonly decision: ToolCallPolicyDecision;
  readonly rule: string;
  readonly reason: string;
  readonly approverRoles: readonly Role[];
}

/** Evaluates tool calls against the loaded policy files; synchronous and side-effect free. */
export interface PolicyEnginePort {
  evaluate(input: PolicyInput): PolicyDecision;
}

export const POLICY_ENGINE = Symbol('POLICY_ENGINE');

/** Rule reported when no policy permits the call. */
export const DEFAULT_DENY_RULE = 'default-deny';
