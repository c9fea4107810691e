-- 0017 (sqlite 0025): indexes for the call list's sorts that 0012 left to
-- a sort of every call (docs/PERFORMANCE.md, "Eleventh session: every
-- sort from an index"): status code, first codec, hang-up side and
-- sensor, each way. Each index is exactly an ORDER BY of
-- postgres/call.go's orderSQL — the sort expression of sortExprs (the
-- value, NULL for "none"), calls without a value last, ties by ID — so a
-- page, and the keyset page after it, is the next rows of an index scan.
-- A key of few values (hang-up side, sensor) has ties of millions of
-- calls: an index on the key alone (0001's hangup_by_start) cannot give
-- their order by ID, so the ID is in every index. Two per key: an
-- ascending index read backwards gives NULLs first and ties by ID
-- descending, neither of which the documented order allows. The sort by
-- number of legs has no index: it is counted per row from the calls of
-- the same interaction.
CREATE INDEX calls_status_code_asc ON calls (NULLIF(status_code, 0), id);
CREATE INDEX calls_status_code_desc ON calls (NULLIF(status_code, 0) DESC NULLS LAST, id);
CREATE INDEX calls_codec_asc ON calls (((codecs ->> 0) COLLATE "C"), id);
CREATE INDEX calls_codec_desc ON calls (((codecs ->> 0) COLLATE "C") DESC NULLS LAST, id);
CREATE INDEX calls_hangup_by_asc ON calls (NULLIF(hangup_by, ''), id);
CREATE INDEX calls_hangup_by_desc ON calls (NULLIF(hangup_by, '') DESC NULLS LAST, id);
CREATE INDEX calls_sensor_asc ON calls (NULLIF(sensor, ''), id);
CREATE INDEX calls_sensor_desc ON calls (NULLIF(sensor, '') DESC NULLS LAST, id);
