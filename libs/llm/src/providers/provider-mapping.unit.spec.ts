import { describe, expect, it } from '@jest/globals';
import type { LlmMessage } from '../llm-provider.port';
import { fromAnthropicContent, normaliseAnthropicStopReason, toAnthropicMessages, toAnthropicTools } from './anthropic.mapping';
import { fromOpenAiToolCalls, parseToolArguments, toOpenAiMessages } from './openai-compatible.mapping';

const conversation: LlmMessage[] = [
  { role: 'system', content: 'You are careful.' },
  { role: 'user', content: 'read two files' },
  {
    role: 'assistant',
    content: 'sure',
    toolCalls: [
      { toolCallId: 'tc-1', name: 'files_read', arguments: { path: 'a' } },
      { toolCallId: 'tc-2', name: 'files_read', arguments: { path: 'b' } },
    ],
  },
  { role: 'tool', toolCallId: 'tc-1', content: 'succeeded: A' },
  { role: 'tool', toolCallId: 'tc-2', content: 'failed: missing' },
];

describe('the Anthropic mapping', () => {
  it('moves system text out and groups tool results into one user turn', () => {
    expect(toAnthropicMessages(conversation)).toEqual({
      system: 'You are careful.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'read two files' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'sure' },
            { type: 'tool_use', id: 'tc-1', name: 'files_read', input: { path: 'a' } },
            { type: 'tool_use', id: 'tc-2', name: 'files_read', input: { path: 'b' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'tc-1', content: 'succeeded: A' },
            { type: 'tool_result', tool_use_id: 'tc-2', content: 'failed: missing' },
          ],
        },
      ],
    });
  });

  it('maps tools to input_schema and replies back to the contract', () => {
    expect(toAnthropicTools([{ name: 'files_read', description: 'read', parameters: { type: 'object', properties: {} } }])).toEqual([
      { name: 'files_read', description: 'read', input_schema: { type: 'object', properties: {} } },
    ]);
    const reply = fromAnthropicContent([
      { type: 'text', text: 'checking', citations: null },
      { type: 'tool_use', id: 'toolu_1', name: 'files_read', input: { path: 'x' } } as never,
    ]);
    expect(reply).toEqual({ content: 'checking', toolCalls: [{ toolCallId: 'toolu_1', name: 'files_read', arguments: { path: 'x' } }] });
  });

  it('normalises stop reasons', () => {
    expect(normaliseAnthropicStopReason('end_turn')).toBe('stop');
    expect(normaliseAnthropicStopReason('tool_use')).toBe('tool_calls');
    expect(normaliseAnthropicStopReason('max_tokens')).toBe('length');
    expect(normaliseAnthropicStopReason('refusal')).toBe('refusal');
  });
});

describe('the OpenAI mapping', () => {
  it('sends tool calls with JSON-text arguments and tool results by id', () => {
    const mapped = toOpenAiMessages(conversation);
    expect(mapped[2]).toEqual({
      role: 'assistant',
      content: 'sure',
      tool_calls: [
        { id: 'tc-1', type: 'function', function: { name: 'files_read', arguments: '{"path":"a"}' } },
        { id: 'tc-2', type: 'function', function: { name: 'files_read', arguments: '{"path":"b"}' } },
      ],
    });
    expect(mapped[3]).toEqual({ role: 'tool', tool_call_id: 'tc-1', content: 'succeeded: A' });
  });

  it('keeps unparseable tool arguments under _raw rather than dropping them', () => {
    expect(parseToolArguments('{"a":1}')).toEqual({ a: 1 });
    expect(parseToolArguments('')).toEqual({});
    expect(parseToolArguments('{"a":')).toEqual({ _raw: '{"a":' });
    expect(fromOpenAiToolCalls([{ id: 'c', type: 'function', function: { name: 'n', arguments: '[1]' } }])).toEqual([
      { toolCallId: 'c', name: 'n', arguments: { _raw: '[1]' } },
    ]);
  });
});
