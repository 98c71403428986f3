import { describe, expect, it } from '@jest/globals';
import type { ToolCallEvent } from '@nexus/events';
import { catalogOf, tool } from '../run-process/run-process.fixtures';
import type { AgentLoopOutput } from '../run-process/run-process.outputs';
import { T0, T1, toolCallAllowed, toolCallDenied, toolCallId, toolCallRequested } from '../tool-call/tool-call.fixtures';
import { evolveToolCall, initialToolCallState } from '../tool-call/tool-call.state';
import { reactToToolCallEvent, type ToolCallReactionContext } from './tool-call.reactions';

const context: ToolCallReactionContext = { at: T1, tools: catalogOf(tool('files_write', { timeoutMs: 20_000 })), deadlineGraceSeconds: 30 };
const nexus = { userId: 'nexus', roles: ['service' as const], tenantId: 'acme' };

/** `given(history).when(event).then(outputs)`: the tool call folds its stream through the event. */
const given = (history: readonly ToolCallEvent[]) => ({
  when: (event: ToolCallEvent, ctx: ToolCallReactionContext = context) => ({
    then: (expected: readonly AgentLoopOutput[]) =>
      expect(reactToToolCallEvent([...history, event].reduce(evolveToolCall, initialToolCallState()), event, ctx)).toEqual(expected),
  }),
});

const started = (attempt = 1): ToolCallEvent => ({ type: 'ToolCallStarted', data: { attempt, argsDigest: 'a'.repeat(64), startedAt: T0 } });
const deadline = (dueAt: string, attempt = 1): AgentLoopOutput => ({
  type: 'Schedule',
  timerId: `toolcall-deadline-${toolCallId}-${attempt}`,
  dueAt,
  command: { type: 'ExpireToolCallAttempt', data: { toolCallId, attempt, deadline: dueAt, actor: nexus, at: dueAt } },
});

describe('the agent loop’s reaction to a tool call', () => {
  describe('when an attempt starts', () => {
    it('arms its deadline: the tool’s timeout plus the grace for the runner’s report', () => {
      given([toolCallRequested, toolCallAllowed]).when(started()).then([deadline('2026-11-22T10:00:50.000Z')]);
    });

    it('arms one deadline per attempt', () => {
      given([toolCallRequested, toolCallAllowed, started(1)]).when(started(2)).then([deadline('2026-11-22T10:00:50.000Z', 2)]);
    });

    it('gives a tool the deployment no longer has the grace alone', () => {
      given([toolCallRequested, toolCallAllowed]).when(started(), { ...context, tools: new Map() }).then([deadline('2026-11-22T10:00:30.000Z')]);
    });
  });

  describe('when it ends', () => {
    it('records its outcome as the run’s tool result, and carries on if the run refuses it (the run ended meanwhile)', () => {
      given([toolCallRequested]).when(toolCallDenied).then([
        {
          type: 'Send',
          command: { type: 'RecordToolResult', data: { runId: 'run-1', toolCallId, status: 'denied', content: 'no rule allows it (rule default-deny)', actor: nexus, at: T1 } },
          onRefusal: { codes: ['not_found', 'invalid_state', 'budget_exceeded', 'forbidden', 'approval_self', 'validation_failed', 'conflict'], then: 'carry_on' },
        },
      ]);
    });

    it('does nothing for a call it has no request of', () => {
      given([]).when(started()).then([]);
    });
  });
});
