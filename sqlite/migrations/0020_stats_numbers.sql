-- 0020: the calls of each number per hour, for the dashboard's top
-- talkers (spanrec.TopTalkers: the numbers in the most calls of a range,
-- found without summing every number's hours). A call counts once for its
-- caller's number and once for its callee's (once if they are the same;
-- never for an empty number), in the hour of its start (see 0017), with
-- whether it was answered and its talk time. Kept exact by triggers.
CREATE TABLE stats_numbers (
	number  TEXT    NOT NULL,
	hour_ns INTEGER NOT NULL,
	calls    INTEGER NOT NULL DEFAULT 0,
	answered INTEGER NOT NULL DEFAULT 0,
	talk_ns  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (number, hour_ns)
) STRICT, WITHOUT ROWID;
-- The numbers of an hour with at least so many calls.
CREATE INDEX stats_numbers_hour ON stats_numbers (hour_ns, calls);

INSERT INTO stats_numbers (number, hour_ns, calls, answered, talk_ns)
	SELECT number, h, count(*), sum(status = 'answered'), sum(duration_ns) FROM (
		SELECT caller_number AS number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS h, status, duration_ns FROM calls WHERE start_ns IS NOT NULL
		UNION ALL
		SELECT callee_number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000), status, duration_ns FROM calls WHERE start_ns IS NOT NULL AND callee_number <> caller_number
	) WHERE number <> '' GROUP BY number, h;

CREATE TRIGGER calls_talkers_insert AFTER INSERT ON calls WHEN NEW.start_ns IS NOT NULL BEGIN
	INSERT INTO stats_numbers (number, hour_ns, calls, answered, talk_ns)
		SELECT n, (NEW.start_ns - ((NEW.start_ns % 3600000000000) + 3600000000000) % 3600000000000), 1, (NEW.status = 'answered'), NEW.duration_ns
		FROM (SELECT NEW.caller_number AS n UNION ALL SELECT NEW.callee_number WHERE NEW.callee_number <> NEW.caller_number) WHERE n <> ''
		ON CONFLICT (number, hour_ns) DO UPDATE SET calls = calls + excluded.calls, answered = answered + excluded.answered, talk_ns = talk_ns + excluded.talk_ns;
END;
CREATE TRIGGER calls_talkers_delete AFTER DELETE ON calls WHEN OLD.start_ns IS NOT NULL BEGIN
	INSERT INTO stats_numbers (number, hour_ns, calls, answered, talk_ns)
		SELECT n, (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000), -1, -(OLD.status = 'answered'), -OLD.duration_ns
		FROM (SELECT OLD.caller_number AS n UNION ALL SELECT OLD.callee_number WHERE OLD.callee_number <> OLD.caller_number) WHERE n <> ''
		ON CONFLICT (number, hour_ns) DO UPDATE SET calls = calls + excluded.calls, answered = answered + excluded.answered, talk_ns = talk_ns + excluded.talk_ns;
	DELETE FROM stats_numbers WHERE number IN (OLD.caller_number, OLD.callee_number) AND hour_ns = (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AND calls = 0;
END;
CREATE TRIGGER calls_talkers_update_old AFTER UPDATE OF start_ns, caller_number, callee_number, status, duration_ns ON calls
	WHEN OLD.start_ns IS NOT NULL AND (OLD.start_ns IS NOT NEW.start_ns OR OLD.caller_number IS NOT NEW.caller_number OR OLD.callee_number IS NOT NEW.callee_number
		OR OLD.status IS NOT NEW.status OR OLD.duration_ns IS NOT NEW.duration_ns) BEGIN
	INSERT INTO stats_numbers (number, hour_ns, calls, answered, talk_ns)
		SELECT n, (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000), -1, -(OLD.status = 'answered'), -OLD.duration_ns
		FROM (SELECT OLD.caller_number AS n UNION ALL SELECT OLD.callee_number WHERE OLD.callee_number <> OLD.caller_number) WHERE n <> ''
		ON CONFLICT (number, hour_ns) DO UPDATE SET calls = calls + excluded.calls, answered = answered + excluded.answered, talk_ns = talk_ns + excluded.talk_ns;
	DELETE FROM stats_numbers WHERE number IN (OLD.caller_number, OLD.callee_number) AND hour_ns = (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AND calls = 0;
END;
CREATE TRIGGER calls_talkers_update_new AFTER UPDATE OF start_ns, caller_number, callee_number, status, duration_ns ON calls
	WHEN NEW.start_ns IS NOT NULL AND (OLD.start_ns IS NOT NEW.start_ns OR OLD.caller_number IS NOT NEW.caller_number OR OLD.callee_number IS NOT NEW.callee_number
		OR OLD.status IS NOT NEW.status OR OLD.duration_ns IS NOT NEW.duration_ns) BEGIN
	INSERT INTO stats_numbers (number, hour_ns, calls, answered, talk_ns)
		SELECT n, (NEW.start_ns - ((NEW.start_ns % 3600000000000) + 3600000000000) % 3600000000000), 1, (NEW.status = 'answered'), NEW.duration_ns
		FROM (SELECT NEW.caller_number AS n UNION ALL SELECT NEW.callee_number WHERE NEW.callee_number <> NEW.caller_number) WHERE n <> ''
		ON CONFLICT (number, hour_ns) DO UPDATE SET calls = calls + excluded.calls, answered = answered + excluded.answered, talk_ns = talk_ns + excluded.talk_ns;
END;
