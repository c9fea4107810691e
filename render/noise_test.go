package render_test

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/codec/g711"
	"github.com/spanrec/spanrec/render"
)

// TestTrackNoiseGuard: a PCMA stream of 2 s of tone then random bytes
// (ciphertext taken for G.711) is cut where the noise begins; the tone
// alone is never taken for noise.
func TestTrackNoiseGuard(t *testing.T) {
	c, ok := codec.Lookup("PCMA", 8000, 1)
	if !ok {
		t.Fatal("no PCMA")
	}
	for _, tt := range []struct {
		name      string
		noiseFrom int // packet where random bytes start; -1 none
	}{
		{"tone", -1},
		{"tone then noise", 100},
		{"noise", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			path := filepath.Join(t.TempDir(), "1"+render.SpoolExt(c))
			tr, err := render.NewTrack(nil, path, spanrec.CallerSide, c, start)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			payload := make([]byte, 160)
			for i := range 200 {
				if tt.noiseFrom >= 0 && i >= tt.noiseFrom {
					for k := range payload {
						payload[k] = byte(rng.Uint32())
					}
				} else {
					for k, v := range sine(i*160, 160) {
						payload[k] = g711.EncodeAlaw(v)
					}
				}
				tr.Add(7, uint16(i), uint32(i*160), start.Add(time.Duration(i)*20*time.Millisecond), payload)
			}
			if err := tr.Close(); err != nil {
				t.Fatal(err)
			}
			if got, want := tr.Noise, tt.noiseFrom >= 0; got != want {
				t.Fatalf("Noise = %v, want %v", got, want)
			}
			if tt.noiseFrom < 0 {
				if tr.Samples() != 200*160 {
					t.Errorf("%d samples, want %d", tr.Samples(), 200*160)
				}
				return
			}
			// The cut is at the last clean payload the guard looked at:
			// at most noiseEvery (4) packets before the noise.
			want := int64(tt.noiseFrom * 160)
			if got := tr.Samples(); got > want || got < want-4*160 {
				t.Errorf("spool cut at sample %d, want within 4 packets before %d", got, want)
			}
			if tr.NoiseFrames == 0 {
				t.Error("NoiseFrames = 0")
			}
		})
	}
}
