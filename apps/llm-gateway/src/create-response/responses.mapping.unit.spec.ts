import { describe, expect, it } from '@jest/globals';
import { ProblemException } from '@nexus/http';
import { toChatCompletionsBody } from './responses.mapping';
import { responsesRequestSchema } from './responses.request.dto';
import { ResponseEventWriter } from './responses.response';

const translate = (body: Record<string, unknown>) => toChatCompletionsBody(responsesRequestSchema.parse({ model: 'm', ...body }));
const refusal = (body: Record<string, unknown>) => {
  try {
    translate(body);
  } catch (error) {
    return error instanceof ProblemException ? { status: error.status, code: error.code, param: (error.extensions['error'] as { param: string }).param } : error;
  }
  return undefined;
};

describe('a Responses request as chat completions', () => {
  it('makes instructions the system message and a string input the user message', () => {
    expect(translate({ instructions: 'be brief', input: 'hello' })).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello' },
      ],
    });
  });

  it('joins function calls to the assistant turn before them and makes their outputs tool messages', () => {
    const body = translate({
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'look up two things' }] },
        { type: 'message', role: 'assistant', id: 'msg_1', status: 'completed', content: [{ type: 'output_text', text: 'Looking.', annotations: [] }] },
        { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'lookup', arguments: '{"q":"a"}' },
        { type: 'function_call', call_id: 'call_2', name: 'lookup', arguments: '{"q":"b"}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'A' },
        { type: 'function_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'B' }] },
      ],
    });
    expect(body['messages']).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'look up two things' }] },
      {
        role: 'assistant',
        content: [{ type: 'text', text: 'Looking.' }],
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"a"}' } },
          { id: 'call_2', type: 'function', function: { name: 'lookup', arguments: '{"q":"b"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'A' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'B' }] },
    ]);
  });

  it('maps tools, a named tool choice, the output limit, structured output and reasoning effort', () => {
    const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    expect(
      translate({
        input: 'x',
        tools: [{ type: 'function', name: 'lookup', description: 'looks up', parameters: { type: 'object' }, strict: true }],
        tool_choice: { type: 'function', name: 'lookup' },
        parallel_tool_calls: false,
        max_output_tokens: 300,
        text: { format: { type: 'json_schema', name: 'person', schema, strict: true }, verbosity: 'low' },
        reasoning: { effort: 'low' },
        include: ['message.output_text.logprobs'],
        top_logprobs: 2,
        temperature: 0.5,
        store: false,
        metadata: { k: 'v' },
      }),
    ).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'lookup', description: 'looks up', parameters: { type: 'object' }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'lookup' } },
      parallel_tool_calls: false,
      max_completion_tokens: 300,
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } },
      verbosity: 'low',
      reasoning_effort: 'low',
      logprobs: true,
      top_logprobs: 2,
      temperature: 0.5,
      store: false,
      metadata: { k: 'v' },
    });
  });

  it.each([
    [{ input: 'x', previous_response_id: 'resp_1' }, 'previous_response_id'],
    [{ input: 'x', conversation: 'conv_1' }, 'conversation'],
    [{ input: 'x', background: true }, 'background'],
    [{ input: 'x', truncation: 'auto' }, 'truncation'],
    [{ input: 'x', reasoning: { effort: 'low', summary: 'auto' } }, 'reasoning.summary'],
    [{ input: 'x', include: ['reasoning.encrypted_content'] }, 'include'],
    [{ input: 'x', tools: [{ type: 'web_search' }] }, 'tools.0.type'],
    [{ input: 'x', tool_choice: { type: 'web_search' } }, 'tool_choice'],
    [{ input: [{ type: 'reasoning', id: 'rs_1', summary: [] }] }, 'input.0.type'],
    [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input.0.type'],
    [{ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1', detail: 'auto' }] }] }, 'input.0.content.0.file_id'],
  ])('refuses what a chat completions provider cannot honour, naming it: %j', (body, param) => {
    expect(refusal(body)).toEqual({ status: 400, code: 'unsupported_parameter', param });
  });

  it('refuses fields it does not know rather than drop them', () => {
    expect(responsesRequestSchema.safeParse({ model: 'm', input: 'x', brand_new_field: 1 }).success).toBe(false);
  });

  it('refuses a message item with a part it does not know, naming the item', () => {
    expect(() => translate({ input: [{ type: 'message', role: 'user', content: [{ type: 'input_video', url: 'x' }] }] })).toThrow(
      expect.objectContaining({ status: 400, code: 'validation_failed', extensions: { errors: [expect.objectContaining({ field: 'input.0.content' })] } }),
    );
  });
});

describe('the Responses stream events', () => {
  const identity = { id: 'resp_0001', created: 1, model: 'm' };
  const request = responsesRequestSchema.parse({ model: 'm', input: 'x' });
  const usage = { promptTokens: 5, completionTokens: 3 };

  it('opens a message for text, closes it before a tool call, and completes with every item and the usage', () => {
    const writer = new ResponseEventWriter(identity, request);
    const events = [
      ...writer.start(),
      ...writer.next({ type: 'delta', text: 'Let me ' }),
      ...writer.next({ type: 'delta', text: 'look.' }),
      ...writer.next({ type: 'tool_call_delta', index: 0, id: 'call_1', name: 'lookup', arguments: '{"q":' }),
      ...writer.next({ type: 'tool_call_delta', index: 0, arguments: '"a"}' }),
      ...writer.next({ type: 'end', finishReason: 'tool_calls', toolCalls: [], usage }),
    ];
    expect(events.map((e) => e['type'])).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e['sequence_number'])).toEqual(events.map((_, i) => i));
    expect(events.at(-1)?.['response']).toMatchObject({
      status: 'completed',
      output: [
        { type: 'message', status: 'completed', content: [{ type: 'output_text', text: 'Let me look.' }] },
        { type: 'function_call', call_id: 'call_1', name: 'lookup', arguments: '{"q":"a"}', status: 'completed' },
      ],
      usage: { input_tokens: 5, output_tokens: 3, total_tokens: 8 },
    });
  });

  it('ends incomplete at the token limit, and failed when the provider failed mid-stream', () => {
    const cut = new ResponseEventWriter(identity, request);
    cut.next({ type: 'delta', text: 'partial' });
    expect(cut.next({ type: 'end', finishReason: 'length', toolCalls: [], usage }).at(-1)).toMatchObject({
      type: 'response.incomplete',
      response: { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } },
    });
    const failed = new ResponseEventWriter(identity, request);
    expect(failed.next({ type: 'end', finishReason: 'stop', toolCalls: [], usage, failure: 'boom' }).at(-1)).toMatchObject({
      type: 'response.failed',
      response: { status: 'failed', error: { code: 'server_error' } },
    });
  });

  it('gives text after a tool call a message item of its own, with its own id', () => {
    const writer = new ResponseEventWriter(identity, request);
    writer.next({ type: 'delta', text: 'first' });
    writer.next({ type: 'tool_call_delta', index: 0, id: 'call_1', name: 'lookup', arguments: '{}' });
    writer.next({ type: 'delta', text: 'second' });
    const output = (writer.next({ type: 'end', finishReason: 'tool_calls', toolCalls: [], usage }).at(-1)?.['response'] as { output: Array<{ id: string; type: string }> }).output;
    expect(output.map((item) => item.type)).toEqual(['message', 'function_call', 'message']);
    expect(new Set(output.map((item) => item.id)).size).toBe(3);
  });

  it('gives tool calls the provider did not stream whole at the end', () => {
    const writer = new ResponseEventWriter(identity, request);
    const events = writer.next({ type: 'end', finishReason: 'tool_calls', toolCalls: [{ toolCallId: 'call_9', name: 'lookup', arguments: { q: 'a' } }], usage });
    expect(events.map((e) => e['type'])).toEqual([
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.at(-1)?.['response']).toMatchObject({ output: [{ type: 'function_call', call_id: 'call_9', arguments: '{"q":"a"}' }] });
  });
});
