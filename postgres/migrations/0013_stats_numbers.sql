-- 0013 (sqlite 0020): the calls of each number per hour, for the
-- dashboard's top talkers (spanrec.TopTalkers: the numbers in the most
-- calls of a range, found without summing every number's hours). A call
-- counts once for its caller's number and once for its callee's (once if
-- they are the same; never for an empty number), in the hour of its start
-- (see 0011), with whether it was answered and its talk time. Kept exact
-- by statement-level triggers; each statement changes its rows in key
-- order, after those of call_counts and stats_hours (the triggers fire in
-- the order of their names, "calls_talkers" after "calls_stats").
CREATE TABLE stats_numbers (
	number   text   COLLATE "C" NOT NULL,
	hour_ns  bigint NOT NULL,
	calls    bigint NOT NULL DEFAULT 0,
	answered bigint NOT NULL DEFAULT 0,
	talk_ns  bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (number, hour_ns)
);
-- The numbers of an hour with at least so many calls.
CREATE INDEX stats_numbers_hour ON stats_numbers (hour_ns, calls);

INSERT INTO stats_numbers (number, hour_ns, calls, answered, talk_ns)
	SELECT number, hour_ns, count(*), count(*) FILTER (WHERE status = 'answered'), sum(duration_ns) FROM (
		SELECT caller_number AS number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, 1 AS sg, status, duration_ns FROM calls WHERE start_ns IS NOT NULL
				UNION ALL SELECT callee_number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000), 1, status, duration_ns FROM calls WHERE start_ns IS NOT NULL AND callee_number <> caller_number
	) AS d WHERE number <> '' GROUP BY number, hour_ns;

