import { NexusHttpError, postNdjson } from '../nexus-client';
import { ENDED_STATUSES, type PlatformClient } from '../eval/platform-client';

type Say = (line: string) => void;
type RecordedEvent = { type: string; globalPosition: number; occurredAt: string; data: Record<string, unknown> };

const RUN_INPUT = [
  '/tool memory_store {"text":"Nexus demo: the deploy window is Tuesday 10:00"}',
  '/tool files_write {"path":"plan.md","content":"deploy on Tuesday at 10:00"}',
  '/tool code_execution {"code":"[3, 4, 5].map((n) => n * n).reduce((a, b) => a + b)"}',
].join('\n');
const RUN_TOOLS = ['memory_store', 'files_write', 'code_execution'];

/** What the fault step can show: the outage exists only on a platform the demo configured itself. */
export interface DemoFault {
  readonly offlineProviderUrl?: string;
  readonly offlineProviderRequests?: () => number;
}

/** The demo, step by step, against the platform `client` points at. Throws on the first broken promise. */
export async function playDemo(client: PlatformClient, fault: DemoFault, say: Say): Promise<void> {
  let step = 0;
  const title = (text: string) => say(`\n[${++step}] ${text}`);
  const ok = (text: string) => say(`    ✓ ${text}`);

  title(`Alice creates a session with a budget of 50000 tokens and $1 (${client.targets.url})`);
  const sessionId = await client.createSession(50_000, 1);
  ok(`session ${sessionId}`);

  title('Alice starts a multi-step run on the local model: memory_store, files_write, code_execution');
  for (const line of RUN_INPUT.split('\n')) say(`      ${line}`);
  const idempotencyKey = `demo-${sessionId}`;
  const first = await client.startRun(sessionId, RUN_INPUT, RUN_TOOLS, idempotencyKey);
  const runId = first.body.runId;
  ok(`run ${runId} accepted (${first.status})`);
  const again = await client.startRun(sessionId, RUN_INPUT, RUN_TOOLS, idempotencyKey);
  if (again.body.runId !== runId) throw new Error(`the retried start made a second run ${again.body.runId}`);
  ok(`a retried POST with the same Idempotency-Key returns the same run (${again.body.runId}): nothing started twice`);

  title('The policy lets memory_store run and holds the system tools for an approver');
  await client.waitForRun(runId, (r) => r.status === 'awaiting_approval' || ENDED_STATUSES.includes(r.status));
  let calls = await client.toolCalls(runId);
  for (let i = 0; i < 50 && calls.filter((c) => c.status === 'awaiting_approval').length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    calls = await client.toolCalls(runId);
  }
  for (const call of calls) ok(`${call.tool.padEnd(15)} ${call.status.padEnd(18)} policy ${call.policy?.decision} (${call.policy?.rule})`);
  const pending = calls.filter((c) => c.status === 'awaiting_approval');
  if (pending.length === 0) throw new Error('no tool call is awaiting approval');

  title('Alice may not approve her own calls; Bob, an approver, approves them');
  const self = await client.command('requester', `/v1/tool-calls/${pending[0]?.id}/approve`, {}).catch((error: unknown) => error);
  if (!(self instanceof NexusHttpError) || self.status !== 403) throw new Error('the requester could approve her own tool call');
  ok(`alice → ${self.status} ${self.problem?.code}`);
  const approved = await client.decidePending(runId, true, 'demo: looks safe');
  for (const call of approved) ok(`bob approved ${call.tool} (${call.id})`);

  const run = await client.waitForRun(runId, (r) => ENDED_STATUSES.includes(r.status));
  if (run.status !== 'completed') throw new Error(`the run ended ${run.status}: ${JSON.stringify(run.error)}`);
  ok(`run ${run.status}; the local model answers:`);
  for (const line of String(run.output).split('\n')) say(`      ${line}`);

  title("The run's timeline (its event stream) and cost");
  const { events } = await client.query<{ events: RecordedEvent[] }>('requester', `/v1/streams/run-${runId}/events`);
  const start = Date.parse(events[0]?.occurredAt ?? '');
  for (const event of events) say(`      +${String(Date.parse(event.occurredAt) - start).padStart(5)} ms  #${event.globalPosition}  ${event.type}${describe(event)}`);
  calls = await client.toolCalls(runId);
  for (const call of calls) say(`      tool ${call.tool}: ${call.status}, decided by ${call.decidedBy ?? 'policy'}`);
  const session = await client.query<{ budget: { consumed: { tokens: number; costUsd: number }; remaining: { tokens: number } } }>('requester', `/v1/sessions/${sessionId}`);
  ok(`usage ${run.usage?.promptTokens} prompt + ${run.usage?.completionTokens} completion tokens, $${run.usage?.costUsd.toFixed(6)} (the local model is free)`);
  ok(`session budget: ${session.budget.consumed.tokens} tokens consumed, ${session.budget.remaining.tokens} left`);

  title('Fault: an LLM provider outage, with fallback');
  if (fault.offlineProviderUrl === undefined) {
    say('    - skipped: the outage is configured only on the embedded platform the demo starts itself (NEXUS_URL is set)');
  } else {
    const providers = events.filter((e) => e.type === 'LlmCallCompleted').map((e) => String(e.data['provider']));
    const asked = fault.offlineProviderRequests?.() ?? 0;
    say(`      provider "primary" (${fault.offlineProviderUrl}) comes first for the local model and answers 503 to everything`);
    if (asked === 0) throw new Error('the failing provider was never asked');
    if (providers.length === 0 || providers.some((p) => p !== 'local')) throw new Error(`LLM calls served by ${providers.join(', ')}`);
    ok(`"primary" was asked ${asked} time(s) and failed each time`);
    ok(`all ${providers.length} LLM calls of the run fell back to the built-in "local" provider; the run never noticed`);
  }

  title('Budget guard: a run in a session of 100 tokens is refused before any LLM call');
  const poor = await client.createSession(100);
  const refused = await client.waitForRun((await client.startRun(poor, 'an expensive question')).body.runId, (r) => ENDED_STATUSES.includes(r.status));
  if (refused.error?.reason !== 'budget_exhausted') throw new Error(`expected budget_exhausted, got ${JSON.stringify(refused.error)}`);
  ok(`run ${refused.status}: ${refused.error.reason} (${refused.error.detail})`);

  title('Carol (admin) verifies the audit hash chain of every stream');
  const options = { url: client.targets.url, queryUrl: client.targets.queryUrl, token: client.targets.adminToken };
  for await (const line of postNdjson(options, 'queryUrl', '/v1/admin/audit/verify')) {
    if (line['type'] === 'error') throw new Error(String(line['message']));
    if (line['type'] !== 'result') continue;
    const failures = line['failures'] as unknown[];
    if (failures.length > 0) throw new Error(`audit chain BROKEN: ${failures.length} bad event(s)`);
    ok(`${line['events']} events in ${line['streams']} streams: audit chain intact`);
  }
  say('\ndemo complete');
}

function describe(event: RecordedEvent): string {
  const d = event.data;
  if (event.type === 'LlmCallCompleted') return `  step ${d['step']} by ${d['provider']}, ${(d['toolCalls'] as unknown[]).length} tool call(s)`;
  if (event.type === 'ToolResultRecorded') return `  ${d['status']}: ${String(d['content']).slice(0, 60)}`;
  if (event.type === 'RunFailed') return `  ${d['reason']}`;
  return '';
}
