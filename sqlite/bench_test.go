package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
)

// benchCall is indextest.BenchCall.
var benchCall = indextest.BenchCall

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
