import { collectDefaultMetrics, Counter, Histogram, register } from 'prom-client';

let defaultsCollected = false;

/** Process metrics (CPU, memory, event loop) once per process, whatever number of apps it hosts. */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ prefix: 'nexus_' });
}

/** Reuses a metric already registered under the name (several apps can share one process). */
export function metric<T>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

export const httpRequestDuration = (): Histogram<'app' | 'method' | 'route' | 'status'> =>
  metric(
    'nexus_http_request_duration_seconds',
    () =>
      new Histogram({
        name: 'nexus_http_request_duration_seconds',
        help: 'HTTP request latency by app, route and status',
        labelNames: ['app', 'method', 'route', 'status'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      }),
  );

export const commandsTotal = (): Counter<'command' | 'outcome'> =>
  metric(
    'nexus_commands_total',
    () =>
      new Counter({
        name: 'nexus_commands_total',
        help: 'Commands handled, by command type and outcome (accepted, rejected code, conflict)',
        labelNames: ['command', 'outcome'],
      }),
  );

export const eventsAppendedTotal = (): Counter<'type'> =>
  metric(
    'nexus_events_appended_total',
    () => new Counter({ name: 'nexus_events_appended_total', help: 'Events appended to the store, by type', labelNames: ['type'] }),
  );
