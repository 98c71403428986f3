import { describe, expect, it } from '@jest/globals';
import { foldInMemory } from '../testing/fold-in-memory';
import { agent, newEvent, recordAll, sessionHistory } from '../testing/history';
import { messagesProjection } from './messages.projection';

describe('messages projection', () => {
  it('holds the conversation of a run in order', () => {
    const events = recordAll(sessionHistory({ session: 's1', run: 'r1', toolCall: 'tc1', r1: 'res1', r2: 'res2' }));
    expect(foldInMemory(messagesProjection, events).get('r1')).toEqual({
      id: 'r1',
      runId: 'r1',
      sessionId: 's1',
      tenantId: 'acme',
      messages: [
        { role: 'user', content: 'write the file', tokens: null, at: '2026-11-22T10:00:01.000Z' },
        { role: 'assistant', content: '', tokens: 30, at: '2026-11-22T10:00:03.000Z' },
        { role: 'tool', content: '{"bytes":3}', toolCallId: 'tc1', tokens: null, at: '2026-11-22T10:00:09.000Z' },
      ],
    });
  });

  it('marks the tool results the gateway flagged and the answers it redacted, once each', () => {
    const history = sessionHistory({ session: 's1', run: 'r1', toolCall: 'tc1', r1: 'res1', r2: 'res2' });
    const flags = {
      injection: [
        { toolCallId: 'tc1', marker: 'system-prompt', match: 'system prompt' },
        { toolCallId: 'tc1', marker: 'system-prompt', match: 'System Prompt' },
      ],
      redactions: { api_key: 1 },
    };
    const answer = (callId: string, step: number) =>
      ['run-r1', newEvent('LlmCallCompleted', { callId, step, content: 'key: [REDACTED:api_key]', toolCalls: [], usage: { promptTokens: 50, completionTokens: 5 }, costMicroUsd: 0, provider: 'local', model: 'local', latencyMs: 5, finishReason: 'stop', completedAt: '2026-11-22T10:00:20.000Z', flags }, agent)] as const;
    const events = recordAll([...history, answer('call-2', 2), answer('call-3', 3)]);
    const messages = foldInMemory(messagesProjection, events).get('r1')?.messages ?? [];
    expect(messages.find((m) => m.role === 'tool')).toMatchObject({ toolCallId: 'tc1', injectionMarkers: ['system-prompt'] });
    expect(messages.filter((m) => m.redactions !== undefined)).toHaveLength(2);
    expect(messages[0]).not.toHaveProperty('injectionMarkers');
  });
});
