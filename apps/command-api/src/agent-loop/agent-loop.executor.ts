import { Inject, Injectable } from '@nestjs/common';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import {
  BudgetExceededError,
  budgetDecider,
  fold,
  InvalidStateError,
  remainingBudget,
  runDecider,
  simulatedResult,
  toBudgetStreamId,
  toRunStreamId,
  type RunProcessIntent,
} from '@nexus/domain';
import { EVENT_STORE, SQL_EXECUTOR, type EventStorePort, type SqlExecutor } from '@nexus/event-store';
import {
  argsDigest,
  type Actor,
  type DomainCommand,
  type EventMetadata,
  type LlmCallCompleted,
  type LlmCallRequested,
  type RecordedEvent,
  type RunEvent,
  type RunStarted,
} from '@nexus/events';
import { loadPriceTable, worstCaseOf } from '@nexus/llm';
import { POLICY_ENGINE, type PolicyEnginePort } from '@nexus/policy';
import { scheduleTimer } from '@nexus/timers';
import type { ToolRegistry } from '@nexus/tools';
import { CommandHandlingService } from '../command-handling/command-handling.service';
import { InProcessCommandSender } from './internal-command.sender';
import { TOOL_REGISTRY } from './tool-catalog.providers';

type DispatchToolCall = Extract<RunProcessIntent, { type: 'DispatchToolCall' }>;
type LlmToolDefinition = NonNullable<LlmCallRequested['data']['tools']>[number];

/** The durable timer that expires one tool call's approval request. */
export const approvalExpiryTimerId = (toolCallId: string): string => `toolcall-${toolCallId}-approval-expiry`;

/**
 * Carries out the run process's intents: one thin async function per kind. All it sends are
 * idempotent commands with deterministic ids, so a redelivered event repeats them harmlessly.
 */
@Injectable()
export class AgentLoopExecutor {
  private readonly prices = loadPriceTable();

  constructor(
    private readonly sender: InProcessCommandSender,
    // Its folded-state cache: a long session's budget stream is not re-read at every step.
    private readonly commands: CommandHandlingService,
    @Inject(EVENT_STORE) private readonly store: EventStorePort,
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
    @Inject(TOOL_REGISTRY) private readonly tools: ToolRegistry,
    @Inject(POLICY_ENGINE) private readonly policy: PolicyEnginePort,
  ) {}

  async execute(intent: RunProcessIntent, metadata: EventMetadata): Promise<void> {
    switch (intent.type) {
      case 'StartLlmStep':
        return this.startLlmStep(intent, metadata);
      case 'SettleLlmCall':
        return this.settle(intent, metadata);
      case 'Command':
        return void (await this.sender.send(intent.command, metadata));
      case 'ReleaseRunReservations':
        return this.releaseRunReservations(intent, metadata);
      case 'ScheduleTimer':
        return void (await scheduleTimer(this.sql, { id: intent.timerId, dueAt: intent.dueAt, command: intent.command, metadata }));
      case 'DispatchToolCall':
        return this.dispatchToolCall(intent, metadata);
    }
  }

  /**
   * Reserve what the call can cost at most (prompt, tool definitions and max_tokens), then request
   * it with the tools the model may see: the run's, minus those the policy would deny its user.
   */
  private async startLlmStep(intent: Extract<RunProcessIntent, { type: 'StartLlmStep' }>, metadata: EventMetadata): Promise<void> {
    const { runId, sessionId, callId, reservationId, model, messages, actor, at, step } = intent;
    const maxTokens = this.config.NEXUS_LLM_MAX_TOKENS;
    const tools = await this.toolsOffered(runId, sessionId);
    const { promptTokens, amount } = worstCaseOf({ model, messages, tools, completionTokens: maxTokens }, this.prices);
    try {
      await this.send(
        { type: 'ReserveBudget', data: { sessionId, reservationId, amount, purpose: `llm call, step ${step}`, runId, ttlSeconds: this.config.NEXUS_RESERVATION_TTL_SECONDS, actor, at } },
        metadata,
      );
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      await this.send(
        { type: 'FailRun', data: { runId, reason: 'budget_exhausted', detail: `the next LLM call needs ${amount.tokens} tokens: ${error.message}`, actor, at } },
        metadata,
      );
      return;
    }
    await this.send(
      {
        type: 'RequestLlmCall',
        data: { runId, callId, reservationId, model, messages: [...messages], tools, maxTokens, estimatedPromptTokens: promptTokens, actor, at },
      },
      metadata,
    );
  }

