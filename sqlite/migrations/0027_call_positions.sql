-- 0027: a call's position for CallsAfter (the live view of a serve apart
-- from the recorder) is its rowid, which SQLite gives as one more than the
-- largest in the table: after the newest call was deleted, the next call
-- took its rowid again, and a live view that had seen the deleted call
-- passed the new one over. call_rowid_high keeps the largest rowid a
-- deleted call had, so that upsertCall gives a new call a rowid above it
-- and above every call's (AUTOINCREMENT's rule, which a table cannot take
-- without being rebuilt: its rowids would change, and calls_number's
-- trigrams name calls by rowid). Nothing is renumbered or filled: the
-- table starts at the largest rowid of the calls there are (a seek).
CREATE TABLE call_rowid_high (n INTEGER NOT NULL);
INSERT INTO call_rowid_high SELECT coalesce(max(rowid), 0) FROM calls;
CREATE TRIGGER calls_rowid_high AFTER DELETE ON calls WHEN OLD.rowid > (SELECT n FROM call_rowid_high)
BEGIN
	UPDATE call_rowid_high SET n = OLD.rowid;
END;
