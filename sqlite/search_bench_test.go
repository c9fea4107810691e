package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
)

// BenchmarkUISearch measures the web UI's searches on an index of
// $SPANREC_BENCH_CALLS generated calls (default 100 000; docs/PERFORMANCE.md
// has the figures for 1 000 000), reporting p50 and p99 in ms per query.
// The calls are inserted by SQL (indextest.BenchQueries says what they
// hold), not through PutCall, so that building a million takes seconds.
func BenchmarkUISearch(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SPANREC_BENCH_CALLS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "index.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	// Call i starts i seconds after T0, numbers cycle through 100 000
	// callers and 1 000 extensions, a fifth are inbound, two thirds
	// answered with a talk time of i mod 600 s, four sensors.
	_, err = db.w.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?)
		INSERT INTO calls (id, sip_call_id, caller_number, caller_name, caller_addr, callee_number, callee_name, callee_addr,
			direction, status, status_code, start_ns, end_ns, duration_ns, codecs, audio_ms, audio, audio_sha256,
			pcap, pcap_sha256, capture_loss, notes, interaction, sensor)
		SELECT printf('%020d', i), 'c' || i, '+4930' || printf('%06d', i % 100000), '', '192.0.2.1', '2' || printf('%03d', i % 1000), '', '192.0.2.2',
			CASE WHEN i % 5 = 0 THEN 'inbound' ELSE 'outbound' END,
			CASE WHEN i % 3 = 0 THEN 'no-answer' ELSE 'answered' END, CASE WHEN i % 3 = 0 THEN 480 ELSE 200 END,
			? + i * 1000000000, ? + i * 1000000000 + 60000000000, CASE WHEN i % 3 = 0 THEN 0 ELSE (i % 600) * 1000000000 END,
			'["PCMA"]', 0, '', '', '', '', i % 50 = 0, 'null', printf('%020d', i), 'sensor-' || (i % 4)
		FROM s`, n, indextest.T0.UnixNano(), indextest.T0.UnixNano())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	indextest.BenchQueries(b, db, n)
}

var _ spanrec.CallIndex = (*DB)(nil)
