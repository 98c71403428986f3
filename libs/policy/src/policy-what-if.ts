import type { ToolCallPolicyDecision } from '@nexus/events';
import type { PolicyEnginePort, PolicyInput } from './policy-engine.port';

/** A tool call as the policy saw it when it was requested, with what the policy decided then. */
export interface RecordedPolicyCall {
  readonly toolCallId: string;
  readonly runId: string;
  readonly requestedAt: string;
  readonly input: PolicyInput;
  readonly recorded: { readonly decision: ToolCallPolicyDecision; readonly rule: string };
}

export interface WhatIfExample {
  readonly toolCallId: string;
  readonly runId: string;
  readonly requestedAt: string;
  readonly user: string;
  readonly tool: string;
  readonly recordedRule: string;
}

/** The calls one candidate rule moves from one decision to another. */
export interface WhatIfChange {
  /** The candidate's deciding rule (`default-deny` when nothing permits). */
  readonly rule: string;
  readonly from: ToolCallPolicyDecision;
  readonly to: ToolCallPolicyDecision;
  readonly count: number;
  readonly examples: readonly WhatIfExample[];
}

export interface WhatIfReport {
  readonly calls: number;
  readonly changed: number;
  /** Count per `from → to`, e.g. `allow → require_approval`. */
  readonly transitions: Readonly<Record<string, number>>;
  /** Every change grouped by candidate rule and transition, largest first. */
  readonly changes: readonly WhatIfChange[];
}

/**
 * Evaluates a candidate policy set on recorded tool calls and reports the decisions it would
 * change (allow, require_approval, deny), grouped by the candidate rule that decides them, with
 * a few examples each. A change is a different decision; the same decision by another rule is not.
 * Nothing is written: the engine is side-effect free.
 */
export function whatIf(candidate: PolicyEnginePort, calls: readonly RecordedPolicyCall[], examplesPerChange = 3): WhatIfReport {
  const groups = new Map<string, { rule: string; from: ToolCallPolicyDecision; to: ToolCallPolicyDecision; count: number; examples: WhatIfExample[] }>();
  const transitions: Record<string, number> = {};
  let changed = 0;
  for (const call of calls) {
    const verdict = candidate.evaluate(call.input);
    const from = call.recorded.decision;
    if (verdict.decision === from) continue;
    changed += 1;
    const transition = `${from} → ${verdict.decision}`;
    transitions[transition] = (transitions[transition] ?? 0) + 1;
    const key = `${verdict.rule}\u0000${transition}`;
    const group = groups.get(key) ?? { rule: verdict.rule, from, to: verdict.decision, count: 0, examples: [] };
    group.count += 1;
    if (group.examples.length < examplesPerChange) {
      const { toolCallId, runId, requestedAt, input } = call;
      group.examples.push({ toolCallId, runId, requestedAt, user: input.principal.userId, tool: input.action.tool, recordedRule: call.recorded.rule });
    }
    groups.set(key, group);
  }
  const changes = [...groups.values()].sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule) || a.from.localeCompare(b.from));
  return { calls: calls.length, changed, transitions, changes };
}
