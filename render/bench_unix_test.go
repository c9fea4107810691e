//go:build unix

package render_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/codec/g711"
	"github.com/spanrec/spanrec/render"
)

// BenchmarkTrackAddG711 measures a G.711 track's cost per 20 ms packet
// in order (the usual case): spooling its codes, and the noise guard on
// one payload in four.
func BenchmarkTrackAddG711(b *testing.B) {
	c, ok := codec.Lookup("PCMU", 8000, 1)
	if !ok {
		b.Fatal("no PCMU")
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr, err := render.NewTrack(nil, filepath.Join(b.TempDir(), "1"+render.SpoolExt(c)), spanrec.CallerSide, c, start)
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 160)
	for i, v := range sine(0, 160) {
		payload[i] = g711.EncodeUlaw(v)
	}
	b.ReportAllocs()
	i := 0
	cpu0 := cpuTime()
	for b.Loop() {
		tr.Add(1, uint16(i), uint32(i*160), start.Add(time.Duration(i)*20*time.Millisecond), payload)
		i++
	}
	b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "pkts/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(i), "cpu-ns/pkt")
	if err := tr.Close(); err != nil {
		b.Fatal(err)
	}
}