  /** The run's tools that the registry has and the policy does not deny its user outright. */
  private async toolsOffered(runId: string, sessionId: string): Promise<LlmToolDefinition[]> {
    const [started] = await this.store.readStream(toRunStreamId(runId));
    const requested = started?.type === 'RunStarted' ? (started.data as RunStarted['data']).tools : [];
    const user = started?.metadata.actor;
    if (requested.length === 0 || user === undefined) return [];
    return this.tools.definitionsForModel(requested).filter((definition) => {
      const tool = this.tools.get(definition.name)?.definition;
      if (tool === undefined) return false;
      // Arguments are not known yet: a rule that reads them decides when the call is made.
      const verdict = this.policy.evaluate({
        principal: user,
        action: { tool: tool.name, category: tool.category, risk: tool.risk },
        resource: { sessionId, remainingBudgetTokens: Number.MAX_SAFE_INTEGER },
        context: { input: {} },
      });
      return verdict.decision !== 'deny';
    });
  }

  /** Consume at actual usage; a reservation already settled (a redelivery) is done. */
  private async settle(intent: Extract<RunProcessIntent, { type: 'SettleLlmCall' }>, metadata: EventMetadata): Promise<void> {
    const { sessionId, reservationId, usage, costMicroUsd, actor, at } = intent;
    const amount = { tokens: usage.promptTokens + usage.completionTokens, costMicroUsd, wallClockSeconds: 0 };
    try {
      await this.send({ type: 'ConsumeReservation', data: { sessionId, reservationId, amount, actor, at } }, metadata);
    } catch (error) {
      if (error instanceof InvalidStateError) return;
      throw error;
    }
  }

  /**
   * Releases the run's open reservations, except the one of a call still in flight: its completion
   * will consume it (a cancelled run's last call is still paid for), or its expiry timer frees it.
   */
  private async releaseRunReservations(intent: Extract<RunProcessIntent, { type: 'ReleaseRunReservations' }>, metadata: EventMetadata): Promise<void> {
    const { sessionId, runId, actor, at } = intent;
    const [budget, runEvents] = await Promise.all([this.commands.load(budgetDecider, toBudgetStreamId(sessionId)), this.store.readStream(toRunStreamId(runId))]);
    const run = fold(runDecider, runEvents as unknown as RunEvent[]);
    if (budget.status === 'none') return;
    const inFlightCall = run.status === 'none' ? null : run.inFlightCall;
    const inFlight = runEvents.find((e) => e.type === 'LlmCallRequested' && (e.data as LlmCallRequested['data']).callId === inFlightCall?.callId);
    const inFlightReservation = (inFlight?.data as LlmCallRequested['data'] | undefined)?.reservationId;
    for (const [reservationId, reservation] of Object.entries(budget.reservations)) {
      if (reservation.status !== 'open' || reservation.runId !== runId || reservationId === inFlightReservation) continue;
      try {
        await this.send({ type: 'ReleaseReservation', data: { sessionId, reservationId, actor, at } }, metadata);
      } catch (error) {
        if (!(error instanceof InvalidStateError)) throw error;
      }
    }
  }

