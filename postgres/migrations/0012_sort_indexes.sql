-- 0012 (sqlite 0018 adds the direction and status ones): indexes for the
-- call list's sorts that missed 200 ms on ten million calls
-- (docs/PERFORMANCE.md, "Tenth session"): the low-cardinality columns direction and status, whose ties (millions of
-- calls each) are broken by ID, and the descending sorts of the nullable
-- numbers PDD, ring time and MOS, whose calls without a value come last
-- (DESC NULLS LAST, which the ascending indexes of 0001 cannot give). Each
-- index is exactly the ORDER BY of postgres/call.go's orderSQL, so a page
-- is the first rows of an index scan instead of a sort of the table.
-- The other sorts that still sort (status code, codec, legs, hang-up side,
-- sensor) are rarer and would need two indexes each; every index costs
-- every insert.
CREATE INDEX calls_direction_id ON calls (direction, id);
CREATE INDEX calls_direction_desc ON calls (direction DESC NULLS LAST, id);
CREATE INDEX calls_status_id ON calls (status, id);
CREATE INDEX calls_status_desc ON calls (status DESC NULLS LAST, id);
CREATE INDEX calls_pdd_desc ON calls (pdd_ns DESC NULLS LAST, id);
CREATE INDEX calls_ring_desc ON calls (ring_ns DESC NULLS LAST, id);
CREATE INDEX calls_mos_desc ON calls (mos DESC NULLS LAST, id);
