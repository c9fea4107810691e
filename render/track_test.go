package render_test

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/audio/wav"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/codec/g711"
	"github.com/spanrec/spanrec/render"
)

// sine returns n samples of a 440 Hz tone at 8 kHz from sample k0.
func sine(k0, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(k0+i)/8000))
	}
	return s
}

// TestTrackSpoolFormats feeds one 8 kHz stream with a short gap (inside
// the write buffer) and a long one (a hole in the spool file) through a
// Track, mixes it, and checks every sample of the recording against the
// codec's own decoding of the payloads, and silence in the gaps: G.711 is
// spooled as one byte per sample, L16 as 16-bit PCM. The spool left for
// a crashed recorder reads back the same with OpenSpool.
func TestTrackSpoolFormats(t *testing.T) {
	for _, tt := range []struct {
		name    string
		ext     string
		bps     int64
		encode  func([]int16) []byte
		silence int16 // what a gap reads as
	}{
		{"PCMU", ".g711", 1, func(s []int16) []byte {
			b := make([]byte, len(s))
			for i, v := range s {
				b[i] = g711.EncodeUlaw(v)
			}
			return b
		}, 0},
		// A-law has no code for 0: a gap is its silence code, +8.
		{"PCMA", ".g711", 1, func(s []int16) []byte {
			b := make([]byte, len(s))
			for i, v := range s {
				b[i] = g711.EncodeAlaw(v)
			}
			return b
		}, 8},
		{"L16", ".pcm", 2, func(s []int16) []byte {
			b := make([]byte, 2*len(s))
			for i, v := range s {
				b[2*i], b[2*i+1] = byte(uint16(v)>>8), byte(v) // network order
			}
			return b
		}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cd, ok := codec.Lookup(tt.name, 8000, 1)
			if !ok {
				t.Fatalf("codec %s not found", tt.name)
			}
			if got := render.SpoolExt(cd); got != tt.ext {
				t.Fatalf("SpoolExt = %q, want %q", got, tt.ext)
			}
			dir := t.TempDir()
			path := filepath.Join(dir, "1"+render.SpoolExt(cd))
			start := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
			tr, err := render.NewTrack(nil, path, spanrec.CallerSide, cd, start)
			if err != nil {
				t.Fatal(err)
			}
			// 100 packets of 20 ms; 10–12 lost (60 ms, inside the
			// buffer), 40–79 lost (800 ms, beyond it).
			want := make([]int16, 100*160)
			for i := range want {
				want[i] = tt.silence
			}
			dec := cd.New()
			for i := range 100 {
				if (i >= 10 && i <= 12) || (i >= 40 && i < 80) {
					continue
				}
				payload := tt.encode(sine(160*i, 160))
				pcm, err := dec.Decode(nil, payload)
				if err != nil {
					t.Fatal(err)
				}
				copy(want[160*i:], pcm)
				tr.Add(0x1234, uint16(1000+i), uint32(5000+160*i), start.Add(time.Duration(i)*20*time.Millisecond), payload)
			}
			if err := tr.Close(); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size() != tt.bps*int64(len(want)) || tr.Samples() != int64(len(want)) {
				t.Errorf("spool %d bytes, %d samples; want %d bytes, %d samples", st.Size(), tr.Samples(), tt.bps*int64(len(want)), len(want))
			}
			end := start.Add(2 * time.Second)
			left := mixLeft(t, filepath.Join(dir, "a.wav"), tr, start, end)
			if !slices.Equal(left, want) {
				t.Errorf("recording differs from the decoded payloads at %d samples", countDiff(left, want))
			}

			re, err := render.OpenSpool(path, spanrec.CallerSide, cd, start)
			if err != nil {
				t.Fatal(err)
			}
			if re.Samples() != tr.Samples() {
				t.Errorf("OpenSpool: %d samples, want %d", re.Samples(), tr.Samples())
			}
			if got := mixLeft(t, filepath.Join(dir, "b.wav"), re, start, end); !slices.Equal(got, want) {
				t.Errorf("OpenSpool: recording differs at %d samples", countDiff(got, want))
			}
		})
	}
}

// TestOpenSpoolPCMOfG711 opens a G.711 call's spool named .pcm, as a
// recorder before 8-bit spools left it, as 16-bit PCM.
func TestOpenSpoolPCMOfG711(t *testing.T) {
	cd, _ := codec.Lookup("PCMU", 8000, 1)
	dir := t.TempDir()
	path := filepath.Join(dir, "1.pcm")
	pcm := sine(0, 800)
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		b[2*i], b[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	tr, err := render.OpenSpool(path, spanrec.CalleeSide, cd, start)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Samples() != 800 {
		t.Fatalf("%d samples, want 800", tr.Samples())
	}
	res, err := render.MixWith(filepath.Join(dir, "a.wav"), []*render.Track{tr}, start, start.Add(100*time.Millisecond), render.MixOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, got := readStereo(t, filepath.Join(dir, "a.wav"))
	if res.Samples != 800 || !slices.Equal(got, pcm) {
		t.Errorf("%d samples, right channel differs at %d", res.Samples, countDiff(got, pcm))
	}
}

func mixLeft(t *testing.T, path string, tr *render.Track, from, to time.Time) []int16 {
	t.Helper()
	res, err := render.MixWith(path, []*render.Track{tr}, from, to, render.MixOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rate != 8000 || len(res.Used) != 1 {
		t.Fatalf("mix: rate %d, %d tracks used", res.Rate, len(res.Used))
	}
	left, _ := readStereo(t, path)
	return left[:min(len(left), int(tr.Samples()))]
}

func readStereo(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, pcm, err := wav.ReadPCM16(f)
	if err != nil {
		t.Fatal(err)
	}
	if info.Channels != 2 {
		t.Fatalf("%d channels", info.Channels)
	}
	for i := 0; i+1 < len(pcm); i += 2 {
		left = append(left, pcm[i])
		right = append(right, pcm[i+1])
	}
	return left, right
}

func countDiff(a, b []int16) int {
	n := max(len(a), len(b)) - min(len(a), len(b))
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// TestTrackUntil: a payload whose RTP timestamp or capture time places it
// decades after the track's start (a corrupt record) would make a sparse
// spool of gigabytes that Mix then reads; past Track.Until it is dropped
// and counted.
func TestTrackUntil(t *testing.T) {
	c, ok := codec.Lookup("PCMU", 8000, 1)
	if !ok {
		t.Fatal("no PCMU")
	}
	path := filepath.Join(t.TempDir(), "1"+render.SpoolExt(c))
	start := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	tr, err := render.NewTrack(nil, path, spanrec.CallerSide, c, start)
	if err != nil {
		t.Fatal(err)
	}
	tr.Until = start.Add(time.Minute)
	payload := make([]byte, 160)
	for i := range 50 {
		at := start.Add(time.Duration(i) * 20 * time.Millisecond)
		ts := uint32(i * 160)
		if i == 25 {
			at = at.Add(40 * 365 * 24 * time.Hour) // the capture clock, and
		}
		if i == 30 {
			ts += 2_000_000_000 // the RTP clock: both far ahead
			at = at.Add(2 * time.Hour)
		}
		tr.Add(1, uint16(i), ts, at, payload)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if tr.Beyond != 2 {
		t.Errorf("%d payloads counted beyond Until, want 2", tr.Beyond)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 8000*60 {
		t.Errorf("spool of %d bytes for 1 s of audio limited to a minute", st.Size())
	}
	if tr.Samples() > 8000*60 {
		t.Errorf("%d samples", tr.Samples())
	}
}
