-- Idempotency keys of command requests (API.md: kept at least 24 h).
-- A key is scoped to the credential's tenant and user so two callers can never collide.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  tenant_id       text        NOT NULL,
  user_id         text        NOT NULL,
  key             text        NOT NULL,
  request_hash    text        NOT NULL,
  state           text        NOT NULL CHECK (state IN ('in_flight', 'completed')),
  -- An in-flight claim is a lease: if its holder dies, a retry may take it over after this time.
  locked_until    timestamptz NOT NULL,
  response_status integer,
  response_body   jsonb,
  response_headers jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, user_id, key)
);

CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);
