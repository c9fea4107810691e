package indextest

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
)

// Searcher is what BenchQueries runs: a call index's search and count.
type Searcher interface {
	Calls(ctx context.Context, f spanrec.CallFilter) ([]*spanrec.Call, error)
	Count(ctx context.Context, f spanrec.CallFilter) (int, error)
}

// BenchQueries runs the web UI's searches — a page of 50 calls with the
// total, as GET /api/calls answers — on db, which holds n generated calls
// (call i starts i s after T0; its caller is +4930 and i mod 100 000 in
// six digits, its callee 2 and i mod 1000 in three; every fifth inbound;
// a third unanswered; talk time i mod 600 s; sensor-(i mod 4)), and
// reports each one's p50 and p99 latency in ms over $SPANREC_BENCH_RUNS
// runs (default 20; with fewer than 100, p99 is the slowest run).
func BenchQueries(b *testing.B, db Searcher, n int) {
	ctx := context.Background()
	runs := 20
	if v, err := strconv.Atoi(os.Getenv("SPANREC_BENCH_RUNS")); err == nil && v > 0 {
		runs = v
	}
	mid := T0.Add(time.Duration(n/2) * time.Second)
	for _, q := range []struct {
		name string
		f    spanrec.CallFilter
	}{
		{"newest", spanrec.CallFilter{}},
		{"page100", spanrec.CallFilter{Offset: 5000}},
		{"day", spanrec.CallFilter{Since: mid, Until: mid.Add(24 * time.Hour)}},
		{"number", spanrec.CallFilter{Number: "12345"}},
		{"extension", spanrec.CallFilter{Extensions: []string{"2042"}}},
		{"inbound-answered", spanrec.CallFilter{Direction: spanrec.Inbound, Status: spanrec.Answered}},
		{"longest", spanrec.CallFilter{Sort: spanrec.SortDurationDesc}},
		{"sensor", spanrec.CallFilter{Sensor: "sensor-2"}},
	} {
		b.Run(q.name, func(b *testing.B) {
			f := q.f
			if f.Limit == 0 {
				f.Limit = 50
			}
			var lat []time.Duration
			for b.Loop() {
				for range runs {
					t := time.Now()
					calls, err := db.Calls(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					total, err := db.Count(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t))
					if len(calls) == 0 || total == 0 {
						b.Fatalf("%s: no calls", q.name)
					}
				}
			}
			slices.Sort(lat)
			ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
		})
	}
}
