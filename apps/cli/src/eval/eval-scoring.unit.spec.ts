import { describe, expect, it } from '@jest/globals';
import { parseDataset, type EvalCase } from './eval-case';
import { renderReport } from './eval-report';
import { scoreCase, summarize, type EvalObservation } from './eval-scoring';

const evalCase: EvalCase = {
  id: 'write',
  input: '/tool files_write {"path":"a"}',
  tools: ['files_write'],
  expectedToolCalls: ['files_write', 'memory_store'],
  expectedOutcome: { status: 'completed', outputIncludes: ['files_write: succeeded'] },
  budget: { tokens: 1000 },
  approve: 'approver',
};
const observed = (overrides: Partial<EvalObservation> = {}): EvalObservation => ({
  status: 'completed',
  output: 'files_write: succeeded {"bytes":1}',
  errorReason: null,
  toolCalls: ['memory_store', 'files_write'],
  latencyMs: 120,
  costUsd: 0.0001,
  tokens: 90,
  ...overrides,
});

describe('eval scoring', () => {
  it('passes a case whose tool calls match in any order and whose output holds every fragment', () => {
    expect(scoreCase(evalCase, observed())).toMatchObject({ passed: true, failures: [] });
  });

  it('names every miss: status, tool calls, output and error reason', () => {
    const failing: EvalCase = { ...evalCase, expectedOutcome: { status: 'failed', errorReason: 'budget_exhausted', outputIncludes: ['nope'] } };
    const result = scoreCase(failing, observed({ toolCalls: ['files_write'], error: 'HTTP 500' }));
    expect(result.passed).toBe(false);
    expect(result.failures).toEqual([
      'HTTP 500',
      'status completed, expected failed',
      'tool calls [files_write], expected [files_write, memory_store]',
      'output lacks "nope"',
      'error reason none, expected budget_exhausted',
    ]);
  });

  it('meets the threshold at exactly the rate; an empty dataset never does', () => {
    const results = [scoreCase(evalCase, observed()), scoreCase(evalCase, observed()), scoreCase(evalCase, observed()), scoreCase(evalCase, observed({ status: 'failed' }))];
    expect(summarize(results, 0.75)).toMatchObject({ total: 4, passed: 3, passRate: 0.75, meetsThreshold: true, averageLatencyMs: 120 });
    expect(summarize(results, 0.8).meetsThreshold).toBe(false);
    expect(summarize([], 0).meetsThreshold).toBe(false);
  });

  it('reports the pass rate, one table row per case and each failure with its reasons', () => {
    const report = renderReport(summarize([scoreCase(evalCase, observed()), scoreCase({ ...evalCase, id: 'bad|id' }, observed({ status: 'failed' }))], 0.8), '2026-01-01T00:00:00.000Z', 'http://x');
    expect(report).toContain('- **Pass rate**: 50.0% (threshold 80.0%: NOT met)');
    expect(report).toContain('| write | /tool files_write {"path":"a"} | PASS | completed | memory_store, files_write | 120 | 90 | 0.000100 |');
    expect(report).toContain('| bad\\|id |');
    expect(report).toContain('- **bad|id**: status failed, expected completed');
  });
});

describe('eval dataset', () => {
  it('parses JSONL, skipping blank and comment lines', () => {
    const line = JSON.stringify({ id: 'a', input: 'hi', expectedToolCalls: [], expectedOutcome: { status: 'completed' }, budget: { tokens: 10 } });
    expect(parseDataset(`// cases\n${line}\n\n`)).toHaveLength(1);
  });

  it('rejects unknown fields, bad lines and duplicate ids, naming the line', () => {
    const line = { id: 'a', input: 'hi', expectedToolCalls: [], expectedOutcome: { status: 'completed' }, budget: { tokens: 10 } };
    expect(() => parseDataset(JSON.stringify({ ...line, extra: 1 }))).toThrow(/line 1/);
    expect(() => parseDataset(`\n${JSON.stringify({ ...line, budget: { tokens: 0 } })}`)).toThrow(/line 2/);
    expect(() => parseDataset(`${JSON.stringify(line)}\n${JSON.stringify(line)}`)).toThrow(/duplicate case id a/);
  });
});
