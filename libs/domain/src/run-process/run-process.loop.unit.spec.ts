/**
 * The whole loop in memory: the process manager's outputs carried out against the real run and
 * budget deciders by a toy executor (refusals handled as `onRefusal` says), with a scripted model. Every event is delivered twice, as an
 * at-least-once bus may, and reacted to with the stream as it stands then (the adapter's way):
 * the deterministic ids and the state guards make the repeats decide nothing.
 */
import { describe, expect, it } from '@jest/globals';
import type { BudgetCommand, BudgetEvent, LlmCallCompleted, RunCommand, RunEvent } from '@nexus/events';
import { budgetDecider } from '../budget/budget.decider';
import type { BudgetState } from '../budget/budget.state';
import { DomainError } from '../errors';
import { runDecider } from '../run/run.decider';
import type { RunState } from '../run/run.state';
import { runProcess } from './run-process.decider';
import type { LlmMessage, RunProcessOutput, Send } from './run-process.outputs';
import { context, foldProcess, nexus, toolCall, T0 } from './run-process.fixtures';
import type { RunProcessEvent } from './run-process.state';

type Reply = Pick<LlmCallCompleted['data'], 'content' | 'toolCalls'>;
const alice = { userId: 'alice', roles: ['user' as const], tenantId: 'acme' };

function runLoop(replies: readonly Reply[], maxSteps = 5) {
  const stream: RunProcessEvent[] = [];
  let run: RunState = runDecider.initialState();
  let budget: BudgetState = budgetDecider.initialState();
  const sent = new Map<number, LlmMessage[]>();
  const outputs: RunProcessOutput[] = [];
  const queue: RunProcessEvent[] = [];

  const sendRun = (command: RunCommand): void => {
    for (const event of runDecider.decide(command, run) as RunEvent[]) {
      run = runDecider.evolve(run, event);
      const recorded = { ...event, streamId: 'run-r1', streamVersion: stream.length + 1, metadata: { actor: alice } };
      stream.push(recorded);
      queue.push(recorded, recorded);
    }
  };
  const sendBudget = (command: BudgetCommand): void => {
    budget = (budgetDecider.decide(command, budget) as BudgetEvent[]).reduce(budgetDecider.evolve, budget);
  };
  const budgetCommands = new Set(['ReserveBudget', 'ConsumeReservation', 'ReleaseReservation']);
  const sendAny = (command: Send['command']): void =>
    budgetCommands.has(command.type) ? sendBudget(command as BudgetCommand) : sendRun(command as RunCommand);

  /** Carries out outputs in order, as the executor does; whether the rest still applies. */
  const execute = (output: RunProcessOutput): boolean => {
    if (output.type !== 'Send') return true;
    try {
      sendAny(output.command);
      return true;
    } catch (error) {
      const { onRefusal } = output;
      if (!(error instanceof DomainError) || onRefusal === undefined || !onRefusal.codes.includes(error.code)) throw error;
      if (onRefusal.send) sendRun(onRefusal.send);
      return onRefusal.then === 'carry_on';
    }
  };

  sendBudget({ type: 'AllocateBudget', data: { sessionId: 'ses-1', tenantId: 'acme', limit: { tokens: 100_000 }, actor: alice, at: T0 } });
  const session = { status: 'open' as const, tenantId: 'acme', ownerId: 'alice', remainingTokens: 100_000 };
  const run1 = { runId: 'r1', sessionId: 'ses-1', input: 'Go', agent: null, model: 'local', tools: [], maxSteps, wallClockSeconds: null };
  sendRun({ type: 'StartRun', data: { ...run1, session, actor: alice, at: T0 } });
  for (let event = queue.shift(); event; event = queue.shift()) {
    const reactions = runProcess.react(foldProcess(stream), event, { ...context, at: T0 });
    outputs.push(...reactions);
    reactions.every(execute);
    if (event.type === 'LlmCallRequested') {
      sent.set(event.data.step, event.data.messages);
      const reply = replies[event.data.step - 1] ?? { content: 'Done.', toolCalls: [] };
      const usage = { promptTokens: 100, completionTokens: 20 };
      const completion = { usage, costMicroUsd: 0, provider: 'local', model: 'local', latencyMs: 1, finishReason: 'stop' };
      const data = { runId: 'r1', callId: event.data.callId, ...reply, ...completion, actor: nexus, at: T0 };
      sendRun({ type: 'RecordLlmCallCompleted', data });
    }
  }
  return { run, budget, sent, outputs, events: stream };
}

describe('the agent loop over the run and budget deciders', () => {
  const replies: Reply[] = [
    { content: 'Reading.', toolCalls: [toolCall('t1')] },
    { content: 'Fetching.', toolCalls: [toolCall('t2', 'http_request'), toolCall('t3')] },
    { content: 'The answer.', toolCalls: [] },
  ];

  it('runs three steps to the answer, each sending the whole conversation', () => {
    const { run, sent, events } = runLoop(replies);
    expect(run.status === 'completed' && run.output).toBe('The answer.');
    expect(events.map((e) => e.type)).toEqual([
      'RunStarted', 'LlmCallRequested', 'LlmCallCompleted', 'ToolResultRecorded',
      'LlmCallRequested', 'LlmCallCompleted', 'ToolResultRecorded', 'ToolResultRecorded',
      'LlmCallRequested', 'LlmCallCompleted', 'RunCompleted',
    ]);
    expect(sent.get(3)).toEqual([
      { role: 'user', content: 'Go' },
      { role: 'assistant', content: 'Reading.', toolCalls: [toolCall('t1')] },
      { role: 'tool', toolCallId: 't1', content: 'failed: tool not available: files_read' },
      { role: 'assistant', content: 'Fetching.', toolCalls: [toolCall('t2', 'http_request'), toolCall('t3')] },
      { role: 'tool', toolCallId: 't2', content: 'failed: tool not available: http_request' },
      { role: 'tool', toolCallId: 't3', content: 'failed: tool not available: files_read' },
    ]);
  });

  it('uses one deterministic call and reservation id per step and settles every reservation', () => {
    const { budget, outputs } = runLoop(replies);
    const steps = outputs.flatMap((o) => (o.type === 'Send' && o.command.type === 'RequestLlmCall' ? [`${o.command.data.callId}|${o.command.data.reservationId}`] : []));
    expect([...new Set(steps)]).toEqual(['r1-s1|r1-s1', 'r1-s2|r1-s2', 'r1-s3|r1-s3']);
    const statuses = budget.status === 'none' ? {} : Object.fromEntries([...budget.reservations].map(([id, r]) => [id, r.status]));
    expect(statuses).toEqual({ 'r1-s1': 'consumed', 'r1-s2': 'consumed', 'r1-s3': 'consumed' });
  });

  it('keeps asking past the last step and leaves the run decider to fail it, releasing the reservation', () => {
    const { run, budget } = runLoop(replies, 2);
    expect(run.status === 'failed' && run.reason).toBe('max_steps');
    expect(budget.status !== 'none' && budget.reservations.get('r1-s3')?.status).toBe('released');
  });
});
