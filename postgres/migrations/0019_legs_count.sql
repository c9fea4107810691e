-- 0019 (sqlite 0026): the number of legs of each call's conversation,
-- kept in the row, so that the call list's sort by it reads an index
-- instead of counting every call's legs and sorting them all (141 s on
-- ten million calls: docs/PERFORMANCE.md, "Eleventh session: 10 million
-- calls in PostgreSQL"). legs is what the sort counted per row before:
-- the calls of the same interaction, the call itself included, or 0 for a
-- call without one (interaction ''). PutCall, DeleteCall and the
-- deletions of retention keep it exact wherever an interaction's calls
-- change (postgres/legs.go).
--
-- Added with the default 1, what most calls hold (a call of one leg), the
-- column costs no rewrite of the table (the default is kept in the
-- catalogue), and the fill writes only the calls of conversations of
-- several legs and those without an interaction, from one grouped count
-- of calls_interaction: on ten million calls of one leg each, none. New
-- rows then default to 0, as their interaction defaults to '' (PutCall
-- sets both).
ALTER TABLE calls ADD COLUMN legs integer NOT NULL DEFAULT 1;
UPDATE calls SET legs = g.n
	FROM (SELECT interaction, CASE WHEN interaction = '' THEN 0 ELSE count(*) END AS n FROM calls
		GROUP BY interaction HAVING interaction = '' OR count(*) <> 1) AS g
	WHERE calls.interaction = g.interaction;
ALTER TABLE calls ALTER COLUMN legs SET DEFAULT 0;
-- Each index is exactly an ORDER BY of postgres/call.go's orderSQL (legs
-- is never NULL, but the descending index must say NULLS LAST to be the
-- ORDER BY's), ties by ID: one per direction, as migration 0017's.
CREATE INDEX calls_legs_asc ON calls (legs, id);
CREATE INDEX calls_legs_desc ON calls (legs DESC NULLS LAST, id);
