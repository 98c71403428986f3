import Anthropic from '@anthropic-ai/sdk';
import type { StopReason } from '@anthropic-ai/sdk/resources/messages';
import type { LlmProviderPort, LlmRequest, LlmResponse, LlmStreamChunk } from '../llm-provider.port';
import { maxOutputTokensOf, pricedModels } from '../price-table';
import { LOCAL_MODEL } from './local.provider';
import { anthropicRequestFields } from './anthropic-request-fields.mapping';
import { assembledToolCalls, type StreamedToolCall } from './openai-compatible.mapping';
import {
  fromAnthropicContent,
  normaliseAnthropicStopReason,
  toAnthropicMessages,
  toAnthropicTools,
} from './anthropic.mapping';

export interface AnthropicProviderOptions {
  readonly name?: string;
  readonly apiKey: string;
  readonly baseURL?: string;
  /** Models served; unset = every `claude-*` model. */
  readonly models?: readonly string[];
  readonly timeoutMs?: number;
}

/** Anthropic's Messages API; SDK retries off, as for every provider (resilience is ours). */
export class AnthropicProvider implements LlmProviderPort {
  readonly name: string;
  private readonly client: Anthropic;
  private readonly models: readonly string[] | undefined;

  constructor(options: AnthropicProviderOptions) {
    this.name = options.name ?? 'anthropic';
    this.models = options.models;
    this.client = new Anthropic({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      maxRetries: 0,
      timeout: options.timeoutMs ?? 120_000,
    });
  }

  listModels(): readonly string[] {
    return this.models ?? pricedModels().filter((model) => this.supports(model) && model !== LOCAL_MODEL);
  }

  supports(model: string): boolean {
    return this.models ? this.models.includes(model) : model.startsWith('claude');
  }

  async complete(request: LlmRequest, signal?: AbortSignal): Promise<LlmResponse> {
    const message = await this.client.messages.create({ ...this.body(request), stream: false }, { signal });
    return {
      ...fromAnthropicContent(message.content),
      usage: { promptTokens: message.usage.input_tokens, completionTokens: message.usage.output_tokens },
      finishReason: normaliseAnthropicStopReason(message.stop_reason),
      provider: this.name,
      model: message.model || request.model,
    };
  }

  async *stream(request: LlmRequest, signal?: AbortSignal): AsyncIterable<LlmStreamChunk> {
    const events = await this.client.messages.create({ ...this.body(request), stream: true }, { signal });
    let content = '';
    let promptTokens = 0;
    let completionTokens = 0;
    let stopReason: StopReason | null = null;
    let model = request.model;
    const calls = new Map<number, StreamedToolCall>();
    for await (const event of events) {
      if (event.type === 'message_start') {
        model = event.message.model || model;
        promptTokens = event.message.usage.input_tokens;
      } else if (event.type === 'message_delta') {
        completionTokens = event.usage.output_tokens;
        promptTokens = event.usage.input_tokens ?? promptTokens;
        stopReason = event.delta.stop_reason ?? stopReason;
      } else if (event.type === 'content_block_start' && event.content_block.type === 'tool_use') {
        calls.set(event.index, { id: event.content_block.id, name: event.content_block.name, arguments: '' });
        // Numbered among the tool calls, as OpenAI numbers them, not among all content blocks.
        yield { type: 'tool_call_delta', index: calls.size - 1, id: event.content_block.id, name: event.content_block.name, arguments: '' };
      } else if (event.type === 'content_block_delta') {
        if (event.delta.type === 'text_delta') {
          content += event.delta.text;
          yield { type: 'delta', text: event.delta.text };
        } else if (event.delta.type === 'input_json_delta') {
          const call = calls.get(event.index);
          if (call) {
            call.arguments += event.delta.partial_json;
            yield { type: 'tool_call_delta', index: [...calls.keys()].indexOf(event.index), arguments: event.delta.partial_json };
          }
        }
      }
    }
    const toolCalls = assembledToolCalls(calls);
    yield {
      type: 'done',
      response: {
        content,
        toolCalls,
        usage: { promptTokens, completionTokens },
        finishReason: normaliseAnthropicStopReason(stopReason),
        provider: this.name,
        model,
      },
    };
  }

  private body(request: LlmRequest) {
    // Before any network call: a field this API cannot honour is the client's 400, not a fallback.
    const { tool_choice: toolChoice, userBlocks, ...fields } =
      request.openAiBody === undefined ? { userBlocks: undefined } : anthropicRequestFields(request.openAiBody, request.model, this.name);
    const { system, messages } = toAnthropicMessages(request.messages, userBlocks);
    const tools = toAnthropicTools(request.tools);
    return {
      ...fields,
      // The API refuses a tool choice without tools (`tool_choice: "none"` arrives with none).
      ...(tools && toolChoice ? { tool_choice: toolChoice } : {}),
      model: request.model,
      messages,
      // The Messages API requires max_tokens: without the caller's, the model's own limit.
      max_tokens: request.maxTokens ?? maxOutputTokensOf(request.model),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(system === undefined ? {} : { system }),
      ...(tools ? { tools } : {}),
    };
  }
}
