-- Durable timers (libs/timers): a command to send at a time. A row, so it survives restarts;
-- claimed with FOR UPDATE SKIP LOCKED, so several workers share the table without double claims.
CREATE TABLE timers (
  id          text        PRIMARY KEY,
  due_at      timestamptz NOT NULL,
  command     jsonb       NOT NULL,
  metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  fired_at    timestamptz,
  attempts    integer     NOT NULL DEFAULT 0,
  last_error  text,
  -- A claim's lease, or the earliest retry after a failure: no worker claims the timer before it.
  not_before  timestamptz,
  -- Set when the worker gave up after its last attempt; such a timer is never claimed again.
  failed_at   timestamptz
);

-- What the workers poll: timers neither fired nor given up, by due time.
CREATE INDEX timers_due_idx ON timers (due_at) WHERE fired_at IS NULL AND failed_at IS NULL;
