package postgres

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spanrec/spanrec/indextest"
	"github.com/spanrec/spanrec/pgtest"
)

// benchSchema is the schema BenchmarkUISearch generated its calls in, kept
// for the rest of the test binary (-count repeats the queries without
// generating again); n is how many calls it holds.
var benchSchema struct {
	url string
	n   int
}

// BenchmarkUISearch measures the web UI's searches and the dashboard on
// an index of $SPANREC_BENCH_CALLS generated calls (default 100 000), the
// same calls and queries as sqlite's BenchmarkUISearch
// (indextest.BenchQueries), reporting p50 and p99 in ms per query. With
// $SPANREC_BENCH_PG the calls are generated in (or found in) that schema
// and kept (benchTarget).
func BenchmarkUISearch(b *testing.B) {
	n := indextest.BenchCalls(100_000)
	ctx := context.Background()
	if benchSchema.n != n {
		u, generate, err := benchTarget(ctx, b, n)
		if err != nil {
			b.Fatal(err)
		}
		if generate {
			if err := generateCalls(ctx, b, u, n); err != nil {
				b.Fatal(err)
			}
		}
		benchSchema.url, benchSchema.n = u, n
	}
	db, err := Open(ctx, benchSchema.url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	indextest.BenchQueries(b, db, n)
}

// benchTarget returns the URL of the schema to run the queries on and
// whether its n calls must be generated first: a new schema of the test
// binary's throwaway cluster, or the schema $SPANREC_BENCH_PG names (a
// cluster of one's own that outlives the test binary). The calls
// generated there are kept: a later run (after a migration, say, which
// Open applies to the kept calls as an upgrade would) finds the n calls
// and runs the queries without generating them again — at 10 million
// calls that takes most of an hour.
func benchTarget(ctx context.Context, b *testing.B, n int) (string, bool, error) {
	u := os.Getenv("SPANREC_BENCH_PG")
	if u == "" {
		return pgtest.NewSchema(b), true, nil
	}
	start := time.Now()
	db, err := Open(ctx, u)
	if err != nil {
		return "", false, fmt.Errorf("SPANREC_BENCH_PG: %w", err)
	}
	defer db.Close()
	b.Logf("SPANREC_BENCH_PG: opened (migrations) in %.1f s", time.Since(start).Seconds())
	var have int
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(sum(calls), 0) FROM call_counts`).Scan(&have); err != nil {
		return "", false, fmt.Errorf("SPANREC_BENCH_PG: count calls: %w", err)
	}
	switch have {
	case n:
		return u, false, nil
	case 0:
		return u, true, nil
	}
	return "", false, fmt.Errorf("SPANREC_BENCH_PG holds %d calls, not 0 or SPANREC_BENCH_CALLS=%d: give an empty schema", have, n)
}

// generateCalls fills the index at u with n calls as
// indextest.BenchQueries describes them, as a bulk load would: the
// secondary indexes dropped, the rows inserted by SQL, the indexes built
// again, then VACUUM ANALYZE (what autovacuum does to a table filled over
// time: without a visibility map no count can be index-only).
func generateCalls(ctx context.Context, b *testing.B, u string, n int) error {
	db, err := Open(ctx, u)
	if err != nil {
		return err
	}
	db.Close()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	start := time.Now()
	step := func(what string) {
		b.Logf("%s: %.1f s", what, time.Since(start).Seconds())
		start = time.Now()
	}
	rows, err := conn.Query(ctx, `SELECT i.relname, pg_get_indexdef(i.oid)
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
		WHERE t.relnamespace = current_schema()::regnamespace AND t.relname IN ('calls', 'streams')
			AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`)
	if err != nil {
		return err
	}
	type index struct{ Name, Def string }
	indexes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[index])
	if err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := conn.Exec(ctx, `DROP INDEX `+pgx.Identifier{ix.Name}.Sanitize()); err != nil {
			return err
		}
	}
	// The rows are consistent by construction: skip the foreign key
	// triggers, and those of call_counts, filled below (the pgtest role
	// is a superuser).
	for _, q := range []string{`SET session_replication_role = replica`, `SET maintenance_work_mem = '1GB'`} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return err
		}
	}
	t0 := indextest.T0.UnixNano()
	_, err = conn.Exec(ctx, `INSERT INTO calls (id, sip_call_id, caller_number, caller_name, caller_addr, callee_number, callee_name, callee_addr,
			direction, status, status_code, start_ns, end_ns, duration_ns, codecs, audio_ms, audio, audio_sha256,
			pcap, pcap_sha256, capture_loss, notes, interaction, legs, sensor, pdd_ns, mos, caller_ua, callee_ua, hangup_by)
		SELECT lpad(i::text, 20, '0'), 'c' || i, '+4930' || lpad((i % 100000)::text, 6, '0'), '', '192.0.2.1', '2' || lpad((i % 1000)::text, 3, '0'), '', '192.0.2.2',
			CASE WHEN i % 5 = 0 THEN 'inbound' ELSE 'outbound' END,
			CASE i % 9 WHEN 0 THEN 'no-answer' WHEN 3 THEN 'busy' WHEN 6 THEN 'cancelled' ELSE 'answered' END,
			CASE i % 9 WHEN 0 THEN 480 WHEN 3 THEN 486 WHEN 6 THEN 487 ELSE 200 END,
			$2::bigint + i * 1000000000, $2::bigint + i * 1000000000 + 60000000000, CASE WHEN i % 3 = 0 THEN 0 ELSE (i % 600) * 1000000000::bigint END,
			CASE WHEN i % 3 = 0 THEN NULL WHEN i % 5 = 0 THEN '["G722", "PCMA"]' WHEN i % 5 = 1 THEN '["PCMU"]' ELSE '["PCMA"]' END::jsonb,
			0, '', '', '', '', i % 50 = 0, 'null', lpad(i::text, 20, '0'), 1, 'sensor-' || (i % 4),
			CASE WHEN i % 3 = 0 THEN NULL ELSE (i % 5000) * 1000000::bigint END,
			CASE WHEN i % 3 = 0 THEN NULL ELSE 1 + (i % 350) / 100.0 END,
			'Yealink SIP-T46S 66.86.0.' || (i % 100), 'Asterisk PBX 18.' || (i % 20) || '.0',
			CASE i % 7 WHEN 0 THEN '' WHEN 4 THEN 'callee' WHEN 5 THEN 'callee' WHEN 6 THEN 'system' ELSE 'caller' END
		FROM generate_series(0, $1::bigint - 1) AS s (i)`, n, t0)
	if err != nil {
		return err
	}
	step("calls inserted")
	_, err = conn.Exec(ctx, `INSERT INTO streams (call_id, seq, ssrc, src, dst, side, payload_type, codec, clock_rate, decoded,
			first_ns, last_ns, packets, lost, duplicates, out_of_order, jitter_ms, max_jitter_ms, max_delta_ms, mos)
		SELECT lpad(i::text, 20, '0'), k, 2 * i + k,
			CASE k WHEN 0 THEN '192.0.2.' || (i % 250 + 1) || ':16384' ELSE '198.51.100.' || (i % 250 + 1) || ':20000' END,
			CASE k WHEN 1 THEN '192.0.2.' || (i % 250 + 1) || ':16384' ELSE '198.51.100.' || (i % 250 + 1) || ':20000' END,
			CASE k WHEN 0 THEN 'caller' ELSE 'callee' END,
			CASE i % 5 WHEN 0 THEN 9 WHEN 1 THEN 0 ELSE 8 END, CASE i % 5 WHEN 0 THEN 'G722' WHEN 1 THEN 'PCMU' ELSE 'PCMA' END, 8000, true,
			$2::bigint + i * 1000000000, $2::bigint + i * 1000000000 + (i % 600) * 1000000000::bigint,
			(i % 600) * 50, (i % 7) * (i % 3), 0, 0, 1.5, 3, 25, 1 + (i % 350) / 100.0
		FROM generate_series(0, $1::bigint - 1) AS s (i), (VALUES (0), (1)) AS side (k) WHERE i % 3 <> 0`, n, t0)
	if err != nil {
		return err
	}
	step("streams inserted")
	for _, q := range []string{
		`INSERT INTO call_headers (call_id, seq, name, value)
			SELECT lpad(i::text, 20, '0'), 0, 'x-account', 'acct-' || (i % 1000)
			FROM generate_series(0, $1::bigint - 1, 10) AS s (i) WHERE $2::bigint IS NOT NULL`,
		`INSERT INTO call_tags (call_id, tag, author, at_ns)
			SELECT lpad(i::text, 20, '0'), 'review', 'bench', $2::bigint + i * 1000000000
			FROM generate_series(0, $1::bigint - 1, 100) AS s (i)`,
		`INSERT INTO call_notes (call_id, author, at_ns, text)
			SELECT lpad(i::text, 20, '0'), 'bench', $2::bigint + i * 1000000000, 'customer asked for a callback'
			FROM generate_series(0, $1::bigint - 1, 100) AS s (i)`,
	} {
		if _, err := conn.Exec(ctx, q, n, t0); err != nil {
			return err
		}
	}
	step("headers, tags and notes inserted")
	// The triggers that keep call_counts and the dashboard's per-hour
	// and per-day aggregates did not fire (replica mode).
	if _, err := conn.Exec(ctx, `INSERT INTO call_counts (sensor, calls) SELECT sensor, count(*) FROM calls GROUP BY sensor`); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `SELECT spanrec_stats_rebuild()`); err != nil {
		return err
	}
	step("dashboard aggregates counted")
	for _, ix := range indexes {
		if _, err := conn.Exec(ctx, ix.Def); err != nil {
			return err
		}
	}
	step("indexes built")
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE calls, streams, call_headers, call_tags, call_notes, stats_hours, stats_hosts, stats_numbers, stats_host_days, stats_number_days`); err != nil {
		return err
	}
	step("VACUUM ANALYZE")
	return nil
}
