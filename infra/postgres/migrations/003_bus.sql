-- Message bus (libs/bus): the outbox relay's checkpoint, the consumers' inbox, dead letters.

-- How far the relay has published into JetStream, written only after JetStream acked.
-- Ordered like the event store's readAll: (transaction_id, position).
CREATE TABLE bus_relay_checkpoints (
  relay           text        PRIMARY KEY,
  transaction_id  xid8        NOT NULL,
  position        bigint      NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The inbox: written in the same transaction as a handler's effect, so a redelivered
-- message finds its row and is acked without being applied again.
CREATE TABLE processed_events (
  consumer      text        NOT NULL,
  event_id      uuid        NOT NULL,
  processed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Poison messages: delivered MaxDeliver times without success, then left out by the consumer.
CREATE TABLE dead_letters (
  consumer      text        NOT NULL,
  event_id      uuid        NOT NULL,
  subject       text        NOT NULL,
  stream_seq    bigint,
  deliveries    integer     NOT NULL,
  payload       jsonb       NOT NULL,
  error         text,
  dead_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
