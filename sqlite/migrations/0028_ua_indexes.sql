-- 0028: the user agents of either side, for searches of a user agent
-- (docs/PERFORMANCE.md, "Thirteenth session: SQLite ua-rare"). A rare
-- version of a common user agent shares nearly all its trigrams with
-- every call: counting its candidates in calls_ua (0024) read every row,
-- and its capped total then walked the calls testing both agents (200,000
-- calls for a count of 10,001 at 5 %). Calls have few distinct user
-- agents (phones and PBXs of a few models and firmware versions): a
-- search now reads them from these indexes (a seek per distinct value),
-- tests each with the LIKE, and reads the calls of those that hold the
-- text from the same indexes (sqlite/search.go, uaValues). The start
-- time orders a user agent's calls, so a search bounded in time reads a
-- range of each. Nothing else reads them: no other condition names these
-- columns.
CREATE INDEX calls_caller_ua ON calls (caller_ua, start_ns);
CREATE INDEX calls_callee_ua ON calls (callee_ua, start_ns);
