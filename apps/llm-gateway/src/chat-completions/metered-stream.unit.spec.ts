import { describe, expect, it } from '@jest/globals';
import { countTokens, type LlmCallResult, type LlmUsage } from '@nexus/llm';
import { meterStream, type MeteredEvent, type ProviderChunks } from './metered-stream';

const result = (content: string, usage: LlmUsage): LlmCallResult => ({
  response: { content, toolCalls: [], usage, finishReason: 'stop', provider: 'fake', model: 'fake' },
  provider: 'fake',
  attempts: 1,
  fallbacks: 0,
  failures: [],
  costMicroUsd: 42,
  latencyMs: 1,
  cached: false,
});

async function* provider(words: string[], done?: LlmCallResult): ProviderChunks {
  for (const text of words) yield { type: 'delta', text };
  if (done) yield { type: 'done', result: done };
}

const meter = (chunks: ProviderChunks, allowance: number, signal = new AbortController().signal) => {
  const settlements: LlmUsage[] = [];
  const events = meterStream(chunks, {
    promptTokens: 10,
    allowance,
    signal,
    onOpenFailure: async (error) => error,
    settle: async (usage) => void settlements.push(usage),
  });
  return { events, settlements };
};

const drain = async (events: AsyncIterable<MeteredEvent>) => {
  const seen: MeteredEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
};

describe('metered stream', () => {
  it('passes a stream within its allowance through and settles the provider’s usage once', async () => {
    const { events, settlements } = meter(provider(['hello ', 'world'], result('hello world', { promptTokens: 9, completionTokens: 2 })), 50);
    const seen = await drain(events);
    expect(seen).toEqual([
      { type: 'delta', text: 'hello ' },
      { type: 'delta', text: 'world' },
      { type: 'end', finishReason: 'stop', toolCalls: [], usage: { promptTokens: 9, completionTokens: 2 } },
    ]);
    expect(settlements).toEqual([{ promptTokens: 9, completionTokens: 2 }]);
  });

  it('cuts a provider that ignores its limit at the allowance, truncating the last delta', async () => {
    const words = Array.from({ length: 100 }, (_, i) => `word${i} `);
    const { events, settlements } = meter(provider([words.slice(0, 3).join(''), ...words.slice(3)]), 4);
    const seen = await drain(events);
    const text = seen.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
    expect(countTokens(text)).toBeLessThanOrEqual(4);
    expect(seen.at(-1)).toMatchObject({ type: 'end', finishReason: 'length' });
    expect(settlements).toHaveLength(1);
    expect(settlements[0]?.completionTokens).toBeLessThanOrEqual(4);
    expect(settlements[0]?.promptTokens).toBe(10);
  });

  it('settles what was streamed when its consumer leaves early', async () => {
    const { events, settlements } = meter(provider(['a ', 'b ', 'c ', 'd ']), 50);
    for await (const event of events) if (event.type === 'delta') break;
    expect(settlements).toEqual([{ promptTokens: 10, completionTokens: countTokens('a ') }]);
  });

  it('passes tool call pieces through, metered like text: a piece past the allowance is not sent', async () => {
    async function* calls(): ProviderChunks {
      yield { type: 'tool_call_delta', index: 0, id: 'call_1', name: 'lookup', arguments: '' };
      yield { type: 'tool_call_delta', index: 0, arguments: '{"q":' };
      yield { type: 'tool_call_delta', index: 0, arguments: '"a much longer query than the allowance leaves room for"}' };
    }
    const { events, settlements } = meter(calls(), 6);
    const seen = await drain(events);
    expect(seen.slice(0, 2)).toEqual([
      { type: 'tool_call_delta', index: 0, id: 'call_1', name: 'lookup', arguments: '' },
      { type: 'tool_call_delta', index: 0, arguments: '{"q":' },
    ]);
    expect(seen.at(-1)).toMatchObject({ type: 'end', finishReason: 'length' });
    expect(settlements[0]?.completionTokens).toBe(countTokens('lookup') + countTokens('{"q":'));
  });

  it('releases instead of settling when no provider answered', async () => {
    // eslint-disable-next-line require-yield -- a provider that fails before its first chunk
    async function* failing(): ProviderChunks {
      throw new Error('all down');
    }
    const { events, settlements } = meter(failing(), 50);
    await expect(drain(events)).rejects.toThrow('all down');
    expect(settlements).toEqual([]);
  });
});
