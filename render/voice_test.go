package render_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/codec/g711"
	"github.com/spanrec/spanrec/render"
)

// TestMixKeepsVoicedCopy mixes two overlapping tracks of the callee: one
// with more packets of silence, one with the 440 Hz tone. The tone wins;
// when both carry voice the copy left out is named in a note.
func TestMixKeepsVoicedCopy(t *testing.T) {
	cd, _ := codec.Lookup("PCMU", 8000, 1)
	start := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	track := func(t *testing.T, name string, packets int, ptime time.Duration, loud bool) *render.Track {
		dir := t.TempDir()
		tr, err := render.NewTrack(nil, filepath.Join(dir, name+render.SpoolExt(cd)), spanrec.CalleeSide, cd, start)
		if err != nil {
			t.Fatal(err)
		}
		n := int(ptime / time.Millisecond * 8)
		for k := range packets {
			b := make([]byte, n)
			for i, v := range sine(k*n, n) {
				if !loud {
					v /= 1000 // −72 dBFS: a relay's idle noise
				}
				b[i] = g711.EncodeUlaw(v)
			}
			tr.Add(7, uint16(k), uint32(k*n), start.Add(time.Duration(k)*ptime), b)
		}
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
		return tr
	}
	for _, tc := range []struct {
		name      string
		otherLoud bool
		note      bool
	}{{"silent copy", false, false}, {"two voiced copies", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			tone := track(t, "tone", 100, 20*time.Millisecond, true)
			other := track(t, "other", 200, 10*time.Millisecond, tc.otherLoud)
			path := filepath.Join(t.TempDir(), "mix.wav")
			res, err := render.MixWith(path, []*render.Track{other, tone}, start, start.Add(2*time.Second), render.MixOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Used) != 1 || res.Used[0] != tone && !tc.otherLoud {
				t.Errorf("used %d tracks, want the tone's only", len(res.Used))
			}
			_, right := readStereo(t, path)
			if rms := audio.RMS(right[800:15200]); rms < 4000 {
				t.Errorf("callee channel RMS %.0f, want the tone's (≈ 5,600)", rms)
			}
			noted := len(res.Notes) == 1 && strings.Contains(res.Notes[0], "two copies of the callee's audio")
			if noted != tc.note {
				t.Errorf("notes %q, want a note about two voiced copies: %v", res.Notes, tc.note)
			}
		})
	}
}
