import { describe, expect, it } from '@jest/globals';
import {
  parseBudgetStreamId,
  parseRunStreamId,
  parseSessionStreamId,
  parseToolCallStreamId,
  runStream,
  streamCategory,
  streamEntityId,
  toBudgetStreamId,
  toRunStreamId,
  toSessionStreamId,
  toToolCallStreamId,
} from './stream-ids';

describe('stream ids', () => {
  it('reads back the entity id it wrote, for every kind', () => {
    const id = '0190a5c2-7d3e-7000-8000-000000000001';
    expect(parseSessionStreamId(toSessionStreamId(id))).toBe(id);
    expect(parseBudgetStreamId(toBudgetStreamId(id))).toBe(id);
    expect(parseRunStreamId(toRunStreamId(id))).toBe(id);
    expect(parseToolCallStreamId(toToolCallStreamId(id))).toBe(id);
  });

  it('writes `<category>-<entity id>`', () => {
    expect(toRunStreamId('r1')).toBe('run-r1');
    expect(toToolCallStreamId('t1')).toBe('toolcall-t1');
  });

  it('refuses a stream of another kind', () => {
    expect(parseRunStreamId('toolcall-r1')).toBeUndefined();
    expect(parseToolCallStreamId('run-t1')).toBeUndefined();
    expect(parseRunStreamId('runaway-1')).toBeUndefined();
    expect(runStream.is('run-1')).toBe(true);
    expect(runStream.is('budget-1')).toBe(false);
  });

  it('splits any stream id at its first dash', () => {
    expect(streamCategory('budget-0190-abc')).toBe('budget');
    expect(streamEntityId('budget-0190-abc')).toBe('0190-abc');
    expect(streamCategory('nodash')).toBe('nodash');
    expect(streamEntityId('nodash')).toBe('nodash');
  });
});
