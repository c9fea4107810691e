-- 0014: each stream's quality over time (intervals and RTCP reports), one
-- JSON document (spanrec.StreamQuality) per stream, kept apart from the
-- streams so that searches never read it. seq is the stream's position in
-- the call's streams.
CREATE TABLE stream_quality (
	call_id TEXT    NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
	seq     INTEGER NOT NULL,
	quality TEXT    NOT NULL,
	PRIMARY KEY (call_id, seq)
) STRICT, WITHOUT ROWID;
