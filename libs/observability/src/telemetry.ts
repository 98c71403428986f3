import { createRequire } from 'node:module';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { recordServerSpans } from './trace-context';

export interface TelemetryOptions {
  /** Replaces the exporter chosen from the environment (tests register an in-memory exporter here). */
  readonly spanProcessors?: readonly SpanProcessor[];
}

export interface Telemetry {
  shutdown(): Promise<void>;
}

let started: Telemetry | undefined;

/**
 * Starts this process's tracing, once: later calls (several apps in one process) return the first
 * one. Spans are exported over OTLP/HTTP only when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise
 * they still get real ids (logs and event metadata carry them) but go nowhere, and an HTTP
 * request's server span is its ids alone (`recordServerSpans`). Metrics and logs
 * stay off here: Prometheus scrapes metrics, pino writes logs to stdout. A tracer provider with
 * Node's async context and W3C propagation is all Nexus uses of the OpenTelemetry SDK: the
 * all-in-one `NodeSDK` loads every exporter it could be configured with (about 2,000 modules),
 * which cost each process and CLI call about a second of CPU at start.
 */
export function startTelemetry(serviceName: string, options: TelemetryOptions = {}): Telemetry {
  if (started !== undefined) return started;
  const endpoint = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  const exported = options.spanProcessors !== undefined || (endpoint !== undefined && endpoint !== '');
  const spanProcessors =
    options.spanProcessors ?? (exported ? [new BatchSpanProcessor(otlpTraceExporter())] : [new NoopSpanProcessor()]);
  recordServerSpans(exported);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [...spanProcessors],
  });
  // Registers the provider, AsyncLocalStorage context and the W3C trace-context and baggage propagators.
  provider.register();
  started = { shutdown: () => provider.shutdown() };
  return started;
}

/** Loaded only when spans are exported: the OTLP exporter and its protocol encoders are ~150 modules. */
function otlpTraceExporter(): SpanExporter {
  const { OTLPTraceExporter } = createRequire(import.meta.url)('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  return new OTLPTraceExporter();
}
