-- 0015: the outbox of a sensor that ships its calls to a central index and
-- store (package ship). PutCall queues the call (again, when it changes);
-- shipping it removes the row if it was not queued again meanwhile
-- (queued_ns is the version). Calls indexed before are queued too.
CREATE TABLE outbox (
	call_id   TEXT    NOT NULL PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
	end_ns    INTEGER NOT NULL,
	queued_ns INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX outbox_end ON outbox (end_ns, call_id);
INSERT INTO outbox (call_id, end_ns, queued_ns) SELECT id, coalesce(end_ns, start_ns), 0 FROM calls;
