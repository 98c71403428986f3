import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { startEventConsumer, type BusConsumer } from '@nexus/bus';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import {
  DomainError,
  runProcess,
  toolCallOutcome,
  toRunStreamId,
  toToolCallStreamId,
  type RunProcessEvent,
} from '@nexus/domain';
import { EVENT_STORE, SQL_EXECUTOR, type EventStorePort, type SqlExecutor } from '@nexus/event-store';
import type { BudgetReservationAdjusted, BudgetReserved, EventMetadata, RecordedEvent, ToolCallEvent, ToolCallRequested, ToolCallStarted } from '@nexus/events';
import { metadataCausedBy } from '@nexus/observability';
import { rescheduleTimer, scheduleTimer } from '@nexus/timers';
import type { ToolRegistry } from '@nexus/tools';
import { AgentLoopExecutor } from './agent-loop.executor';
import { InProcessCommandSender } from './internal-command.sender';
import { TOOL_REGISTRY } from './tool-catalog.providers';

const TOOL_CALL_STREAM_PREFIX = 'toolcall-';

export const AGENT_LOOP_CONSUMER = 'agent-loop';

/**
 * Hosts the agent loop: consumes run events (JetStream, or the log in embedded mode), folds the
 * run's process state from its stream, asks the process manager what to do next and has the
 * executor do it. Also arms the expiry timer of every reservation, and reports each tool call's
 * outcome back to its run.
 */
@Injectable()
export class RunAgentLoopWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('agent-loop');
  private consumer: BusConsumer | undefined;
  private readonly toolsAvailable: ReadonlySet<string>;

  constructor(
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStorePort,
    private readonly executor: AgentLoopExecutor,
    private readonly sender: InProcessCommandSender,
    @Inject(TOOL_REGISTRY) private readonly tools: ToolRegistry,
  ) {
    this.toolsAvailable = new Set(tools.list().map((tool) => tool.name));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await startEventConsumer({
      name: AGENT_LOOP_CONSUMER,
      natsUrl: this.config.NATS_URL,
      partitions: this.config.NEXUS_BUS_PARTITIONS,
      leaseMs: this.config.NEXUS_CONSUMER_LEASE_MS,
      sql: this.sql,
      accepts: (event) =>
        event.streamId.startsWith('run-') ||
        event.streamId.startsWith(TOOL_CALL_STREAM_PREFIX) ||
        event.type === 'BudgetReserved' ||
        event.type === 'BudgetReservationAdjusted',
      // Commands and timers go through other connections than the consumer's transaction.
      handlerOutsideTransaction: true,
      handler: (event) => this.handle(event),
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  private async handle(event: RecordedEvent): Promise<void> {
    const metadata = metadataCausedBy(event, 'nexus-agent-loop');
    if (event.type === 'BudgetReserved' || event.type === 'BudgetReservationAdjusted') return this.armReservationExpiry(event, metadata);
    if (event.streamId.startsWith(TOOL_CALL_STREAM_PREFIX)) return this.reportToolCallOutcome(event, metadata);
    if (!event.streamId.startsWith('run-')) return;
    const history = (await this.store.readStream(toRunStreamId(event.streamId.slice('run-'.length)))) as unknown as RunProcessEvent[];
    const state = history.reduce(runProcess.evolve, runProcess.initialState());
    const context = { at: new Date().toISOString(), toolsAvailable: this.toolsAvailable };
    const intents = runProcess.react(state, event as unknown as RunProcessEvent, context);
    for (const intent of intents) await this.executor.execute(intent, metadata);
  }

  /**
   * A tool call's end becomes its run's tool result (the tool runner retries within attempt 1);
   * its start arms the deadline by which the runner must have reported.
   */
  private async reportToolCallOutcome(event: RecordedEvent, metadata: EventMetadata): Promise<void> {
    const toolCallId = event.streamId.slice(TOOL_CALL_STREAM_PREFIX.length);
    const history = await this.store.readStream(toToolCallStreamId(toolCallId));
    if (event.type === 'ToolCallStarted') return this.armToolCallDeadline(toolCallId, history, event, metadata);
    const state = (history as unknown as ToolCallEvent[]).reduce(toolCallOutcome.evolve, toolCallOutcome.initialState());
    const commands = toolCallOutcome.react(state, event as unknown as ToolCallEvent, { at: new Date().toISOString(), maxAttempts: 1 });
    for (const command of commands) {
      try {
        await this.sender.send(command, metadata);
      } catch (error) {
        // The run ended meanwhile (cancelled, failed): a refusal will not change on a retry.
        if (!(error instanceof DomainError)) throw error;
        this.logger.warn(`tool call ${command.data.toolCallId}: result refused by run ${command.data.runId}: ${error.message}`);
      }
    }
  }

  /**
   * The tool runner is at-most-once: if it dies after ToolCallStarted, nothing else would ever end
   * the call and its run would wait forever. The deadline is the tool's own timeout (the runner
   * gives up by then) plus a grace for its report to arrive.
   */
  private async armToolCallDeadline(toolCallId: string, history: readonly RecordedEvent[], event: RecordedEvent, metadata: EventMetadata): Promise<void> {
    const request = history.find((e) => e.type === 'ToolCallRequested')?.data as ToolCallRequested['data'] | undefined;
    if (request === undefined) return;
    const { attempt, startedAt } = event.data as ToolCallStarted['data'];
    const timeoutMs = this.tools.get(request.tool)?.definition.timeoutMs ?? 0;
    const deadline = new Date(Date.parse(startedAt) + timeoutMs + this.config.NEXUS_TOOL_DEADLINE_GRACE_SECONDS * 1000).toISOString();
    const actor = { userId: 'nexus', roles: ['service' as const], tenantId: request.requestedBy.tenantId };
    await scheduleTimer(this.sql, {
      id: `toolcall-deadline-${toolCallId}-${attempt}`,
      dueAt: deadline,
      command: { type: 'ExpireToolCallAttempt', data: { toolCallId, attempt, deadline, actor, at: deadline } },
      metadata,
    });
  }

  /** A lease's heartbeat moves its expiry later (never earlier: heartbeats may be handled out of order). */
  private async armReservationExpiry(event: RecordedEvent, metadata: EventMetadata): Promise<void> {
    const { reservationId, expiresAt } = event.data as BudgetReserved['data'] | BudgetReservationAdjusted['data'];
    const sessionId = event.streamId.slice('budget-'.length);
    const actor = { userId: 'nexus', roles: ['service' as const], tenantId: event.metadata.actor.tenantId };
    const arm = event.type === 'BudgetReserved' ? scheduleTimer : rescheduleTimer;
    await arm(this.sql, {
      id: `reservation-${sessionId}-${reservationId}`,
      dueAt: expiresAt,
      command: { type: 'ExpireReservation', data: { sessionId, reservationId, actor, at: expiresAt } },
      metadata,
    });
  }

  /** Commands caused by an event carry its correlation and trace, and name it as their cause. */
}
