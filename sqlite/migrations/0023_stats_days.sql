-- 0023: the dashboard's per-hour aggregates by host and by number (0017,
-- 0020) summed again per UTC day, so that Stats reads a row a day for the
-- whole days of its range instead of 24 (docs/PERFORMANCE.md, "Eleventh
-- session: dashboard per-day aggregates"). A day is [d, d + 24 h) of
-- start_ns, d a multiple of 86 400 000 000 000 ns (UTC days have no DST).
-- stats_hours (a row an hour and sensor) stays the only level of its
-- figures: it is small whatever the traffic.
--
-- Each day row is the sum of its hours' rows: the triggers below add every
-- change of stats_hosts and stats_numbers (an insert, an upsert's update, a
-- deletion) to the row of its day, in the same statement.
CREATE TABLE stats_host_days (
	day_ns  INTEGER NOT NULL,
	host    TEXT    NOT NULL,
	streams INTEGER NOT NULL DEFAULT 0,
	packets INTEGER NOT NULL DEFAULT 0,
	lost    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (day_ns, host)
) STRICT, WITHOUT ROWID;

CREATE TABLE stats_number_days (
	number   TEXT    NOT NULL,
	day_ns   INTEGER NOT NULL,
	calls    INTEGER NOT NULL DEFAULT 0,
	answered INTEGER NOT NULL DEFAULT 0,
	talk_ns  INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (number, day_ns)
) STRICT, WITHOUT ROWID;
-- The numbers of a day with at least so many calls.
CREATE INDEX stats_number_days_day ON stats_number_days (day_ns, calls);

-- The existing hours (not the calls: an upgrade of a large index reads its
-- aggregates only).
INSERT INTO stats_host_days (day_ns, host, streams, packets, lost)
	SELECT hour_ns - ((hour_ns % 86400000000000) + 86400000000000) % 86400000000000 AS d, host, sum(streams), sum(packets), sum(lost)
	FROM stats_hosts GROUP BY d, host;
INSERT INTO stats_number_days (number, day_ns, calls, answered, talk_ns)
	SELECT number, hour_ns - ((hour_ns % 86400000000000) + 86400000000000) % 86400000000000 AS d, sum(calls), sum(answered), sum(talk_ns)
	FROM stats_numbers GROUP BY number, d;

CREATE TRIGGER stats_hosts_days_insert AFTER INSERT ON stats_hosts BEGIN
	INSERT INTO stats_host_days (day_ns, host, streams, packets, lost)
		VALUES (NEW.hour_ns - ((NEW.hour_ns % 86400000000000) + 86400000000000) % 86400000000000, NEW.host, NEW.streams, NEW.packets, NEW.lost)
		ON CONFLICT (day_ns, host) DO UPDATE SET streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost;
END;
CREATE TRIGGER stats_hosts_days_update AFTER UPDATE ON stats_hosts BEGIN
	INSERT INTO stats_host_days (day_ns, host, streams, packets, lost)
		SELECT OLD.hour_ns - ((OLD.hour_ns % 86400000000000) + 86400000000000) % 86400000000000, OLD.host, -OLD.streams, -OLD.packets, -OLD.lost
		WHERE OLD.hour_ns IS NOT NEW.hour_ns OR OLD.host IS NOT NEW.host
		ON CONFLICT (day_ns, host) DO UPDATE SET streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost;
	INSERT INTO stats_host_days (day_ns, host, streams, packets, lost)
		SELECT NEW.hour_ns - ((NEW.hour_ns % 86400000000000) + 86400000000000) % 86400000000000, NEW.host,
			NEW.streams - iif(same, OLD.streams, 0), NEW.packets - iif(same, OLD.packets, 0), NEW.lost - iif(same, OLD.lost, 0)
		FROM (SELECT OLD.hour_ns IS NEW.hour_ns AND OLD.host IS NEW.host AS same) WHERE true
		ON CONFLICT (day_ns, host) DO UPDATE SET streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost;
	DELETE FROM stats_host_days WHERE day_ns = OLD.hour_ns - ((OLD.hour_ns % 86400000000000) + 86400000000000) % 86400000000000 AND host = OLD.host AND streams = 0;
END;
CREATE TRIGGER stats_hosts_days_delete AFTER DELETE ON stats_hosts BEGIN
	INSERT INTO stats_host_days (day_ns, host, streams, packets, lost)
		VALUES (OLD.hour_ns - ((OLD.hour_ns % 86400000000000) + 86400000000000) % 86400000000000, OLD.host, -OLD.streams, -OLD.packets, -OLD.lost)
		ON CONFLICT (day_ns, host) DO UPDATE SET streams = streams + excluded.streams, packets = packets + excluded.packets, lost = lost + excluded.lost;
	DELETE FROM stats_host_days WHERE day_ns = OLD.hour_ns - ((OLD.hour_ns % 86400000000000) + 86400000000000) % 86400000000000 AND host = OLD.host AND streams = 0;
END;

CREATE TRIGGER stats_numbers_days_insert AFTER INSERT ON stats_numbers BEGIN
	INSERT INTO stats_number_days (number, day_ns, calls, answered, talk_ns)
		VALUES (NEW.number, NEW.hour_ns - ((NEW.hour_ns % 86400000000000) + 86400000000000) % 86400000000000, NEW.calls, NEW.answered, NEW.talk_ns)
		ON CONFLICT (number, day_ns) DO UPDATE SET calls = calls + excluded.calls, answered = answered + excluded.answered, talk_ns = talk_ns + excluded.talk_ns;
END;
CREATE TRIGGER stats_numbers_days_update AFTER UPDATE ON stats_numbers BEGIN
	INSERT INTO stats_number_days (number, day_ns, calls, answered, talk_ns)
		SELECT OLD.number, OLD.hour_ns - ((OLD.hour_ns % 86400000000000) + 86400000000000) % 86400000000000, -OLD.calls, -OLD.answered, -OLD.talk_ns
		WHERE OLD.hour_ns IS NOT NEW.hour_ns OR OLD.number IS NOT NEW.number
		ON CONFLICT (number, day_ns) DO UPDATE SET calls = calls + excluded.calls, answered = answered + excluded.answered, talk_ns = talk_ns + excluded.talk_ns;
	INSERT INTO stats_number_days (number, day_ns, calls, answered, talk_ns)
		SELECT NEW.number, NEW.hour_ns - ((NEW.hour_ns % 86400000000000) + 86400000000000) % 86400000000000,
			NEW.calls - iif(same, OLD.calls, 0), NEW.answered - iif(same, OLD.answered, 0), NEW.talk_ns - iif(same, OLD.talk_ns, 0)
		FROM (SELECT OLD.hour_ns IS NEW.hour_ns AND OLD.number IS NEW.number AS same) WHERE true
		ON CONFLICT (number, day_ns) DO UPDATE SET calls = calls + excluded.calls, answered = answered + excluded.answered, talk_ns = talk_ns + excluded.talk_ns;
	DELETE FROM stats_number_days WHERE number = OLD.number AND day_ns = OLD.hour_ns - ((OLD.hour_ns % 86400000000000) + 86400000000000) % 86400000000000 AND calls = 0;
END;
CREATE TRIGGER stats_numbers_days_delete AFTER DELETE ON stats_numbers BEGIN
	INSERT INTO stats_number_days (number, day_ns, calls, answered, talk_ns)
		VALUES (OLD.number, OLD.hour_ns - ((OLD.hour_ns % 86400000000000) + 86400000000000) % 86400000000000, -OLD.calls, -OLD.answered, -OLD.talk_ns)
		ON CONFLICT (number, day_ns) DO UPDATE SET calls = calls + excluded.calls, answered = answered + excluded.answered, talk_ns = talk_ns + excluded.talk_ns;
	DELETE FROM stats_number_days WHERE number = OLD.number AND day_ns = OLD.hour_ns - ((OLD.hour_ns % 86400000000000) + 86400000000000) % 86400000000000 AND calls = 0;
END;
