package render

import "github.com/spanrec/spanrec/audio"

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
	if !garbage && (len(pcm) < 32 || audio.RMS(pcm) < noiseRMS || !audio.FlatnessAtLeast(pcm, g.flatness)) {
		g.run = 0
		g.clean = max(g.clean, pos+int64(len(pcm)))
		return false
	}
	if g.run == 0 {
		g.from = g.clean
	}
	g.run++
	return g.run >= noiseRun
}
