package audio

import (
	"math"
	"math/bits"
)

// FFT transforms re, im (the real and imaginary parts of len(re) samples,
// a power of two) in place into their discrete Fourier transform, with the
// iterative radix-2 Cooley–Tukey algorithm. It panics if the lengths differ
// or are not a power of two.
func FFT(re, im []float64) {
	n := len(re)
	if len(im) != n || n&(n-1) != 0 {
		panic("audio: FFT length is not a power of two")
	}
	if n < 2 {
		return
	}
	shift := 64 - bits.TrailingZeros(uint(n))
	for i := range n {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if j > i {
			re[i], re[j] = re[j], re[i]
			im[i], im[j] = im[j], im[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half := size / 2
		step := -2 * math.Pi / float64(size)
		for k := range half {
			wr, wi := math.Cos(step*float64(k)), math.Sin(step*float64(k))
			for start := 0; start < n; start += size {
				a, b := start+k, start+k+half
				tr := wr*re[b] - wi*im[b]
				ti := wr*im[b] + wi*re[b]
				re[b], im[b] = re[a]-tr, im[a]-ti
				re[a] += tr
				im[a] += ti
			}
		}
	}
}
