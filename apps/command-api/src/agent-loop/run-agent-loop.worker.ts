import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { startEventConsumer, type BusConsumer } from '@nexus/bus';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import {
  parseBudgetStreamId,
  parseRunStreamId,
  parseToolCallStreamId,
  reactToToolCallEvent,
  reservationExpiryTimer,
  runProcess,
  toolCallOutcome,
  type AgentLoopOutput,
  type RunProcessContext,
  type ToolCatalog,
} from '@nexus/domain';
import { EVENT_STORE, SQL_EXECUTOR, type EventStorePort, type SqlExecutor } from '@nexus/event-store';
import type { BudgetReservationAdjusted, BudgetReserved, DomainEvent, RecordedEvent, RunEvent, ToolCallEvent } from '@nexus/events';
import { llmCallMeter, loadPriceTable } from '@nexus/llm';
import { metadataCausedBy } from '@nexus/observability';
import { POLICY_ENGINE, type PolicyEnginePort } from '@nexus/policy';
import type { ToolRegistry } from '@nexus/tools';
import { AgentLoopExecutor } from './agent-loop.executor';
import { TOOL_REGISTRY, toolCatalogOf } from './tool-catalog.providers';

export const AGENT_LOOP_CONSUMER = 'agent-loop';

/** A recorded event of a union, narrowed by its `type` like the union itself. */
type Recorded<E extends DomainEvent> = E extends DomainEvent ? RecordedEvent<E> : never;

// The stream id says which contract an event is of; the store only ever holds what its deciders decided.
const isRunEvent = (event: RecordedEvent): event is Recorded<RunEvent> => parseRunStreamId(event.streamId) !== undefined;
const isToolCallEvent = (event: RecordedEvent): event is Recorded<ToolCallEvent> => parseToolCallStreamId(event.streamId) !== undefined;
const isReservationTimed = (event: RecordedEvent): event is Recorded<BudgetReserved | BudgetReservationAdjusted> =>
  event.type === 'BudgetReserved' || event.type === 'BudgetReservationAdjusted';

/**
 * Hosts the agent loop: consumes run, tool-call and reservation events (JetStream, or the log in
 * embedded mode), loads the stream the domain folds, asks the domain what follows and has the
 * executor send and schedule it. The rules are the domain's: the run process for runs,
 * `reactToToolCallEvent` for tool calls (their deadline, their result), `reservationExpiryTimer`
 * for reservations.
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
      natsUrl: this.config.NATS_URL,
      partitions: this.config.NEXUS_BUS_PARTITIONS,
      leaseMs: this.config.NEXUS_CONSUMER_LEASE_MS,
      sql: this.sql,
      accepts: (event) => isRunEvent(event) || isToolCallEvent(event) || isReservationTimed(event),
      // Commands and timers go through other connections than the consumer's transaction.
      handlerOutsideTransaction: true,
      handler: async (event) => this.executor.execute(await this.react(event, new Date().toISOString()), metadataCausedBy(event, 'nexus-agent-loop')),
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  /** What the domain makes of one event, given its stream as it stands now (the event's own: it is that stream's fold). */
  private async react(event: RecordedEvent, at: string): Promise<AgentLoopOutput[]> {
    if (isRunEvent(event)) {
      const history = (await this.store.readStream(event.streamId)).filter(isRunEvent);
      return runProcess.react(history.reduce(runProcess.evolve, runProcess.initialState()), event, { ...this.settings, at });
    }
    if (isToolCallEvent(event)) {
      const history = (await this.store.readStream(event.streamId)).filter(isToolCallEvent);
      const state = history.reduce(toolCallOutcome.evolve, toolCallOutcome.initialState());
      return reactToToolCallEvent(state, event, { at, tools: this.tools, deadlineGraceSeconds: this.config.NEXUS_TOOL_DEADLINE_GRACE_SECONDS });
    }
    const sessionId = parseBudgetStreamId(event.streamId);
    return sessionId !== undefined && isReservationTimed(event) ? [reservationExpiryTimer(sessionId, event.metadata.actor.tenantId, event)] : [];
  }
}
