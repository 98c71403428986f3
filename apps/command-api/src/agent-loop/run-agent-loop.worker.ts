import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { consumerDeployment, startEventConsumer, type BusConsumer } from '@nexus/bus';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import {
  parseRunStreamId,
  parseToolCallStreamId,
  reactToToolCallEvent,
  runProcess,
  toolCallOutcome,
  type AgentLoopOutput,
  type RunProcessContext,
  type ToolCatalog,
} from '@nexus/domain';
import { EVENT_STORE, readStreamOf, SQL_EXECUTOR, type EventStorePort, type SqlExecutor } from '@nexus/event-store';
import { runEventContract, toolCallEventContract, type RecordedEvent } from '@nexus/events';
import { llmCallMeter, loadPriceTable } from '@nexus/llm';
import { metadataCausedBy } from '@nexus/observability';
import { POLICY_ENGINE, type PolicyEnginePort } from '@nexus/policy';
import type { ToolRegistry } from '@nexus/tools';
import { AgentLoopExecutor } from './agent-loop.executor';
import { TOOL_REGISTRY, toolCatalogOf } from './tool-catalog.providers';

export const AGENT_LOOP_CONSUMER = 'agent-loop';

/**
 * Hosts the agent loop: consumes run and tool-call events (JetStream, or the log in embedded
 * mode), loads the stream the domain folds, asks the domain what follows and has the executor
 * send and schedule it. The rules are the domain's: the run process for runs,
 * `reactToToolCallEvent` for tool calls (their deadline, their result). Reservations' expiry
 * timers are armed by their own consumer (`ArmReservationExpiryWorker`), a batch per statement.
 */
@Injectable()
export class RunAgentLoopWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: BusConsumer | undefined;
  private readonly tools: ToolCatalog;
  private readonly settings: Omit<RunProcessContext, 'at'>;

  constructor(
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStorePort,
    private readonly executor: AgentLoopExecutor,
    @Inject(TOOL_REGISTRY) registry: ToolRegistry,
    @Inject(POLICY_ENGINE) policy: PolicyEnginePort,
  ) {
    this.tools = toolCatalogOf(registry);
    this.settings = {
      tools: this.tools,
      policy: (question) => policy.evaluate(question),
      meter: llmCallMeter(loadPriceTable()),
      maxTokens: config.NEXUS_LLM_MAX_TOKENS,
      reservationTtlSeconds: config.NEXUS_RESERVATION_TTL_SECONDS,
      approvalTtlSeconds: config.NEXUS_APPROVAL_TTL_SECONDS,
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await startEventConsumer({
      name: AGENT_LOOP_CONSUMER,
      ...consumerDeployment(this.config, this.sql),
      accepts: (event) => runEventContract.stream.is(event.streamId) || toolCallEventContract.stream.is(event.streamId),
      // Commands and timers go through other connections than the consumer's transaction.
      handlerOutsideTransaction: true,
      handler: async (event) => this.executor.execute(await this.react(event, new Date().toISOString()), metadataCausedBy(event, 'nexus-agent-loop')),
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  /** What the domain makes of one event, given its stream as it stands now; every read goes through the stream's contract. */
  private async react(event: RecordedEvent, at: string): Promise<AgentLoopOutput[]> {
    const runId = parseRunStreamId(event.streamId);
    if (runId !== undefined) {
      const history = await readStreamOf(this.store, runEventContract, runId);
      return runProcess.react(history.reduce(runProcess.evolve, runProcess.initialState()), runEventContract.read(event), { ...this.settings, at });
    }
    const toolCallId = parseToolCallStreamId(event.streamId);
    if (toolCallId !== undefined) {
      const history = await readStreamOf(this.store, toolCallEventContract, toolCallId);
      const state = history.reduce(toolCallOutcome.evolve, toolCallOutcome.initialState());
      const context = { at, tools: this.tools, deadlineGraceSeconds: this.config.NEXUS_TOOL_DEADLINE_GRACE_SECONDS };
      return reactToToolCallEvent(state, toolCallEventContract.read(event), context);
    }
    return [];
  }
}
