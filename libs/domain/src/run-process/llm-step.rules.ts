import type { LlmCallCompleted } from '@nexus/events';
import { llmCallWorstCase } from '../llm-call/llm-call.worst-case';
import {
  nexusServiceActor,
  stepCallId,
  stepReservationId,
  type LlmMessage,
  type LlmToolDefinition,
  type RunProcessContext,
  type Send,
} from './run-process.outputs';
import type { StartedRunProcessState } from './run-process.state';

/**
 * The tools the model is offered: the run's that the deployment has, minus those the policy
 * denies the run's user outright. The arguments are not known yet, so a rule that reads them
 * decides when the call is made; and the budget is not what is asked here (it is taken as ample).
 */
export const toolsOffered = (run: StartedRunProcessState, { tools, policy }: Pick<RunProcessContext, 'tools' | 'policy'>): LlmToolDefinition[] => {
  const user = run.user;
  if (user === null) return [];
  return [...tools.values()]
    .filter((tool) => run.tools.includes(tool.name))
    .filter(
      (tool) =>
        policy({
          principal: user,
          action: { tool: tool.name, category: tool.category, risk: tool.risk },
          resource: { sessionId: run.sessionId, remainingBudgetTokens: Number.MAX_SAFE_INTEGER },
          context: { input: {} },
        }).decision !== 'deny',
    )
    .map(({ name, description, parameters }) => ({ name, description, parameters }));
};

/**
 * One LLM step: hold on the budget the most the call can cost (its prompt, the tools offered, all
 * it may write, at the model's prices), then request it. A budget that cannot hold it fails the
 * run as budget exhausted, and the call is never requested. The ids derive from the run and step,
 * so a redelivered reaction repeats the same commands and both deciders ignore the repeat.
 */
export const startLlmStep = (run: StartedRunProcessState, step: number, messages: readonly LlmMessage[], context: RunProcessContext): Send[] => {
  const { at, maxTokens, meter, reservationTtlSeconds } = context;
  const { runId, sessionId, model } = run;
  const actor = nexusServiceActor(run.tenantId);
  const callId = stepCallId(runId, step);
  const reservationId = stepReservationId(runId, step);
  const tools = toolsOffered(run, context);
  const { promptTokens, amount } = llmCallWorstCase({ model, messages, tools, completionTokens: maxTokens }, meter);
  const detail = `the next LLM call needs ${amount.tokens} tokens`;
  const failRun = { type: 'FailRun' as const, data: { runId, reason: 'budget_exhausted' as const, detail, actor, at } };
  return [
    {
      type: 'Send',
      command: { type: 'ReserveBudget', data: { sessionId, reservationId, amount, purpose: `llm call, step ${step}`, runId, ttlSeconds: reservationTtlSeconds, actor, at } },
      onRefusal: { codes: ['budget_exceeded'], then: 'stop', send: failRun },
    },
    {
      type: 'Send',
      command: {
        type: 'RequestLlmCall',
        data: { runId, callId, reservationId, model, messages: [...messages], tools, maxTokens, estimatedPromptTokens: promptTokens, actor, at },
      },
    },
  ];
};

/**
 * Pay for a call at its actual usage: the reservation is consumed and the rest of it goes back to
 * the budget. A reservation already settled (a redelivery) is done.
 */
export const settleLlmCall = (run: StartedRunProcessState, reservationId: string, { usage, costMicroUsd }: LlmCallCompleted['data'], at: string): Send => {
  const amount = { tokens: usage.promptTokens + usage.completionTokens, costMicroUsd, wallClockSeconds: 0 };
  const actor = nexusServiceActor(run.tenantId);
  return {
    type: 'Send',
    command: { type: 'ConsumeReservation', data: { sessionId: run.sessionId, reservationId, amount, actor, at } },
    onRefusal: { codes: ['invalid_state'], then: 'carry_on' },
  };
};
