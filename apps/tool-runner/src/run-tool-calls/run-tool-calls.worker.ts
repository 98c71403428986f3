import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import {
  COMMAND_SENDER,
  consumerDeployment,
  startEventConsumer,
  type BusConsumer,
  type CommandSenderPort,
} from '@nexus/bus';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { DomainError, nexusServiceActor, parseToolCallStreamId } from '@nexus/domain';
import { EVENT_STORE, readStreamOf, SQL_EXECUTOR, type EventStorePort, type SqlExecutor } from '@nexus/event-store';
import { firstOfType, toolCallEventContract, type EventMetadata, type RecordedEvent, type ToolCallCommand } from '@nexus/events';
import { metadataCausedBy, withSpan } from '@nexus/observability';
import { runTool, ToolError, type ToolRegistry } from '@nexus/tools';
import { TOOL_REGISTRY } from '../tool-registry.provider';

export const TOOL_RUNNER_CONSUMER = 'tool-runner';
const runnable = new Set(['ToolCallAllowed', 'ToolCallApproved']);
/** Backoff while an outcome cannot be recorded (command-api or its database away). */
const OUTCOME_RETRY_MIN_MS = 250;
const OUTCOME_RETRY_MAX_MS = 2_000;

/**
 * Runs a tool call once the policy allowed it or a human approved it. The tool-call stream is the
 * ledger: the tool runs only when this delivery's `StartToolCall` wrote `ToolCallStarted`, so a
 * redelivered (or concurrently delivered) event finds attempt 1 taken and runs nothing. The price
 * is at-most-once: a crash mid-run leaves the call `running` rather than running it twice, until
 * its deadline (the tool's timeout plus NEXUS_TOOL_DEADLINE_GRACE_SECONDS) records it failed.
 */
@Injectable()
export class RunToolCallsWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('tool-runner');
  private consumer: BusConsumer | undefined;
  private stopping = false;

  constructor(
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStorePort,
    @Inject(COMMAND_SENDER) private readonly commands: CommandSenderPort,
    @Inject(TOOL_REGISTRY) private readonly tools: ToolRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await startEventConsumer({
      name: TOOL_RUNNER_CONSUMER,
      ...consumerDeployment(this.config, this.sql),
      category: 'toolcall',
      accepts: (event) => runnable.has(event.type),
      // Tools run for seconds: never inside the consumer's transaction.
      handlerOutsideTransaction: true,
      handler: (event) => this.handle(event),
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.consumer?.stop();
  }

  /** One delivery of a tool-call event; anything but an allow or an approval is ignored. */
  async handle(event: RecordedEvent): Promise<void> {
    const toolCallId = parseToolCallStreamId(event.streamId);
    if (!runnable.has(event.type) || toolCallId === undefined) return;
    const history = await readStreamOf(this.store, toolCallEventContract, toolCallId);
    const request = firstOfType(history, 'ToolCallRequested')?.data;
    if (request === undefined) throw new Error(`tool call ${toolCallId}: its stream has no ToolCallRequested`);
    const actor = nexusServiceActor(request.requestedBy.tenantId);
    const metadata = metadataCausedBy(event, 'nexus-tool-runner');
    const attempt = 1;
    const receipt = await this.send(
      { type: 'StartToolCall', data: { toolCallId, attempt, argsDigest: request.argsDigest, actor, at: new Date().toISOString() } },
      metadata,
    );
    if (!receipt?.eventTypes.includes('ToolCallStarted')) return;
    const started = performance.now();
    const context = { sessionId: request.sessionId, tenantId: request.requestedBy.tenantId, userId: request.requestedBy.userId, toolCallId };
    let outcome: ToolCallCommand;
    try {
      const { output } = await withSpan(`tool ${request.tool}`, { 'nexus.tool.name': request.tool, 'nexus.tool_call.id': toolCallId }, () =>
        runTool(this.tools, request.tool, request.input, context),
      );
      const latencyMs = Math.round(performance.now() - started);
      outcome = { type: 'RecordToolCallSucceeded', data: { toolCallId, attempt, output, latencyMs, actor, at: new Date().toISOString() } };
    } catch (error) {
      const latencyMs = Math.round(performance.now() - started);
      const failure = error instanceof ToolError ? error : new ToolError('execution_failed', (error as Error).message);
      const message = `${failure.code}: ${failure.message}`;
      outcome = {
        type: 'RecordToolCallFailed',
        data: { toolCallId, attempt, error: message, retryable: failure.retryable, latencyMs, actor, at: new Date().toISOString() },
      };
    }
    await this.sendOutcome(outcome, metadata);
  }

  /**
   * Records the outcome of a call that ran, trying again until the command side takes it. Not left
   * to a redelivery of the event: that would find the call started and run nothing, and the outcome
   * would be lost (the deadline would record a call that ran as failed). Bounded all the same: once
   * the deadline has recorded the call failed, the outcome is refused and this ends.
   */
  private async sendOutcome(command: ToolCallCommand, metadata: EventMetadata): Promise<void> {
    for (let delayMs = OUTCOME_RETRY_MIN_MS; ; delayMs = Math.min(delayMs * 2, OUTCOME_RETRY_MAX_MS)) {
      try {
        await this.send(command, metadata);
        return;
      } catch (error) {
        if (this.stopping) throw error;
        this.logger.warn(`tool call ${command.data.toolCallId}: recording ${command.type} failed, retrying: ${(error as Error).message}`);
        await sleep(delayMs);
      }
    }
  }

  /** Sends a command; a refusal (the call moved on) will not change on a retry, so it ends the delivery. */
  private async send(command: ToolCallCommand, metadata: EventMetadata) {
    try {
      return await this.commands.send(command, metadata);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      this.logger.warn(`tool call ${command.data.toolCallId}: ${command.type} refused: ${error.message}`);
      return undefined;
    }
  }

}
