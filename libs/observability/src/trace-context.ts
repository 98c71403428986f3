import {
  context,
  createContextKey,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { RandomIdGenerator } from '@opentelemetry/sdk-trace-base';

const TRACER = 'nexus';
// W3C directly rather than the global propagator: event metadata always speaks `traceparent`.
const w3c = new W3CTraceContextPropagator();
const CORRELATION_ID = createContextKey('nexus.correlationId');

const tracer = () => trace.getTracer(TRACER);

/** The context whose remote parent is `traceparent` (the root context when it is missing or invalid). */
export function contextOf(traceparent: string | null | undefined, parent: Context = ROOT_CONTEXT): Context {
  if (traceparent === null || traceparent === undefined) return parent;
  return w3c.extract(parent, { traceparent }, defaultTextMapGetter);
}

/** The W3C `traceparent` of a context's span, or null when it has no valid one. */
export function traceparentOf(ctx: Context = context.active()): string | null {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  return carrier['traceparent'] ?? null;
}

/** The `traceparent` of a span (for metadata written on behalf of a span that is not active). */
export function traceparentOfSpan(span: Span): string | null {
  return traceparentOf(trace.setSpan(ROOT_CONTEXT, span));
}

/** The correlation id set by the enclosing consumer span, if any. */
export function activeCorrelationId(): string | undefined {
  return context.active().getValue(CORRELATION_ID) as string | undefined;
}

let serverSpansRecorded = true;
const ids = new RandomIdGenerator();

/**
 * Set by `startTelemetry`: whether spans go anywhere. When none does, a server span is its ids
 * alone: it is only read for the `traceparent` it gives downstream, and a recorded span that no
 * one exports cost every HTTP request a few percent of the gateway's CPU.
 */
export function recordServerSpans(recorded: boolean): void {
  serverSpansRecorded = recorded;
}

/** A server span for an HTTP request, child of the caller's `traceparent` header if any. Not made active. */
export function startServerSpan(name: string, traceparent: string | null | undefined, attributes: Attributes = {}): Span {
  const parent = contextOf(traceparent);
  if (!serverSpansRecorded) return unrecordedSpan(parent);
  return tracer().startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
}

/**
 * The ids the SDK gives a span under its default sampler (parent-based, always on), without the
 * span: the parent's trace, else a new one; sampled unless the caller's trace is not.
 */
function unrecordedSpan(parent: Context): Span {
  const remote = trace.getSpanContext(parent);
  if (remote === undefined || !isSpanContextValid(remote)) {
    return trace.wrapSpanContext({ traceId: ids.generateTraceId(), spanId: ids.generateSpanId(), traceFlags: TraceFlags.SAMPLED });
  }
  return trace.wrapSpanContext({
    traceId: remote.traceId,
    spanId: ids.generateSpanId(),
    traceFlags: remote.traceFlags & TraceFlags.SAMPLED,
    ...(remote.traceState === undefined ? {} : { traceState: remote.traceState }),
  });
}

async function runInSpan<T>(span: Span, ctx: Context, fn: () => Promise<T>): Promise<T> {
  try {
    return await context.with(ctx, fn);
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: String((error as Error)?.message ?? error) });
    throw error;
  } finally {
    span.end();
  }
}

export interface ConsumedEvent {
  readonly id: string;
  readonly type: string;
  readonly streamId: string;
  readonly metadata: { readonly correlationId: string; readonly traceparent: string | null };
}

/**
 * Runs a consumer's handler for one event inside a consumer span, child of the event's trace
 * (`traceparent` from the transport's headers, else the event's metadata), with the event's
 * correlation id in context for the logs.
 */
export function withConsumerSpan<T>(consumer: string, event: ConsumedEvent, fn: () => Promise<T>, traceparent?: string | null): Promise<T> {
  const parent = contextOf(traceparent ?? event.metadata.traceparent).setValue(CORRELATION_ID, event.metadata.correlationId);
  const span = tracer().startSpan(
    `${consumer} consume ${event.type}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.consumer.group.name': consumer,
        'messaging.message.id': event.id,
        'nexus.event.type': event.type,
        'nexus.stream.id': event.streamId,
        'nexus.correlation_id': event.metadata.correlationId,
      },
    },
    parent,
  );
  return runInSpan(span, trace.setSpan(parent, span), fn);
}

/**
 * A consumer span for events applied together (a batch from several partitions): a root of its
 * own, linked to each event's trace — OpenTelemetry's shape for batch receiving.
 */
export function withConsumerBatchSpan<T>(consumer: string, events: readonly ConsumedEvent[], fn: () => Promise<T>): Promise<T> {
  const links = events.flatMap((event) => {
    const spanContext = trace.getSpanContext(contextOf(event.metadata.traceparent));
    return spanContext === undefined ? [] : [{ context: spanContext, attributes: { 'messaging.message.id': event.id } }];
  });
  const span = tracer().startSpan(
    `${consumer} consume batch`,
    { kind: SpanKind.CONSUMER, links, attributes: { 'messaging.consumer.group.name': consumer, 'messaging.batch.message_count': events.length } },
    ROOT_CONTEXT,
  );
  return runInSpan(span, trace.setSpan(ROOT_CONTEXT, span), fn);
}

/** Runs `fn` in an internal (or client) span, child of the active one; `fn` may add attributes. */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>, kind: SpanKind = SpanKind.INTERNAL): Promise<T> {
  const span = tracer().startSpan(name, { kind, attributes });
  return runInSpan(span, trace.setSpan(context.active(), span), () => fn(span));
}

export { SpanKind, type Span };
