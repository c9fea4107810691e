package audio

import (
	"fmt"
	"math"
)

// Filter design of the resampler's low-pass, relative to the lower of the two
// rates (fmin): the pass band (flat to 0.001 dB) ends at 0.41·fmin, the
// stop band starts at the lower Nyquist frequency 0.5·fmin, and the Kaiser
// window is sized for stopAtten dB of stop-band attenuation (Kaiser's design
// formulas, Oppenheim & Schafer, Discrete-Time Signal Processing, §7.5.3).
// At 8 kHz that is flat to 3280 Hz, −0.2 dB at 3400 Hz (the telephone band
// edge), −6 dB at 3640 Hz and ≥ 80 dB down from 4000 Hz.
const (
	passEdge  = 0.41
	stopEdge  = 0.5
	stopAtten = 80.0 // dB

	// maxCoefs bounds the polyphase table (L phases × 2H taps) so that an
	// unusual rate pair (large L after reduction) cannot ask for an
	// unreasonable amount of memory.
	maxCoefs = 1 << 21
	// maxRate bounds the accepted sample rates.
	maxRate = 768000
	// chunk is how many input samples Process converts per step; it bounds
	// the history buffer so that no allocation happens after construction.
	chunk = 1024
)

// Resampler converts mono 16-bit PCM from one sample rate to another, as a
// stream: it keeps the filter history between calls to Process, so a signal
// may be fed in chunks of any size and the output is the same as for one call.
//
// It is a polyphase windowed-sinc (Kaiser) interpolator for the rational ratio
// out/in reduced to lowest terms L/M: each output sample n sits at input time
// n·M/L and is the dot product of the 2H input samples around that time with
// one of L precomputed phases of the low-pass filter. The filter is centred on
// the output instant, so there is no time shift: a click at input sample k
// appears at output sample k·out/in. Output samples that need input beyond
// what has been seen are held back until more input arrives or Flush is
// called.
//
// After Process over a whole stream and Flush, the number of output samples is
// round(inputSamples·out/in). Flush ends the stream and resets the Resampler,
// which may then be used for a new stream.
//
// A Resampler is not safe for concurrent use; give each stream its own.
type Resampler struct {
	inRate, outRate int
	l, m            int64     // out/in = l/m, in lowest terms
	taps            int       // 2H taps per phase
	coefs           []float32 // l phases × taps, phase p at [p*taps:(p+1)*taps]

	buf  []float32 // input history; buf[0] is input sample number base
	base int64
	in   int64 // input samples received in this stream
	out  int64 // output samples produced in this stream
	i0   int64 // output sample out sits at input time i0 + p/l
	p    int64
}

// NewResampler returns a Resampler from inRate to outRate (both in Hz). Any
// pair of the usual rates (8000, 11025, 16000, 22050, 32000, 44100, 48000 and
// others up to 768 kHz) is accepted; when inRate == outRate the Resampler
// copies its input. It returns an error for non-positive or too-high rates,
// and for ratios whose reduced form would need a filter table of more than
// two million coefficients.
func NewResampler(inRate, outRate int) (*Resampler, error) {
	if inRate <= 0 || outRate <= 0 || inRate > maxRate || outRate > maxRate {
		return nil, fmt.Errorf("audio: unsupported resampling %d Hz -> %d Hz", inRate, outRate)
	}
	g := gcd(inRate, outRate)
	r := &Resampler{
		inRate:  inRate,
		outRate: outRate,
		l:       int64(outRate / g),
		m:       int64(inRate / g),
	}
	if inRate == outRate {
		return r, nil
	}
	fmin := float64(min(inRate, outRate))
	in := float64(inRate)
	// Kaiser: length N ≈ (A − 7.95) / (2.285·Δω) samples at the input
	// rate, with Δω the transition width in radians per input sample.
	dw := 2 * math.Pi * (stopEdge - passEdge) * fmin / in
	h := int(math.Ceil((stopAtten - 7.95) / (2.285 * dw) / 2))
	r.taps = 2 * h
	if int64(r.taps)*r.l > maxCoefs {
		return nil, fmt.Errorf("audio: resampling %d Hz -> %d Hz needs too large a filter (%d phases)", inRate, outRate, r.l)
	}
	beta := 0.1102 * (stopAtten - 8.7)
	fc := (passEdge + stopEdge) / 2 * fmin / in // cut-off, cycles per input sample
	r.coefs = make([]float32, int(r.l)*r.taps)
	ph := make([]float64, r.taps)
	for p := range r.l {
		sum := 0.0
		for k := range ph {
			// Distance in input samples from the output instant
			// (i0 + p/l) to input sample i0 + k − h + 1.
			tau := float64(p)/float64(r.l) - float64(k-h+1)
			ph[k] = 2 * fc * sinc(2*fc*tau) * kaiser(tau/float64(h), beta)
			sum += ph[k]
		}
		// Normalising each phase to unit DC gain keeps phase-dependent
		// gain ripple (heard as a faint tone at the phase rate) out of
		// the output.
		row := r.coefs[int(p)*r.taps : int(p+1)*r.taps]
		for k, c := range ph {
			row[k] = float32(c / sum)
		}
	}
	r.buf = make([]float32, 0, r.taps+chunk)
	r.reset()
	return r, nil
}

