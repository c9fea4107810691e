-- 0026 (postgres 0019): the number of legs of each call's conversation,
-- kept in the row, so that the call list's sort by it reads an index
-- instead of counting every call's legs and sorting them all
-- (docs/PERFORMANCE.md, "Twelfth session: the sort by number of legs").
-- legs is what the sort counted per row before: the calls of the same
-- interaction, the call itself included, or 0 for a call without one
-- (interaction ''). PutCall, DeleteCall and the deletions of retention
-- keep it exact wherever an interaction's calls change (sqlite/legs.go).
--
-- The column's default, 1, is what most calls hold (a call of one leg,
-- its interaction its own ID) and costs no rewrite of the table: the
-- fill then writes only the calls of conversations of several legs and
-- those without an interaction, from one grouped count of
-- calls_interaction.
ALTER TABLE calls ADD COLUMN legs INTEGER NOT NULL DEFAULT 1;
UPDATE calls SET legs = g.n
	FROM (SELECT interaction, count(*) AS n FROM calls WHERE interaction <> ''
		GROUP BY interaction HAVING count(*) <> 1) AS g
	WHERE calls.interaction = g.interaction;
UPDATE calls SET legs = 0 WHERE interaction = '';
-- Each index is exactly an ORDER BY of sqlite/call.go's orderSQL (legs is
-- never NULL), ties by ID: one per direction, as migration 0025's.
CREATE INDEX calls_legs_asc ON calls (legs, id);
CREATE INDEX calls_legs_desc ON calls (legs DESC, id);
