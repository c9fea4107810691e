-- 0019: what the call list's searches that missed 200 ms on a million
-- calls read instead of the whole calls table (docs/PERFORMANCE.md,
-- "Tenth session"). The searches' answers are unchanged. PostgreSQL's
-- counterparts are its migration 0008 (pg_trgm, a partial index of calls
-- with capture loss).
--
-- A number that contains a text (CallFilter.Number: caller_number or
-- callee_number LIKE '%…%'): every three-character sequence of both
-- numbers, in a full-text table with the trigram tokenizer keyed by the
-- call's rowid. It holds no copy of the numbers (content='') and forgets
-- a deleted row (contentless_delete, SQLite 3.43). A search of three
-- characters or more takes the rows whose numbers have that sequence and
-- tests each with the LIKE as before: the tokenizer folds case as LIKE
-- does and more (Unicode), so it never leaves out a row that LIKE takes.
-- Triggers keep it in the transaction that inserts, replaces or deletes
-- a call.
CREATE VIRTUAL TABLE calls_number USING fts5 (
	caller_number, callee_number,
	tokenize = 'trigram', content = '', contentless_delete = 1
);
CREATE TRIGGER calls_number_insert AFTER INSERT ON calls BEGIN
	INSERT INTO calls_number (rowid, caller_number, callee_number)
		VALUES (new.rowid, new.caller_number, new.callee_number);
END;
CREATE TRIGGER calls_number_update AFTER UPDATE OF caller_number, callee_number ON calls
	WHEN old.caller_number IS NOT new.caller_number OR old.callee_number IS NOT new.callee_number
BEGIN
	DELETE FROM calls_number WHERE rowid = old.rowid;
	INSERT INTO calls_number (rowid, caller_number, callee_number)
		VALUES (new.rowid, new.caller_number, new.callee_number);
END;
CREATE TRIGGER calls_number_delete AFTER DELETE ON calls BEGIN
	DELETE FROM calls_number WHERE rowid = old.rowid;
END;
INSERT INTO calls_number (rowid, caller_number, callee_number)
	SELECT rowid, caller_number, callee_number FROM calls;

-- Calls with capture loss (has_loss=true; the filter is written
-- capture_loss = 1, a constant, so that the planner may take this index),
-- a few percent of the calls: their page and their count read these
-- entries, not every call.
CREATE INDEX calls_loss_start ON calls (start_ns, id) WHERE capture_loss = 1;

-- A direction and a status together (inbound and answered): their count
-- reads this index alone, not a row per call of the direction.
CREATE INDEX calls_direction_status_start ON calls (direction, status, start_ns);

-- (The sorts by direction and by status: migration 0018.)
