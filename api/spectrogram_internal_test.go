package api

import (
	"math"
	"os"
	"strings"
	"testing"
)

// TestSpectrum: a 1 kHz sine at −6 dBFS in the left channel of an 8 kHz
// recording, silence in the right, shows as a line at 1 kHz at −6 dB and
// nothing else above the floor but the window's skirt.
func TestSpectrum(t *testing.T) {
	const rate = 8000
	var s []int16
	for i := range 2 * rate {
		s = append(s, int16(math.Round(16384*math.Sin(2*math.Pi*1000*float64(i)/rate))), 0)
	}
	f, err := os.Open(writeWAV(t, rate, 2, s))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sp, err := Spectrum(f, 50)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Columns != 50 || sp.Bins != 128 || sp.MaxHz != 4000 || sp.DurationMS != 2000 || len(sp.Levels) != 2 {
		t.Fatalf("spectrogram %d×%d up to %d Hz, %d ms, %d channels", sp.Columns, sp.Bins, sp.MaxHz, sp.DurationMS, len(sp.Levels))
	}
	db := func(v byte) float64 { return float64(v)*96/255 - 96 }
	for col := range sp.Columns {
		row := sp.Levels[0][col*sp.Bins : (col+1)*sp.Bins]
		// 1 kHz is bin 1000 / (8000/256) = 32.
		if got := db(row[32]); math.Abs(got+6) > 0.5 {
			t.Fatalf("column %d: 1 kHz at %.1f dB, want −6", col, got)
		}
		for k, v := range row {
			if (k < 29 || k > 35) && db(v) > -60 {
				t.Fatalf("column %d: bin %d (%d Hz) at %.1f dB, away from the tone", col, k, k*rate/256, db(v))
			}
		}
		for _, v := range sp.Levels[1][col*sp.Bins : (col+1)*sp.Bins] {
			if v != 0 {
				t.Fatalf("column %d: the silent channel has level %d", col, v)
			}
		}
	}
	// Fewer columns than asked for a short recording; none for one
	// shorter than a window.
	short, _ := os.Open(writeWAV(t, rate, 1, make([]int16, 512)))
	defer short.Close()
	if sp, err := Spectrum(short, 100); err != nil || sp.Columns != 4 {
		t.Errorf("512 frames: %d columns, %v; want 4 (one per half window)", sp.Columns, err)
	}
	tiny, _ := os.Open(writeWAV(t, rate, 1, make([]int16, 100)))
	defer tiny.Close()
	if sp, err := Spectrum(tiny, 100); err != nil || sp.Columns != 0 {
		t.Errorf("100 frames: %d columns, %v; want 0", sp.Columns, err)
	}
}

func FuzzSpectrum(f *testing.F) {
	p := writeWAV(f, 8000, 2, make([]int16, 2000))
	b, _ := os.ReadFile(p)
	f.Add(b, 3)
	f.Add(b[:60], 1)
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"), 10)
	f.Fuzz(func(t *testing.T, data []byte, columns int) {
		if columns < 1 || columns > maxColumns {
			return
		}
		sp, err := Spectrum(strings.NewReader(string(data)), columns)
		if err != nil {
			return
		}
		for _, ch := range sp.Levels {
			if len(ch) != sp.Columns*sp.Bins {
				t.Fatalf("%d levels for %d×%d", len(ch), sp.Columns, sp.Bins)
			}
		}
	})
}
