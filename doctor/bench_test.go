package doctor

import (
	"bytes"
	"testing"
	"time"

	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
)

// BenchmarkHandleFrame measures the Analyzer on 50 concurrent G.711 calls
// (SIP and RTP both ways), frame by frame as a live doctor sees them.
func BenchmarkHandleFrame(b *testing.B) {
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, pcaptest.Options{Seed: 1, Calls: pcaptest.Concurrent(50, 2*time.Second, 5*time.Second)}); err != nil {
		b.Fatal(err)
	}
	frames, err := pcaptest.ReadFrames(&buf)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		a := New(Config{})
		for i, f := range frames {
			a.HandleFrame(capture.Frame{Data: f, Link: 1, Time: t0.Add(time.Duration(i) * 50 * time.Microsecond), Orig: len(f)})
		}
		n += len(frames)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pkts/s")
}
