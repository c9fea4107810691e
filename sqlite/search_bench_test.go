package sqlite

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
)

// benchIndex is the index file BenchmarkUISearch generated its calls in,
// kept for the rest of the test binary (-count repeats the queries without
// generating again) and removed by TestMain; n is how many calls it holds.
var benchIndex struct {
	dir string
	n   int
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchIndex.dir != "" {
		os.RemoveAll(benchIndex.dir)
	}
	os.Exit(code)
}

// BenchmarkUISearch measures the web UI's searches and the dashboard on an
// index of $SPANREC_BENCH_CALLS generated calls (default 100 000;
// docs/PERFORMANCE.md has the figures for 1 000 000), reporting p50 and p99
// in ms per query. The calls are inserted by SQL (indextest.BenchQueries
// says what they hold), not through PutCall: a few statements instead of
// a transaction per call (a million still takes half an hour through the
// search tables' triggers on this machine).
//
// With $SPANREC_BENCH_DB, an index file of one's own, the calls are
// generated there when the file does not exist, and kept
// (benchIndexPath): a later binary (after a migration, which Open applies
// to the kept calls as an upgrade would, timed in the log) runs the
// queries on the same calls.
func BenchmarkUISearch(b *testing.B) {
	n := indextest.BenchCalls(100_000)
	ctx := context.Background()
	path := benchIndexPath(b, n)
	start := time.Now()
	db, err := Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.Logf("%s: opened (migrations) in %.1f s", path, time.Since(start).Seconds())
	if have, err := db.Count(ctx, spanrec.CallFilter{}); err != nil || have != n {
		b.Fatalf("%s holds %d calls (%v), not SPANREC_BENCH_CALLS=%d: give a new file", path, have, err, n)
	}
	indextest.BenchQueries(b, db, n)
}

// generateCalls fills a new index at path with n calls as
// indextest.BenchQueries describes them, then runs ANALYZE.
func generateCalls(ctx context.Context, path string, n int) error {
	db, err := Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	t0 := indextest.T0.UnixNano()
	_, err = db.w.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?)
		INSERT INTO calls (id, sip_call_id, caller_number, caller_name, caller_addr, callee_number, callee_name, callee_addr,
			direction, status, status_code, start_ns, end_ns, duration_ns, codecs, audio_ms, audio, audio_sha256,
			pcap, pcap_sha256, capture_loss, notes, interaction, legs, sensor, pdd_ns, mos, caller_ua, callee_ua, hangup_by)
		SELECT printf('%020d', i), 'c' || i, '+4930' || printf('%06d', i % 100000), '', '192.0.2.1', '2' || printf('%03d', i % 1000), '', '192.0.2.2',
			CASE WHEN i % 5 = 0 THEN 'inbound' ELSE 'outbound' END,
			CASE i % 9 WHEN 0 THEN 'no-answer' WHEN 3 THEN 'busy' WHEN 6 THEN 'cancelled' ELSE 'answered' END,
			CASE i % 9 WHEN 0 THEN 480 WHEN 3 THEN 486 WHEN 6 THEN 487 ELSE 200 END,
			?2 + i * 1000000000, ?2 + i * 1000000000 + 60000000000, CASE WHEN i % 3 = 0 THEN 0 ELSE (i % 600) * 1000000000 END,
			CASE WHEN i % 3 = 0 THEN 'null' WHEN i % 5 = 0 THEN '["G722", "PCMA"]' WHEN i % 5 = 1 THEN '["PCMU"]' ELSE '["PCMA"]' END,
			0, '', '', '', '', i % 50 = 0, 'null', printf('%020d', i), 1, 'sensor-' || (i % 4),
			CASE WHEN i % 3 = 0 THEN NULL ELSE (i % 5000) * 1000000 END,
			CASE WHEN i % 3 = 0 THEN NULL ELSE 1 + (i % 350) / 100.0 END,
			'Yealink SIP-T46S 66.86.0.' || (i % 100), 'Asterisk PBX 18.' || (i % 20) || '.0',
			CASE i % 7 WHEN 0 THEN '' WHEN 4 THEN 'callee' WHEN 5 THEN 'callee' WHEN 6 THEN 'system' ELSE 'caller' END
		FROM s`, n, t0)
	if err != nil {
		return err
	}
	_, err = db.w.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?)
		INSERT INTO streams (call_id, seq, ssrc, src, dst, side, payload_type, codec, clock_rate, decoded,
			first_ns, last_ns, packets, lost, duplicates, out_of_order, jitter_ms, max_jitter_ms, max_delta_ms, mos)
		SELECT printf('%020d', i), k, 2 * i + k,
			CASE k WHEN 0 THEN '192.0.2.' || (i % 250 + 1) || ':16384' ELSE '198.51.100.' || (i % 250 + 1) || ':20000' END,
			CASE k WHEN 1 THEN '192.0.2.' || (i % 250 + 1) || ':16384' ELSE '198.51.100.' || (i % 250 + 1) || ':20000' END,
			CASE k WHEN 0 THEN 'caller' ELSE 'callee' END,
			CASE i % 5 WHEN 0 THEN 9 WHEN 1 THEN 0 ELSE 8 END, CASE i % 5 WHEN 0 THEN 'G722' WHEN 1 THEN 'PCMU' ELSE 'PCMA' END, 8000, 1,
			?2 + i * 1000000000, ?2 + i * 1000000000 + (i % 600) * 1000000000,
			(i % 600) * 50, (i % 7) * (i % 3), 0, 0, 1.5, 3, 25, 1 + (i % 350) / 100.0
		FROM s, (SELECT 0 AS k UNION ALL SELECT 1) WHERE i % 3 <> 0`, n, t0)
	if err != nil {
		return err
	}
	for _, q := range []string{
		`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 10 FROM s WHERE i + 10 < ?)
			INSERT INTO call_headers (call_id, seq, name, value)
			SELECT printf('%020d', i), 0, 'x-account', 'acct-' || (i % 1000) FROM s`,
		`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 100 FROM s WHERE i + 100 < ?)
			INSERT INTO call_tags (call_id, tag, author, at_ns)
			SELECT printf('%020d', i), 'review', 'bench', ?2 + i * 1000000000 FROM s`,
		`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 100 FROM s WHERE i + 100 < ?)
			INSERT INTO call_notes (call_id, author, at_ns, text)
			SELECT printf('%020d', i), 'bench', ?2 + i * 1000000000, 'customer asked for a callback' FROM s`,
	} {
		if _, err := db.w.ExecContext(ctx, q, n, t0); err != nil {
			return err
		}
	}
	_, err = db.w.ExecContext(ctx, `ANALYZE`)
	return err
}

var _ spanrec.CallIndex = (*DB)(nil)
