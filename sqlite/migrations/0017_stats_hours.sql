-- 0017: the dashboard's aggregates per hour, so that GET /api/dashboard
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
	hour_ns  INTEGER NOT NULL,
	sensor   TEXT    NOT NULL,
	calls    INTEGER NOT NULL DEFAULT 0,
	answered INTEGER NOT NULL DEFAULT 0,
	streams  INTEGER NOT NULL DEFAULT 0,
	packets  INTEGER NOT NULL DEFAULT 0,
	lost     INTEGER NOT NULL DEFAULT 0,
	no_mos   INTEGER NOT NULL DEFAULT 0,
	mos0     INTEGER NOT NULL DEFAULT 0,
	mos1     INTEGER NOT NULL DEFAULT 0,
	mos2     INTEGER NOT NULL DEFAULT 0,
	mos3     INTEGER NOT NULL DEFAULT 0,
	mos4     INTEGER NOT NULL DEFAULT 0,
	mos5     INTEGER NOT NULL DEFAULT 0,
	mos6     INTEGER NOT NULL DEFAULT 0,
	mos7     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (hour_ns, sensor)
) STRICT, WITHOUT ROWID;

-- stats_hosts: per hour and sending host (the stream's src without its
-- port), the streams, packets received and lost.
CREATE TABLE stats_hosts (
	hour_ns INTEGER NOT NULL,
	host    TEXT    NOT NULL,
	streams INTEGER NOT NULL DEFAULT 0,
	packets INTEGER NOT NULL DEFAULT 0,
	lost    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (hour_ns, host)
) STRICT, WITHOUT ROWID;

