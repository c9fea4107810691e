-- 0011 (sqlite 0017): the dashboard's aggregates per hour, so that Stats
-- reads a few rows an hour instead of every call and stream of its range
-- (docs/PERFORMANCE.md, "Tenth session: dashboard buckets"). An hour is
-- [h, h + 1 h) of start_ns, h a multiple of 3 600 000 000 000 ns (UTC);
-- calls without a start time are in no hour, as they are in no range.
-- Kept exact by the triggers below in the transactions that insert,
-- replace and delete calls and streams; Stats reads whole hours here and
-- the rest of its range from the calls.
--
-- stats_hours: per hour and sensor, the calls, the answered ones, and
-- their streams: how many, packets received, packets lost, and the MOS
-- histogram of spanrec.CallStats (no_mos: streams without a MOS; mosN:
-- MOS in [1 + N/2, 1.5 + N/2), the last bin up to 5).
CREATE TABLE stats_hours (
	hour_ns  bigint NOT NULL,
	sensor   text   COLLATE "C" NOT NULL,
	calls    bigint NOT NULL DEFAULT 0,
	answered bigint NOT NULL DEFAULT 0,
	streams  bigint NOT NULL DEFAULT 0,
	packets  bigint NOT NULL DEFAULT 0,
	lost     bigint NOT NULL DEFAULT 0,
	no_mos   bigint NOT NULL DEFAULT 0,
	mos0     bigint NOT NULL DEFAULT 0,
	mos1     bigint NOT NULL DEFAULT 0,
	mos2     bigint NOT NULL DEFAULT 0,
	mos3     bigint NOT NULL DEFAULT 0,
	mos4     bigint NOT NULL DEFAULT 0,
	mos5     bigint NOT NULL DEFAULT 0,
	mos6     bigint NOT NULL DEFAULT 0,
	mos7     bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (hour_ns, sensor)
);

-- stats_hosts: per hour, sensor and sending host (the stream's src
-- without its port), the streams, packets received and lost. The sensor
-- is part of the key so that two sensors' writers never wait for each
-- other here (see the locking order below).
CREATE TABLE stats_hosts (
	hour_ns bigint NOT NULL,
	sensor  text   COLLATE "C" NOT NULL,
	host    text   COLLATE "C" NOT NULL,
	streams bigint NOT NULL DEFAULT 0,
	packets bigint NOT NULL DEFAULT 0,
	lost    bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (hour_ns, sensor, host)
);

-- spanrec_stats_rebuild counts the aggregates again from the calls and
-- streams: the backfill below, and what a bulk load that bypassed the
-- triggers (session_replication_role = replica) runs afterwards.
CREATE FUNCTION spanrec_stats_rebuild() RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
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
END
$$;
SELECT spanrec_stats_rebuild();

-- Locking order: a transaction that changes the rows of an hour and
-- sensor in stats_hosts has changed (and so locked) that hour and
-- sensor's row of stats_hours before, and every statement changes each
-- table's rows in key order; a replaced call's statement locks its old
-- and new hour and sensor together. Two transactions therefore meet first on a
-- stats_hours row and wait there rather than deadlock: the writers of one
-- sensor and hour take turns (as they already do on call_counts), those
-- of different sensors never wait for each other. Rows left at zero go.

