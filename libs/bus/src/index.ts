export * from './subjects';
export * from './stream-definitions';
export { busMetrics } from './bus-metrics';
export { OutboxRelay, RelayCrashedError, type OutboxRelayOptions } from './outbox-relay';
export { createConsumer, type BusConsumer, type BusConsumerOptions } from './bus-consumer';
