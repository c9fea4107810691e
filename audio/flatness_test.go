package audio_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/codec/g711"
	"github.com/spanrec/spanrec/pcaptest"
)

// flatnessBars are the bars the noise guard uses (render/noise.go) and
// a few around them.
var flatnessBars = []float64{0, 0.1, 0.3, 0.5, 0.8, 0.95, 1}

// TestFlatnessAtLeast checks that the early-exit test agrees with
// Flatness on speech (the A-law voice of nb6-telephone.pcap, a real call), random
// bytes decoded as G.711 (what encrypted media gives), tones and
// silence, at every bar.
func TestFlatnessAtLeast(t *testing.T) {
	var frames [][]int16
	for _, p := range pcaptest.RTPPayloads(t, "wireshark-samples/nb6-telephone.pcap", 44344, 8) {
		pcm := make([]int16, len(p))
		for i, b := range p {
			pcm[i] = g711.DecodeAlaw(b)
		}
		frames = append(frames, pcm)
	}
	if len(frames) < 100 {
		t.Fatalf("nb6-telephone.pcap: %d A-law payloads from port 44344, want its call's", len(frames))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		pcm := make([]int16, 160)
		for i := range pcm {
			pcm[i] = g711.DecodeUlaw(byte(rng.IntN(256)))
		}
		frames = append(frames, pcm)
	}
	for _, f := range []float64{300, 1000, 2000, 3400} {
		pcm := make([]int16, 160)
		for i := range pcm {
			pcm[i] = int16(12000 * math.Sin(2*math.Pi*f*float64(i)/8000))
		}
		frames = append(frames, pcm)
	}
	frames = append(frames, make([]int16, 160), make([]int16, 20))
	early := 0
	for _, pcm := range frames {
		full := audio.Flatness(pcm)
		for _, bar := range flatnessBars {
			if got, want := audio.FlatnessAtLeast(pcm, bar), full >= bar; got != want {
				t.Fatalf("FlatnessAtLeast(%d samples, %v) = %v, Flatness = %v", len(pcm), bar, got, full)
			}
		}
		if full < 0.8 {
			early++
		}
	}
	if early < 100 {
		t.Errorf("only %d frames below 0.8: the test has too little shaped audio", early)
	}
}

// FuzzFlatnessAtLeast: any samples, any bar: the early exit agrees with
// the full computation and stays in [0, 1].
func FuzzFlatnessAtLeast(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4}, 0.5)
	f.Add(make([]byte, 320), 0.8)
	f.Fuzz(func(t *testing.T, b []byte, bar float64) {
		pcm := make([]int16, len(b)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
		full := audio.Flatness(pcm)
		if full < 0 || full > 1 || math.IsNaN(full) {
			t.Fatalf("Flatness = %v", full)
		}
		if got, want := audio.FlatnessAtLeast(pcm, bar), full >= bar; got != want {
			t.Fatalf("FlatnessAtLeast(%v) = %v, Flatness = %v", bar, got, full)
		}
	})
}

// BenchmarkFlatness compares the full estimate with the early exit at
// the noise guard's G.711 bar on 20 ms of real speech.
func BenchmarkFlatness(b *testing.B) {
	var speech [][]int16
	for _, p := range pcaptest.RTPPayloads(b, "wireshark-samples/nb6-telephone.pcap", 44344, 8) {
		pcm := make([]int16, len(p))
		for i, c := range p {
			pcm[i] = g711.DecodeAlaw(c)
		}
		speech = append(speech, pcm)
	}
	b.Run("full", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			audio.Flatness(speech[i%len(speech)])
		}
	})
	b.Run("atleast=0.8", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			audio.FlatnessAtLeast(speech[i%len(speech)], 0.8)
		}
	})
}

// TestIntegerSums checks that RMS and Flatness, which sum their products
// of samples in an int64, give exactly the float64 sums of their
// definition: on the speech of nb6-telephone.pcap (a real call), random
// G.711 noise, and full-scale samples (the largest products).
func TestIntegerSums(t *testing.T) {
	var frames [][]int16
	for _, p := range pcaptest.RTPPayloads(t, "wireshark-samples/nb6-telephone.pcap", 44344, 8) {
		pcm := make([]int16, len(p))
		for i, b := range p {
			pcm[i] = g711.DecodeAlaw(b)
		}
		frames = append(frames, pcm)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{32, 160, 960, 1 << 16} {
		pcm := make([]int16, n)
		for i := range pcm {
			pcm[i] = g711.DecodeUlaw(byte(rng.IntN(256)))
		}
		full := make([]int16, n)
		for i := range full {
			full[i] = -32768
			if rng.IntN(2) == 0 {
				full[i] = 32767
			}
		}
		frames = append(frames, pcm, full)
	}
	for _, pcm := range frames {
		if got, want := audio.RMS(pcm), refRMS(pcm); got != want {
			t.Fatalf("RMS(%d samples) = %v, float64 sums give %v", len(pcm), got, want)
		}
		if got, want := audio.Flatness(pcm), refFlatness(pcm); got != want {
			t.Fatalf("Flatness(%d samples) = %v, float64 sums give %v", len(pcm), got, want)
		}
	}
}

func refRMS(pcm []int16) float64 {
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

// refFlatness is Flatness's Levinson–Durbin recursion (order 8) over
// autocorrelations summed in float64.
func refFlatness(pcm []int16) float64 {
	const order = 8
	var r [order + 1]float64
	for k := range r {
		for i := k; i < len(pcm); i++ {
			r[k] += float64(pcm[i]) * float64(pcm[i-k])
		}
	}
	if r[0] <= 0 {
		return 1
	}
	var a, prev [order + 1]float64
	e := r[0]
	for i := 1; i <= order; i++ {
		acc := r[i]
		for j := 1; j < i; j++ {
			acc -= a[j] * r[i-j]
		}
		k := acc / e
		if k >= 1 || k <= -1 {
			return 0
		}
		prev = a
		a[i] = k
		for j := 1; j < i; j++ {
			a[j] = prev[j] - k*prev[i-j]
		}
		e *= 1 - k*k
	}
	return e / r[0]
}
