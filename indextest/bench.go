package indextest

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
)

// Searcher is what BenchQueries runs: a call index's search, count and
// dashboard aggregates.
type Searcher interface {
	Calls(ctx context.Context, f spanrec.CallFilter) ([]*spanrec.Call, error)
	CountUpTo(ctx context.Context, f spanrec.CallFilter, max int) (int, bool, error)
	Stats(ctx context.Context, q spanrec.StatsQuery) (*spanrec.CallStats, error)
}

// BenchCall returns the i-th call of a benchmark index that PutCall
// fills: a full call with two streams and two key presses, a minute after
// the one before, with outcomes that differ from call to call (for the
// sorts' indexes).
func BenchCall(i int) *spanrec.Call {
	c := FullCall(time.UTC)
	c.ID = spanrec.NewCallID(fmt.Sprint("bench-", i), T0)
	c.Start = T0.Add(time.Duration(i) * time.Minute)
	c.Caller.Number = fmt.Sprintf("+49301%06d", i)
	c.PDD = time.Duration(100+i*7919%4000) * time.Millisecond
	c.HangupBy = []spanrec.Hangup{spanrec.HangupCaller, spanrec.HangupCallee, spanrec.HangupSystem}[i%3]
	for j := range c.Streams {
		c.Streams[j].MOS = 1 + float64(i*31%350)/100
	}
	return c
}

// BenchCalls returns the number of calls the search benchmarks generate:
// $SPANREC_BENCH_CALLS, or def.
func BenchCalls(def int) int {
	if v, err := strconv.Atoi(os.Getenv("SPANREC_BENCH_CALLS")); err == nil && v > 0 {
		return v
	}
	return def
}

// benchTotalCap is where GET /api/calls stops counting (api's totalCap).
const benchTotalCap = 10_000

// BenchQueries runs the web UI's searches — a page of 50 calls with the
// total counted up to 10,000, as GET /api/calls answers — and the dashboard's aggregates
// (GET /api/dashboard: a day and a week per hour, 30 days per day) on
// db, which holds n generated calls, and reports each one's p50 and p99
// latency in ms over $SPANREC_BENCH_RUNS runs (default 20; with fewer than
// 100, p99 is the slowest run), and for searches the same of the page
// (page-…) and of the total (total-…) apart.
//
// Call i (of n) has the ID i in 20 digits and starts i s after T0; its
// caller is +4930 and i mod 100 000 in six digits, its callee 2 and
// i mod 1000 in three; every fifth is inbound; a third (i mod 3 = 0) are
// unanswered (status 480, talk time 0, no streams, no PDD, no MOS); the
// others have a talk time of i mod 600 s, a PDD of i mod 5000 ms, and two
// PCMA streams (caller's from 192.0.2.(i mod 250 + 1), callee's from
// 198.51.100.(i mod 250 + 1)) of 50 packets a second of talk time,
// (i mod 7)·(i mod 3) lost each, with the call's MOS 1 + (i mod 350)/100;
// one in 50 has capture loss; sensor-(i mod 4) recorded it.
func BenchQueries(b *testing.B, db Searcher, n int) {
	ctx := context.Background()
	runs := 20
	if v, err := strconv.Atoi(os.Getenv("SPANREC_BENCH_RUNS")); err == nil && v > 0 {
		runs = v
	}
	mid := T0.Add(time.Duration(n/2) * time.Second)
	yes := true
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
		{"has-loss", spanrec.CallFilter{HasLoss: &yes}},
		{"sensor", spanrec.CallFilter{Sensor: "sensor-2"}},
		{"sensor-day", spanrec.CallFilter{Sensor: "sensor-2", Since: mid, Until: mid.Add(24 * time.Hour)}},
		{"oldest", spanrec.CallFilter{Sort: "start"}},
		{"longest", spanrec.CallFilter{Sort: spanrec.SortDurationDesc}},
		{"shortest", spanrec.CallFilter{Sort: "duration"}},
		{"caller", spanrec.CallFilter{Sort: "caller"}},
		{"caller-desc", spanrec.CallFilter{Sort: "-caller"}},
		{"direction", spanrec.CallFilter{Sort: "direction"}},
		{"direction-desc", spanrec.CallFilter{Sort: "-direction"}},
		{"status", spanrec.CallFilter{Sort: "status"}},
		{"hangup-by", spanrec.CallFilter{Sort: "hangup_by"}},
		{"worst-mos", spanrec.CallFilter{Sort: "mos"}},
		{"longest-pdd", spanrec.CallFilter{Sort: "-pdd"}},
	} {
		b.Run(q.name, func(b *testing.B) {
			f := q.f
			if f.Limit == 0 {
				f.Limit = 50
			}
			var lat, page, total []time.Duration
			for b.Loop() {
				for range runs {
					t := time.Now()
					calls, err := db.Calls(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					t1 := time.Now()
					count, _, err := db.CountUpTo(ctx, f, benchTotalCap)
					if err != nil {
						b.Fatal(err)
					}
					t2 := time.Now()
					lat, page, total = append(lat, t2.Sub(t)), append(page, t1.Sub(t)), append(total, t2.Sub(t1))
					if len(calls) == 0 || count == 0 {
						b.Fatalf("%s: no calls", q.name)
					}
				}
			}
			report(b, "", lat)
			report(b, "page-", page)
			report(b, "total-", total)
		})
	}
	for _, q := range []struct {
		name   string
		days   int
		bucket time.Duration
	}{
		{"dashboard-day", 1, time.Hour},
		{"dashboard-week", 7, time.Hour},
		{"dashboard-30days", 30, 24 * time.Hour},
	} {
		b.Run(q.name, func(b *testing.B) {
			to := mid.Truncate(time.Hour).Add(time.Hour)
			sq := spanrec.StatsQuery{From: to.Add(-time.Duration(q.days) * 24 * time.Hour), To: to, Bucket: q.bucket, Top: 10}
			var lat []time.Duration
			for b.Loop() {
				for range runs {
					t := time.Now()
					st, err := db.Stats(ctx, sq)
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t))
					if st.Calls == 0 || len(st.Loss) == 0 {
						b.Fatalf("%s: no calls or no loss", q.name)
					}
				}
			}
			report(b, "", lat)
		})
	}
}

// report reports the p50 and p99 of lat in ms, as prefix+"p50-ms" and
// prefix+"p99-ms".
func report(b *testing.B, prefix string, lat []time.Duration) {
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	b.ReportMetric(ms(lat[len(lat)/2]), prefix+"p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), prefix+"p99-ms")
}
