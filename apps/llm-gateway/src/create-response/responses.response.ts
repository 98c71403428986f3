import type { LlmToolCall, LlmUsage } from '@nexus/llm';
import type { MeteredEvent } from '../chat-completions/metered-stream';
import type { ResponsesRequest } from './responses.request.dto';

/** What every object of one response shares: its ids, creation second and the model actually used. */
export interface ResponseIdentity {
  /** `resp_…`; item ids are derived from it. */
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

type OutputItem = Record<string, unknown> & { type: 'message' | 'function_call'; id: string };

/** The chat completion Nexus answered, as far as a response is built from it. */
export interface ChatAnswer {
  readonly model: string;
  readonly choices: ReadonlyArray<{
    readonly message: { content: string | null; refusal?: unknown; annotations?: unknown; tool_calls?: ReadonlyArray<{ id: string; function: { name: string; arguments: string } }> };
    readonly finish_reason: string;
    readonly logprobs?: unknown;
  }>;
  readonly usage: Record<string, unknown> & { prompt_tokens: number; completion_tokens: number };
}

const details = (usage: Record<string, unknown>, key: string, field: string): number => {
  const value = (usage[key] as Record<string, unknown> | undefined)?.[field];
  return typeof value === 'number' ? value : 0;
};

const responseUsage = (usage: LlmUsage, chatUsage: Record<string, unknown> = {}) => ({
  input_tokens: usage.promptTokens,
  input_tokens_details: { cached_tokens: details(chatUsage, 'prompt_tokens_details', 'cached_tokens') },
  output_tokens: usage.completionTokens,
  output_tokens_details: { reasoning_tokens: details(chatUsage, 'completion_tokens_details', 'reasoning_tokens') },
  total_tokens: usage.promptTokens + usage.completionTokens,
});

// Item ids carry their output index: a stream may give text after a tool call, a second message.
const messageItem = (identity: ResponseIdentity, index: number, status: string, content: unknown[]): OutputItem => ({
  id: `msg_${identity.id.slice(5)}_${index}`,
  type: 'message',
  status,
  role: 'assistant',
  content,
});

const functionCallItem = (identity: ResponseIdentity, index: number, call: { id: string; name: string; arguments: string }, status: string): OutputItem => ({
  id: `fc_${identity.id.slice(5)}_${index}`,
  type: 'function_call',
  status,
  call_id: call.id,
  name: call.name,
  arguments: call.arguments,
});

const outputText = (text: string, logprobs: unknown = []) => ({ type: 'output_text', text, annotations: [], logprobs });

/**
 * A `response` object: what the request asked for echoed as OpenAI echoes it, the output items, the
 * usage. A reply cut at its token limit is `incomplete` (`max_output_tokens`), as OpenAI reports it.
 */
function responseObject(identity: ResponseIdentity, request: ResponsesRequest, status: string, output: OutputItem[], usage: unknown, finishReason?: string) {
  return {
    id: identity.id,
    object: 'response',
    created_at: identity.created,
    status,
    ...(status === 'completed' ? { completed_at: Math.floor(Date.now() / 1000) } : {}),
    error: null,
    incomplete_details: finishReason === 'length' ? { reason: 'max_output_tokens' } : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: identity.model,
    output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: null },
    store: request.store ?? false,
    temperature: request.temperature ?? null,
    text: { format: { type: 'text' }, ...request.text },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? null,
    truncation: 'disabled',
    usage,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

const statusOf = (finishReason: string) => (finishReason === 'length' ? 'incomplete' : 'completed');

/** The whole response to a non-streamed request, from the chat completion it was served as. */
export function responseFromChat(identity: ResponseIdentity, request: ResponsesRequest, chat: ChatAnswer) {
  const choice = chat.choices[0];
  const finishReason = choice?.finish_reason ?? 'stop';
  const { content, refusal, tool_calls: calls } = choice?.message ?? { content: null };
  const logprobs = (choice?.logprobs as { content?: unknown } | null | undefined)?.content ?? [];
  const output: OutputItem[] = [];
  const id = { ...identity, model: chat.model };
  if (typeof refusal === 'string') output.push(messageItem(id, 0, statusOf(finishReason), [{ type: 'refusal', refusal }]));
  else if (content) output.push(messageItem(id, 0, statusOf(finishReason), [outputText(content, logprobs)]));
  (calls ?? []).forEach((call, index) => output.push(functionCallItem(id, index, { id: call.id, ...call.function }, 'completed')));
  const usage = responseUsage({ promptTokens: chat.usage.prompt_tokens, completionTokens: chat.usage.completion_tokens }, chat.usage);
  return responseObject(id, request, statusOf(finishReason), output, usage, finishReason);
}

/**
 * Turns a metered chat stream into OpenAI's Responses events, in OpenAI's order: `response.created`
 * and `response.in_progress`; per output item `response.output_item.added`, its deltas
 * (`response.output_text.delta` inside a content part, or `response.function_call_arguments.delta`),
 * then its `….done` events and `response.output_item.done`; last `response.completed` (or
 * `response.incomplete` at the token limit, `response.failed` when the provider failed mid-stream)
 * carrying the whole response with its usage. Every event has its `sequence_number`.
 */
export class ResponseEventWriter {
  private sequence = 0;
  private readonly output: OutputItem[] = [];
  private text: { item: OutputItem; index: number; text: string } | undefined;
  private readonly calls = new Map<number, { item: OutputItem; index: number; name: string; arguments: string; open: boolean }>();

  constructor(
    private readonly identity: ResponseIdentity,
    private readonly request: ResponsesRequest,
  ) {}

  /** The opening events, before any output. */
  start(): Array<Record<string, unknown>> {
    const response = responseObject(this.identity, this.request, 'in_progress', [], null);
    return [this.event('response.created', { response }), this.event('response.in_progress', { response })];
  }

  /** The events one metered stream event becomes. */
  next(event: MeteredEvent): Array<Record<string, unknown>> {
    if (event.type === 'delta') return this.delta(event.text);
    if (event.type === 'tool_call_delta') return this.toolCallDelta(event);
    return this.end(event.finishReason, event.toolCalls, event.usage, event.failure);
  }

  private delta(text: string): Array<Record<string, unknown>> {
    const events: Array<Record<string, unknown>> = [];
    if (this.text === undefined) {
      const item = messageItem(this.identity, this.output.length, 'in_progress', []);
      this.text = { item, index: this.output.push(item) - 1, text: '' };
      events.push(this.event('response.output_item.added', { output_index: this.text.index, item }));
      events.push(this.event('response.content_part.added', { item_id: item.id, output_index: this.text.index, content_index: 0, part: outputText('') }));
    }
    this.text.text += text;
    events.push(this.event('response.output_text.delta', { item_id: this.text.item.id, output_index: this.text.index, content_index: 0, delta: text, logprobs: [] }));
    return events;
  }

  private toolCallDelta(piece: Extract<MeteredEvent, { type: 'tool_call_delta' }>): Array<Record<string, unknown>> {
    const events = this.closeText();
    let call = this.calls.get(piece.index);
    if (call === undefined) {
      const item = functionCallItem(this.identity, piece.index, { id: piece.id ?? `call_${this.identity.id.slice(-12)}_${piece.index}`, name: piece.name ?? '', arguments: '' }, 'in_progress');
      call = { item, index: this.output.push(item) - 1, name: piece.name ?? '', arguments: '', open: true };
      this.calls.set(piece.index, call);
      events.push(this.event('response.output_item.added', { output_index: call.index, item }));
    }
    call.arguments += piece.arguments;
    if (piece.arguments !== '') {
      events.push(this.event('response.function_call_arguments.delta', { item_id: call.item.id, output_index: call.index, delta: piece.arguments }));
    }
    return events;
  }

  private end(finishReason: string, toolCalls: readonly LlmToolCall[], usage: LlmUsage, failure: string | undefined): Array<Record<string, unknown>> {
    const events = this.closeText(statusOf(finishReason));
    // A provider that did not stream its tool calls gives them whole at the end.
    if (this.calls.size === 0) {
      toolCalls.forEach((call, index) => {
        events.push(...this.toolCallDelta({ type: 'tool_call_delta', index, id: call.toolCallId || undefined, name: call.name, arguments: JSON.stringify(call.arguments) } as Extract<MeteredEvent, { type: 'tool_call_delta' }>));
      });
    }
    for (const call of this.calls.values()) {
      const item = { ...call.item, name: call.name, arguments: call.arguments, status: 'completed' };
      this.output[call.index] = item;
      events.push(this.event('response.function_call_arguments.done', { item_id: item.id, output_index: call.index, name: call.name, arguments: call.arguments }));
      events.push(this.event('response.output_item.done', { output_index: call.index, item }));
    }
    if (failure !== undefined) {
      const response = { ...responseObject(this.identity, this.request, 'failed', this.output, responseUsage(usage)), error: { code: 'server_error', message: 'The provider failed mid-stream.' } };
      return [...events, this.event('response.failed', { response })];
    }
    const status = statusOf(finishReason);
    const response = responseObject(this.identity, this.request, status, this.output, responseUsage(usage), finishReason);
    return [...events, this.event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response })];
  }

  private closeText(status = 'completed'): Array<Record<string, unknown>> {
    if (this.text === undefined) return [];
    const { item, index, text } = this.text;
    this.text = undefined;
    const part = outputText(text);
    const done = { ...item, status, content: [part] };
    this.output[index] = done;
    const at = { item_id: item.id, output_index: index, content_index: 0 };
    return [
      this.event('response.output_text.done', { ...at, text, logprobs: [] }),
      this.event('response.content_part.done', { ...at, part }),
      this.event('response.output_item.done', { output_index: index, item: done }),
    ];
  }

  private event(type: string, body: Record<string, unknown>): Record<string, unknown> {
    return { type, ...body, sequence_number: this.sequence++ };
  }
}

/** One Server-Sent Event as OpenAI streams responses: the type as the event name, the object as data. */
export const sseEvent = (event: Record<string, unknown>): string => `event: ${String(event['type'])}\ndata: ${JSON.stringify(event)}\n\n`;
