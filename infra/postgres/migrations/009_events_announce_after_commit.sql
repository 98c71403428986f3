-- Appends no longer NOTIFY inside their own transaction. A NOTIFY there takes PostgreSQL's global
-- notify-queue lock at commit, so every appending transaction on the server committed one at a
-- time (32 writers were no faster than one). The appender now announces after its commit, from
-- outside the transaction: in process at once, to other processes by one coalesced NOTIFY on the
-- same channel (see SqlExecutor.announce). Listeners still poll as a fallback.
DROP TRIGGER IF EXISTS events_notify_appended ON events;
DROP FUNCTION IF EXISTS events_notify_appended();
