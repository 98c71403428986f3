import { Inject, Injectable } from '@nestjs/common';
import type { Actor, EventMetadata } from '@nexus/events';
import { countTokens, estimateCost, loadPriceTable, type ResilientLlmClient } from '@nexus/llm';
import { providerProblem } from '../chat-completions/chat-completions.handler';
import { SessionBudget } from '../chat-completions/session-budget.adapter';
import { LLM_CLIENT } from '../llm-client.provider';
import { inputTexts, type EmbeddingsRequest } from './embeddings.request.dto';

/**
 * `POST /v1/embeddings` charged to the session like a completion: the input's tokens are reserved
 * before the provider is called (embeddings have no output tokens, so the estimate is near exact),
 * then the provider's usage is consumed, or the reservation released when no provider answered.
 */
@Injectable()
export class EmbeddingsHandler {
  private readonly prices = loadPriceTable();

  constructor(
    @Inject(LLM_CLIENT) private readonly llm: ResilientLlmClient,
    private readonly budget: SessionBudget,
  ) {}

  async create(sessionId: string, body: EmbeddingsRequest, sent: Readonly<Record<string, unknown>>, actor: Actor, metadata: EventMetadata) {
    const model = this.llm.resolveModel(body.model);
    const input = inputTexts(body.input);
    const tokens = input.reduce((sum, text) => sum + countTokens(text), 0);
    const amount = { tokens, costMicroUsd: estimateCost(model, tokens, 0, this.prices), wallClockSeconds: 0 };
    const reservation = await this.budget.reserve({ sessionId, amount, actor, metadata, purpose: `embeddings ${model}` });
    let result;
    try {
      result = await this.llm.embed({ model, input, openAiBody: sent });
    } catch (error) {
      await this.budget.release(reservation);
      throw providerProblem(error);
    }
    const { response, costMicroUsd } = result;
    await this.budget.consume(reservation, { tokens: response.usage.promptTokens, costMicroUsd });
    return {
      object: 'list' as const,
      data: response.data.map(({ index, embedding }) => ({ object: 'embedding' as const, index, embedding })),
      model: response.model,
      usage: { prompt_tokens: response.usage.promptTokens, total_tokens: response.usage.promptTokens },
    };
  }
}