-- Calls inserted (their streams come after them: they reference them) or
-- replaced with another start hour, sensor or status (the call's counts
-- and its streams' move from the old hour and sensor to the new ones):
-- one statement's rows at a time, through its transition tables.
CREATE FUNCTION spanrec_stats_calls() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO stats_hours AS t (hour_ns, sensor, calls, answered)
			SELECT (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS h, sensor, count(*), count(*) FILTER (WHERE status = 'answered')
			FROM new_calls WHERE start_ns IS NOT NULL GROUP BY h, sensor ORDER BY h, sensor
			ON CONFLICT (hour_ns, sensor) DO UPDATE SET calls = t.calls + excluded.calls, answered = t.answered + excluded.answered;
	ELSE
		WITH ch AS (SELECT o.id, (o.start_ns - ((o.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS oh, o.sensor AS os, o.status AS ost, (n.start_ns - ((n.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS nh, n.sensor AS ns, n.status AS nst
				FROM old_calls o JOIN new_calls n ON n.id = o.id
				WHERE (o.start_ns, o.sensor, o.status) IS DISTINCT FROM (n.start_ns, n.sensor, n.status)),
			st AS (SELECT call_id, count(*) AS streams, sum(packets) AS packets, sum(lost) AS lost,
					count(*) FILTER (WHERE b = -1) AS no_mos, count(*) FILTER (WHERE b = 0) AS mos0, count(*) FILTER (WHERE b = 1) AS mos1, count(*) FILTER (WHERE b = 2) AS mos2, count(*) FILTER (WHERE b = 3) AS mos3, count(*) FILTER (WHERE b = 4) AS mos4, count(*) FILTER (WHERE b = 5) AS mos5, count(*) FILTER (WHERE b = 6) AS mos6, count(*) FILTER (WHERE b = 7) AS mos7
				FROM (SELECT call_id, packets, lost, CASE WHEN mos > 0 THEN greatest(0, least(7::float8, trunc((mos - 1.0) * 2)))::int ELSE -1 END AS b FROM streams WHERE call_id IN (SELECT id FROM ch)) AS s GROUP BY call_id),
			d AS (SELECT ch.oh AS hour_ns, ch.os AS sensor, -1 AS calls, -1 * (ch.ost = 'answered')::int AS answered,
					-1 * coalesce(st.streams, 0) AS streams, -1 * coalesce(st.packets, 0) AS packets, -1 * coalesce(st.lost, 0) AS lost, -1 * coalesce(st.no_mos, 0) AS no_mos, -1 * coalesce(st.mos0, 0) AS mos0, -1 * coalesce(st.mos1, 0) AS mos1, -1 * coalesce(st.mos2, 0) AS mos2, -1 * coalesce(st.mos3, 0) AS mos3, -1 * coalesce(st.mos4, 0) AS mos4, -1 * coalesce(st.mos5, 0) AS mos5, -1 * coalesce(st.mos6, 0) AS mos6, -1 * coalesce(st.mos7, 0) AS mos7
				FROM ch LEFT JOIN st ON st.call_id = ch.id WHERE ch.oh IS NOT NULL
				UNION ALL SELECT ch.nh AS hour_ns, ch.ns AS sensor, 1 AS calls, 1 * (ch.nst = 'answered')::int AS answered,
					1 * coalesce(st.streams, 0) AS streams, 1 * coalesce(st.packets, 0) AS packets, 1 * coalesce(st.lost, 0) AS lost, 1 * coalesce(st.no_mos, 0) AS no_mos, 1 * coalesce(st.mos0, 0) AS mos0, 1 * coalesce(st.mos1, 0) AS mos1, 1 * coalesce(st.mos2, 0) AS mos2, 1 * coalesce(st.mos3, 0) AS mos3, 1 * coalesce(st.mos4, 0) AS mos4, 1 * coalesce(st.mos5, 0) AS mos5, 1 * coalesce(st.mos6, 0) AS mos6, 1 * coalesce(st.mos7, 0) AS mos7
				FROM ch LEFT JOIN st ON st.call_id = ch.id WHERE ch.nh IS NOT NULL)
		INSERT INTO stats_hours AS t (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
			SELECT hour_ns, sensor, sum(calls), sum(answered), sum(streams), sum(packets), sum(lost), sum(no_mos), sum(mos0), sum(mos1), sum(mos2), sum(mos3), sum(mos4), sum(mos5), sum(mos6), sum(mos7) FROM d
			GROUP BY hour_ns, sensor HAVING sum(calls) <> 0 OR sum(answered) <> 0 OR sum(streams) <> 0 OR sum(packets) <> 0 OR sum(lost) <> 0 OR sum(no_mos) <> 0 OR sum(mos0) <> 0 OR sum(mos1) <> 0 OR sum(mos2) <> 0 OR sum(mos3) <> 0 OR sum(mos4) <> 0 OR sum(mos5) <> 0 OR sum(mos6) <> 0 OR sum(mos7) <> 0 ORDER BY hour_ns, sensor
			ON CONFLICT (hour_ns, sensor) DO UPDATE SET
			calls = t.calls + excluded.calls, answered = t.answered + excluded.answered, streams = t.streams + excluded.streams, packets = t.packets + excluded.packets, lost = t.lost + excluded.lost, no_mos = t.no_mos + excluded.no_mos, mos0 = t.mos0 + excluded.mos0, mos1 = t.mos1 + excluded.mos1, mos2 = t.mos2 + excluded.mos2, mos3 = t.mos3 + excluded.mos3, mos4 = t.mos4 + excluded.mos4, mos5 = t.mos5 + excluded.mos5, mos6 = t.mos6 + excluded.mos6, mos7 = t.mos7 + excluded.mos7;
		WITH ch AS (SELECT o.id, (o.start_ns - ((o.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS oh, o.sensor AS os, o.status AS ost, (n.start_ns - ((n.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS nh, n.sensor AS ns, n.status AS nst
				FROM old_calls o JOIN new_calls n ON n.id = o.id
				WHERE (o.start_ns, o.sensor, o.status) IS DISTINCT FROM (n.start_ns, n.sensor, n.status)),
			d AS (SELECT ch.oh AS hour_ns, ch.os AS sensor, substr(rtrim(s.src, '0123456789'), 1, greatest(length(rtrim(s.src, '0123456789')) - 1, 0)) AS host, -1 AS streams, -s.packets AS packets, -s.lost AS lost
				FROM ch JOIN streams s ON s.call_id = ch.id WHERE ch.oh IS NOT NULL AND (ch.oh, ch.os) IS DISTINCT FROM (ch.nh, ch.ns)
				UNION ALL SELECT ch.nh, ch.ns, substr(rtrim(s.src, '0123456789'), 1, greatest(length(rtrim(s.src, '0123456789')) - 1, 0)), 1, s.packets, s.lost
				FROM ch JOIN streams s ON s.call_id = ch.id WHERE ch.nh IS NOT NULL AND (ch.oh, ch.os) IS DISTINCT FROM (ch.nh, ch.ns))
		INSERT INTO stats_hosts AS t (hour_ns, sensor, host, streams, packets, lost)
			SELECT hour_ns, sensor, host, sum(streams), sum(packets), sum(lost) FROM d
			GROUP BY hour_ns, sensor, host HAVING sum(streams) <> 0 OR sum(packets) <> 0 OR sum(lost) <> 0 ORDER BY hour_ns, sensor, host
			ON CONFLICT (hour_ns, sensor, host) DO UPDATE SET streams = t.streams + excluded.streams, packets = t.packets + excluded.packets, lost = t.lost + excluded.lost;
		WITH ch AS (SELECT o.id, (o.start_ns - ((o.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS oh, o.sensor AS os, o.status AS ost, (n.start_ns - ((n.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS nh, n.sensor AS ns, n.status AS nst
				FROM old_calls o JOIN new_calls n ON n.id = o.id
				WHERE (o.start_ns, o.sensor, o.status) IS DISTINCT FROM (n.start_ns, n.sensor, n.status))
		DELETE FROM stats_hours AS t USING ch WHERE t.hour_ns = ch.oh AND t.sensor = ch.os AND t.calls = 0 AND t.streams = 0;
		WITH ch AS (SELECT o.id, (o.start_ns - ((o.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS oh, o.sensor AS os, o.status AS ost, (n.start_ns - ((n.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS nh, n.sensor AS ns, n.status AS nst
				FROM old_calls o JOIN new_calls n ON n.id = o.id
				WHERE (o.start_ns, o.sensor, o.status) IS DISTINCT FROM (n.start_ns, n.sensor, n.status))
		DELETE FROM stats_hosts AS t USING ch WHERE t.hour_ns = ch.oh AND t.sensor = ch.os AND t.streams = 0;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER calls_stats_insert AFTER INSERT ON calls REFERENCING NEW TABLE AS new_calls
	FOR EACH STATEMENT EXECUTE FUNCTION spanrec_stats_calls();
CREATE TRIGGER calls_stats_update AFTER UPDATE ON calls REFERENCING OLD TABLE AS old_calls NEW TABLE AS new_calls
	FOR EACH STATEMENT EXECUTE FUNCTION spanrec_stats_calls();

-- A call deleted: its counts and its streams', read before the foreign
-- key deletes the streams (whose trigger then finds no call and leaves
-- the aggregates alone). Row by row, since a statement-level trigger
-- runs after the cascade; package postgres deletes one call at a time.
CREATE FUNCTION spanrec_stats_call_delete() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
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
CREATE TRIGGER calls_stats_delete BEFORE DELETE ON calls
	FOR EACH ROW EXECUTE FUNCTION spanrec_stats_call_delete();

-- Streams counted in the hour and sensor of their call.
CREATE FUNCTION spanrec_stats_streams() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO stats_hours AS t (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
			SELECT hour_ns, sensor, sum(calls), sum(answered), sum(streams), sum(packets), sum(lost), sum(no_mos), sum(mos0), sum(mos1), sum(mos2), sum(mos3), sum(mos4), sum(mos5), sum(mos6), sum(mos7) FROM (
				SELECT hour_ns, sensor, 0 AS calls, 0 AS answered, sg AS streams, sg * packets AS packets, sg * lost AS lost,
					sg * (b = -1)::int AS no_mos, sg * (b = 0)::int AS mos0, sg * (b = 1)::int AS mos1, sg * (b = 2)::int AS mos2, sg * (b = 3)::int AS mos3, sg * (b = 4)::int AS mos4, sg * (b = 5)::int AS mos5, sg * (b = 6)::int AS mos6, sg * (b = 7)::int AS mos7
				FROM (SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, c.sensor, s.sg, s.src, s.packets, s.lost, CASE WHEN s.mos > 0 THEN greatest(0, least(7::float8, trunc((s.mos - 1.0) * 2)))::int ELSE -1 END AS b
				FROM (SELECT 1 AS sg, call_id, src, packets, lost, mos FROM new_streams) AS s JOIN calls c ON c.id = s.call_id WHERE c.start_ns IS NOT NULL) AS d
			) AS d GROUP BY hour_ns, sensor ORDER BY hour_ns, sensor
			ON CONFLICT (hour_ns, sensor) DO UPDATE SET
			calls = t.calls + excluded.calls, answered = t.answered + excluded.answered, streams = t.streams + excluded.streams, packets = t.packets + excluded.packets, lost = t.lost + excluded.lost, no_mos = t.no_mos + excluded.no_mos, mos0 = t.mos0 + excluded.mos0, mos1 = t.mos1 + excluded.mos1, mos2 = t.mos2 + excluded.mos2, mos3 = t.mos3 + excluded.mos3, mos4 = t.mos4 + excluded.mos4, mos5 = t.mos5 + excluded.mos5, mos6 = t.mos6 + excluded.mos6, mos7 = t.mos7 + excluded.mos7;
		INSERT INTO stats_hosts AS t (hour_ns, sensor, host, streams, packets, lost)
			SELECT hour_ns, sensor, substr(rtrim(src, '0123456789'), 1, greatest(length(rtrim(src, '0123456789')) - 1, 0)) AS host, sum(sg), sum(sg * packets), sum(sg * lost)
			FROM (SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, c.sensor, s.sg, s.src, s.packets, s.lost, CASE WHEN s.mos > 0 THEN greatest(0, least(7::float8, trunc((s.mos - 1.0) * 2)))::int ELSE -1 END AS b
				FROM (SELECT 1 AS sg, call_id, src, packets, lost, mos FROM new_streams) AS s JOIN calls c ON c.id = s.call_id WHERE c.start_ns IS NOT NULL) AS d
			GROUP BY hour_ns, sensor, host HAVING sum(sg) <> 0 OR sum(sg * packets) <> 0 OR sum(sg * lost) <> 0 ORDER BY hour_ns, sensor, host
			ON CONFLICT (hour_ns, sensor, host) DO UPDATE SET streams = t.streams + excluded.streams, packets = t.packets + excluded.packets, lost = t.lost + excluded.lost;
	ELSIF TG_OP = 'DELETE' THEN
		INSERT INTO stats_hours AS t (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
			SELECT hour_ns, sensor, sum(calls), sum(answered), sum(streams), sum(packets), sum(lost), sum(no_mos), sum(mos0), sum(mos1), sum(mos2), sum(mos3), sum(mos4), sum(mos5), sum(mos6), sum(mos7) FROM (
				SELECT hour_ns, sensor, 0 AS calls, 0 AS answered, sg AS streams, sg * packets AS packets, sg * lost AS lost,
					sg * (b = -1)::int AS no_mos, sg * (b = 0)::int AS mos0, sg * (b = 1)::int AS mos1, sg * (b = 2)::int AS mos2, sg * (b = 3)::int AS mos3, sg * (b = 4)::int AS mos4, sg * (b = 5)::int AS mos5, sg * (b = 6)::int AS mos6, sg * (b = 7)::int AS mos7
				FROM (SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, c.sensor, s.sg, s.src, s.packets, s.lost, CASE WHEN s.mos > 0 THEN greatest(0, least(7::float8, trunc((s.mos - 1.0) * 2)))::int ELSE -1 END AS b
				FROM (SELECT -1 AS sg, call_id, src, packets, lost, mos FROM old_streams) AS s JOIN calls c ON c.id = s.call_id WHERE c.start_ns IS NOT NULL) AS d
			) AS d GROUP BY hour_ns, sensor ORDER BY hour_ns, sensor
			ON CONFLICT (hour_ns, sensor) DO UPDATE SET
			calls = t.calls + excluded.calls, answered = t.answered + excluded.answered, streams = t.streams + excluded.streams, packets = t.packets + excluded.packets, lost = t.lost + excluded.lost, no_mos = t.no_mos + excluded.no_mos, mos0 = t.mos0 + excluded.mos0, mos1 = t.mos1 + excluded.mos1, mos2 = t.mos2 + excluded.mos2, mos3 = t.mos3 + excluded.mos3, mos4 = t.mos4 + excluded.mos4, mos5 = t.mos5 + excluded.mos5, mos6 = t.mos6 + excluded.mos6, mos7 = t.mos7 + excluded.mos7;
		INSERT INTO stats_hosts AS t (hour_ns, sensor, host, streams, packets, lost)
			SELECT hour_ns, sensor, substr(rtrim(src, '0123456789'), 1, greatest(length(rtrim(src, '0123456789')) - 1, 0)) AS host, sum(sg), sum(sg * packets), sum(sg * lost)
			FROM (SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, c.sensor, s.sg, s.src, s.packets, s.lost, CASE WHEN s.mos > 0 THEN greatest(0, least(7::float8, trunc((s.mos - 1.0) * 2)))::int ELSE -1 END AS b
				FROM (SELECT -1 AS sg, call_id, src, packets, lost, mos FROM old_streams) AS s JOIN calls c ON c.id = s.call_id WHERE c.start_ns IS NOT NULL) AS d
			GROUP BY hour_ns, sensor, host HAVING sum(sg) <> 0 OR sum(sg * packets) <> 0 OR sum(sg * lost) <> 0 ORDER BY hour_ns, sensor, host
			ON CONFLICT (hour_ns, sensor, host) DO UPDATE SET streams = t.streams + excluded.streams, packets = t.packets + excluded.packets, lost = t.lost + excluded.lost;
		DELETE FROM stats_hours AS t USING (SELECT DISTINCT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, c.sensor FROM (SELECT -1 AS sg, call_id, src, packets, lost, mos FROM old_streams) AS s JOIN calls c ON c.id = s.call_id) AS k
			WHERE t.hour_ns = k.hour_ns AND t.sensor = k.sensor AND t.calls = 0 AND t.streams = 0;
		DELETE FROM stats_hosts AS t USING (SELECT DISTINCT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, c.sensor, substr(rtrim(s.src, '0123456789'), 1, greatest(length(rtrim(s.src, '0123456789')) - 1, 0)) AS host FROM (SELECT -1 AS sg, call_id, src, packets, lost, mos FROM old_streams) AS s JOIN calls c ON c.id = s.call_id) AS k
			WHERE t.hour_ns = k.hour_ns AND t.sensor = k.sensor AND t.host = k.host AND t.streams = 0;
	ELSE
		INSERT INTO stats_hours AS t (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
			SELECT hour_ns, sensor, sum(calls), sum(answered), sum(streams), sum(packets), sum(lost), sum(no_mos), sum(mos0), sum(mos1), sum(mos2), sum(mos3), sum(mos4), sum(mos5), sum(mos6), sum(mos7) FROM (
				SELECT hour_ns, sensor, 0 AS calls, 0 AS answered, sg AS streams, sg * packets AS packets, sg * lost AS lost,
					sg * (b = -1)::int AS no_mos, sg * (b = 0)::int AS mos0, sg * (b = 1)::int AS mos1, sg * (b = 2)::int AS mos2, sg * (b = 3)::int AS mos3, sg * (b = 4)::int AS mos4, sg * (b = 5)::int AS mos5, sg * (b = 6)::int AS mos6, sg * (b = 7)::int AS mos7
				FROM (SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, c.sensor, s.sg, s.src, s.packets, s.lost, CASE WHEN s.mos > 0 THEN greatest(0, least(7::float8, trunc((s.mos - 1.0) * 2)))::int ELSE -1 END AS b
				FROM (SELECT -1 AS sg, call_id, src, packets, lost, mos FROM old_streams UNION ALL SELECT 1 AS sg, call_id, src, packets, lost, mos FROM new_streams) AS s JOIN calls c ON c.id = s.call_id WHERE c.start_ns IS NOT NULL) AS d
			) AS d GROUP BY hour_ns, sensor ORDER BY hour_ns, sensor
			ON CONFLICT (hour_ns, sensor) DO UPDATE SET
			calls = t.calls + excluded.calls, answered = t.answered + excluded.answered, streams = t.streams + excluded.streams, packets = t.packets + excluded.packets, lost = t.lost + excluded.lost, no_mos = t.no_mos + excluded.no_mos, mos0 = t.mos0 + excluded.mos0, mos1 = t.mos1 + excluded.mos1, mos2 = t.mos2 + excluded.mos2, mos3 = t.mos3 + excluded.mos3, mos4 = t.mos4 + excluded.mos4, mos5 = t.mos5 + excluded.mos5, mos6 = t.mos6 + excluded.mos6, mos7 = t.mos7 + excluded.mos7;
		INSERT INTO stats_hosts AS t (hour_ns, sensor, host, streams, packets, lost)
			SELECT hour_ns, sensor, substr(rtrim(src, '0123456789'), 1, greatest(length(rtrim(src, '0123456789')) - 1, 0)) AS host, sum(sg), sum(sg * packets), sum(sg * lost)
			FROM (SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, c.sensor, s.sg, s.src, s.packets, s.lost, CASE WHEN s.mos > 0 THEN greatest(0, least(7::float8, trunc((s.mos - 1.0) * 2)))::int ELSE -1 END AS b
				FROM (SELECT -1 AS sg, call_id, src, packets, lost, mos FROM old_streams UNION ALL SELECT 1 AS sg, call_id, src, packets, lost, mos FROM new_streams) AS s JOIN calls c ON c.id = s.call_id WHERE c.start_ns IS NOT NULL) AS d
			GROUP BY hour_ns, sensor, host HAVING sum(sg) <> 0 OR sum(sg * packets) <> 0 OR sum(sg * lost) <> 0 ORDER BY hour_ns, sensor, host
			ON CONFLICT (hour_ns, sensor, host) DO UPDATE SET streams = t.streams + excluded.streams, packets = t.packets + excluded.packets, lost = t.lost + excluded.lost;
		DELETE FROM stats_hours AS t USING (SELECT DISTINCT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, c.sensor FROM (SELECT -1 AS sg, call_id, src, packets, lost, mos FROM old_streams) AS s JOIN calls c ON c.id = s.call_id) AS k
			WHERE t.hour_ns = k.hour_ns AND t.sensor = k.sensor AND t.calls = 0 AND t.streams = 0;
		DELETE FROM stats_hosts AS t USING (SELECT DISTINCT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS hour_ns, c.sensor, substr(rtrim(s.src, '0123456789'), 1, greatest(length(rtrim(s.src, '0123456789')) - 1, 0)) AS host FROM (SELECT -1 AS sg, call_id, src, packets, lost, mos FROM old_streams) AS s JOIN calls c ON c.id = s.call_id) AS k
			WHERE t.hour_ns = k.hour_ns AND t.sensor = k.sensor AND t.host = k.host AND t.streams = 0;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER streams_stats_insert AFTER INSERT ON streams REFERENCING NEW TABLE AS new_streams
	FOR EACH STATEMENT EXECUTE FUNCTION spanrec_stats_streams();
CREATE TRIGGER streams_stats_delete AFTER DELETE ON streams REFERENCING OLD TABLE AS old_streams
	FOR EACH STATEMENT EXECUTE FUNCTION spanrec_stats_streams();
CREATE TRIGGER streams_stats_update AFTER UPDATE ON streams REFERENCING OLD TABLE AS old_streams NEW TABLE AS new_streams
	FOR EACH STATEMENT EXECUTE FUNCTION spanrec_stats_streams();
