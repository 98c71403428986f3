import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import {
  COMMAND_SENDER,
  consumerDeployment,
  startEventConsumer,
  type BusConsumer,
  type CommandSenderPort,
  TOKEN_STREAM,
  type TokenStreamPort,
} from '@nexus/bus';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import { runEventContract, type LlmCallRequested, type RecordedEvent, type RunCommand } from '@nexus/events';
import { DomainError, parseRunStreamId, RESERVATION_EXHAUSTED } from '@nexus/domain';
import {
  countPromptTokens,
  countTokens,
  detectPromptInjection,
  estimateCost,
  LlmUnavailableError,
  loadPriceTable,
  redactSecrets,
  StreamingRedactor,
  type LlmCallResult,
  type ResilientLlmClient,
} from '@nexus/llm';
import { metadataCausedBy, SpanKind, withSpan } from '@nexus/observability';
import { LLM_CLIENT } from '../llm-client.provider';

export const LLM_GATEWAY_CONSUMER = 'llm-gateway';

/**
 * Answers `LlmCallRequested`: calls the providers (fallback, retries, breakers, cache) and reports
 * the outcome as a command. The reply's tool call ids are derived from the call id, so a
 * redelivered request produces the very same command and the run decider ignores the repeat;
 * usage is recorded once, so a call is never charged twice.
 */
@Injectable()
export class CallLlmWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('llm-gateway');
  private consumer: BusConsumer | undefined;
  private readonly prices = loadPriceTable();

  constructor(
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    @Inject(COMMAND_SENDER) private readonly commands: CommandSenderPort,
    @Inject(LLM_CLIENT) private readonly llm: ResilientLlmClient,
    @Inject(TOKEN_STREAM) private readonly tokens: TokenStreamPort,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await startEventConsumer({
      name: LLM_GATEWAY_CONSUMER,
      ...consumerDeployment(this.config, this.sql),
      category: 'run',
      accepts: (event) => event.type === 'LlmCallRequested',
      // Provider calls take seconds and their outcome is a command: not inside the inbox transaction.
      handlerOutsideTransaction: true,
      handler: (recorded) => {
        const event = runEventContract.read(recorded);
        return event.type === 'LlmCallRequested' ? this.call(event) : Promise.resolve();
      },
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }

  private async call(event: RecordedEvent<LlmCallRequested>): Promise<void> {
    const { callId, messages } = event.data;
    const runId = parseRunStreamId(event.streamId);
    if (runId === undefined) return;
    const actor = { userId: 'nexus', roles: ['service' as const], tenantId: event.metadata.actor.tenantId };
    const metadata = metadataCausedBy(event, 'nexus-llm-gateway');
    // Each call resends the whole conversation: only tool results after the last answer are new.
    const lastAnswer = messages.map((m) => m.role).lastIndexOf('assistant');
    const injection = detectPromptInjection(messages)
      .filter((flag) => flag.messageIndex > lastAnswer)
      .map(({ toolCallId, marker, match }) => ({ toolCallId: toolCallId ?? null, marker, match: match.slice(0, 200) }));
    for (const flag of injection) {
      this.logger.warn(`run ${runId} call ${callId}: tool result ${flag.toolCallId ?? '?'} contains a prompt-injection marker (${flag.marker})`);
    }
    let command: RunCommand;
    try {
      const request = event.data;
      const attributes = { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': request.model, 'nexus.llm.call_id': callId };
      const outcome = await withSpan(`chat ${request.model}`, attributes, async (span) => {
        const result = await this.streamCall(runId, request);
        span.setAttributes({
          'gen_ai.provider.name': result.provider,
          'gen_ai.response.model': result.response.model,
          'gen_ai.usage.input_tokens': result.response.usage.promptTokens,
          'gen_ai.usage.output_tokens': result.response.usage.completionTokens,
          'nexus.llm.cost_micro_usd': result.costMicroUsd,
        });
        return result;
      }, SpanKind.CLIENT);
      const { response, provider, costMicroUsd, latencyMs } = outcome;
      // Secrets never enter the log: the model's answer is redacted before it becomes an event.
      const redacted = redactSecrets(response.content);
      const redactions = redacted.redactions as Record<string, number>;
      const flagged = injection.length > 0 || Object.keys(redactions).length > 0;
      command = {
        type: 'RecordLlmCallCompleted',
        data: {
          runId,
          callId,
          content: redacted.text,
          toolCalls: response.toolCalls.map((call, i) => ({ ...call, toolCallId: `${callId}-t${i + 1}` })),
          usage: response.usage,
          costMicroUsd,
          provider,
          model: response.model,
          latencyMs: Math.round(latencyMs),
          finishReason: response.finishReason,
          // The filters' findings are part of the record: audited, replayed, shown with the messages.
          ...(flagged ? { flags: { injection, redactions } } : {}),
          actor,
          at: new Date().toISOString(),
        },
      };
    } catch (error) {
      if (!(error instanceof LlmUnavailableError)) throw error;
      command = {
        type: 'RecordLlmCallFailed',
        data: { runId, callId, reason: 'provider_unavailable', error: error.message, actor, at: new Date().toISOString() },
      };
    }
    try {
      await this.commands.send(command, metadata);
    } catch (error) {
      // A refusal (the run ended meanwhile) will not change on a retry; anything else is retried.
      if (!(error instanceof DomainError)) throw error;
      this.logger.warn(`run ${runId} call ${callId}: outcome refused: ${error.message}`);
    }
  }

  /**
   * Streams the call, publishing tokens live to whoever watches the run, and meters it as it flows:
   * a provider that goes past the call's reservation (its `max_tokens`) is cut there, and the call
   * is recorded as `reservation_exhausted` with the usage counted so far — the run then fails
   * `budget_exhausted`, and the budget is charged for exactly what was used.
   */
  private async streamCall(runId: string, request: LlmCallRequested['data']): Promise<LlmCallResult> {
    const { callId, model, messages, tools, maxTokens } = request;
    const abort = new AbortController();
    let completionTokens = 0;
    let content = '';
    let index = 0;
    let provider = 'unknown';
    const started = performance.now();
    // The live preview is redacted like the recorded answer: watchers never see a secret either.
    const redactor = new StreamingRedactor();
    const preview = (text: string): void => {
      if (text !== '') this.tokens.publish(runId, { callId, index: index++, text });
    };
    try {
      const chunks = this.llm.stream(
        { model, messages, ...(tools === undefined ? {} : { tools }), maxTokens, temperature: this.config.NEXUS_LLM_TEMPERATURE, seed: callId },
        abort.signal,
      );
      for await (const chunk of chunks) {
        if (chunk.type === 'done') {
          preview(redactor.flush());
          return chunk.result;
        }
        provider = chunk.provider;
        // Tool calls are recorded from the final response; the live preview is text only.
        if (chunk.type !== 'delta') continue;
        const tokens = countTokens(chunk.text);
        if (completionTokens + tokens > maxTokens) break;
        completionTokens += tokens;
        content += chunk.text;
        preview(redactor.push(chunk.text));
      }
    } finally {
      abort.abort();
    }
    preview(redactor.flush());
    const promptTokens = countPromptTokens(messages);
    return {
      response: { content, toolCalls: [], usage: { promptTokens, completionTokens }, finishReason: RESERVATION_EXHAUSTED, provider, model },
      provider,
      attempts: 1,
      fallbacks: 0,
      failures: [],
      costMicroUsd: estimateCost(model, promptTokens, completionTokens, this.prices),
      latencyMs: performance.now() - started,
      cached: false,
    };
  }

}
