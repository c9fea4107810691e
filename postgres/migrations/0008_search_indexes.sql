-- 0008: indexes for searches that missed 200 ms on ten million
-- calls (docs/PERFORMANCE.md, "Ninth session"). No sqlite counterpart: the
-- schema's columns and the searches' results are unchanged.
--
-- Longest first (sort=-duration, ORDER BY duration_ns DESC NULLS LAST, id):
-- calls_duration, ascending, cannot give that order read backwards (its
-- ties would come by descending ID).
CREATE INDEX calls_duration_desc ON calls (duration_ns DESC NULLS LAST, id);

-- Calls with capture loss (has_loss=true), newest first: a few percent of
-- the calls, which the page would otherwise find by walking the newest
-- and the total by reading the whole table. The filter is written
-- `capture_loss` (not `= $1`) so that the planner may use this index.
CREATE INDEX calls_loss_start ON calls (start_ns DESC NULLS LAST, id) WHERE capture_loss;

-- A number that contains a text (ILIKE '%…%' on caller_number or
-- callee_number) is answered from trigram indexes (the pg_trgm extension,
-- shipped with PostgreSQL's contrib modules, "trusted" since PostgreSQL
-- 13: a role with the CREATE privilege on the database may create it).
-- The index only narrows the rows: PostgreSQL re-checks each against the
-- ILIKE itself, so the result is the same with or without it. Where the
-- extension cannot be created (no CREATE privilege, contrib not
-- installed), the migration goes on without these indexes: the search
-- still works and scans the table, Open logs a warning, and README says
-- how an administrator adds them later.
DO $$
DECLARE
	ext_schema name;
BEGIN
	BEGIN
		CREATE EXTENSION IF NOT EXISTS pg_trgm;
	EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
		RAISE WARNING 'spanrec: cannot create the extension pg_trgm (%): number searches scan the calls table', SQLERRM;
		RETURN;
	END;
	-- The extension lives in one schema of the database (the first of the
	-- search_path of whoever created it), which need not be on ours.
	SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE e.extname = 'pg_trgm';
	EXECUTE format('CREATE INDEX calls_caller_number_trgm ON calls USING gin (caller_number %I.gin_trgm_ops)', ext_schema);
	EXECUTE format('CREATE INDEX calls_callee_number_trgm ON calls USING gin (callee_number %I.gin_trgm_ops)', ext_schema);
END
$$;
