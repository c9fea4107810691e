package render_test

import (
	"math/bits"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/codec/g729"
	"github.com/spanrec/spanrec/render"
)

// TestTrackConceal feeds G.729 streams (two 10-byte frames per 20 ms
// packet; the frames are random bits with a right parity bit, which a
// G.729 decoder takes like any other) through a Track. With two lost
// packets and a 3 s outage after speech, the loss is filled by the
// decoder's frame erasure concealment (codec.Concealer) for at most 1 s,
// then silence; with Annex B, a SID frame followed by 3 s of
// discontinuous transmission is comfort noise all through. Each must be,
// sample for sample, what a decoder told of the missing packets gives.
func TestTrackConceal(t *testing.T) {
	for _, tt := range []struct {
		name      string
		sid       bool // packet 100 is a SID frame, then nothing until 250
		concealed int64
	}{
		{"erasure", false, 320 + 8000},
		{"annex b", true, 320 + 299*80},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cd, ok := codec.Lookup("G729", 8000, 1)
			if !ok {
				t.Fatal("G729 not decodable")
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "1"+render.SpoolExt(cd))
			start := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
			tr, err := render.NewTrack(nil, path, spanrec.CallerSide, cd, start)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			ref := g729.NewDecoderMode(g729.ModeG729) // what codec.Lookup("G729") decodes with
			const n = 300
			want := make([]int16, n*160)
			for i := range n {
				payload := randomG729(rng, 2, true)
				switch {
				case i == 20 || i == 21 || (i > 100 && i < 250) || (i == 100 && !tt.sid):
					copy(want[160*i:], ref.Conceal(nil, 160))
					continue
				case i == 100:
					payload = []byte{0x0d, 0x54} // SID: energy index 10
					pcm, _ := ref.Decode(nil, payload)
					copy(want[160*i:], ref.Conceal(pcm, 80)) // the rest of the packet's 20 ms
					tr.Add(0x1234, uint16(1000+i), uint32(5000+160*i), start.Add(time.Duration(i)*20*time.Millisecond), payload)
					continue
				}
				pcm, err := ref.Decode(nil, payload)
				if err != nil {
					t.Fatal(err)
				}
				copy(want[160*i:], pcm)
				seq := i
				if tt.sid && i >= 250 {
					seq = i - 149 // nothing was sent in the silence
				}
				tr.Add(0x1234, uint16(1000+seq), uint32(5000+160*i), start.Add(time.Duration(i)*20*time.Millisecond), payload)
			}
			if err := tr.Close(); err != nil {
				t.Fatal(err)
			}
			if tr.Concealed != tt.concealed || tr.DecodeErrors != 0 {
				t.Errorf("Concealed %d samples, %d decode errors; want %d, 0", tr.Concealed, tr.DecodeErrors, tt.concealed)
			}
			left := mixLeft(t, filepath.Join(dir, "a.wav"), tr, start, start.Add(n*20*time.Millisecond))
			if !slices.Equal(left, want) {
				t.Errorf("recording differs from the reference decoding at %d samples", countDiff(left, want))
			}
			if slices.Equal(left[20*160:22*160], make([]int16, 320)) {
				t.Error("the lost packets are silent, not concealed")
			}
			gapEnd := left[240*160 : 250*160]
			if silent := slices.Equal(gapEnd, make([]int16, len(gapEnd))); silent == tt.sid {
				t.Errorf("end of the 3 s gap silent: %v; want %v", silent, !tt.sid)
			}
		})
	}
}

// randomG729 returns n random G.729 frames; with parity, each has the
// pitch parity bit P0 right (RFC 3551 §4.5.6 layout: the six most
// significant bits of P1 are the low six bits of byte 2, P0 is bit 5 of
// byte 3), as a real stream has and random bytes have half the time.
func randomG729(rng *rand.Rand, n int, parity bool) []byte {
	b := make([]byte, 10*n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	if parity {
		for f := 0; f < len(b); f += 10 {
			p0 := byte(1 ^ bits.OnesCount8(b[f+2]&0x3f)&1)
			b[f+3] = b[f+3]&^0x20 | p0<<5
		}
	}
	return b
}

// TestTrackG729Garbage feeds random bytes as G.729, as encrypted media
// taken for G.729 would be: they decode to shaped noise that the noise
// guard's spectral test passes, but half the frames fail the pitch
// parity check, and the decoder's codec.GarbageDetector makes the Track
// noise; the same stream with right parity bits is kept.
func TestTrackG729Garbage(t *testing.T) {
	cd, _ := codec.Lookup("G729", 8000, 1)
	start := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	for _, parity := range []bool{false, true} {
		tr, err := render.NewTrack(nil, filepath.Join(t.TempDir(), "1"+render.SpoolExt(cd)), spanrec.CallerSide, cd, start)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(5, 6))
		for i := range 100 {
			tr.Add(0x1234, uint16(i), uint32(160*i), start.Add(time.Duration(i)*20*time.Millisecond), randomG729(rng, 2, parity))
		}
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
		if tr.Noise == parity {
			t.Errorf("parity bits right: %v; the track is noise: %v (%d payloads dropped)", parity, tr.Noise, tr.NoiseFrames)
		}
		_ = tr.Remove()
	}
}
