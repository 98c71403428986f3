import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createLogger, NexusLogger } from './logger';
import { startTelemetry } from './telemetry';
import { contextOf, recordServerSpans, startServerSpan, traceparentOf, traceparentOfSpan, withConsumerSpan, withSpan } from './trace-context';

const exporter = new InMemorySpanExporter();
startTelemetry('observability-test', { spanProcessors: [new SimpleSpanProcessor(exporter)] });

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const event = { id: 'e1', type: 'RunStarted', streamId: 'run-1', metadata: { correlationId: 'c-1', traceparent: PARENT } };

describe('trace context', () => {
  it('reads and writes W3C traceparent', () => {
    expect(traceparentOf(contextOf(PARENT))).toBe(PARENT);
    expect(traceparentOf(contextOf('garbage'))).toBeNull();
    expect(traceparentOf(contextOf(null))).toBeNull();
  });

  it('runs a handler in a consumer span, child of the event trace, whose logs carry trace and correlation ids', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) });
    const logger = new NexusLogger(createLogger('info', sink));
    const inside = await withConsumerSpan('agent-loop', event, async () => {
      logger.warn('inside', 'agent-loop');
      return withSpan('tool files_read', {}, async () => traceparentOf());
    });
    logger.log('outside');
    expect(inside?.split('-')[1]).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(lines[0]).toMatchObject({ msg: 'inside', context: 'agent-loop', traceId: '0af7651916cd43dd8448eb211c80319c', correlationId: 'c-1' });
    expect(lines[1]).not.toHaveProperty('traceId');
    const [tool, consumer] = exporter.getFinishedSpans();
    expect(consumer?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(tool?.parentSpanContext?.spanId).toBe(consumer?.spanContext().spanId);
  });

  describe('when no span is exported', () => {
    const serverSpan = (traceparent: string | null) => {
      recordServerSpans(false);
      try {
        exporter.reset();
        const span = startServerSpan('POST /x', traceparent);
        span.end();
        return { traceparent: traceparentOfSpan(span), recorded: exporter.getFinishedSpans().length };
      } finally {
        recordServerSpans(true);
      }
    };

    it('gives a server span the ids the SDK would, and records nothing', () => {
      const child = serverSpan(PARENT);
      expect(child.recorded).toBe(0);
      expect(child.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
      expect(child.traceparent).not.toContain('b7ad6b7169203331');
    });

    it('keeps a caller trace that is not sampled unsampled, and starts a sampled trace for a request without one', () => {
      expect(serverSpan('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00').traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-00$/);
      const root = serverSpan(null).traceparent;
      expect(root).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(serverSpan('garbage').traceparent).not.toBe(root);
    });
  });

  it('marks a failing handler span as an error and rethrows', async () => {
    exporter.reset();
    await expect(withConsumerSpan('x', event, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(exporter.getFinishedSpans()[0]?.status.code).toBe(2);
  });
});
