-- Wakes readers of the log (the outbox relay) as soon as events commit, instead of at their next
-- poll. NOTIFY is transactional: listeners hear it only when the appending transaction commits,
-- once per transaction (one statement-level trigger, one empty payload, deduplicated). Readers
-- keep polling as a fallback: a notification can be missed across a reconnect.
CREATE FUNCTION events_notify_appended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('nexus_events_appended', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER events_notify_appended
  AFTER INSERT ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_notify_appended();
