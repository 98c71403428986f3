export * from './subjects';
export * from './stream-definitions';
export { busMetrics } from './bus-metrics';
export { OutboxRelay, RelayCrashedError, type OutboxRelayOptions } from './outbox-relay';
export { createConsumer, type BusConsumer, type BusConsumerOptions } from './bus-consumer';
export { createLogConsumer, type LogConsumerOptions } from './log-consumer';
export * from './commands/command-sender.port';
export { NatsCommandSender } from './commands/nats-command-sender';
export * from './tokens/token-stream.port';
