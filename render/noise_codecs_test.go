package render_test

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/render"
)

// TestNoiseGuardCodecs: random payloads (ciphertext) taken for GSM or
// G.726 at each rate are cut by the noise guard, so no path records them
// as audio: G.726 decodes them to white noise, GSM reports Garbage (15 in
// 16 lack the frame signature; the rest decode to shaped noise).
func TestNoiseGuardCodecs(t *testing.T) {
	for _, tt := range []struct {
		name string
		size int // octets per 20 ms
	}{
		{"GSM", 33},
		{"G726-16", 40},
		{"G726-24", 60},
		{"G726-32", 80},
		{"G726-40", 100},
		{"AAL2-G726-32", 80},
		{"opus", 80},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock, channels, step := 8000, 1, 160
			if tt.name == "opus" {
				clock, channels, step = 48000, 2, 960
			}
			c, ok := codec.Lookup(tt.name, clock, channels)
			if !ok {
				t.Fatalf("no %s", tt.name)
			}
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			tr, err := render.NewTrack(nil, filepath.Join(t.TempDir(), "1"+render.SpoolExt(c)), spanrec.CallerSide, c, start)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, 4))
			payload := make([]byte, tt.size)
			// GSM: a random payload decodes 1 time in 16 and the guard
			// looks at every 4th decoded one, 4 in a row: 20 s.
			n := 200
			if tt.name == "GSM" {
				n = 1000
			}
			for i := range n {
				for k := range payload {
					payload[k] = byte(rng.Uint32())
				}
				tr.Add(7, uint16(i), uint32(i*step), start.Add(time.Duration(i)*20*time.Millisecond), payload)
			}
			// Close reports the first decode error (GSM's missing
			// signatures); the spool itself must close.
			if err := tr.Close(); err != nil && tr.DecodeErrors == 0 {
				t.Fatal(err)
			}
			if !tr.Noise {
				t.Errorf("random %s payloads not taken for noise: %d samples kept", tt.name, tr.Samples())
			}
			// G.726 starts at its smallest step size: the first packets
			// of random codewords are quiet and pass for clean (at most
			// half a second here); what is loud is cut.
			if tr.Samples() > int64(c.SampleRate/2) {
				t.Errorf("%d samples of random %s payloads kept in the spool", tr.Samples(), tt.name)
			}
		})
	}
}
