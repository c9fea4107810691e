package audio_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/spanrec/spanrec/audio"
)

var rates = []int{8000, 11025, 16000, 22050, 32000, 44100, 48000}

// sine returns n samples of amp·sin(2πft + phase) at rate.
func sine(rate int, f, amp float64, n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(math.Round(amp * math.Sin(2*math.Pi*f*float64(i)/float64(rate)+0.3)))
	}
	return pcm
}

func resampleAll(t testing.TB, in, out int, src []int16) []int16 {
	t.Helper()
	r, err := audio.NewResampler(in, out)
	if err != nil {
		t.Fatalf("NewResampler(%d, %d): %v", in, out, err)
	}
	return r.Flush(r.Process(nil, src))
}

func TestResamplerLength(t *testing.T) {
	for _, in := range rates {
		for _, out := range rates {
			t.Run(fmt.Sprintf("%d-%d", in, out), func(t *testing.T) {
				r, err := audio.NewResampler(in, out)
				if err != nil {
					t.Fatal(err)
				}
				// Several streams through the same Resampler:
				// Flush must reset it.
				for _, n := range []int{0, 1, 2, 7, 160, 1001, 4410} {
					src := sine(in, 440, 10000, n)
					got := len(r.Flush(r.Process(nil, src)))
					want := math.Round(float64(n) * float64(out) / float64(in))
					if math.Abs(float64(got)-want) > 1 {
						t.Errorf("%d input samples: %d output samples, want %v ±1", n, got, want)
					}
				}
			})
		}
	}
}

func TestResamplerNoTimeShift(t *testing.T) {
	for _, in := range rates {
		for _, out := range rates {
			t.Run(fmt.Sprintf("%d-%d", in, out), func(t *testing.T) {
				for _, k := range []int{0, 3, 517, 1950} {
					src := make([]int16, 2000)
					src[k] = 30000
					dst := resampleAll(t, in, out, src)
					peak := 0
					for i, s := range dst {
						if abs(s) > abs(dst[peak]) {
							peak = i
						}
					}
					want := float64(k) * float64(out) / float64(in)
					if math.Abs(float64(peak)-want) > 2 {
						t.Errorf("click at input %d: output peak at %d, want %.1f ±2", k, peak, want)
					}
				}
			})
		}
	}
}

func abs(s int16) int { return max(int(s), -int(s)) }

// fitSine returns the amplitude of the best least-squares sine at f in pcm and
// the RMS of what remains: everything that is not the tone (images, aliases,
// filter noise, quantisation).
func fitSine(pcm []int16, rate int, f float64) (amp, residual float64) {
	w := 2 * math.Pi * f / float64(rate)
	var cc, ss, cs, xc, xs float64
	for i, x := range pcm {
		c, s := math.Cos(w*float64(i)), math.Sin(w*float64(i))
		cc += c * c
		ss += s * s
		cs += c * s
		xc += float64(x) * c
		xs += float64(x) * s
	}
	det := cc*ss - cs*cs
	a := (xc*ss - xs*cs) / det
	b := (xs*cc - xc*cs) / det
	var res float64
	for i, x := range pcm {
		e := float64(x) - a*math.Cos(w*float64(i)) - b*math.Sin(w*float64(i))
		res += e * e
	}
	return math.Hypot(a, b), math.Sqrt(res / float64(len(pcm)))
}

func db(ratio float64) float64 { return 20 * math.Log10(ratio) }

func TestResamplerTones(t *testing.T) {
	tests := []struct {
		in, out int
		pass    []float64 // tones kept: frequency, level and purity checked
		stop    []float64 // tones above the output Nyquist frequency
	}{
		{8000, 16000, []float64{100, 1000, 2500, 3200}, nil},
		{16000, 8000, []float64{100, 1000, 3200}, []float64{4200, 5000, 7900}},
		{44100, 16000, []float64{100, 1000, 5000, 6500}, []float64{8200, 11025, 20000}},
		{48000, 8000, []float64{100, 1000, 3200}, []float64{4200, 6000, 12000, 23000}},
		{11025, 16000, []float64{100, 1000, 3000, 4400}, nil},
	}
	const amp = 16000
	for _, tt := range tests {
		n := tt.in // one second
		// Skip the filter's start-up and tail at both ends.
		cut := tt.out / 20
		for _, f := range tt.pass {
			t.Run(fmt.Sprintf("%d-%d/pass%v", tt.in, tt.out, f), func(t *testing.T) {
				dst := resampleAll(t, tt.in, tt.out, sine(tt.in, f, amp, n))
				mid := dst[cut : len(dst)-cut]
				got, res := fitSine(mid, tt.out, f)
				t.Logf("gain %.3f dB, residual %.1f dB below tone", db(got/amp), -db(res/got))
				if g := db(got / amp); math.Abs(g) > 1 {
					t.Errorf("gain %.2f dB, want within ±1 dB", g)
				}
				// Images, aliases and filter noise must all be
				// well below the tone.
				if s := db(res / got); s > -60 {
					t.Errorf("residual %.1f dB below tone, want ≥ 60 dB", -s)
				}
				// Neighbours of f, and where an unfiltered image
				// (in − f) would land after sampling at out.
				cands := []float64{f, f * 0.8, f * 1.25}
				img := math.Mod(float64(tt.in)-f, float64(tt.out))
				if img > float64(tt.out)/2 {
					img = float64(tt.out) - img
				}
				if img != f {
					cands = append(cands, img)
				}
				df, share := audio.DominantFrequency(mid, tt.out, cands)
				if df != f || share < 0.9 {
					t.Errorf("DominantFrequency = %v Hz (share %.3f), want %v Hz, share ≥ 0.9", df, share, f)
				}
			})
		}
		for _, f := range tt.stop {
			t.Run(fmt.Sprintf("%d-%d/stop%v", tt.in, tt.out, f), func(t *testing.T) {
				src := sine(tt.in, f, amp, n)
				dst := resampleAll(t, tt.in, tt.out, src)
				mid := dst[cut : len(dst)-cut]
				a := db(audio.RMS(mid) / audio.RMS(src))
				t.Logf("attenuation %.1f dB", -a)
				if a > -50 {
					t.Errorf("attenuation %.1f dB, want ≥ 50 dB", -a)
				}
			})
		}
	}
}

