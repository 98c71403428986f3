import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { llmCallWorstCase } from '@nexus/domain';
import type { Actor, EventMetadata } from '@nexus/events';
import { ProblemException } from '@nexus/http';
import {
  estimateCost,
  LlmProviderRejectedError,
  LlmUnavailableError,
  llmCallMeter,
  loadPriceTable,
  maxOutputTokensOf,
  redactSecrets,
  type LlmRequest,
  type ResilientLlmClient,
} from '@nexus/llm';
import { LLM_CLIENT } from '../llm-client.provider';
import { nonTextParts, toLlmMessages, toLlmTools, type ChatCompletionsRequest } from './chat-completions.request.dto';
import { chatCompletion, type CompletionIdentity } from './chat-completions.response';
import { meterStream, type MeteredEvent } from './metered-stream';
import { SessionBudget, type SessionReservation } from './session-budget.adapter';

/** A client's request: the parse Nexus reads, and the body as it came, which OpenAI-compatible providers receive unchanged. */
export interface ClientRequest {
  readonly body: ChatCompletionsRequest;
  readonly sent: Readonly<Record<string, unknown>>;
  /** `X-Nexus-Cache`: opt in to (or out of) the response cache; unset, only `temperature: 0` is cached. */
  readonly cache: boolean | undefined;
  /** What the reservation says the call is for; `chat.completions <model>` unless another endpoint says. */
  readonly purpose?: string;
}

/** A call whose budget is reserved: ready to go to a provider. */
export interface ReservedCall {
  readonly identity: CompletionIdentity;
  readonly request: LlmRequest;
  readonly promptTokens: number;
  /** The completion tokens reserved: the client's max tokens, else the model's output limit. */
  readonly allowance: number;
  readonly reservation: SessionReservation;
}

/**
 * A provider's refusal of the request itself (400 `context_length_exceeded`, …) reaches the client
 * as the provider said it: its status and its OpenAI `error` member, so the client sees the real
 * error and does not retry what cannot succeed. Every provider failing is 503: the client may
 * retry later. Either way the reservation has been released.
 */
export const providerProblem = (error: unknown): unknown => {
  if (error instanceof LlmProviderRejectedError) {
    return new ProblemException(error.status, 'provider_rejected', 'Rejected by the provider', error.error.message, { error: error.error });
  }
  return error instanceof LlmUnavailableError
    ? new ProblemException(503, 'provider_unavailable', 'Provider unavailable', `No LLM provider could serve model ${error.model}.`)
    : error;
};

/**
 * `POST /v1/chat/completions` behind Nexus's governance: reserve the most the call can cost on the
 * session's budget (prompt + max tokens, or the model's output limit) BEFORE any provider is called, so concurrent calls can
 * never overspend; then call the providers; then charge actual usage (or release on failure).
 */
@Injectable()
export class ChatCompletionsHandler {
  private readonly prices = loadPriceTable();
  private readonly meter = llmCallMeter(this.prices);

  constructor(
    @Inject(LLM_CLIENT) private readonly llm: ResilientLlmClient,
    private readonly budget: SessionBudget,
  ) {}

  async reserve(sessionId: string, client: ClientRequest, actor: Actor, metadata: EventMetadata): Promise<ReservedCall> {
    const { body } = client;
    // An alias is priced, reserved, routed and reported as the model it stands for.
    const model = this.llm.resolveModel(body.model);
    const messages = toLlmMessages(body.messages);
    const tools = toLlmTools(body);
    // The client's limit goes upstream as it is (NEXUS_LLM_MAX_TOKENS is the agent loop's, not an
    // OpenAI client's); without one the provider's default applies, so the reservation covers the
    // worst case: the model's output limit.
    const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
    const allowance = maxTokens ?? maxOutputTokensOf(model, this.prices);
    const { promptTokens, amount } = llmCallWorstCase(
      { model, messages, tools, nonTextParts: nonTextParts(body.messages), completionTokens: allowance },
      this.meter,
    );
    const reservation = await this.budget.reserve({ sessionId, amount, actor, metadata, purpose: `${client.purpose ?? 'chat.completions'} ${model}` });
    return {
      // Random, not time-ordered: OpenAI's ids are opaque, and Node's `randomUUID` draws from a
      // buffer where a version 7 uuid asked the system for entropy on each call (~10 µs here).
      identity: { id: `chatcmpl-${randomUUID()}`, created: Math.floor(Date.now() / 1000), model },
      request: {
        model,
        messages,
        ...(tools === undefined ? {} : { tools }),
        ...(maxTokens === undefined ? {} : { maxTokens }),
        ...(body.temperature === undefined || body.temperature === null ? {} : { temperature: body.temperature }),
        openAiBody: client.sent,
        ...(client.cache === undefined ? {} : { cache: client.cache }),
      },
      promptTokens,
      allowance,
      reservation,
    };
  }

  async complete(call: ReservedCall): Promise<ReturnType<typeof chatCompletion>> {
    let result;
    try {
      result = await this.llm.complete(call.request);
    } catch (error) {
      await this.budget.release(call.reservation);
      throw providerProblem(error);
    }
    const { response, costMicroUsd } = result;
    await this.budget.consume(call.reservation, { tokens: response.usage.promptTokens + response.usage.completionTokens, costMicroUsd });
    return chatCompletion(
      { ...call.identity, model: response.model },
      // Secrets never leave the gateway: the model's answer is redacted as the call-llm worker does.
      {
        content: redactSecrets(response.content).text,
        toolCalls: response.toolCalls,
        finishReason: response.finishReason,
        usage: response.usage,
        extras: response.openAiExtras,
      },
    );
  }

  /**
   * Starts a metered stream and waits for its first event, so that a provider failure still becomes
   * a problem response (and a released reservation) before any byte of the stream is sent.
   */
  async stream(call: ReservedCall, signal: AbortSignal): Promise<AsyncIterable<MeteredEvent>> {
    const events = meterStream(this.llm.stream(call.request, signal), {
      promptTokens: call.promptTokens,
      allowance: call.allowance,
      signal,
      onOpenFailure: async (error) => {
        await this.budget.release(call.reservation);
        return providerProblem(error);
      },
      settle: (usage, result) =>
        this.budget.consume(call.reservation, {
          tokens: usage.promptTokens + usage.completionTokens,
          costMicroUsd: result?.costMicroUsd ?? estimateCost(call.request.model, usage.promptTokens, usage.completionTokens, this.prices),
        }),
    });
    const first = await events.next();
    return {
      async *[Symbol.asyncIterator]() {
        if (first.done) return;
        yield first.value;
        yield* events;
      },
    };
  }
}
