-- 0021: the deletions a sensor tells the central side of (package ship).
-- A sensor that ships (a row in shipping, written by its Shipper) queues
-- in outbox_deletions, in the transaction that finishes the deletion of a
-- call, what was deleted, by whom and why, with the call's files and
-- their SHA-256; the Shipper tells the central index and takes the row
-- off. A recorder that never shipped queues nothing.
CREATE TABLE shipping (
	one      INTEGER NOT NULL PRIMARY KEY CHECK (one = 1),
	since_ns INTEGER NOT NULL
) STRICT;

CREATE TABLE outbox_deletions (
	call_id      TEXT    NOT NULL,
	at_ns        INTEGER NOT NULL,
	sensor       TEXT    NOT NULL,
	actor        TEXT    NOT NULL,
	remote       TEXT    NOT NULL,
	reason       TEXT    NOT NULL,
	audio        TEXT    NOT NULL,
	audio_sha256 TEXT    NOT NULL,
	pcap         TEXT    NOT NULL,
	pcap_sha256  TEXT    NOT NULL,
	-- 1 if the call still waited in the outbox (never shipped as it was)
	queued       INTEGER NOT NULL,
	PRIMARY KEY (call_id, at_ns)
) STRICT, WITHOUT ROWID;
