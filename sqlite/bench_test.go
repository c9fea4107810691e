package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
)

// benchCall returns the i-th call of a benchmark index: a full call with two
// streams and two key presses, a minute after the one before.
func benchCall(i int) *spanrec.Call {
	c := indextest.FullCall(time.UTC)
	c.ID = spanrec.NewCallID(fmt.Sprint("bench-", i), t0)
	c.Start = t0.Add(time.Duration(i) * time.Minute)
	c.Caller.Number = fmt.Sprintf("+49301%06d", i)
	// Outcomes that differ from call to call, for the sorts.
	c.PDD = time.Duration(100+i*7919%4000) * time.Millisecond
	c.HangupBy = []spanrec.Hangup{spanrec.HangupCaller, spanrec.HangupCallee, spanrec.HangupSystem}[i%3]
	for j := range c.Streams {
		c.Streams[j].MOS = 1 + float64(i*31%350)/100
	}
	return c
}

func BenchmarkPutCall(b *testing.B) {
	ctx := context.Background()
	db := open(b, filepath.Join(b.TempDir(), "index.db"))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := db.PutCall(ctx, benchCall(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

func BenchmarkCalls(b *testing.B) {
	const size = 10000
	ctx := context.Background()
	db := open(b, filepath.Join(b.TempDir(), "index.db"))
	for i := range size {
		if err := db.PutCall(ctx, benchCall(i)); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		f    spanrec.CallFilter
	}{
		{"page50", spanrec.CallFilter{Limit: 50}},
		{"page50-offset5000", spanrec.CallFilter{Limit: 50, Offset: 5000}},
		{"number", spanrec.CallFilter{Number: "1000123"}},
		{"all", spanrec.CallFilter{}},
		// The list's column sorts: indexed (caller, -mos, pdd) and
		// sorted whole (codec, legs, hangup_by).
		{"page50-sort-caller", spanrec.CallFilter{Limit: 50, Sort: "caller"}},
		{"page50-sort--mos", spanrec.CallFilter{Limit: 50, Sort: "-mos"}},
		{"page50-sort-pdd", spanrec.CallFilter{Limit: 50, Sort: "pdd"}},
		{"page50-sort-codec", spanrec.CallFilter{Limit: 50, Sort: "codec"}},
		{"page50-sort-legs", spanrec.CallFilter{Limit: 50, Sort: "legs"}},
		{"page50-sort-hangup_by", spanrec.CallFilter{Limit: 50, Sort: "hangup_by"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				calls, err := db.Calls(ctx, bc.f)
				if err != nil {
					b.Fatal(err)
				}
				n += len(calls)
			}
			if n == 0 {
				b.Fatal("no calls returned")
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}
