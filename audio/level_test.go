package audio_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spanrec/spanrec/audio"
)

func TestRMS(t *testing.T) {
	square := make([]int16, 800)
	for i := range square {
		square[i] = 20000
		if i%2 == 1 {
			square[i] = -20000
		}
	}
	tests := []struct {
		name string
		pcm  []int16
		want float64
		tol  float64
	}{
		{"empty", nil, 0, 0},
		{"silence", make([]int16, 100), 0, 0},
		{"square", square, 20000, 0},
		{"full-scale negative", []int16{math.MinInt16, math.MinInt16}, 32768, 0},
		{"sine", sine(8000, 1000, 10000, 8000), 10000 / math.Sqrt2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := audio.RMS(tt.pcm); math.Abs(got-tt.want) > tt.tol {
				t.Errorf("RMS = %v, want %v ±%v", got, tt.want, tt.tol)
			}
		})
	}
}

func TestGoertzel(t *testing.T) {
	full := sine(8000, 1000, 32767, 800)
	tests := []struct {
		name   string
		pcm    []int16
		rate   int
		f      float64
		lo, hi float64
	}{
		{"full-scale on bin", full, 8000, 1000, 0.99, 1.01},
		{"full-scale off bin", sine(8000, 1037, 32767, 800), 8000, 1037, 0.99, 1.01},
		{"half-scale", sine(16000, 440, 16384, 1600), 16000, 440, 0.24, 0.26},
		{"half a bin away", full, 8000, 1005, 0.70, 1},
		{"other frequency", full, 8000, 1200, 0, 1e-6},
		{"far frequency", full, 8000, 3000, 0, 1e-8},
		{"silence", make([]int16, 800), 8000, 1000, 0, 0},
		{"empty", nil, 8000, 1000, 0, 0},
		{"bad rate", full, 0, 1000, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := audio.Goertzel(tt.pcm, tt.rate, tt.f); got < tt.lo || got > tt.hi {
				t.Errorf("Goertzel(%v Hz) = %v, want in [%v, %v]", tt.f, got, tt.lo, tt.hi)
			}
		})
	}
}

func TestDominantFrequency(t *testing.T) {
	// DTMF "5": 770 Hz + 1336 Hz (ITU-T Q.23), equal levels.
	dtmf := sine(8000, 770, 10000, 1600)
	for i, s := range sine(8000, 1336, 10000, 1600) {
		dtmf[i] += s
	}
	noisy := sine(8000, 1000, 8000, 1600)
	for i := range noisy {
		noisy[i] += int16((i*7919)%8001 - 4000) // broadband, uncorrelated with the tone
	}
	rows := []float64{697, 770, 852, 941}
	tests := []struct {
		name      string
		pcm       []int16
		cands     []float64
		want      float64
		shareLo   float64
		shareHigh float64
	}{
		{"pure tone", sine(8000, 852, 20000, 1600), rows, 852, 0.97, 1},
		{"dtmf row", dtmf, rows, 770, 0.45, 0.55},
		{"noisy tone", noisy, []float64{500, 1000, 2000}, 1000, 0.3, 0.9},
		{"silence", make([]int16, 1600), rows, 0, 0, 0},
		{"no candidates", dtmf, nil, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, share := audio.DominantFrequency(tt.pcm, 8000, tt.cands)
			if f != tt.want || share < tt.shareLo || share > tt.shareHigh {
				t.Errorf("DominantFrequency = (%v, %.3f), want (%v, [%v, %v])", f, share, tt.want, tt.shareLo, tt.shareHigh)
			}
		})
	}
}

func TestFlatness(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	white := make([]int16, 320)
	for i := range white {
		white[i] = int16(rng.IntN(20000) - 10000)
	}
	if f := audio.Flatness(white); f < 0.8 {
		t.Errorf("white noise: flatness %.3f, want ≥ 0.8", f)
	}
	for _, hz := range []float64{200, 1000, 3400} {
		tone := make([]int16, 320)
		for i := range tone {
			tone[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/8000))
		}
		if f := audio.Flatness(tone); f > 0.05 {
			t.Errorf("%v Hz tone: flatness %.3f, want ≤ 0.05", hz, f)
		}
	}
	if f := audio.Flatness(make([]int16, 320)); f != 1 {
		t.Errorf("silence: flatness %.3f, want 1 (nothing to judge)", f)
	}
}
