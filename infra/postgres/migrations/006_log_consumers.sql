-- Consumers that read the event store itself as their bus (embedded mode, no NATS): how far each
-- has read the global log, in the store's (transaction id, position) order. Written in the same
-- transaction as the handler's effect and its inbox row (processed_events, migration 003).
CREATE TABLE log_consumer_checkpoints (
  consumer       text        PRIMARY KEY,
  transaction_id xid8        NOT NULL DEFAULT '0',
  position       bigint      NOT NULL DEFAULT 0,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
