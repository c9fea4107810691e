package render_test

import (
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
// packet; the frames are random bits, which a G.729 decoder takes like
// any other) with two lost packets and a 3 s gap through a Track. The
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
		payload := make([]byte, 20)
		for j := range payload {
			payload[j] = byte(rng.Uint32())
		}
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
