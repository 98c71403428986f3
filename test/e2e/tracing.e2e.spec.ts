import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTelemetry } from '@nexus/observability';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { platformClient, sleep, type PlatformClient } from './support/api-client';
import { startInProcessPlatform, type InProcessPlatform } from './support/in-process-platform';

const traceIdOf = (traceparent: string | null) => traceparent?.split('-')[1];

// Registered before any app starts: every span of this process lands here.
const exporter = new InMemorySpanExporter();
startTelemetry('nexus-test', { spanProcessors: [new SimpleSpanProcessor(exporter)] });

describe('one trace from the HTTP command to the LLM call, the tool call and the next command', () => {
  let platform: InProcessPlatform;
  let client: PlatformClient;

  beforeAll(async () => {
    process.env['NEXUS_DATA_DIR'] = mkdtempSync(join(tmpdir(), 'nexus-tracing-'));
    platform = await startInProcessPlatform('tracing', { NEXUS_LLM_MAX_TOKENS: '4000' });
    client = platformClient(platform);
  }, 60_000);

  afterAll(async () => platform.close());

  it('links the HTTP span, the consumer spans, the LLM span and the tool span under one trace id', async () => {
    const session = await client.post('alice', '/v1/sessions', { budget: { tokens: 2_000_000 } });
    expect(session.body['sessionId']).toEqual(expect.any(String));
    // No traceparent from the client: the server's span starts the trace.
    const run = await client.post('alice', `/v1/sessions/${String(session.body['sessionId'])}/runs`, {
      input: '/tool files_read {"path":"missing.txt"}',
      tools: ['files_read'],
      model: 'local',
    });
    expect(run.status).toBe(202);
    const runId = String(run.body['runId']);
    await client.waitForRun('alice', runId);
    await sleep(200);

    const spans = exporter.getFinishedSpans();
    const http = spans.find((s) => s.name === 'POST /v1/sessions/:sessionId/runs');
    expect(http).toBeDefined();
    const traceId = (http as ReadableSpan).spanContext().traceId;
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
    const named = (prefix: string) => inTrace.filter((s) => s.name.startsWith(prefix));

    expect(named('agent-loop consume RunStarted')).toHaveLength(1);
    expect(named('agent-loop consume LlmCallCompleted').length).toBeGreaterThanOrEqual(1);
    expect(named('llm-gateway consume LlmCallRequested').length).toBeGreaterThanOrEqual(2);
    expect(named('tool-runner consume ToolCallAllowed')).toHaveLength(1);
    const llm = named('chat local');
    expect(llm.length).toBeGreaterThanOrEqual(2);
    expect(llm[0]?.attributes).toMatchObject({ 'gen_ai.provider.name': 'local', 'gen_ai.request.model': 'local', 'gen_ai.usage.input_tokens': expect.any(Number) });
    const tool = named('tool files_read');
    expect(tool).toHaveLength(1);
    expect(tool[0]?.attributes['nexus.tool.name']).toBe('files_read');

    // Each span's parent is in the trace: the chain is unbroken back to the HTTP span.
    const ids = new Set(inTrace.map((s) => s.spanContext().spanId));
    for (const span of inTrace) {
      if (span !== http) expect(ids.has(span.parentSpanContext?.spanId ?? '')).toBe(true);
    }
    const toolParent = inTrace.find((s) => s.spanContext().spanId === tool[0]?.parentSpanContext?.spanId);
    expect(toolParent?.name).toBe('tool-runner consume ToolCallAllowed');

    // The follow-up commands' events carry the trace, with a consumer span as their parent.
    const events = await platform.store.readStream(`run-${runId}`);
    expect(events.map((e) => traceIdOf(e.metadata.traceparent))).toEqual(events.map(() => traceId));
    const completed = events.find((e) => e.type === 'LlmCallCompleted');
    const parentOfCompleted = completed?.metadata.traceparent?.split('-')[2];
    expect(inTrace.find((s) => s.spanContext().spanId === parentOfCompleted)?.name).toBe('llm-gateway consume LlmCallRequested');
  }, 60_000);
});
