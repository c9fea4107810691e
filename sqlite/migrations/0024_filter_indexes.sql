-- 0024 (postgres 0016): what the call list's filters read instead of every
-- call when the value they look for is rare or absent (docs/PERFORMANCE.md,
-- "Eleventh session: every search filter"). The searches' answers are
-- unchanged: each of these only narrows the rows the filter then tests as
-- before.
--
-- Texts that contain a text, ignoring case: each side's user agent, notes
-- and header values, in full-text tables with the trigram tokenizer as the
-- numbers of 0019 (contentless, with contentless_delete; the tokenizer
-- folds case as LIKE does and more, so it never leaves out a row the LIKE
-- takes). User agents are keyed by the call's rowid, notes by theirs, and
-- a header value by its call's rowid times 64 plus its position (a call
-- keeps at most 64 header fields, spanrec.MaxSIPHeaders). Triggers keep
-- them in the transaction that writes the rows.
CREATE VIRTUAL TABLE calls_ua USING fts5 (
	caller_ua, callee_ua,
	tokenize = 'trigram', content = '', contentless_delete = 1
);
-- A call whose user agents are both empty (most calls of some PBXs) has no
-- row: no search of three characters or more could find it there.
CREATE TRIGGER calls_ua_insert AFTER INSERT ON calls
	WHEN new.caller_ua <> '' OR new.callee_ua <> ''
BEGIN
	INSERT INTO calls_ua (rowid, caller_ua, callee_ua) VALUES (new.rowid, new.caller_ua, new.callee_ua);
END;
CREATE TRIGGER calls_ua_update AFTER UPDATE OF caller_ua, callee_ua ON calls
	WHEN old.caller_ua IS NOT new.caller_ua OR old.callee_ua IS NOT new.callee_ua
BEGIN
	DELETE FROM calls_ua WHERE rowid = old.rowid AND (old.caller_ua <> '' OR old.callee_ua <> '');
	INSERT INTO calls_ua (rowid, caller_ua, callee_ua)
		SELECT new.rowid, new.caller_ua, new.callee_ua WHERE new.caller_ua <> '' OR new.callee_ua <> '';
END;
CREATE TRIGGER calls_ua_delete AFTER DELETE ON calls
	WHEN old.caller_ua <> '' OR old.callee_ua <> ''
BEGIN
	DELETE FROM calls_ua WHERE rowid = old.rowid;
END;
INSERT INTO calls_ua (rowid, caller_ua, callee_ua) SELECT rowid, caller_ua, callee_ua FROM calls
	WHERE caller_ua <> '' OR callee_ua <> '';

CREATE VIRTUAL TABLE call_notes_text USING fts5 (
	text,
	tokenize = 'trigram', content = '', contentless_delete = 1
);
CREATE TRIGGER call_notes_text_insert AFTER INSERT ON call_notes BEGIN
	INSERT INTO call_notes_text (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER call_notes_text_update AFTER UPDATE OF id, text ON call_notes BEGIN
	DELETE FROM call_notes_text WHERE rowid = old.id;
	INSERT INTO call_notes_text (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER call_notes_text_delete AFTER DELETE ON call_notes BEGIN
	DELETE FROM call_notes_text WHERE rowid = old.id;
END;
INSERT INTO call_notes_text (rowid, text) SELECT id, text FROM call_notes;

CREATE VIRTUAL TABLE call_headers_value USING fts5 (
	value,
	tokenize = 'trigram', content = '', contentless_delete = 1
);
CREATE TRIGGER call_headers_value_insert AFTER INSERT ON call_headers BEGIN
	INSERT INTO call_headers_value (rowid, value)
		SELECT calls.rowid * 64 + new.seq, new.value FROM calls WHERE calls.id = new.call_id;
END;
CREATE TRIGGER call_headers_value_delete AFTER DELETE ON call_headers BEGIN
	DELETE FROM call_headers_value
		WHERE rowid = (SELECT calls.rowid * 64 + old.seq FROM calls WHERE calls.id = old.call_id);
END;
-- A call's deletion deletes its headers after its own row, whose rowid the
-- trigger above then cannot find: its values go first.
CREATE TRIGGER calls_headers_value_delete BEFORE DELETE ON calls BEGIN
	DELETE FROM call_headers_value
		WHERE rowid IN (SELECT old.rowid * 64 + seq FROM call_headers WHERE call_id = old.id);
END;
INSERT INTO call_headers_value (rowid, value)
	SELECT calls.rowid * 64 + h.seq, h.value FROM call_headers AS h JOIN calls ON calls.id = h.call_id;

-- The final SIP code (status_code=503), and a codec: the calls of a
-- codec list (codec=g729 reads the few distinct lists from this index,
-- keeps those that hold the codec, then the calls that have one of them).
CREATE INDEX calls_status_code_start ON calls (status_code, start_ns);
CREATE INDEX calls_codecs_start ON calls (codecs, start_ns);