-- spanrec_stats_rebuild (0011) counts these too.
CREATE OR REPLACE FUNCTION spanrec_stats_rebuild() RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	DELETE FROM stats_numbers;
	DELETE FROM stats_hosts;
	DELETE FROM stats_hours;
	INSERT INTO stats_hours (hour_ns, sensor, calls, answered)
		SELECT (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS h, sensor, count(*), count(*) FILTER (WHERE status = 'answered')
		FROM calls WHERE start_ns IS NOT NULL GROUP BY h, sensor;
	INSERT INTO stats_hours AS t (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
		SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS h, c.sensor, 0, 0, count(*), sum(s.packets), sum(s.lost),
			count(*) FILTER (WHERE s.b = -1), count(*) FILTER (WHERE s.b = 0), count(*) FILTER (WHERE s.b = 1), count(*) FILTER (WHERE s.b = 2), count(*) FILTER (WHERE s.b = 3), count(*) FILTER (WHERE s.b = 4), count(*) FILTER (WHERE s.b = 5), count(*) FILTER (WHERE s.b = 6), count(*) FILTER (WHERE s.b = 7)
		FROM (SELECT call_id, packets, lost, CASE WHEN mos > 0 THEN greatest(0, least(7::float8, trunc((mos - 1.0) * 2)))::int ELSE -1 END AS b FROM streams) AS s JOIN calls c ON c.id = s.call_id
		WHERE c.start_ns IS NOT NULL GROUP BY h, c.sensor
		ON CONFLICT (hour_ns, sensor) DO UPDATE SET
			streams = excluded.streams, packets = excluded.packets, lost = excluded.lost, no_mos = excluded.no_mos, mos0 = excluded.mos0, mos1 = excluded.mos1, mos2 = excluded.mos2, mos3 = excluded.mos3, mos4 = excluded.mos4, mos5 = excluded.mos5, mos6 = excluded.mos6, mos7 = excluded.mos7;
	INSERT INTO stats_hosts (hour_ns, sensor, host, streams, packets, lost)
		SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS h, c.sensor, substr(rtrim(s.src, '0123456789'), 1, greatest(length(rtrim(s.src, '0123456789')) - 1, 0)) AS host, count(*), sum(s.packets), sum(s.lost)
		FROM streams s JOIN calls c ON c.id = s.call_id WHERE c.start_ns IS NOT NULL GROUP BY h, c.sensor, host;
	INSERT INTO stats_numbers (number, hour_ns, calls, answered, talk_ns)
		SELECT number, hour_ns, count(*), count(*) FILTER (WHERE status = 'answered'), sum(duration_ns) FROM (
			SELECT caller_number AS number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, 1 AS sg, status, duration_ns FROM calls WHERE start_ns IS NOT NULL
					UNION ALL SELECT callee_number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000), 1, status, duration_ns FROM calls WHERE start_ns IS NOT NULL AND callee_number <> caller_number
		) AS d WHERE number <> '' GROUP BY number, hour_ns;
END
$$;

CREATE FUNCTION spanrec_stats_talkers() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO stats_numbers AS t (number, hour_ns, calls, answered, talk_ns)
			SELECT number, hour_ns, sum(sg), coalesce(sum(sg) FILTER (WHERE status = 'answered'), 0), sum(sg * duration_ns) FROM (
				SELECT caller_number AS number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, 1 AS sg, status, duration_ns FROM new_calls WHERE start_ns IS NOT NULL
				UNION ALL SELECT callee_number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000), 1, status, duration_ns FROM new_calls WHERE start_ns IS NOT NULL AND callee_number <> caller_number
			) AS d WHERE number <> '' GROUP BY number, hour_ns
			HAVING sum(sg) <> 0 OR coalesce(sum(sg) FILTER (WHERE status = 'answered'), 0) <> 0 OR sum(sg * duration_ns) <> 0
			ORDER BY number, hour_ns
			ON CONFLICT (number, hour_ns) DO UPDATE SET calls = t.calls + excluded.calls, answered = t.answered + excluded.answered, talk_ns = t.talk_ns + excluded.talk_ns;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO stats_numbers AS t (number, hour_ns, calls, answered, talk_ns)
			SELECT number, hour_ns, sum(sg), coalesce(sum(sg) FILTER (WHERE status = 'answered'), 0), sum(sg * duration_ns) FROM (
				SELECT caller_number AS number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, -1 AS sg, status, duration_ns FROM old_calls WHERE start_ns IS NOT NULL
				UNION ALL SELECT callee_number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000), -1, status, duration_ns FROM old_calls WHERE start_ns IS NOT NULL AND callee_number <> caller_number
			) AS d WHERE number <> '' GROUP BY number, hour_ns
			HAVING sum(sg) <> 0 OR coalesce(sum(sg) FILTER (WHERE status = 'answered'), 0) <> 0 OR sum(sg * duration_ns) <> 0
			ORDER BY number, hour_ns
			ON CONFLICT (number, hour_ns) DO UPDATE SET calls = t.calls + excluded.calls, answered = t.answered + excluded.answered, talk_ns = t.talk_ns + excluded.talk_ns;
		DELETE FROM stats_numbers AS t USING (SELECT DISTINCT number, hour_ns FROM (SELECT caller_number AS number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, -1 AS sg, status, duration_ns FROM old_calls WHERE start_ns IS NOT NULL
				UNION ALL SELECT callee_number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000), -1, status, duration_ns FROM old_calls WHERE start_ns IS NOT NULL AND callee_number <> caller_number) AS d) AS k
			WHERE t.number = k.number AND t.hour_ns = k.hour_ns AND t.calls = 0;
	ELSE
		INSERT INTO stats_numbers AS t (number, hour_ns, calls, answered, talk_ns)
			SELECT number, hour_ns, sum(sg), coalesce(sum(sg) FILTER (WHERE status = 'answered'), 0), sum(sg * duration_ns) FROM (
				SELECT caller_number AS number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, -1 AS sg, status, duration_ns FROM (SELECT o.* FROM old_calls o JOIN new_calls n ON n.id = o.id WHERE (o.start_ns, o.caller_number, o.callee_number, o.status, o.duration_ns) IS DISTINCT FROM (n.start_ns, n.caller_number, n.callee_number, n.status, n.duration_ns)) AS oc WHERE start_ns IS NOT NULL
				UNION ALL SELECT callee_number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000), -1, status, duration_ns FROM (SELECT o.* FROM old_calls o JOIN new_calls n ON n.id = o.id WHERE (o.start_ns, o.caller_number, o.callee_number, o.status, o.duration_ns) IS DISTINCT FROM (n.start_ns, n.caller_number, n.callee_number, n.status, n.duration_ns)) AS oc WHERE start_ns IS NOT NULL AND callee_number <> caller_number
				UNION ALL SELECT caller_number AS number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, 1 AS sg, status, duration_ns FROM (SELECT n.* FROM old_calls o JOIN new_calls n ON n.id = o.id WHERE (o.start_ns, o.caller_number, o.callee_number, o.status, o.duration_ns) IS DISTINCT FROM (n.start_ns, n.caller_number, n.callee_number, n.status, n.duration_ns)) AS nc WHERE start_ns IS NOT NULL
				UNION ALL SELECT callee_number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000), 1, status, duration_ns FROM (SELECT n.* FROM old_calls o JOIN new_calls n ON n.id = o.id WHERE (o.start_ns, o.caller_number, o.callee_number, o.status, o.duration_ns) IS DISTINCT FROM (n.start_ns, n.caller_number, n.callee_number, n.status, n.duration_ns)) AS nc WHERE start_ns IS NOT NULL AND callee_number <> caller_number
			) AS d WHERE number <> '' GROUP BY number, hour_ns
			HAVING sum(sg) <> 0 OR coalesce(sum(sg) FILTER (WHERE status = 'answered'), 0) <> 0 OR sum(sg * duration_ns) <> 0
			ORDER BY number, hour_ns
			ON CONFLICT (number, hour_ns) DO UPDATE SET calls = t.calls + excluded.calls, answered = t.answered + excluded.answered, talk_ns = t.talk_ns + excluded.talk_ns;
		DELETE FROM stats_numbers AS t USING (SELECT DISTINCT number, hour_ns FROM (SELECT caller_number AS number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, -1 AS sg, status, duration_ns FROM old_calls WHERE start_ns IS NOT NULL
				UNION ALL SELECT callee_number, (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000), -1, status, duration_ns FROM old_calls WHERE start_ns IS NOT NULL AND callee_number <> caller_number) AS d) AS k
			WHERE t.number = k.number AND t.hour_ns = k.hour_ns AND t.calls = 0;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER calls_talkers_insert AFTER INSERT ON calls REFERENCING NEW TABLE AS new_calls
	FOR EACH STATEMENT EXECUTE FUNCTION spanrec_stats_talkers();
