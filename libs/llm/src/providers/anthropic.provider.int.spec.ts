import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { collectStream, type LlmRequest, type LlmStreamChunk } from '../llm-provider.port';
import { AnthropicStubServer } from '../testing/anthropic-stub.server';
import { LlmProviderRejectedError } from '../resilience/llm-errors';
import { AnthropicProvider } from './anthropic.provider';

const request: LlmRequest = {
  model: 'claude-sonnet-4-0',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'read a.txt' },
  ],
  tools: [{ name: 'files_read', description: 'reads a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } }],
  maxTokens: 200,
  temperature: 0,
};

const expected = {
  content: 'Let me check.',
  toolCalls: [{ toolCallId: 'toolu_01', name: 'files_read', arguments: { path: 'a.txt' } }],
  usage: { promptTokens: 21, completionTokens: 9 },
  finishReason: 'tool_calls',
  provider: 'anthropic',
  model: 'claude-sonnet-4-0',
};

describe('the Anthropic provider against a Messages API stub', () => {
  let stub: AnthropicStubServer;
  let provider: AnthropicProvider;

  beforeAll(async () => {
    stub = await AnthropicStubServer.start();
    provider = new AnthropicProvider({ apiKey: 'test-key', baseURL: stub.baseURL });
  });
  afterAll(() => stub.close());

  it('completes with text, tool calls and usage', async () => {
    expect(await provider.complete(request)).toEqual(expected);
    expect(stub.requests.at(-1)).toMatchObject({
      system: 'Be brief.',
      max_tokens: 200,
      tools: [{ name: 'files_read', input_schema: { type: 'object' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'read a.txt' }] }],
    });
  });

  it('streams text deltas and assembles the tool call from JSON fragments', async () => {
    const deltas: string[] = [];
    async function* tap(chunks: AsyncIterable<LlmStreamChunk>) {
      for await (const chunk of chunks) {
        if (chunk.type === 'delta') deltas.push(chunk.text);
        yield chunk;
      }
    }
    expect(await collectStream(tap(provider.stream(request)))).toEqual(expected);
    expect(deltas).toEqual(['Let ', 'me ', 'check.']);
  });

  describe('with an OpenAI client’s request', () => {
    const openAiBody = { model: 'claude-sonnet-4-0', messages: [{ role: 'user', content: 'read a.txt' }], max_tokens: 200, temperature: 0 };

    it('maps what has an equivalent: a named tool choice, stop sequences, the end user', async () => {
      const { maxTokens: _unset, ...noLimit } = request;
      await provider.complete({
        ...noLimit,
        openAiBody: { ...openAiBody, tool_choice: { type: 'function', function: { name: 'files_read' } }, parallel_tool_calls: false, stop: 'END', user: 'u-7' },
      });
      expect(stub.requests.at(-1)).toMatchObject({
        tool_choice: { type: 'tool', name: 'files_read', disable_parallel_tool_use: true },
        stop_sequences: ['END'],
        metadata: { user_id: 'u-7' },
        // Required by the Messages API: without the client's, the model's output limit.
        max_tokens: 64_000,
      });
    });

    it('sends image parts as image blocks in the user turn', async () => {
      const content = [
        { type: 'text', text: 'what is this?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      ];
      const messages = [{ role: 'user' as const, content: 'what is this?' }];
      await provider.complete({ ...request, messages, openAiBody: { ...openAiBody, messages: [{ role: 'user', content }] } });
      expect(stub.requests.at(-1)?.['messages']).toEqual([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          ],
        },
      ]);
    });

    it('refuses what it cannot honour before calling the API', async () => {
      const before = stub.requests.length;
      const error = await provider.complete({ ...request, openAiBody: { ...openAiBody, seed: 42 } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LlmProviderRejectedError);
      expect(error).toMatchObject({ status: 400, error: { param: 'seed', code: 'unsupported_parameter' } });
      expect(stub.requests).toHaveLength(before);
    });
  });
});
