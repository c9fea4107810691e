-- 0018 (postgres 0012): indexes for the call list's sorts by direction and
-- by status, which missed 200 ms on a million calls (docs/PERFORMANCE.md,
-- "Tenth session"): columns of a few values whose ties (hundreds of
-- thousands of calls each) are broken by ID, which calls_direction_start
-- and calls_status_start cannot give, so SQLite sorted each group in a
-- temporary B-tree. Each index is exactly the ORDER BY of sqlite/call.go's
-- orderSQL (SQLite's NULLs sort first, so DESC is NULLS LAST), so a page is
-- the first rows of an index walk. PostgreSQL's migration also indexes the
-- descending PDD, ring time and MOS; SQLite walks their ascending indexes
-- backwards, sorting only the ties of each value, as it does for the
-- longest calls first.
CREATE INDEX calls_direction_id ON calls (direction, id);
CREATE INDEX calls_direction_desc ON calls (direction DESC, id);
CREATE INDEX calls_status_id ON calls (status, id);
CREATE INDEX calls_status_desc ON calls (status DESC, id);
