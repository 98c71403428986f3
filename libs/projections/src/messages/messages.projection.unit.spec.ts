import { describe, expect, it } from '@jest/globals';
import { foldInMemory } from '../testing/fold-in-memory';
import { recordAll, sessionHistory } from '../testing/history';
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
});
