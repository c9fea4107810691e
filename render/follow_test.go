package render_test

import (
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

// ulawTone returns 20 ms payloads of PCMU (160 samples each) of a tone of
// f Hz at 8 kHz, from payload k0 on (f 0: silence).
func ulawTone(f float64, k0, n int) [][]byte {
	var out [][]byte
	for k := k0; k < k0+n; k++ {
		p := make([]byte, 160)
		for i := range p {
			p[i] = g711.EncodeUlaw(int16(8000 * math.Sin(2*math.Pi*f*float64(k*160+i)/8000)))
		}
		out = append(out, p)
	}
	return out
}

// feedTrack adds payloads k0.. of a 20 ms stream started at start, and
// flushes the track, as the live recorder does every second.
func feedTrack(tr *render.Track, start time.Time, k0 int, payloads [][]byte) {
	for i, p := range payloads {
		k := k0 + i
		tr.Add(1, uint16(k), uint32(k*160), start.Add(time.Duration(k)*20*time.Millisecond), p)
	}
	tr.Flush()
}

// TestFollower reads two tracks while they grow, as listening to a call
// in progress does, and checks each side's tone; a caller's silent copy
// (a relay's) never hides the tone; a spool removed and handed to another
// call by the pool is never read as this call's audio.
func TestFollower(t *testing.T) {
	dir := t.TempDir()
	pool, err := render.NewPool(filepath.Join(dir, render.PoolDir))
	if err != nil {
		t.Fatal(err)
	}
	pcmu, _ := codec.Lookup("PCMU", 8000, 1)
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	newTrack := func(name string, side spanrec.Side) *render.Track {
		tr, err := render.NewTrack(pool, filepath.Join(dir, name+render.SpoolExt(pcmu)), side, pcmu, start)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	caller, copyOf, callee := newTrack("caller", spanrec.CallerSide), newTrack("relay", spanrec.CallerSide), newTrack("callee", spanrec.CalleeSide)
	feed := func(k0, n int) {
		feedTrack(copyOf, start, k0, ulawTone(0, k0, n))
		feedTrack(caller, start, k0, ulawTone(440, k0, n))
		feedTrack(callee, start, k0, ulawTone(1000, k0, n))
	}
	feed(0, 100) // 2 s

	fo := render.NewFollower(8000, start)
	defer fo.Close()
	for _, tr := range []*render.Track{copyOf, caller, callee} {
		sp, err := render.OpenSpool(tr.Path, tr.Side, pcmu, start)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := fo.Add(sp); !ok || err != nil {
			t.Fatalf("add %s: %v %v", tr.Path, ok, err)
		}
	}
	if edge, ok := fo.Edge(); !ok || !edge.Equal(start.Add(2*time.Second)) {
		t.Errorf("edge %v %v, want 2 s after the start", edge, ok)
	}
	tones := []float64{440, 1000, 2000}
	check := func(what string, want [2]float64) {
		t.Helper()
		st, err := fo.Read(nil, 8000)
		if err != nil {
			t.Fatal(err)
		}
		var ch [2][]int16
		for i := 0; i < len(st); i += 2 {
			ch[0], ch[1] = append(ch[0], st[i]), append(ch[1], st[i+1])
		}
		for i := range ch {
			f, share := audio.DominantFrequency(ch[i], 8000, tones)
			switch {
			case want[i] == 0 && audio.RMS(ch[i]) != 0:
				t.Errorf("%s: side %d plays %v Hz, want silence", what, i, f)
			case want[i] != 0 && (f != want[i] || share < 0.9):
				t.Errorf("%s: side %d %v Hz (%.2f), want %v Hz", what, i, f, share, want[i])
			}
		}
	}
	check("first second", [2]float64{440, 1000})
	check("second second", [2]float64{440, 1000})
	feed(100, 50) // the tracks grow
	check("third second, written after the reads began", [2]float64{440, 1000})

	// The callee's spool goes back to the pool (its call ended, say)
	// and becomes another call's track, which gets another tone.
	feed(150, 50)
	callee.Close()
	if err := callee.Remove(); err != nil {
		t.Fatal(err)
	}
	other := newTrack("other-call", spanrec.CalleeSide)
	feedTrack(other, start, 0, ulawTone(2000, 0, 250))
	check("after the callee's spool was recycled", [2]float64{440, 0})
	if !fo.Live() {
		t.Error("not live with the caller's spool still there")
	}
	for _, tr := range []*render.Track{caller, copyOf} {
		tr.Close()
		tr.Remove()
	}
	check("after every spool was removed", [2]float64{0, 0})
	if fo.Live() {
		t.Error("live after every spool was removed")
	}
}

// BenchmarkFollower measures listening's read side: a Follower reading
// 16 kHz stereo from two 8 kHz PCMU spools (resampled), in 200 ms chunks
// as recorder.Listening asks; "x_realtime" is seconds of audio per second
// of CPU, what one listener costs.
func BenchmarkFollower(b *testing.B) {
	dir := b.TempDir()
	pcmu, _ := codec.Lookup("PCMU", 8000, 1)
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	var tracks []*render.Track
	for i, side := range []spanrec.Side{spanrec.CallerSide, spanrec.CalleeSide} {
		tr, err := render.NewTrack(nil, filepath.Join(dir, string(side)+render.SpoolExt(pcmu)), side, pcmu, start)
		if err != nil {
			b.Fatal(err)
		}
		feedTrack(tr, start, 0, ulawTone(float64(440+600*i), 0, 3000)) // 60 s
		tr.Close()
		tracks = append(tracks, tr)
	}
	const chunk = 3200 // 200 ms at 16 kHz
	var buf []int16
	var frames int64
	b.ReportAllocs()
	for b.Loop() {
		fo := render.NewFollower(16000, start)
		for _, tr := range tracks {
			sp, err := render.OpenSpool(tr.Path, tr.Side, pcmu, start)
			if err != nil {
				b.Fatal(err)
			}
			fo.Add(sp)
		}
		for range 50 { // 10 s
			var err error
			if buf, err = fo.Read(buf[:0], chunk); err != nil {
				b.Fatal(err)
			}
			frames += chunk
		}
		fo.Close()
	}
	b.ReportMetric(float64(frames)/16000/b.Elapsed().Seconds(), "x_realtime")
}
