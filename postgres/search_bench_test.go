package postgres

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/spanrec/spanrec/indextest"
	"github.com/spanrec/spanrec/pgtest"
)

// BenchmarkUISearch measures the web UI's searches on an index of
// $SPANREC_BENCH_CALLS generated calls (default 100 000), the same calls
// and queries as sqlite's BenchmarkUISearch (indextest.BenchQueries),
// reporting p50 and p99 in ms per query.
func BenchmarkUISearch(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SPANREC_BENCH_CALLS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	db, err := Open(ctx, pgtest.NewSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	_, err = db.pool.Exec(ctx, `INSERT INTO calls (id, sip_call_id, caller_number, caller_name, caller_addr, callee_number, callee_name, callee_addr,
			direction, status, status_code, start_ns, end_ns, duration_ns, codecs, audio_ms, audio, audio_sha256,
			pcap, pcap_sha256, capture_loss, notes, interaction, sensor)
		SELECT lpad(i::text, 20, '0'), 'c' || i, '+4930' || lpad((i % 100000)::text, 6, '0'), '', '192.0.2.1', '2' || lpad((i % 1000)::text, 3, '0'), '', '192.0.2.2',
			CASE WHEN i % 5 = 0 THEN 'inbound' ELSE 'outbound' END,
			CASE WHEN i % 3 = 0 THEN 'no-answer' ELSE 'answered' END, CASE WHEN i % 3 = 0 THEN 480 ELSE 200 END,
			$2::bigint + i * 1000000000, $2::bigint + i * 1000000000 + 60000000000, CASE WHEN i % 3 = 0 THEN 0 ELSE (i % 600) * 1000000000::bigint END,
			'["PCMA"]', 0, '', '', '', '', i % 50 = 0, 'null', lpad(i::text, 20, '0'), 'sensor-' || (i % 4)
		FROM generate_series(0, $1::bigint - 1) AS s (i)`, n, indextest.T0.UnixNano())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	indextest.BenchQueries(b, db, n)
}
