-- 0025 (postgres 0017): indexes for the call list's sorts that 0018 left
-- to a sort of every call (docs/PERFORMANCE.md, "Eleventh session: every
-- sort from an index"): status code, first codec, hang-up side and
-- sensor, each way. Each index is exactly an ORDER BY of sqlite/call.go's
-- orderSQL — the sort expression of sortExprs (the value, NULL for
-- "none"), ties by ID — so a page, and the keyset page after it, is the
-- next rows of an index walk. Ascending, SQLite reads the index past its
-- NULLs first and then the NULLs (calls without a value last);
-- descending, a DESC index has its NULLs last. A key of few values
-- (hang-up side, sensor) has ties of hundreds of thousands of calls: an
-- index on the key alone (0006's hangup_by_start) cannot give their order
-- by ID, so the ID is in every index, and two per key: the ascending one
-- read backwards gives ties by ID descending. The sort by number of legs
-- has no index: it is counted per row from the calls of the same
-- interaction.
CREATE INDEX calls_status_code_asc ON calls (NULLIF(status_code, 0), id);
CREATE INDEX calls_status_code_desc ON calls (NULLIF(status_code, 0) DESC, id);
CREATE INDEX calls_codec_asc ON calls (json_extract(codecs, '$[0]'), id);
CREATE INDEX calls_codec_desc ON calls (json_extract(codecs, '$[0]') DESC, id);
CREATE INDEX calls_hangup_by_asc ON calls (NULLIF(hangup_by, ''), id);
CREATE INDEX calls_hangup_by_desc ON calls (NULLIF(hangup_by, '') DESC, id);
CREATE INDEX calls_sensor_asc ON calls (NULLIF(sensor, ''), id);
CREATE INDEX calls_sensor_desc ON calls (NULLIF(sensor, '') DESC, id);
