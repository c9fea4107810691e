-- 0015 (sqlite 0023): the dashboard's per-hour aggregates by host and by
-- number (0011, 0013) summed again per UTC day, so that Stats reads a row
-- a day (and sensor, for hosts) for the whole days of its range instead of
-- 24 (docs/PERFORMANCE.md, "Eleventh session: dashboard per-day
-- aggregates"). A day is [d, d + 24 h) of start_ns, d a multiple of
-- 86 400 000 000 000 ns (UTC days have no DST). stats_hours (a row an hour
-- and sensor) stays the only level of its figures: it is small whatever
-- the traffic.
--
-- Each day row is the sum of its hours' rows: row-level triggers on
-- stats_hosts and stats_numbers add every change of an hour row (an
-- insert, an upsert's update, a deletion) to the row of its day at the end
-- of the statement, in the statement's order (its key order: day order
-- too). stats_host_days keeps the sensor in its key for the reason
-- stats_hosts does (two sensors' writers never wait for each other
-- there); Stats sums it over the sensors.
--
-- Locking order (see 0011): two transactions of one sensor that change
-- different hours of a day would meet on that day's host rows in two
-- statements each (a call's old streams deleted, its new ones inserted)
-- and could deadlock there. So every change of a stats_hours row also
-- takes its day and sensor's row of stats_day_turns (at the end of the
-- statement, before any stats_hosts row of that hour is changed): the
-- writers of one sensor and day take turns there, as those of one hour
-- do on stats_hours. stats_number_days needs no turn: a transaction
-- changes stats_numbers in one statement (the calls' upsert or deletion),
-- in key order, and its day rows in that order after it.
CREATE TABLE stats_host_days (
	day_ns  bigint NOT NULL,
	sensor  text   COLLATE "C" NOT NULL,
	host    text   COLLATE "C" NOT NULL,
	streams bigint NOT NULL DEFAULT 0,
	packets bigint NOT NULL DEFAULT 0,
	lost    bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (day_ns, sensor, host)
);

CREATE TABLE stats_number_days (
	number   text   COLLATE "C" NOT NULL,
	day_ns   bigint NOT NULL,
	calls    bigint NOT NULL DEFAULT 0,
	answered bigint NOT NULL DEFAULT 0,
	talk_ns  bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (number, day_ns)
);
-- The numbers of a day with at least so many calls.
CREATE INDEX stats_number_days_day ON stats_number_days (day_ns, calls);

-- spanrec_stats_days counts the day rows again from the hour rows: the
-- backfill below (an upgrade of a large index reads its aggregates, not
-- its calls), and the end of spanrec_stats_rebuild.
CREATE FUNCTION spanrec_stats_days() RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	DELETE FROM stats_host_days;
	DELETE FROM stats_number_days;
	INSERT INTO stats_host_days (day_ns, sensor, host, streams, packets, lost)
		SELECT hour_ns - ((hour_ns % 86400000000000) + 86400000000000) % 86400000000000 AS d, sensor, host, sum(streams), sum(packets), sum(lost)
		FROM stats_hosts GROUP BY d, sensor, host;
	INSERT INTO stats_number_days (number, day_ns, calls, answered, talk_ns)
		SELECT number, hour_ns - ((hour_ns % 86400000000000) + 86400000000000) % 86400000000000 AS d, sum(calls), sum(answered), sum(talk_ns)
		FROM stats_numbers GROUP BY number, d;
END
$$;
SELECT spanrec_stats_days();

-- spanrec_stats_rebuild (0011, 0013) counts the hours again from the calls
-- (spanrec_stats_hours now), then the days from the hours.
ALTER FUNCTION spanrec_stats_rebuild() RENAME TO spanrec_stats_hours;
CREATE FUNCTION spanrec_stats_rebuild() RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	PERFORM spanrec_stats_hours();
	PERFORM spanrec_stats_days();
END
$$;

-- stats_day_turns: a row a day and sensor, only locked (see above).
CREATE TABLE stats_day_turns (
	day_ns bigint NOT NULL,
	sensor text   COLLATE "C" NOT NULL,
	PRIMARY KEY (day_ns, sensor)
);
INSERT INTO stats_day_turns (day_ns, sensor)
	SELECT DISTINCT hour_ns - ((hour_ns % 86400000000000) + 86400000000000) % 86400000000000, sensor FROM stats_hours;
CREATE FUNCTION spanrec_stats_day_turn() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	INSERT INTO stats_day_turns AS t (day_ns, sensor) VALUES (NEW.hour_ns - ((NEW.hour_ns % 86400000000000) + 86400000000000) % 86400000000000, NEW.sensor)
		ON CONFLICT (day_ns, sensor) DO UPDATE SET sensor = t.sensor;
	RETURN NULL;
END
$$;
CREATE TRIGGER stats_hours_day_turn AFTER INSERT OR UPDATE ON stats_hours
	FOR EACH ROW EXECUTE FUNCTION spanrec_stats_day_turn();

CREATE FUNCTION spanrec_stats_host_days() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.hour_ns = OLD.hour_ns AND NEW.sensor = OLD.sensor AND NEW.host = OLD.host THEN
		-- An upsert's update: one change of the day row.
		INSERT INTO stats_host_days AS t (day_ns, sensor, host, streams, packets, lost)
			VALUES (NEW.hour_ns - ((NEW.hour_ns % 86400000000000) + 86400000000000) % 86400000000000, NEW.sensor, NEW.host,
				NEW.streams - OLD.streams, NEW.packets - OLD.packets, NEW.lost - OLD.lost)
			ON CONFLICT (day_ns, sensor, host) DO UPDATE SET streams = t.streams + excluded.streams, packets = t.packets + excluded.packets, lost = t.lost + excluded.lost;
		IF NEW.streams = 0 THEN
			DELETE FROM stats_host_days WHERE day_ns = NEW.hour_ns - ((NEW.hour_ns % 86400000000000) + 86400000000000) % 86400000000000
				AND sensor = NEW.sensor AND host = NEW.host AND streams = 0;
		END IF;
		RETURN NULL;
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		INSERT INTO stats_host_days AS t (day_ns, sensor, host, streams, packets, lost)
			VALUES (OLD.hour_ns - ((OLD.hour_ns % 86400000000000) + 86400000000000) % 86400000000000, OLD.sensor, OLD.host, -OLD.streams, -OLD.packets, -OLD.lost)
			ON CONFLICT (day_ns, sensor, host) DO UPDATE SET streams = t.streams + excluded.streams, packets = t.packets + excluded.packets, lost = t.lost + excluded.lost;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO stats_host_days AS t (day_ns, sensor, host, streams, packets, lost)
			VALUES (NEW.hour_ns - ((NEW.hour_ns % 86400000000000) + 86400000000000) % 86400000000000, NEW.sensor, NEW.host, NEW.streams, NEW.packets, NEW.lost)
			ON CONFLICT (day_ns, sensor, host) DO UPDATE SET streams = t.streams + excluded.streams, packets = t.packets + excluded.packets, lost = t.lost + excluded.lost;
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		DELETE FROM stats_host_days WHERE day_ns = OLD.hour_ns - ((OLD.hour_ns % 86400000000000) + 86400000000000) % 86400000000000
			AND sensor = OLD.sensor AND host = OLD.host AND streams = 0;
	END IF;
	RETURN NULL;
END
$$;
-- A row deleted at zero (as the triggers of 0011 leave them) changes no
-- day: it takes no lock either.
CREATE TRIGGER stats_hosts_days AFTER INSERT OR UPDATE ON stats_hosts
	FOR EACH ROW EXECUTE FUNCTION spanrec_stats_host_days();
CREATE TRIGGER stats_hosts_days_delete AFTER DELETE ON stats_hosts
	FOR EACH ROW WHEN (OLD.streams <> 0 OR OLD.packets <> 0 OR OLD.lost <> 0) EXECUTE FUNCTION spanrec_stats_host_days();

CREATE FUNCTION spanrec_stats_number_days() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND NEW.hour_ns = OLD.hour_ns AND NEW.number = OLD.number THEN
		-- An upsert's update: one change of the day row.
		INSERT INTO stats_number_days AS t (number, day_ns, calls, answered, talk_ns)
			VALUES (NEW.number, NEW.hour_ns - ((NEW.hour_ns % 86400000000000) + 86400000000000) % 86400000000000,
				NEW.calls - OLD.calls, NEW.answered - OLD.answered, NEW.talk_ns - OLD.talk_ns)
			ON CONFLICT (number, day_ns) DO UPDATE SET calls = t.calls + excluded.calls, answered = t.answered + excluded.answered, talk_ns = t.talk_ns + excluded.talk_ns;
		IF NEW.calls = 0 THEN
			DELETE FROM stats_number_days WHERE number = NEW.number
				AND day_ns = NEW.hour_ns - ((NEW.hour_ns % 86400000000000) + 86400000000000) % 86400000000000 AND calls = 0;
		END IF;
		RETURN NULL;
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		INSERT INTO stats_number_days AS t (number, day_ns, calls, answered, talk_ns)
			VALUES (OLD.number, OLD.hour_ns - ((OLD.hour_ns % 86400000000000) + 86400000000000) % 86400000000000, -OLD.calls, -OLD.answered, -OLD.talk_ns)
			ON CONFLICT (number, day_ns) DO UPDATE SET calls = t.calls + excluded.calls, answered = t.answered + excluded.answered, talk_ns = t.talk_ns + excluded.talk_ns;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO stats_number_days AS t (number, day_ns, calls, answered, talk_ns)
			VALUES (NEW.number, NEW.hour_ns - ((NEW.hour_ns % 86400000000000) + 86400000000000) % 86400000000000, NEW.calls, NEW.answered, NEW.talk_ns)
			ON CONFLICT (number, day_ns) DO UPDATE SET calls = t.calls + excluded.calls, answered = t.answered + excluded.answered, talk_ns = t.talk_ns + excluded.talk_ns;
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		DELETE FROM stats_number_days WHERE number = OLD.number
			AND day_ns = OLD.hour_ns - ((OLD.hour_ns % 86400000000000) + 86400000000000) % 86400000000000 AND calls = 0;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER stats_numbers_days AFTER INSERT OR UPDATE ON stats_numbers
	FOR EACH ROW EXECUTE FUNCTION spanrec_stats_number_days();
CREATE TRIGGER stats_numbers_days_delete AFTER DELETE ON stats_numbers
	FOR EACH ROW WHEN (OLD.calls <> 0 OR OLD.answered <> 0 OR OLD.talk_ns <> 0) EXECUTE FUNCTION spanrec_stats_number_days();
