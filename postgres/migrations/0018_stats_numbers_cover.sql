-- 0018: the top talkers' two reads of the per-number aggregates (0013,
-- 0015) answered from indexes alone. AtLeast reads the numbers of each
-- hour (day) with at least so many calls, Whole sums a few hundred
-- numbers' rows over the range: on 10 M calls both read the heap at a
-- random page per row (the rows of a number are written an hour apart),
-- 0.2-0.45 s for a day per hour (docs/PERFORMANCE.md, "Eleventh session:
-- 10 million calls in PostgreSQL"). With the columns they read in the
-- index, an index-only scan reads the visibility map instead (past hours'
-- rows no longer change, so autovacuum marks their pages all-visible).
-- SQLite needs no such step: its tables are WITHOUT ROWID, so an index
-- there already holds the primary key (number, hour) and the table is
-- the (number, hour) index.
DROP INDEX stats_numbers_hour;
CREATE INDEX stats_numbers_hour ON stats_numbers (hour_ns, calls) INCLUDE (number);
CREATE INDEX stats_numbers_number ON stats_numbers (number, hour_ns) INCLUDE (calls, answered, talk_ns);
DROP INDEX stats_number_days_day;
CREATE INDEX stats_number_days_day ON stats_number_days (day_ns, calls) INCLUDE (number);
CREATE INDEX stats_number_days_number ON stats_number_days (number, day_ns) INCLUDE (calls, answered, talk_ns);
