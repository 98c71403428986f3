import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { collectStream, type LlmRequest, type LlmStreamChunk } from '../llm-provider.port';
import { AnthropicStubServer } from '../testing/anthropic-stub.server';
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
});