-- The existing calls and streams.
INSERT INTO stats_hours (hour_ns, sensor, calls, answered)
	SELECT (start_ns - ((start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS h, sensor, count(*), sum(status = 'answered')
	FROM calls WHERE start_ns IS NOT NULL GROUP BY h, sensor;
INSERT INTO stats_hours (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
	SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS h, c.sensor, 0, 0, count(*), sum(s.packets), sum(s.lost), sum(b = -1), sum(b = 0), sum(b = 1), sum(b = 2), sum(b = 3), sum(b = 4), sum(b = 5), sum(b = 6), sum(b = 7)
	FROM (SELECT call_id, packets, lost, CASE WHEN mos > 0 THEN max(0, min(7, CAST((mos - 1.0) * 2 AS INTEGER))) ELSE -1 END AS b FROM streams) AS s JOIN calls c ON c.id = s.call_id
	WHERE c.start_ns IS NOT NULL GROUP BY h, c.sensor
	ON CONFLICT (hour_ns, sensor) DO UPDATE SET
		streams = excluded.streams, packets = excluded.packets, lost = excluded.lost, no_mos = excluded.no_mos, mos0 = excluded.mos0, mos1 = excluded.mos1, mos2 = excluded.mos2, mos3 = excluded.mos3, mos4 = excluded.mos4, mos5 = excluded.mos5, mos6 = excluded.mos6, mos7 = excluded.mos7;
INSERT INTO stats_hosts (hour_ns, host, streams, packets, lost)
	SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AS h, substr(rtrim(s.src, '0123456789'), 1, length(rtrim(s.src, '0123456789')) - 1) AS host, count(*), sum(s.packets), sum(s.lost)
	FROM streams s JOIN calls c ON c.id = s.call_id WHERE c.start_ns IS NOT NULL GROUP BY h, host;

-- A new call: its own counts (it has no streams yet: they reference it).
CREATE TRIGGER calls_stats_insert AFTER INSERT ON calls WHEN NEW.start_ns IS NOT NULL BEGIN
	INSERT INTO stats_hours (hour_ns, sensor, calls, answered)
		VALUES ((NEW.start_ns - ((NEW.start_ns % 3600000000000) + 3600000000000) % 3600000000000), NEW.sensor, 1, NEW.status = 'answered')
		ON CONFLICT (hour_ns, sensor) DO UPDATE SET calls = calls + excluded.calls, answered = answered + excluded.answered;
END;

-- A call deleted: its counts and its streams', read before the foreign
-- key deletes the streams (whose own trigger then finds no call and
-- leaves the aggregates alone). Rows left at zero go.
CREATE TRIGGER calls_stats_delete BEFORE DELETE ON calls WHEN OLD.start_ns IS NOT NULL BEGIN
	INSERT INTO stats_hours (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
		SELECT (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000), OLD.sensor, -1, -(OLD.status = 'answered'), -count(*), -coalesce(sum(packets), 0), -coalesce(sum(lost), 0),
			-coalesce(sum(b = -1), 0), -coalesce(sum(b = 0), 0), -coalesce(sum(b = 1), 0), -coalesce(sum(b = 2), 0), -coalesce(sum(b = 3), 0), -coalesce(sum(b = 4), 0), -coalesce(sum(b = 5), 0), -coalesce(sum(b = 6), 0), -coalesce(sum(b = 7), 0)
		FROM (SELECT packets, lost, CASE WHEN mos > 0 THEN max(0, min(7, CAST((mos - 1.0) * 2 AS INTEGER))) ELSE -1 END AS b FROM streams WHERE call_id = OLD.id) WHERE true
		ON CONFLICT (hour_ns, sensor) DO UPDATE SET
		calls = calls + excluded.calls, answered = answered + excluded.answered, streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost, no_mos = no_mos + excluded.no_mos, mos0 = mos0 + excluded.mos0, mos1 = mos1 + excluded.mos1, mos2 = mos2 + excluded.mos2, mos3 = mos3 + excluded.mos3, mos4 = mos4 + excluded.mos4, mos5 = mos5 + excluded.mos5, mos6 = mos6 + excluded.mos6, mos7 = mos7 + excluded.mos7;
	INSERT INTO stats_hosts (hour_ns, host, streams, packets, lost)
		SELECT (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000), substr(rtrim(src, '0123456789'), 1, length(rtrim(src, '0123456789')) - 1) AS host, -count(*), -sum(packets), -sum(lost)
		FROM streams WHERE call_id = OLD.id GROUP BY host
		ON CONFLICT (hour_ns, host) DO UPDATE SET streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost;
	DELETE FROM stats_hours WHERE hour_ns = (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AND sensor = OLD.sensor AND calls = 0 AND streams = 0;
	DELETE FROM stats_hosts WHERE hour_ns = (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AND streams = 0 AND host IN (SELECT substr(rtrim(src, '0123456789'), 1, length(rtrim(src, '0123456789')) - 1) FROM streams WHERE call_id = OLD.id);
END;

-- A call replaced with another start hour, sensor or status: its counts
-- and its streams' move from the old hour and sensor to the new ones.
CREATE TRIGGER calls_stats_update_old AFTER UPDATE OF start_ns, sensor, status ON calls
	WHEN OLD.start_ns IS NOT NULL AND (OLD.start_ns IS NOT NEW.start_ns OR OLD.sensor IS NOT NEW.sensor OR OLD.status IS NOT NEW.status) BEGIN
	INSERT INTO stats_hours (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
		SELECT (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000), OLD.sensor, -1, -(OLD.status = 'answered'), -count(*), -coalesce(sum(packets), 0), -coalesce(sum(lost), 0),
			-coalesce(sum(b = -1), 0), -coalesce(sum(b = 0), 0), -coalesce(sum(b = 1), 0), -coalesce(sum(b = 2), 0), -coalesce(sum(b = 3), 0), -coalesce(sum(b = 4), 0), -coalesce(sum(b = 5), 0), -coalesce(sum(b = 6), 0), -coalesce(sum(b = 7), 0)
		FROM (SELECT packets, lost, CASE WHEN mos > 0 THEN max(0, min(7, CAST((mos - 1.0) * 2 AS INTEGER))) ELSE -1 END AS b FROM streams WHERE call_id = OLD.id) WHERE true
		ON CONFLICT (hour_ns, sensor) DO UPDATE SET
		calls = calls + excluded.calls, answered = answered + excluded.answered, streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost, no_mos = no_mos + excluded.no_mos, mos0 = mos0 + excluded.mos0, mos1 = mos1 + excluded.mos1, mos2 = mos2 + excluded.mos2, mos3 = mos3 + excluded.mos3, mos4 = mos4 + excluded.mos4, mos5 = mos5 + excluded.mos5, mos6 = mos6 + excluded.mos6, mos7 = mos7 + excluded.mos7;
	INSERT INTO stats_hosts (hour_ns, host, streams, packets, lost)
		SELECT (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000), substr(rtrim(src, '0123456789'), 1, length(rtrim(src, '0123456789')) - 1) AS host, -count(*), -sum(packets), -sum(lost)
		FROM streams WHERE call_id = OLD.id AND (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000) IS NOT (NEW.start_ns - ((NEW.start_ns % 3600000000000) + 3600000000000) % 3600000000000) GROUP BY host
		ON CONFLICT (hour_ns, host) DO UPDATE SET streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost;
	DELETE FROM stats_hours WHERE hour_ns = (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AND sensor = OLD.sensor AND calls = 0 AND streams = 0;
	DELETE FROM stats_hosts WHERE hour_ns = (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000) AND streams = 0 AND host IN (SELECT substr(rtrim(src, '0123456789'), 1, length(rtrim(src, '0123456789')) - 1) FROM streams WHERE call_id = OLD.id);
END;
CREATE TRIGGER calls_stats_update_new AFTER UPDATE OF start_ns, sensor, status ON calls
	WHEN NEW.start_ns IS NOT NULL AND (OLD.start_ns IS NOT NEW.start_ns OR OLD.sensor IS NOT NEW.sensor OR OLD.status IS NOT NEW.status) BEGIN
	INSERT INTO stats_hours (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
		SELECT (NEW.start_ns - ((NEW.start_ns % 3600000000000) + 3600000000000) % 3600000000000), NEW.sensor, 1, (NEW.status = 'answered'), count(*), coalesce(sum(packets), 0), coalesce(sum(lost), 0),
			coalesce(sum(b = -1), 0), coalesce(sum(b = 0), 0), coalesce(sum(b = 1), 0), coalesce(sum(b = 2), 0), coalesce(sum(b = 3), 0), coalesce(sum(b = 4), 0), coalesce(sum(b = 5), 0), coalesce(sum(b = 6), 0), coalesce(sum(b = 7), 0)
		FROM (SELECT packets, lost, CASE WHEN mos > 0 THEN max(0, min(7, CAST((mos - 1.0) * 2 AS INTEGER))) ELSE -1 END AS b FROM streams WHERE call_id = NEW.id) WHERE true
		ON CONFLICT (hour_ns, sensor) DO UPDATE SET
		calls = calls + excluded.calls, answered = answered + excluded.answered, streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost, no_mos = no_mos + excluded.no_mos, mos0 = mos0 + excluded.mos0, mos1 = mos1 + excluded.mos1, mos2 = mos2 + excluded.mos2, mos3 = mos3 + excluded.mos3, mos4 = mos4 + excluded.mos4, mos5 = mos5 + excluded.mos5, mos6 = mos6 + excluded.mos6, mos7 = mos7 + excluded.mos7;
	INSERT INTO stats_hosts (hour_ns, host, streams, packets, lost)
		SELECT (NEW.start_ns - ((NEW.start_ns % 3600000000000) + 3600000000000) % 3600000000000), substr(rtrim(src, '0123456789'), 1, length(rtrim(src, '0123456789')) - 1) AS host, count(*), sum(packets), sum(lost)
		FROM streams WHERE call_id = NEW.id AND (NEW.start_ns - ((NEW.start_ns % 3600000000000) + 3600000000000) % 3600000000000) IS NOT (OLD.start_ns - ((OLD.start_ns % 3600000000000) + 3600000000000) % 3600000000000) GROUP BY host
		ON CONFLICT (hour_ns, host) DO UPDATE SET streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost;
END;

-- Streams counted in the hour and sensor of their call.
CREATE TRIGGER streams_stats_insert AFTER INSERT ON streams BEGIN
	INSERT INTO stats_hours (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
		SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000), c.sensor, 0, 0, 1, NEW.packets, NEW.lost, (b = -1), (b = 0), (b = 1), (b = 2), (b = 3), (b = 4), (b = 5), (b = 6), (b = 7)
		FROM calls c, (SELECT CASE WHEN NEW.mos > 0 THEN max(0, min(7, CAST((NEW.mos - 1.0) * 2 AS INTEGER))) ELSE -1 END AS b) WHERE c.id = NEW.call_id AND c.start_ns IS NOT NULL
		ON CONFLICT (hour_ns, sensor) DO UPDATE SET
		calls = calls + excluded.calls, answered = answered + excluded.answered, streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost, no_mos = no_mos + excluded.no_mos, mos0 = mos0 + excluded.mos0, mos1 = mos1 + excluded.mos1, mos2 = mos2 + excluded.mos2, mos3 = mos3 + excluded.mos3, mos4 = mos4 + excluded.mos4, mos5 = mos5 + excluded.mos5, mos6 = mos6 + excluded.mos6, mos7 = mos7 + excluded.mos7;
	INSERT INTO stats_hosts (hour_ns, host, streams, packets, lost)
		SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000), substr(rtrim(NEW.src, '0123456789'), 1, length(rtrim(NEW.src, '0123456789')) - 1), 1, NEW.packets, NEW.lost
		FROM calls c WHERE c.id = NEW.call_id AND c.start_ns IS NOT NULL
		ON CONFLICT (hour_ns, host) DO UPDATE SET streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost;
END;
CREATE TRIGGER streams_stats_delete AFTER DELETE ON streams BEGIN
	INSERT INTO stats_hours (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
		SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000), c.sensor, 0, 0, -1, -OLD.packets, -OLD.lost, -(b = -1), -(b = 0), -(b = 1), -(b = 2), -(b = 3), -(b = 4), -(b = 5), -(b = 6), -(b = 7)
		FROM calls c, (SELECT CASE WHEN OLD.mos > 0 THEN max(0, min(7, CAST((OLD.mos - 1.0) * 2 AS INTEGER))) ELSE -1 END AS b) WHERE c.id = OLD.call_id AND c.start_ns IS NOT NULL
		ON CONFLICT (hour_ns, sensor) DO UPDATE SET
		calls = calls + excluded.calls, answered = answered + excluded.answered, streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost, no_mos = no_mos + excluded.no_mos, mos0 = mos0 + excluded.mos0, mos1 = mos1 + excluded.mos1, mos2 = mos2 + excluded.mos2, mos3 = mos3 + excluded.mos3, mos4 = mos4 + excluded.mos4, mos5 = mos5 + excluded.mos5, mos6 = mos6 + excluded.mos6, mos7 = mos7 + excluded.mos7;
	INSERT INTO stats_hosts (hour_ns, host, streams, packets, lost)
		SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000), substr(rtrim(OLD.src, '0123456789'), 1, length(rtrim(OLD.src, '0123456789')) - 1), -1, -OLD.packets, -OLD.lost
		FROM calls c WHERE c.id = OLD.call_id AND c.start_ns IS NOT NULL
		ON CONFLICT (hour_ns, host) DO UPDATE SET streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost;
	DELETE FROM stats_hours WHERE calls = 0 AND streams = 0 AND (hour_ns, sensor) IN (SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000), c.sensor FROM calls c WHERE c.id = OLD.call_id);
	DELETE FROM stats_hosts WHERE streams = 0 AND (hour_ns, host) IN (SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000), substr(rtrim(OLD.src, '0123456789'), 1, length(rtrim(OLD.src, '0123456789')) - 1) FROM calls c WHERE c.id = OLD.call_id);
END;
CREATE TRIGGER streams_stats_update AFTER UPDATE OF call_id, src, packets, lost, mos ON streams BEGIN
	INSERT INTO stats_hours (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
		SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000), c.sensor, 0, 0, -1, -OLD.packets, -OLD.lost, -(b = -1), -(b = 0), -(b = 1), -(b = 2), -(b = 3), -(b = 4), -(b = 5), -(b = 6), -(b = 7)
		FROM calls c, (SELECT CASE WHEN OLD.mos > 0 THEN max(0, min(7, CAST((OLD.mos - 1.0) * 2 AS INTEGER))) ELSE -1 END AS b) WHERE c.id = OLD.call_id AND c.start_ns IS NOT NULL
		ON CONFLICT (hour_ns, sensor) DO UPDATE SET
		calls = calls + excluded.calls, answered = answered + excluded.answered, streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost, no_mos = no_mos + excluded.no_mos, mos0 = mos0 + excluded.mos0, mos1 = mos1 + excluded.mos1, mos2 = mos2 + excluded.mos2, mos3 = mos3 + excluded.mos3, mos4 = mos4 + excluded.mos4, mos5 = mos5 + excluded.mos5, mos6 = mos6 + excluded.mos6, mos7 = mos7 + excluded.mos7;
	INSERT INTO stats_hosts (hour_ns, host, streams, packets, lost)
		SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000), substr(rtrim(OLD.src, '0123456789'), 1, length(rtrim(OLD.src, '0123456789')) - 1), -1, -OLD.packets, -OLD.lost
		FROM calls c WHERE c.id = OLD.call_id AND c.start_ns IS NOT NULL
		ON CONFLICT (hour_ns, host) DO UPDATE SET streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost;
	INSERT INTO stats_hours (hour_ns, sensor, calls, answered, streams, packets, lost, no_mos, mos0, mos1, mos2, mos3, mos4, mos5, mos6, mos7)
		SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000), c.sensor, 0, 0, 1, NEW.packets, NEW.lost, (b = -1), (b = 0), (b = 1), (b = 2), (b = 3), (b = 4), (b = 5), (b = 6), (b = 7)
		FROM calls c, (SELECT CASE WHEN NEW.mos > 0 THEN max(0, min(7, CAST((NEW.mos - 1.0) * 2 AS INTEGER))) ELSE -1 END AS b) WHERE c.id = NEW.call_id AND c.start_ns IS NOT NULL
		ON CONFLICT (hour_ns, sensor) DO UPDATE SET
		calls = calls + excluded.calls, answered = answered + excluded.answered, streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost, no_mos = no_mos + excluded.no_mos, mos0 = mos0 + excluded.mos0, mos1 = mos1 + excluded.mos1, mos2 = mos2 + excluded.mos2, mos3 = mos3 + excluded.mos3, mos4 = mos4 + excluded.mos4, mos5 = mos5 + excluded.mos5, mos6 = mos6 + excluded.mos6, mos7 = mos7 + excluded.mos7;
	INSERT INTO stats_hosts (hour_ns, host, streams, packets, lost)
		SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000), substr(rtrim(NEW.src, '0123456789'), 1, length(rtrim(NEW.src, '0123456789')) - 1), 1, NEW.packets, NEW.lost
		FROM calls c WHERE c.id = NEW.call_id AND c.start_ns IS NOT NULL
		ON CONFLICT (hour_ns, host) DO UPDATE SET streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost;
	DELETE FROM stats_hours WHERE calls = 0 AND streams = 0 AND (hour_ns, sensor) IN (SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000), c.sensor FROM calls c WHERE c.id = OLD.call_id);
	DELETE FROM stats_hosts WHERE streams = 0 AND (hour_ns, host) IN (SELECT (c.start_ns - ((c.start_ns % 3600000000000) + 3600000000000) % 3600000000000), substr(rtrim(OLD.src, '0123456789'), 1, length(rtrim(OLD.src, '0123456789')) - 1) FROM calls c WHERE c.id = OLD.call_id);
END;