// InRate returns the input sample rate in Hz.
func (r *Resampler) InRate() int { return r.inRate }

// OutRate returns the output sample rate in Hz.
func (r *Resampler) OutRate() int { return r.outRate }

// Delay returns how many input samples the Resampler needs beyond an output
// instant before it can compute that output sample: the look-ahead that Flush
// releases. It is 0 when the rates are equal.
func (r *Resampler) Delay() int { return r.taps / 2 }

func (r *Resampler) reset() {
	// The first output needs inputs −h+1 … h; the ones before the stream
	// are silence.
	h := r.taps / 2
	r.buf = r.buf[:h-1]
	clear(r.buf)
	r.base = -int64(h - 1)
	r.in, r.out, r.i0, r.p = 0, 0, 0, 0
}

// Process converts src and appends the output samples to dst, returning the
// extended slice. Some output may be held back until more input arrives (see
// Delay). src is not retained; no allocation happens beyond growing dst.
func (r *Resampler) Process(dst, src []int16) []int16 {
	if r.coefs == nil {
		return append(dst, src...)
	}
	for len(src) > 0 {
		n := min(len(src), chunk)
		for _, s := range src[:n] {
			r.buf = append(r.buf, float32(s))
		}
		r.in += int64(n)
		src = src[n:]
		dst = r.produce(dst, math.MaxInt64)
		r.compact()
	}
	return dst
}

// Flush appends to dst the output samples held back for the filter's
// look-ahead, computed as if the input were followed by silence, so that the
// stream's total output is round(inputSamples·out/in) samples. It then resets
// the Resampler for a new stream.
func (r *Resampler) Flush(dst []int16) []int16 {
	if r.coefs == nil {
		return dst
	}
	target := (2*r.in*r.l + r.m) / (2 * r.m) // round half up
	for r.out < target {
		room := cap(r.buf) - len(r.buf)
		r.buf = r.buf[:len(r.buf)+room]
		clear(r.buf[len(r.buf)-room:])
		dst = r.produce(dst, target)
		r.compact()
	}
	r.reset()
	return dst
}

// produce computes every output sample whose input window is in buf, up to
// (excluding) output number limit.
func (r *Resampler) produce(dst []int16, limit int64) []int16 {
	h := int64(r.taps / 2)
	end := r.base + int64(len(r.buf)) // one past the last input held
	for r.out < limit && r.i0+h < end {
		start := int(r.i0 - h + 1 - r.base)
		x := r.buf[start : start+r.taps]
		c := r.coefs[int(r.p)*r.taps : int(r.p+1)*r.taps]
		dst = append(dst, toInt16(dot(c, x)))
		r.out++
		r.p += r.m
		r.i0 += r.p / r.l
		r.p %= r.l
	}
	return dst
}

// compact drops the history no later output needs.
func (r *Resampler) compact() {
	off := r.i0 - int64(r.taps/2) + 1 - r.base
	off = min(off, int64(len(r.buf)))
	if off <= 0 {
		return
	}
	n := copy(r.buf, r.buf[off:])
	r.buf = r.buf[:n]
	r.base += off
}

func dot(c, x []float32) float32 {
	x = x[:len(c)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(c); i += 4 {
		s0 += c[i] * x[i]
		s1 += c[i+1] * x[i+1]
		s2 += c[i+2] * x[i+2]
		s3 += c[i+3] * x[i+3]
	}
	for ; i < len(c); i++ {
		s0 += c[i] * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func toInt16(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// kaiser is the Kaiser window I0(β·√(1−x²)) / I0(β) on [−1, 1].
func kaiser(x, beta float64) float64 {
	if x <= -1 || x >= 1 {
		return 0
	}
	return besselI0(beta*math.Sqrt(1-x*x)) / besselI0(beta)
}

// besselI0 is the modified Bessel function of the first kind, order 0, by its
// power series Σ ((x/2)^k / k!)², which converges quickly for the β ≤ 10 used
// here.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 200; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < sum*1e-17 {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
