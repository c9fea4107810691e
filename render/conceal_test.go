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

// TestTrackConceal feeds a G.729 stream (two 10-byte frames per 20 ms
// packet; the frames are random bits with a right parity bit, which a
// G.729 decoder takes like any other) with two lost packets and a 3 s gap through a Track. The
// short loss is filled by the decoder's concealment (codec.Concealer),
// sample for sample what a decoder that is told of the loss gives; the
// long gap (beyond a second) stays silent, as it has no business being
// made up.
func TestTrackConceal(t *testing.T) {
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
	ref := g729.NewDecoder()
	const n = 300
	want := make([]int16, n*160)
	lost := func(i int) bool { return i == 20 || i == 21 || (i >= 100 && i < 250) }
	for i := range n {
		payload := randomG729(rng, 2, true)
		if lost(i) {
			if i < 100 { // the long gap is not concealed, the reference is not told of it
				copy(want[160*i:], ref.Conceal(nil, 160))
			}
			continue
		}
		pcm, err := ref.Decode(nil, payload)
		if err != nil {
			t.Fatal(err)
		}
		copy(want[160*i:], pcm)
		tr.Add(0x1234, uint16(1000+i), uint32(5000+160*i), start.Add(time.Duration(i)*20*time.Millisecond), payload)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if tr.Concealed != 320 || tr.DecodeErrors != 0 {
		t.Errorf("Concealed %d samples, %d decode errors; want 320, 0", tr.Concealed, tr.DecodeErrors)
	}
	left := mixLeft(t, filepath.Join(dir, "a.wav"), tr, start, start.Add(n*20*time.Millisecond))
	if !slices.Equal(left, want) {
		t.Errorf("recording differs from the reference decoding at %d samples", countDiff(left, want))
	}
	if slices.Equal(left[20*160:22*160], make([]int16, 320)) {
		t.Error("the lost packets are silent, not concealed")
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
