-- 0009: how many calls each sensor has, kept by triggers in the
-- transactions that insert, replace or delete calls, so that the total of
-- an unfiltered list (or of one filtered by sensor alone) is read and not
-- counted: count(*) visits every row (about 2 s at ten million calls; see
-- docs/PERFORMANCE.md, "Ninth session"). No sqlite counterpart: the
-- counts are exact, as count(*) is, in every snapshot.
CREATE TABLE call_counts (
	sensor text   COLLATE "C" NOT NULL PRIMARY KEY,
	calls  bigint NOT NULL
);
INSERT INTO call_counts (sensor, calls) SELECT sensor, count(*) FROM calls GROUP BY sensor;

-- One statement's rows at a time (transition tables), so that a retention
-- pass deleting thousands of calls adds one row per sensor, not per call.
-- An UPDATE that keeps each call's sensor (a call replaced, legs linked)
-- writes nothing. Rows are locked in the order of their sensors, so two
-- statements that change several sensors' counts wait for each other
-- rather than deadlock. search_path is the one of the migration, so the
-- function finds call_counts in the schema of its table whoever fires it.
CREATE FUNCTION spanrec_call_counts() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO call_counts AS c (sensor, calls) SELECT sensor, count(*) FROM new_calls GROUP BY sensor ORDER BY sensor
			ON CONFLICT (sensor) DO UPDATE SET calls = c.calls + excluded.calls;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO call_counts AS c (sensor, calls) SELECT sensor, -count(*) FROM old_calls GROUP BY sensor ORDER BY sensor
			ON CONFLICT (sensor) DO UPDATE SET calls = c.calls + excluded.calls;
	ELSE
		INSERT INTO call_counts AS c (sensor, calls)
			SELECT sensor, sum(d) FROM (SELECT sensor, 1 AS d FROM new_calls UNION ALL SELECT sensor, -1 FROM old_calls) AS t
			GROUP BY sensor HAVING sum(d) <> 0 ORDER BY sensor
			ON CONFLICT (sensor) DO UPDATE SET calls = c.calls + excluded.calls;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER calls_count_insert AFTER INSERT ON calls REFERENCING NEW TABLE AS new_calls
	FOR EACH STATEMENT EXECUTE FUNCTION spanrec_call_counts();
CREATE TRIGGER calls_count_delete AFTER DELETE ON calls REFERENCING OLD TABLE AS old_calls
	FOR EACH STATEMENT EXECUTE FUNCTION spanrec_call_counts();
CREATE TRIGGER calls_count_update AFTER UPDATE ON calls REFERENCING OLD TABLE AS old_calls NEW TABLE AS new_calls
	FOR EACH STATEMENT EXECUTE FUNCTION spanrec_call_counts();
