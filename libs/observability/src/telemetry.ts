import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface TelemetryOptions {
  /** Replaces the exporter chosen from the environment (tests register an in-memory exporter here). */
  readonly spanProcessors?: readonly SpanProcessor[];
}

export interface Telemetry {
  shutdown(): Promise<void>;
}

let started: Telemetry | undefined;

/**
 * Starts the OpenTelemetry SDK of this process, once: later calls (several apps in one process)
 * return the first one. Spans are exported over OTLP/HTTP only when OTEL_EXPORTER_OTLP_ENDPOINT is
 * set; otherwise they still get real ids (logs and event metadata carry them) but go nowhere.
 * Metrics and logs stay off here: Prometheus scrapes metrics, pino writes logs to stdout.
 */
export function startTelemetry(serviceName: string, options: TelemetryOptions = {}): Telemetry {
  if (started !== undefined) return started;
  const endpoint = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  const spanProcessors =
    options.spanProcessors ??
    (endpoint === undefined || endpoint === ''
      ? [new NoopSpanProcessor()]
      : [new BatchSpanProcessor(new OTLPTraceExporter())]);
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    autoDetectResources: false,
    spanProcessors: [...spanProcessors],
    // Explicitly empty: left unset, the SDK would default both to OTLP exporters polling the network.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  started = { shutdown: () => sdk.shutdown() };
  return started;
}
