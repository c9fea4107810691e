package render_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/codec/g711"
	"github.com/spanrec/spanrec/render"
)

// toneTrack spools 1 s of a freq Hz tone in 20 ms packets of codec name
// at rate Hz (PCMU or L16) for side.
func toneTrack(t *testing.T, dir, name string, rate int, side spanrec.Side, freq float64, start time.Time) *render.Track {
	t.Helper()
	cd, ok := codec.Lookup(name, rate, 1)
	if !ok {
		t.Fatalf("codec %s/%d", name, rate)
	}
	tr, err := render.NewTrack(nil, filepath.Join(dir, fmt.Sprint(side)+render.SpoolExt(cd)), side, cd, start)
	if err != nil {
		t.Fatal(err)
	}
	n := rate / 50
	for i := range 50 {
		var payload []byte
		for k := range n {
			v := int16(8000 * math.Sin(2*math.Pi*freq*float64(i*n+k)/float64(rate)))
			if name == "PCMU" {
				payload = append(payload, g711.EncodeUlaw(v))
			} else {
				payload = binary.BigEndian.AppendUint16(payload, uint16(v))
			}
		}
		tr.Add(uint32(len(side)), uint16(i), uint32(i*n), start.Add(time.Duration(i)*20*time.Millisecond), payload)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestMixRate mixes a G.711 leg (8 kHz) with an L16 leg at 48 kHz: the
// recording follows the widest leg, up to MaxRate, and both legs keep
// their tone (the fullband one carries 15 kHz, which only 48 kHz holds).
func TestMixRate(t *testing.T) {
	start := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		maxRate, want int
		calleeHz      float64
	}{
		{0, 48000, 15000},
		{48000, 48000, 15000},
		{16000, 16000, 5000},
		{8000, 8000, 1000},
	} {
		t.Run(fmt.Sprint(tt.maxRate), func(t *testing.T) {
			dir := t.TempDir()
			caller := toneTrack(t, dir, "PCMU", 8000, spanrec.CallerSide, 440, start)
			callee := toneTrack(t, dir, "L16", 48000, spanrec.CalleeSide, tt.calleeHz, start)
			tracks := []*render.Track{caller, callee}
			if r := render.Rate(tracks, tt.maxRate); r != tt.want {
				t.Errorf("Rate = %d, want %d", r, tt.want)
			}
			res, err := render.MixWith(filepath.Join(dir, "a.wav"), tracks, start, start.Add(time.Second), render.MixOptions{MaxRate: tt.maxRate})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rate != tt.want || res.Samples != int64(tt.want) {
				t.Fatalf("recording at %d Hz, %d samples; want %d", res.Rate, res.Samples, tt.want)
			}
			left, right := readStereo(t, filepath.Join(dir, "a.wav"))
			fs := float64(res.Rate)
			body := func(x []int16) []int16 { return x[len(x)/10 : len(x)*9/10] }
			db := func(x []int16, f float64) float64 { return 10 * math.Log10(audio.Goertzel(body(x), int(fs), f)+1e-20) }
			if l, r := db(left, 440), db(right, 440); l < -30 || l-r < 30 {
				t.Errorf("440 Hz: caller %.1f dB, callee %.1f dB", l, r)
			}
			if r, l := db(right, tt.calleeHz), db(left, tt.calleeHz); r < -30 || r-l < 30 {
				t.Errorf("%v Hz: callee %.1f dB, caller %.1f dB", tt.calleeHz, r, l)
			}
		})
	}
}

func TestRateOnlyNarrowband(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	tr := toneTrack(t, dir, "PCMU", 8000, spanrec.CallerSide, 440, start)
	if r := render.Rate([]*render.Track{tr}, 0); r != 8000 {
		t.Errorf("G.711 alone: %d Hz", r)
	}
	if r := render.Rate(nil, 0); r != 8000 {
		t.Errorf("no tracks: %d Hz", r)
	}
}
