-- 0001: the call index. Times are Unix nanoseconds (UTC); NULL is the zero
-- time. Child rows keep their position in the Call's slice in seq.
CREATE TABLE calls (
	id             TEXT    NOT NULL PRIMARY KEY,
	sip_call_id    TEXT    NOT NULL,
	caller_number  TEXT    NOT NULL,
	caller_name    TEXT    NOT NULL,
	caller_addr    TEXT    NOT NULL,
	callee_number  TEXT    NOT NULL,
	callee_name    TEXT    NOT NULL,
	callee_addr    TEXT    NOT NULL,
	direction      TEXT    NOT NULL,
	status         TEXT    NOT NULL,
	status_code    INTEGER NOT NULL,
	start_ns       INTEGER,
	answer_ns      INTEGER,
	end_ns         INTEGER,
	duration_ns    INTEGER NOT NULL,
	codecs         TEXT    NOT NULL, -- JSON array, or null
	audio_start_ns INTEGER,
	audio_ms       INTEGER NOT NULL,
	audio          TEXT    NOT NULL,
	audio_sha256   TEXT    NOT NULL,
	pcap           TEXT    NOT NULL,
	pcap_sha256    TEXT    NOT NULL,
	capture_loss   INTEGER NOT NULL,
	notes          TEXT    NOT NULL  -- JSON array, or null
) STRICT;

CREATE INDEX calls_start ON calls (start_ns, id);
CREATE INDEX calls_direction_start ON calls (direction, start_ns);
CREATE INDEX calls_status_start ON calls (status, start_ns);
CREATE INDEX calls_caller_number ON calls (caller_number);
CREATE INDEX calls_callee_number ON calls (callee_number);

CREATE TABLE streams (
	call_id       TEXT    NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	seq           INTEGER NOT NULL,
	ssrc          INTEGER NOT NULL,
	src           TEXT    NOT NULL,
	dst           TEXT    NOT NULL,
	side          TEXT    NOT NULL,
	payload_type  INTEGER NOT NULL,
	codec         TEXT    NOT NULL,
	clock_rate    INTEGER NOT NULL,
	decoded       INTEGER NOT NULL,
	first_ns      INTEGER,
	last_ns       INTEGER,
	packets       INTEGER NOT NULL,
	lost          INTEGER NOT NULL,
	duplicates    INTEGER NOT NULL,
	out_of_order  INTEGER NOT NULL,
	jitter_ms     REAL, -- NULL is NaN
	max_jitter_ms REAL,
	max_delta_ms  REAL,
	mos           REAL,
	PRIMARY KEY (call_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE dtmf (
	call_id     TEXT    NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	seq         INTEGER NOT NULL,
	digit       TEXT    NOT NULL,
	at_ns       INTEGER,
	duration_ms INTEGER NOT NULL,
	side        TEXT    NOT NULL,
	source      TEXT    NOT NULL,
	PRIMARY KEY (call_id, seq)
) STRICT, WITHOUT ROWID;
