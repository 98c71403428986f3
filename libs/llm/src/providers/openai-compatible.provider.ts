import OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions';
import type { EmbeddingCreateParams } from 'openai/resources/embeddings';
import type {
  LlmEmbeddingRequest,
  LlmEmbeddingResponse,
  LlmProviderPort,
  LlmRequest,
  LlmResponse,
  LlmStreamChunk,
  OpenAiResponseExtras,
} from '../llm-provider.port';
import { pricedModels } from '../price-table';
import { countPromptTokens, countTokens } from '../tokenizer';
import { LOCAL_MODEL } from './local.provider';
import { OpenAiHttp } from './openai-http';
import {
  assembledToolCalls,
  fromOpenAiToolCalls,
  normaliseOpenAiFinishReason,
  openAiResponseExtras,
  toOpenAiMessages,
  toOpenAiTools,
  type StreamedToolCall,
} from './openai-compatible.mapping';

export interface OpenAiCompatibleProviderOptions {
  /** Provider name in metrics and `LlmCallCompleted.provider`, e.g. `openai`, `vllm`. */
  readonly name: string;
  readonly baseURL?: string;
  readonly apiKey: string;
  /** Models served; unset = any model except `local`. */
  readonly models?: readonly string[];
  /** A ceiling on silence from the provider; per-attempt timeouts belong to the resilient client. */
  readonly timeoutMs?: number;
}

/**
 * OpenAI, vLLM, Ollama, llama.cpp and any other Chat Completions server. Chat completions, the
 * gateway's hot path, go over plain HTTP (`OpenAiHttp`); embeddings through the SDK, whose base64
 * decoding they use. Nothing here retries (the SDK's `maxRetries: 0`): retries, backoff, breakers
 * and fallback are the resilient client's job.
 */
export class OpenAiCompatibleProvider implements LlmProviderPort {
  readonly name: string;
  private readonly client: OpenAI;
  private readonly http: OpenAiHttp;
  private readonly models: readonly string[] | undefined;

  constructor(options: OpenAiCompatibleProviderOptions) {
    this.name = options.name;
    this.models = options.models;
    const timeoutMs = options.timeoutMs ?? 120_000;
    this.client = new OpenAI({ baseURL: options.baseURL, apiKey: options.apiKey, maxRetries: 0, timeout: timeoutMs });
    this.http = new OpenAiHttp({ ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }), apiKey: options.apiKey, timeoutMs });
  }

  listModels(): readonly string[] {
    return this.models ?? pricedModels().filter((model) => this.supports(model) && model !== LOCAL_MODEL);
  }

  supports(model: string): boolean {
    return this.models ? this.models.includes(model) : model !== 'local';
  }

  async complete(request: LlmRequest, signal?: AbortSignal): Promise<LlmResponse> {
    const forwarded = this.forwarded(request);
    const completion = await this.http.json<ChatCompletion>('/chat/completions', forwarded ?? { ...this.body(request), stream: false }, signal);
    const choice = completion.choices[0];
    const content = choice?.message.content ?? '';
    return {
      content,
      toolCalls: fromOpenAiToolCalls(choice?.message.tool_calls),
      usage: {
        promptTokens: completion.usage?.prompt_tokens ?? countPromptTokens(request.messages),
        completionTokens: completion.usage?.completion_tokens ?? countTokens(content),
      },
      finishReason: normaliseOpenAiFinishReason(choice?.finish_reason),
      provider: this.name,
      model: completion.model || request.model,
      ...this.extras(request, completion),
    };
  }

  /**
   * The client's body as it came. Without its own `encoding_format` the SDK asks for base64 and
   * decodes it, so the client still gets the floats it asked for by saying nothing.
   */
  async embed(request: LlmEmbeddingRequest, signal?: AbortSignal): Promise<LlmEmbeddingResponse> {
    const body = { ...(request.openAiBody ?? { input: [...request.input] }), model: request.model } as EmbeddingCreateParams;
    const response = await this.client.embeddings.create(body, { signal });
    return {
      data: response.data.map(({ index, embedding }) => ({ index, embedding })),
      usage: { promptTokens: response.usage?.prompt_tokens ?? request.input.reduce((sum, text) => sum + countTokens(text), 0) },
      provider: this.name,
      model: response.model || request.model,
    };
  }

  async *stream(request: LlmRequest, signal?: AbortSignal): AsyncIterable<LlmStreamChunk> {
    const chunks = this.http.events<ChatCompletionChunk>(
      '/chat/completions',
      // Usage is needed to meter the stream, whatever the client asked for.
      {
        ...(this.forwarded(request) ?? this.body(request)),
        stream: true,
        stream_options: { ...this.clientStreamOptions(request), include_usage: true },
      },
      signal,
    );
    let content = '';
    let finishReason: string | null = null;
    let usage: ChatCompletionChunk['usage'] = null;
    let model = request.model;
    const calls = new Map<number, StreamedToolCall>();
    for await (const chunk of chunks) {
      model = chunk.model || model;
      usage = chunk.usage ?? usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      finishReason = choice.finish_reason ?? finishReason;
      for (const delta of choice.delta.tool_calls ?? []) {
        const call = calls.get(delta.index) ?? { id: '', name: '', arguments: '' };
        call.id = delta.id ?? call.id;
        call.name += delta.function?.name ?? '';
        call.arguments += delta.function?.arguments ?? '';
        calls.set(delta.index, call);
        yield {
          type: 'tool_call_delta',
          index: delta.index,
          ...(delta.id ? { id: delta.id } : {}),
          ...(delta.function?.name ? { name: delta.function.name } : {}),
          arguments: delta.function?.arguments ?? '',
        };
      }
      const text = choice.delta.content;
      if (text) {
        content += text;
        yield { type: 'delta', text };
      }
    }
    const toolCalls = assembledToolCalls(calls);
    yield {
      type: 'done',
      response: {
        content,
        toolCalls,
        usage: {
          promptTokens: usage?.prompt_tokens ?? countPromptTokens(request.messages),
          completionTokens: usage?.completion_tokens ?? countTokens(content),
        },
        finishReason: normaliseOpenAiFinishReason(finishReason),
        provider: this.name,
        model,
      },
    };
  }

  /** Only for a client's own request: the agent loop has no use for them. */
  private extras(request: LlmRequest, completion: ChatCompletion): { openAiExtras?: OpenAiResponseExtras } {
    const extras = request.openAiBody === undefined ? undefined : openAiResponseExtras(completion);
    return extras === undefined ? {} : { openAiExtras: extras };
  }

  private clientStreamOptions(request: LlmRequest): Record<string, unknown> {
    const options = request.openAiBody?.['stream_options'];
    return options !== null && typeof options === 'object' ? (options as Record<string, unknown>) : {};
  }

  /** A client's own request, as it came: only the model (and, for a stream, streaming) is set here. */
  private forwarded(request: LlmRequest): ChatCompletionCreateParamsBase | undefined {
    if (request.openAiBody === undefined) return undefined;
    // The gateway validated the body as a chat completions request; what it did not name goes as sent.
    return { ...request.openAiBody, model: request.model } as ChatCompletionCreateParamsBase;
  }

  private body(request: LlmRequest): ChatCompletionCreateParamsBase {
    const tools = toOpenAiTools(request.tools);
    return {
      model: request.model,
      messages: toOpenAiMessages(request.messages),
      // Only what the caller set: the provider's defaults otherwise, as its own clients would get.
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(tools ? { tools } : {}),
    };
  }
}
