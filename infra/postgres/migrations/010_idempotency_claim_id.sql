-- Which claim holds a key. A command's response is now recorded in the same transaction as its
-- events, and only by the claim that still holds the key: a request whose lease ran out (its
-- retry took the key over) can no longer commit a second set of events for the same key, nor
-- free or answer the key its retry holds.
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS claim_id text;