  /**
   * Requests the tool call on the run user's behalf, has the policy decide it and, when a human
   * must approve, arms the approval's expiry. A fork's simulated call the policy does not deny is
   * recorded as simulated instead: it is never requested, so nothing can run it. Repeatable: the same request and verdict are no-ops
   * for the tool-call decider, and the timer id is derived from the call.
   */
  private async dispatchToolCall(intent: DispatchToolCall, metadata: EventMetadata): Promise<void> {
    const { runId, sessionId, toolCall, actor, at } = intent;
    const { toolCallId } = toolCall;
    const tool = this.tools.get(toolCall.name)?.definition;
    if (tool === undefined) {
      const content = `tool not available: ${toolCall.name}`;
      await this.send({ type: 'RecordToolResult', data: { runId, toolCallId, status: 'failed', content, actor, at } }, metadata);
      return;
    }
    const [runEvents, budget] = await Promise.all([this.store.readStream(toRunStreamId(runId)), this.commands.load(budgetDecider, toBudgetStreamId(sessionId))]);
    const requestedBy = this.runUser(runEvents[0]?.metadata.actor, intent);
    const input = toolCall.arguments;
    const remainingBudgetTokens = budget.status === 'none' ? 0 : Math.max(0, remainingBudget(budget).tokens);
    const verdict = this.policy.evaluate({
      principal: requestedBy,
      action: { tool: tool.name, category: tool.category, risk: tool.risk },
      resource: { sessionId, remainingBudgetTokens },
      context: { input, run: { injectionSuspected: injectionSuspected(runEvents) } },
    });
    if (intent.simulate !== undefined && verdict.decision !== 'deny') {
      const content = simulatedResult(intent.simulate.originalRunId, tool.name, { decision: verdict.decision, rule: verdict.rule });
      try {
        await this.send({ type: 'RecordToolResult', data: { runId, toolCallId, status: 'simulated', content, actor, at } }, metadata);
      } catch (error) {
        // A redelivery after the budget moved may word it differently; the first record stands.
        if (!(error instanceof InvalidStateError)) throw error;
      }
      return;
    }
    await this.send(
      {
        type: 'RequestToolCall',
        data: {
          toolCallId, runId, sessionId, requestedBy, tool: tool.name, toolVersion: tool.version, category: tool.category,
          risk: tool.risk, input, argsDigest: argsDigest(input), actor, at,
        },
      },
      metadata,
    );
    const needsApproval = verdict.decision === 'require_approval';
    const expiresAt = needsApproval ? new Date(Date.parse(at) + this.config.NEXUS_APPROVAL_TTL_SECONDS * 1000).toISOString() : null;
    const { decision, rule, reason } = verdict;
    const approverRoles = needsApproval ? [...verdict.approverRoles] : [];
    try {
      await this.send(
        { type: 'RecordPolicyDecision', data: { toolCallId, decision, rule, reason, approverRoles, approvalExpiresAt: expiresAt, actor, at } },
        metadata,
      );
    } catch (error) {
      // A redelivery after the budget moved may evaluate differently; the first verdict stands.
      if (error instanceof InvalidStateError) return;
      throw error;
    }
    if (expiresAt === null) return;
    await scheduleTimer(this.sql, {
      id: approvalExpiryTimerId(toolCallId),
      dueAt: expiresAt,
      command: { type: 'ExpireApproval', data: { toolCallId, actor, at: expiresAt } },
      metadata,
    });
  }

  /** The run's user with their roles, as they started the run (the policy and approvals need the roles). */
  private runUser(starter: Actor | undefined, intent: DispatchToolCall): Actor {
    if (starter === undefined || starter.userId !== intent.userId) {
      throw new Error(`run ${intent.runId}: its first event does not name its user ${intent.userId}`);
    }
    return { userId: starter.userId, roles: [...starter.roles], tenantId: starter.tenantId };
  }

  private send(command: DomainCommand, metadata: EventMetadata) {
    return this.sender.send(command, metadata);
  }
}

/** Whether the gateway flagged a prompt-injection marker in any tool result the run's model read. */
function injectionSuspected(runEvents: readonly RecordedEvent[]): boolean {
  return runEvents.some((event) => event.type === 'LlmCallCompleted' && ((event.data as LlmCallCompleted['data']).flags?.injection.length ?? 0) > 0);
}
