import { argsDigest } from '@nexus/events';
import type { LlmToolCall } from '../run-process/run-process.outputs';
import type { ForkFacts, ToolOutcome } from '../run-process/run-process.state';
import type { RecordedToolCall } from './fork-run';

/** How a fork answers one tool call its model asked for. */
export type ReplayAnswer =
  | { readonly kind: 'recorded'; readonly from: RecordedToolCall }
  | { readonly kind: 'simulated' }
  /** Through the policy and approval flow, as in any run. */
  | { readonly kind: 'live' };

/**
 * How a fork answers the pending tool calls of a step. A call with the same tool and arguments
 * digest as a call the original ran gets that call's recorded result; each recorded call answers
 * one call at most (the original did it once: a second identical call is a new call), in the order
 * the model asked. Results already on record keep the recorded calls they used, so a redelivered
 * reaction assigns the rest exactly as the first did. Other calls are simulated or live, by mode.
 */
export const replayAnswers = (
  fork: ForkFacts,
  toolResults: Readonly<Record<string, ToolOutcome>>,
  pending: readonly LlmToolCall[],
): ReadonlyMap<string, ReplayAnswer> => {
  const answers = new Map<string, ReplayAnswer>();
  if (fork.replay === 'live') {
    for (const call of pending) answers.set(call.toolCallId, { kind: 'live' });
    return answers;
  }
  const used = new Set(Object.values(toolResults).flatMap((outcome) => (outcome.replayedFrom === undefined ? [] : [outcome.replayedFrom])));
  for (const call of pending) {
    const digest = argsDigest(call.arguments);
    const from = fork.recorded.find((r) => !used.has(r.toolCallId) && r.tool === call.name && r.argsDigest === digest);
    if (from !== undefined) {
      used.add(from.toolCallId);
      answers.set(call.toolCallId, { kind: 'recorded', from });
    } else {
      answers.set(call.toolCallId, { kind: fork.replay === 'simulate' ? 'simulated' : 'live' });
    }
  }
  return answers;
};

/**
 * What the model reads for a call a fork simulated: it did not run, nothing came of it, and what
 * the policy would have decided (a denial is recorded as a denial instead).
 */
export const simulatedResult = (originalRunId: string, tool: string, verdict: { decision: 'allow' | 'require_approval'; rule: string }): string =>
  `not executed: the policy would ${verdict.decision === 'allow' ? 'allow it' : 'require approval'} (rule ${verdict.rule}); ` +
  `this run replays run ${originalRunId} and simulates ${tool} calls the original did not run`;
