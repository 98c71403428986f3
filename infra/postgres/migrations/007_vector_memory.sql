-- Vector memory of the memory_store / memory_search tools (pgvector).
-- pgvector is optional: PGlite ships it (createPgliteExecutor loads it), Debian's PostgreSQL
-- packages do not. Where the extension is not available this migration creates nothing, and the
-- pgvector adapter reports vector memory as unavailable (configure QDRANT_URL instead).
-- A migration that adds the extension to the server later will need a follow-up migration that
-- runs the same block again.
-- The embedding column has no fixed dimension so different embedders can coexist; `space` (the
-- embedder id) and `dimensions` keep their vectors apart. Search filters by tenant and session
-- through the index first and ranks the (small) per-session set exactly, so no ANN index is needed.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
    EXECUTE 'CREATE EXTENSION IF NOT EXISTS vector';
    EXECUTE $sql$
      CREATE TABLE IF NOT EXISTS vector_memory (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL,
        session_id text NOT NULL,
        space text NOT NULL,
        dimensions integer NOT NULL,
        text text NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        embedding vector NOT NULL,
        created_at timestamptz NOT NULL
      )
    $sql$;
    EXECUTE 'CREATE INDEX IF NOT EXISTS vector_memory_scope_idx
      ON vector_memory (tenant_id, session_id, space, created_at)';
  END IF;
END
$$;
