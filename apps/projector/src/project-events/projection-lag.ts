import { Gauge } from 'prom-client';
import { metric } from '@nexus/http';

/** How far the read models trail the log: in events, and in seconds since the last event applied was written. */
export const projectionLagEvents = (): Gauge<'projector'> =>
  metric(
    'nexus_projection_lag_events',
    () => new Gauge({ name: 'nexus_projection_lag_events', help: 'Events written but not yet projected', labelNames: ['projector'] }),
  );

export const projectionLagSeconds = (): Gauge<'projector'> =>
  metric(
    'nexus_projection_lag_seconds',
    () =>
      new Gauge({
        name: 'nexus_projection_lag_seconds',
        help: 'Seconds between an event being written and being projected (last event applied)',
        labelNames: ['projector'],
      }),
  );
