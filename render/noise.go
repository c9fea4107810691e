package render

import (
	"math"

	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/codec/g711"
)

// The noise guard: the last line of defence against recording encrypted
// media (or any payload taken for a codec it is not) as if it were audio.
// Random bytes decoded as G.711 give white noise at about −10 dBFS; as
// G.722, noise nearly as flat and as loud. Speech, music, tones and
// silence are either far from flat (their spectra are shaped) or quiet.
const (
	// noiseEvery: the guard looks at one payload in noiseEvery for the
	// first noiseEarly payloads, enough to catch a stream that is noise
	// from the start within 0.5 s, then at one in noiseLate, to catch a
	// stream that turns to noise (a ZRTP switch whose packets were not
	// captured) within 4 s at an eighth of the cost: Flatness costs about
	// 1.5 µs per 20 ms payload, a quarter of what a plain packet costs the
	// whole import path.
	noiseEvery = 4
	noiseEarly = 256
	noiseLate  = 32
	// noiseFlatness and noiseRMS: a payload is noise when its spectral
	// flatness (audio.Flatness) and its level both reach these. Random
	// bytes give 0.89–0.99 as G.711 at RMS 9,500–12,000, 0.53–0.71 as
	// G.722 at RMS 8,000–12,000. Speech stays well under; music is
	// broader (La Marseillaise, marseillaise-srtp.pcap decrypted: mean
	// 0.27, 6% of loud 20 ms payloads reach 0.45, never more than 8 in a
	// row), hence a higher bar for G.711, whose noise is flatter, and a
	// run of payloads.
	noiseFlatness     = 0.5
	noiseFlatnessG711 = 0.8
	noiseRMS          = 3000
	// noiseRun is how many looked-at payloads in a row must be noise
	// before the track is declared noise (24 packets, 480 ms at 20 ms).
	noiseRun = 6
)

// Track.Add picks the payloads the guard looks at with a mask: both
// strides must be powers of two (the build fails here otherwise).
var (
	_ [0]struct{} = [noiseEvery & (noiseEvery - 1)]struct{}{}
	_ [0]struct{} = [noiseLate & (noiseLate - 1)]struct{}{}
)

// noiseGuard counts consecutive noisy payloads.
type noiseGuard struct {
	flatness float64 // the bar: noiseFlatness or noiseFlatnessG711
	run      int
	clean    int64 // end of the last payload judged clean
	from     int64 // where the noise began: the end of the clean payload before the run
}

// add judges the samples pcm placed at pos and reports whether the run
// of noise is long enough to call the track noise. garbage says that the
// decoder found the payload's bitstream implausible
// (codec.GarbageDetector): noise whatever it sounds like.
func (g *noiseGuard) add(pcm []int16, pos int64, garbage bool) bool {
	noisy := garbage || len(pcm) >= 32 && audio.RMS(pcm) >= noiseRMS && audio.FlatnessAtLeast(pcm, g.flatness)
	return g.judge(pos, len(pcm), noisy)
}

// addLoud is add for n samples at pos already known to be loud enough
// (see loud): only their flatness is left to judge.
func (g *noiseGuard) addLoud(pcm []int16, pos int64) bool {
	return g.judge(pos, len(pcm), audio.FlatnessAtLeast(pcm, g.flatness))
}

// judge counts n samples at pos, noisy or not, and reports whether the
// run of noise is long enough to call the track noise.
func (g *noiseGuard) judge(pos int64, n int, noisy bool) bool {
	if !noisy {
		g.run = 0
		g.clean = max(g.clean, pos+int64(n))
		return false
	}
	if g.run == 0 {
		g.from = g.clean
	}
	g.run++
	return g.run >= noiseRun
}

// loud reports whether the G.711 codes reach the guard's length (32) and
// level (noiseRMS), given sq, the square of each code's sample value
// (see squares). The sum of squares is exact in an int64, as it is in
// audio.RMS's float64 below 2^53: the answer is that of audio.RMS on the
// decoded samples, without decoding them.
func loud(sq *[256]int32, codes []byte) bool {
	n := len(codes)
	if n < 32 {
		return false
	}
	var sum int64
	for _, c := range codes {
		sum += int64(sq[c])
	}
	return math.Sqrt(float64(sum)/float64(n)) >= noiseRMS
}

// The squares of the G.711 codes' sample values, for loud.
var squaresUlaw, squaresAlaw = squareTable(g711.DecodeUlaw), squareTable(g711.DecodeAlaw)

func squareTable(decode func(byte) int16) *[256]int32 {
	var t [256]int32
	for c := range 256 {
		v := int32(decode(byte(c)))
		t[c] = v * v
	}
	return &t
}

// squares returns the table of squares of the G.711 law whose spool key
// (the code of silence, see spoolFormat) is key.
func squares(key byte) *[256]int32 {
	if key == 0xFF {
		return squaresUlaw
	}
	return squaresAlaw
}
