-- 0016 (sqlite 0024): indexes for the call list's filters that read every
-- call when the value they look for is rare or absent (docs/PERFORMANCE.md,
-- "Eleventh session: every search filter"). The searches' answers are
-- unchanged: each index only narrows the rows the filter then tests.
--
-- The final SIP code (status_code=503): with the start time, so that a
-- page of one code is a walk of its entries.
CREATE INDEX calls_status_code_start ON calls (status_code, start_ns);

-- A codec, ignoring ASCII case (codec=g729): the call's codec list with
-- its ASCII letters in lower case (the JSON text of a list of strings
-- lowered is the list of the lowered strings: jsonb writes only control
-- characters as escapes), which the filter tests for containment of the
-- lowered codec before the exact test of each element.
CREATE INDEX calls_codecs_lower ON calls USING gin ((lower(codecs::text COLLATE "C")::jsonb) jsonb_path_ops);

-- Texts that contain a text, ignoring case (ILIKE '%…%'): user agents of
-- either side, notes, and header values with * (ILIKE with % for *), from
-- trigram indexes as the numbers of 0008, with the same fallback: where
-- the extension pg_trgm cannot be created these indexes are left out, the
-- searches scan and find the same calls, and Open logs a warning.
DO $$
DECLARE
	ext_schema name;
BEGIN
	BEGIN
		CREATE EXTENSION IF NOT EXISTS pg_trgm;
	EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
		RAISE WARNING 'spanrec: cannot create the extension pg_trgm (%): user agent, note and header searches scan', SQLERRM;
		RETURN;
	END;
	SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		WHERE e.extname = 'pg_trgm';
	EXECUTE format('CREATE INDEX calls_caller_ua_trgm ON calls USING gin (caller_ua %I.gin_trgm_ops)', ext_schema);
	EXECUTE format('CREATE INDEX calls_callee_ua_trgm ON calls USING gin (callee_ua %I.gin_trgm_ops)', ext_schema);
	EXECUTE format('CREATE INDEX call_notes_text_trgm ON call_notes USING gin (text %I.gin_trgm_ops)', ext_schema);
	EXECUTE format('CREATE INDEX call_headers_value_trgm ON call_headers USING gin (value %I.gin_trgm_ops)', ext_schema);
END
$$;

-- The planner estimates a codec's share of the calls from statistics of
-- calls_codecs_lower's expression, which only ANALYZE gathers: without
-- them it takes any codec for a rare one. A table that has statistics (an
-- index being upgraded) gets them now; a new one from autovacuum as it
-- fills (analyzed empty, a table of a few rows would be planned as one
-- that stays that small).
DO $$
BEGIN
	IF (SELECT reltuples FROM pg_class WHERE oid = 'calls'::regclass) > 0 THEN
		ANALYZE calls;
	END IF;
END
$$;
