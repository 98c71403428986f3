-- Read models of the query side: one generic document table per projection.
--
-- Why documents: every projection is a pure fold into one JSON document per id (HOUSE_STYLE 13),
-- so every table has the same shape and the same runner writes all of them; a rebuild builds a
-- copy with `CREATE TABLE … (LIKE rm_<name> INCLUDING ALL)` and swaps it in by renaming, so
-- new read models need no new runner code. The query API reads `doc` as it is.
--
-- Columns: tenant_id is copied out of the document because every query filters on it.
-- stream_versions maps each stream that fed the document to the last version folded in; the runner
-- skips an event at or below it. That makes re-applying an event a no-op, and it is per stream on
-- purpose: a document fed by several streams (a session by its session, budget and run streams)
-- may receive them in any interleaving — bus partitions keep each stream in order, not the streams
-- relative to each other — so a single "last global position" guard would drop events.
-- (last_transaction_id, last_position) is the latest event folded in, in global read order; the
-- audit log pages by it.
--
-- Indexes follow the query API's filters; ISO-8601 timestamps in the documents sort as text.

CREATE TABLE rm_sessions (
  id                  text        PRIMARY KEY,
  tenant_id           text        NOT NULL,
  doc                 jsonb       NOT NULL,
  last_transaction_id xid8        NOT NULL,
  last_position       bigint      NOT NULL,
  stream_versions     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  updated_at          timestamptz NOT NULL DEFAULT now()
);
-- GET /v1/sessions?status= : a user's own sessions, or (admins) the tenant's, newest first.
CREATE INDEX rm_sessions_tenant_status_created_idx ON rm_sessions (tenant_id, (doc->>'status'), (doc->>'createdAt') DESC);
CREATE INDEX rm_sessions_tenant_user_created_idx ON rm_sessions (tenant_id, (doc->>'userId'), (doc->>'createdAt') DESC);

CREATE TABLE rm_budget_reservations (LIKE rm_sessions INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE rm_budget_reservations ADD PRIMARY KEY (id);
CREATE INDEX rm_budget_reservations_session_idx ON rm_budget_reservations (tenant_id, (doc->>'sessionId'), (doc->>'reservedAt'));
-- Open reservations past their expiry: what an expiry sweeper looks for.
CREATE INDEX rm_budget_reservations_open_expiry_idx ON rm_budget_reservations ((doc->>'expiresAt')) WHERE doc->>'status' = 'open';

CREATE TABLE rm_runs (LIKE rm_sessions INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE rm_runs ADD PRIMARY KEY (id);
-- GET /v1/runs?sessionId=&status=
CREATE INDEX rm_runs_tenant_session_started_idx ON rm_runs (tenant_id, (doc->>'sessionId'), (doc->>'startedAt') DESC);
CREATE INDEX rm_runs_tenant_status_started_idx ON rm_runs (tenant_id, (doc->>'status'), (doc->>'startedAt') DESC);

-- One document per run: its conversation. The primary key (run id) is the only lookup.
CREATE TABLE rm_messages (LIKE rm_sessions INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE rm_messages ADD PRIMARY KEY (id);

CREATE TABLE rm_tool_calls (LIKE rm_sessions INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE rm_tool_calls ADD PRIMARY KEY (id);
-- GET /v1/runs/{id}/tool-calls
CREATE INDEX rm_tool_calls_tenant_run_idx ON rm_tool_calls (tenant_id, (doc->>'runId'), (doc->>'requestedAt'));
-- The approval queue, oldest first: a partial index stays as small as the queue.
CREATE INDEX rm_tool_calls_awaiting_approval_idx ON rm_tool_calls (tenant_id, (doc->>'requestedAt'), id)
  WHERE doc->>'status' = 'awaiting_approval';
CREATE INDEX rm_tool_calls_tenant_status_idx ON rm_tool_calls (tenant_id, (doc->>'status'), (doc->>'requestedAt'));

-- One entry per event; `position` orders entries and pages the log (cursor = position).
CREATE TABLE rm_audit_log (LIKE rm_sessions INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE rm_audit_log ADD PRIMARY KEY (id);
CREATE INDEX rm_audit_log_tenant_at_idx ON rm_audit_log (tenant_id, (doc->>'at'), last_position);
CREATE INDEX rm_audit_log_tenant_actor_at_idx ON rm_audit_log (tenant_id, (doc->>'actor'), (doc->>'at'));
CREATE INDEX rm_audit_log_tenant_action_at_idx ON rm_audit_log (tenant_id, (doc->>'action'), (doc->>'at'));
CREATE INDEX rm_audit_log_tenant_resource_at_idx
  ON rm_audit_log (tenant_id, (doc->>'resourceType'), (doc->>'resourceId'), (doc->>'at'));

-- How far each projection has read the global log, written in the same transaction as the
-- documents of the batch, so documents and checkpoint never disagree after a crash.
CREATE TABLE projection_checkpoints (
  projection     text        PRIMARY KEY,
  transaction_id xid8        NOT NULL DEFAULT '0',
  position       bigint      NOT NULL DEFAULT 0,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO projection_checkpoints (projection)
VALUES ('sessions'), ('budget_reservations'), ('runs'), ('messages'), ('tool_calls'), ('audit_log');
