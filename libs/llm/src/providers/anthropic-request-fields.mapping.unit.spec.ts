import { describe, expect, it } from '@jest/globals';
import { LlmProviderRejectedError } from '../resilience/llm-errors';
import { anthropicRequestFields } from './anthropic-request-fields.mapping';

const base = { model: 'claude-sonnet-4-0', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100, temperature: 0.2, stream: true };
const map = (fields: Record<string, unknown>) => anthropicRequestFields({ ...base, ...fields }, 'claude-sonnet-4-0', 'anthropic');
const refusalOf = (fields: Record<string, unknown>) => {
  try {
    map(fields);
  } catch (error) {
    return error as LlmProviderRejectedError;
  }
  throw new Error('not refused');
};

describe('OpenAI request fields for the Anthropic Messages API', () => {
  it('maps the fields that have an equivalent', () => {
    expect(map({ stop: ['END'], top_p: 0.9, user: 'u-7', tool_choice: { type: 'function', function: { name: 'lookup' } }, parallel_tool_calls: false })).toEqual({
      stop_sequences: ['END'],
      top_p: 0.9,
      metadata: { user_id: 'u-7' },
      tool_choice: { type: 'tool', name: 'lookup', disable_parallel_tool_use: true },
      userBlocks: new Map(),
    });
    expect(map({ stop: 'END', tool_choice: 'required' })).toEqual({ stop_sequences: ['END'], tool_choice: { type: 'any' }, userBlocks: new Map() });
    expect(map({ tool_choice: 'none' })).toEqual({ tool_choice: { type: 'none' }, userBlocks: new Map() });
    expect(map({})).toEqual({ userBlocks: new Map() });
  });

  it('maps image parts to image blocks, in their place among the text', () => {
    const content = [
      { type: 'text', text: 'compare' },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      { type: 'image_url', image_url: { url: 'https://example.com/b.jpg', detail: 'auto' } },
    ];
    expect(map({ messages: [{ role: 'system', content: 'x' }, { role: 'user', content }] }).userBlocks).toEqual(
      new Map([
        [
          1,
          [
            { type: 'text', text: 'compare' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/b.jpg' } },
          ],
        ],
      ]),
    );
  });

  it('accepts fields without an equivalent at the value that asks for nothing', () => {
    expect(map({ n: 1, logprobs: false, store: false, presence_penalty: 0, logit_bias: {}, response_format: { type: 'text' }, seed: null })).toEqual({ userBlocks: new Map() });
  });

  it.each([
    ['seed', { seed: 42 }],
    ['response_format', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: {} } } }],
    ['logprobs', { logprobs: true }],
    ['frequency_penalty', { frequency_penalty: 0.5 }],
    ['reasoning_effort', { reasoning_effort: 'low' }],
    ['some_future_field', { some_future_field: 'x' }],
    ['tools[0].function.strict', { tools: [{ type: 'function', function: { name: 'f', parameters: {}, strict: true } }] }],
    ['messages[0].content[1]', { messages: [{ role: 'user', content: [{ type: 'text', text: 'hear' }, { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }] }] }],
    ['messages[0].content[0].image_url.detail', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'high' } }] }] }],
    ['messages[0].content[0].image_url.url', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }] }] }],
  ])('refuses %s with a 400 naming it, never dropping it', (param, fields) => {
    const refusal = refusalOf(fields);
    expect(refusal).toBeInstanceOf(LlmProviderRejectedError);
    expect(refusal.status).toBe(400);
    expect(refusal.error).toMatchObject({ param, type: 'invalid_request_error', code: 'unsupported_parameter' });
  });
});
