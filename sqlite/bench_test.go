package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
	"github.com/spanrec/spanrec/sqlite"
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

// importedCall returns the i-th call of benchCall with what an import of
// the bench capture (cmd/spangen -scenario bench) stores besides: the
// INVITE's 12 header fields and a quality series of 5 s intervals over
// the 30 s talk on each stream; its link keys are its own.
func importedCall(i int) *spanrec.Call {
	c := benchCall(i)
	// Keys of its own: calls of the capture do not link.
	c.LinkKeys = []string{fmt.Sprintf("cid:%024x@10.1.0.22", i), fmt.Sprintf("media:10.1.%d.%d:40000|10.2.0.1:20000", i/250, i%250)}
	c.SIPHeaders = []spanrec.SIPHeader{
		{Name: "Via", Value: "SIP/2.0/UDP 10.1.0.22:5060;branch=z9hG4bK" + fmt.Sprintf("%016x", i)},
		{Name: "Max-Forwards", Value: "70"},
		{Name: "From", Value: fmt.Sprintf("<sip:+49301%06d@10.1.0.22>;tag=%08x", i, i)},
		{Name: "To", Value: "<sip:+4940123@pbx>"},
		{Name: "Call-ID", Value: fmt.Sprintf("%024x@10.1.0.22", i)},
		{Name: "CSeq", Value: "1 INVITE"},
		{Name: "Contact", Value: "<sip:caller@10.1.0.22>"},
		{Name: "Allow", Value: "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE"},
		{Name: "Supported", Value: "replaces, timer"},
		{Name: "User-Agent", Value: "spangen"},
		{Name: "Content-Type", Value: "application/sdp"},
		{Name: "Content-Length", Value: "212"},
	}
	for j := range c.Streams {
		q := &spanrec.StreamQuality{IntervalMS: 5000, RTCP: []spanrec.RTCPReport{}}
		for k := range 6 {
			q.Intervals = append(q.Intervals, spanrec.QualityInterval{
				Start: c.Start.Add(time.Duration(k) * 5 * time.Second), Packets: 250, Expected: 250,
				JitterSamples: 250, MOS: 4.409285824,
			})
		}
		c.Streams[j].Quality = q
	}
	return c
}

// BenchmarkPutCalls stores 1,000 imported calls (importedCall) into a new
// index, as an import of the bench capture does: one transaction per call
// (batch=1, as PutCall does) or by batches of PutCalls.
func BenchmarkPutCalls(b *testing.B) {
	const total = 1000
	calls := make([]*spanrec.Call, total)
	for i := range calls {
		calls[i] = importedCall(i)
	}
	for _, n := range []int{1, 8, 16, 64} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				db, err := sqlite.Open(ctx, filepath.Join(dir, "index.db"))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				cpu0 := cpuTime()
				for i := 0; i < total; i += n {
					if err := db.PutCalls(ctx, calls[i:min(i+n, total)]); err != nil {
						b.Fatal(err)
					}
				}
				cpu += cpuTime() - cpu0
				b.StopTimer()
				if err := db.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(total*b.N), "cpu-µs/call")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(total*b.N), "µs/call")
		})
	}
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
		// The list's column sorts, all indexed.
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