CREATE TRIGGER calls_talkers_delete AFTER DELETE ON calls REFERENCING OLD TABLE AS old_calls
	FOR EACH STATEMENT EXECUTE FUNCTION spanrec_stats_talkers();
CREATE TRIGGER calls_talkers_update AFTER UPDATE ON calls REFERENCING OLD TABLE AS old_calls NEW TABLE AS new_calls
	FOR EACH STATEMENT EXECUTE FUNCTION spanrec_stats_talkers();

-- A call deleted takes its sensor's call_counts row before its hour's
-- stats_hours row, as a call stored does (0009's trigger fires first
-- there), so that a deletion and a PutCall of one sensor wait for each
-- other rather than deadlock.
CREATE OR REPLACE FUNCTION spanrec_stats_call_delete() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	PERFORM 1 FROM call_counts WHERE sensor = OLD.sensor FOR UPDATE;

	IF OLD.start_ns IS NULL THEN
		RETURN OLD;
	END IF;
	INSERT INTO stats_hours AS t (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
		SELECT (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000), OLD.sensor, -1, -(OLD.status = 'answered')::int, -count(*), -coalesce(sum(packets), 0), -coalesce(sum(lost), 0),
			-count(*) FILTER (WHERE b = -1), -count(*) FILTER (WHERE b = 0), -count(*) FILTER (WHERE b = 1), -count(*) FILTER (WHERE b = 2), -count(*) FILTER (WHERE b = 3), -count(*) FILTER (WHERE b = 4), -count(*) FILTER (WHERE b = 5), -count(*) FILTER (WHERE b = 6), -count(*) FILTER (WHERE b = 7)
		FROM (SELECT packets, lost, CASE WHEN mos > 0 THEN greatest(0, least(7::float8, trunc((mos - 1.0) * 2)))::int ELSE -1 END AS b FROM streams WHERE call_id = OLD.id) AS s
		ON CONFLICT (hour_ns, sensor) DO UPDATE SET
			calls = t.calls + excluded.calls, answered = t.answered + excluded.answered, streams = t.streams + excluded.streams, packets = t.packets + excluded.packets, lost = t.lost + excluded.lost, no_mos = t.no_mos + excluded.no_mos, mos0 = t.mos0 + excluded.mos0, mos1 = t.mos1 + excluded.mos1, mos2 = t.mos2 + excluded.mos2, mos3 = t.mos3 + excluded.mos3, mos4 = t.mos4 + excluded.mos4, mos5 = t.mos5 + excluded.mos5, mos6 = t.mos6 + excluded.mos6, mos7 = t.mos7 + excluded.mos7;
	INSERT INTO stats_hosts AS t (hour_ns, sensor, host, streams, packets, lost)
		SELECT (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000), OLD.sensor, substr(rtrim(src, '0123456789'), 1, greatest(length(rtrim(src, '0123456789')) - 1, 0)) AS host, -count(*), -sum(packets), -sum(lost)
		FROM streams WHERE call_id = OLD.id GROUP BY host ORDER BY host
		ON CONFLICT (hour_ns, sensor, host) DO UPDATE SET streams = t.streams + excluded.streams, packets = t.packets + excluded.packets, lost = t.lost + excluded.lost;
	DELETE FROM stats_hours WHERE hour_ns = (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AND sensor = OLD.sensor AND calls = 0 AND streams = 0;
	DELETE FROM stats_hosts WHERE hour_ns = (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AND sensor = OLD.sensor AND streams = 0;
	RETURN OLD;
END
$$;
