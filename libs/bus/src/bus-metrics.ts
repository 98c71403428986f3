import { Counter, Gauge, register } from 'prom-client';

/** One metric per name on the default registry, however many relays and consumers a process runs. */
function counter(name: string, help: string, labelNames: string[] = []): Counter {
  return (register.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, labelNames });
}

function gauge(name: string, help: string, labelNames: string[] = []): Gauge {
  return (register.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, labelNames });
}

export const busMetrics = {
  eventsRelayed: counter('nexus_bus_events_relayed_total', 'Events the outbox relay published and JetStream acked'),
  relayLag: gauge('nexus_bus_relay_lag_events', 'Event store head position minus the last relayed position'),
  redeliveries: counter('nexus_bus_consumer_redeliveries_total', 'Messages delivered more than once', ['consumer']),
  deadLetters: counter('nexus_bus_dead_letters_total', 'Messages moved to dead_letters after MaxDeliver', ['consumer']),
  partitionsOwned: gauge('nexus_bus_partitions_owned', 'Partitions this instance owns in its consumer group', ['consumer']),
  partitionClaims: counter('nexus_bus_partition_claims_total', 'Partitions this instance claimed (at start, on rebalance, from a dead owner)', ['consumer']),
  processed: counter('nexus_bus_consumer_processed_total', 'Events applied by a consumer handler', ['consumer']),
  pending: gauge('nexus_bus_consumer_pending_messages', 'Messages waiting on the partitions this instance owns: in JetStream and buffered here', ['consumer']),
};