func TestResamplerChunked(t *testing.T) {
	pairs := [][2]int{{8000, 16000}, {16000, 8000}, {44100, 16000}, {48000, 8000}, {11025, 16000}, {8000, 44100}}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range pairs {
		t.Run(fmt.Sprintf("%d-%d", p[0], p[1]), func(t *testing.T) {
			src := make([]int16, 30000)
			for i := range src {
				src[i] = int16(rng.IntN(40000) - 20000)
			}
			want := resampleAll(t, p[0], p[1], src)
			r, err := audio.NewResampler(p[0], p[1])
			if err != nil {
				t.Fatal(err)
			}
			var got []int16
			for rest := src; len(rest) > 0; {
				n := min(len(rest), rng.IntN(3000))
				got = r.Process(got, rest[:n])
				rest = rest[n:]
			}
			got = r.Flush(got)
			if !slices.Equal(got, want) {
				t.Errorf("chunked output differs from one-call output (len %d vs %d)", len(got), len(want))
			}
		})
	}
}

func TestResamplerIdentity(t *testing.T) {
	src := sine(16000, 1000, 12000, 999)
	r, err := audio.NewResampler(16000, 16000)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Flush(r.Process(nil, src))
	if !slices.Equal(got, src) {
		t.Error("16000 -> 16000 is not a copy")
	}
	if r.Delay() != 0 {
		t.Errorf("Delay() = %d, want 0", r.Delay())
	}
}

func TestResamplerClipping(t *testing.T) {
	// A full-scale square wave overshoots through a low-pass; the output
	// must saturate, not wrap around.
	src := make([]int16, 8000)
	for i := range src {
		src[i] = math.MaxInt16
		if i/20%2 == 1 {
			src[i] = math.MinInt16
		}
	}
	dst := resampleAll(t, 8000, 16000, src)
	for i := 1; i < len(dst); i++ {
		if d := int(dst[i]) - int(dst[i-1]); d > 40000 || d < -40000 {
			t.Fatalf("jump of %d between samples %d and %d: wrap-around", d, i-1, i)
		}
	}
}

func TestNewResamplerErrors(t *testing.T) {
	for _, tt := range [][2]int{{0, 8000}, {8000, 0}, {-8000, 16000}, {8000, 10_000_000}, {8000, 767999}} {
		if _, err := audio.NewResampler(tt[0], tt[1]); err == nil {
			t.Errorf("NewResampler(%d, %d): no error", tt[0], tt[1])
		}
	}
}

func TestResamplerProcessAllocs(t *testing.T) {
	r, err := audio.NewResampler(8000, 48000)
	if err != nil {
		t.Fatal(err)
	}
	src := sine(8000, 1000, 10000, 4000)
	dst := make([]int16, 0, 6*len(src)+100)
	allocs := testing.AllocsPerRun(20, func() {
		dst = r.Process(dst[:0], src)
	})
	if allocs != 0 {
		t.Errorf("Process allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkResampler8to16(b *testing.B)  { benchResampler(b, 8000, 16000) }
func BenchmarkResampler48to16(b *testing.B) { benchResampler(b, 48000, 16000) }

func benchResampler(b *testing.B, in, out int) {
	r, err := audio.NewResampler(in, out)
	if err != nil {
		b.Fatal(err)
	}
	src := sine(in, 1000, 10000, in/50) // 20 ms frames
	dst := make([]int16, 0, len(src)*out/in+16)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		dst = r.Process(dst[:0], src)
		n += len(src)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "samples/s")
}

func ExampleResampler() {
	r, err := audio.NewResampler(8000, 16000)
	if err != nil {
		panic(err)
	}
	var out []int16
	for range 3 { // three 20 ms frames of 8 kHz audio
		out = r.Process(out, make([]int16, 160))
	}
	out = r.Flush(out)
	fmt.Println(len(out))
	// Output: 960
}
