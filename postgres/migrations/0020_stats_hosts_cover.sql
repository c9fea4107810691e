-- 0020: the dashboard's loss by host answered from indexes alone, as 0018
-- did for the top talkers. Stats sums the rows of stats_hosts (a row an
-- hour, sensor and sending host) for the hours at each end of its range
-- and those of stats_host_days for the whole days between: on 10 M calls
-- (1,000 hosts an hour) a week's or a month's range read some 53,000 rows
-- through the primary keys, each at a heap page of its own, 80-95 ms of
-- the 30 days' 210-236 ms; the end hours' 17,000 rows alone took 34 ms,
-- 5 ms as an index-only scan (docs/PERFORMANCE.md, "Fourteenth session").
-- With the columns it reads in the index, an index-only scan reads the
-- visibility map instead (past hours' rows no longer change, so
-- autovacuum marks their pages all-visible). The primary keys stay: the
-- triggers' upserts need them. SQLite needs no such step: its aggregate
-- tables are WITHOUT ROWID, stored in their key's order.
-- The cost, as 0018's: the triggers' updates of the current hour's and
-- day's counters change indexed columns, so they are no longer HOT
-- updates (each writes an entry in both indexes). Four sensors putting
-- 40 calls/s saw a put p99 of 80 ms (74 ms in the thirteenth session's
-- run, before it).
CREATE INDEX stats_hosts_cover ON stats_hosts (hour_ns) INCLUDE (host, streams, packets, lost);
CREATE INDEX stats_host_days_cover ON stats_host_days (day_ns) INCLUDE (host, streams, packets, lost);
