import { describe, expect, it } from '@jest/globals';
import type { LlmMessage, LlmRequest, LlmStreamChunk } from '../llm-provider.port';
import { countPromptTokens, countTokens } from '../tokenizer';
import { formatToolResultContent, parseToolResultContent } from './local-tool-results';
import { LocalProvider } from './local.provider';

const local = new LocalProvider();
const ask = (messages: LlmMessage[], extra: Partial<LlmRequest> = {}): LlmRequest => ({
  model: 'local',
  messages,
  maxTokens: 1000,
  temperature: 0,
  ...extra,
});

describe('the local model', () => {
  describe('when the latest user message has no tool lines', () => {
    it('echoes the input after "local model: "', async () => {
      const response = await local.complete(ask([{ role: 'system', content: 'be nice' }, { role: 'user', content: 'hello there' }]));
      expect(response).toMatchObject({ content: 'local model: hello there', toolCalls: [], finishReason: 'stop', provider: 'local', model: 'local' });
    });

    it('counts usage with the shared tokenizer', async () => {
      const messages: LlmMessage[] = [{ role: 'user', content: 'count me please' }];
      const response = await local.complete(ask(messages));
      expect(response.usage).toEqual({
        promptTokens: countPromptTokens(messages),
        completionTokens: countTokens('local model: count me please'),
      });
    });

    it('stops at maxTokens', async () => {
      const response = await local.complete(ask([{ role: 'user', content: 'one two three four five six seven' }], { maxTokens: 3 }));
      expect(response.usage.completionTokens).toBe(3);
      expect(response.finishReason).toBe('length');
    });

    it('treats a /tool line with invalid JSON as text', async () => {
      const response = await local.complete(ask([{ role: 'user', content: '/tool files_read {not json}' }]));
      expect(response.content).toBe('local model: /tool files_read {not json}');
    });
  });

  describe('when the latest user message has tool lines', () => {
    const input = 'please\n/tool files_read {"path":"a.txt"}\n/tool http_request {"url":"https://example.com","method":"GET"}';

    it('asks for every tool call in order in one turn', async () => {
      const response = await local.complete(ask([{ role: 'user', content: input }], { seed: 'run-1-step-1' }));
      expect(response.toolCalls).toEqual([
        { toolCallId: 'run-1-step-1-call-1', name: 'files_read', arguments: { path: 'a.txt' } },
        { toolCallId: 'run-1-step-1-call-2', name: 'http_request', arguments: { url: 'https://example.com', method: 'GET' } },
      ]);
      expect(response.finishReason).toBe('tool_calls');
      expect(response.usage.completionTokens).toBeGreaterThan(0);
    });

    it('only reads the latest user message', async () => {
      const response = await local.complete(
        ask([
          { role: 'user', content: '/tool files_read {"path":"old"}' },
          { role: 'assistant', content: 'done' },
          { role: 'user', content: 'just talk' },
        ]),
      );
      expect(response.content).toBe('local model: just talk');
    });

    it('answers one line per call with status and the first 200 characters once results are back', async () => {
      const long = 'x'.repeat(250);
      const response = await local.complete(
        ask([
          { role: 'user', content: input },
          {
            role: 'assistant',
            content: '',
            toolCalls: [
              { toolCallId: 'tc-1', name: 'files_read', arguments: { path: 'a.txt' } },
              { toolCallId: 'tc-2', name: 'http_request', arguments: { url: 'https://example.com' } },
            ],
          },
          { role: 'tool', toolCallId: 'tc-1', content: formatToolResultContent('succeeded', long) },
          { role: 'tool', toolCallId: 'tc-2', content: formatToolResultContent('denied', 'host not allowed\nby rule x') },
        ]),
      );
      expect(response.content).toBe(`files_read: succeeded ${'x'.repeat(200)}\nhttp_request: denied host not allowed by rule x`);
      expect(response.toolCalls).toEqual([]);
      expect(response.finishReason).toBe('stop');
    });

    it('reads a tool result without a status prefix as succeeded', async () => {
      const response = await local.complete(
        ask([
          { role: 'user', content: '/tool files_read {}' },
          { role: 'assistant', content: '', toolCalls: [{ toolCallId: 'tc-1', name: 'files_read', arguments: {} }] },
          { role: 'tool', toolCallId: 'tc-1', content: 'plain result' },
        ]),
      );
      expect(response.content).toBe('files_read: succeeded plain result');
    });
  });

  describe('when streaming', () => {
    it('sends the reply word by word, then the whole response', async () => {
      const chunks: LlmStreamChunk[] = [];
      for await (const chunk of local.stream(ask([{ role: 'user', content: 'a b c' }]))) chunks.push(chunk);
      const deltas = chunks.flatMap((chunk) => (chunk.type === 'delta' ? [chunk.text] : []));
      expect(deltas).toEqual(['local ', 'model: ', 'a ', 'b ', 'c']);
      expect(chunks.at(-1)).toMatchObject({ type: 'done', response: { content: 'local model: a b c' } });
    });
  });
});

describe('tool result content', () => {
  it('round-trips the status', () => {
    expect(parseToolResultContent(formatToolResultContent('failed', 'boom: bad'))).toEqual({ status: 'failed', body: 'boom: bad' });
  });
});
