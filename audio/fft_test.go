package audio

import (
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"
)

// TestFFT compares FFT with the defining sum of the DFT on random input,
// and checks that a sine lands in its bin.
func TestFFT(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 8, 64, 256} {
		re, im := make([]float64, n), make([]float64, n)
		x := make([]complex128, n)
		for i := range n {
			re[i], im[i] = r.NormFloat64(), r.NormFloat64()
			x[i] = complex(re[i], im[i])
		}
		FFT(re, im)
		for k := range n {
			var want complex128
			for j := range n {
				want += x[j] * cmplx.Exp(complex(0, -2*math.Pi*float64(j*k)/float64(n)))
			}
			if cmplx.Abs(complex(re[k], im[k])-want) > 1e-9*float64(n) {
				t.Fatalf("n=%d bin %d: %v, want %v", n, k, complex(re[k], im[k]), want)
			}
		}
	}
	re, im := make([]float64, 256), make([]float64, 256)
	for i := range re {
		re[i] = math.Sin(2 * math.Pi * 1000 * float64(i) / 8000) // 1 kHz at 8 kHz: bin 32
	}
	FFT(re, im)
	if p := math.Hypot(re[32], im[32]); math.Abs(p-128) > 1e-6 {
		t.Errorf("1 kHz sine: bin 32 magnitude %.3f, want 128", p)
	}
}
