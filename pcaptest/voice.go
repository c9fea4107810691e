package pcaptest

import (
	"math"
	"math/rand/v2"

	"github.com/spanrec/spanrec"
)

// Speech-like audio for Endpoint.Voice: a source-filter synthesis of vowels
// (a glottal pulse train through formant resonators), in syllables of about
// a fifth of a second, in turns of speech and pauses. It is not speech and
// says nothing, but a recording of it looks and sounds like a conversation:
// talk spurts with syllable-rate amplitude modulation, silence between them,
// and formant energy where voices have it.
//
// The two parties take turns: the caller speaks in the even slots of a
// fixed schedule, the callee in the odd ones, so that each party's silence
// is where the other talks. The schedule and the vowels come from fixed
// seeds: the output is the same on every run.

// voiceLoop is the length of the loop of speech a party sends; it starts
// and ends in a pause, so the loop's seam is silent.
const voiceLoop = 24.0 // seconds

// Voice levels: peaks near −7 dBFS, like a loud talker on a handset.
const voicePeak = 14000

// vowel holds the first three formant frequencies of a vowel (Hz), adult
// male averages after Peterson and Barney (1952); a higher voice scales
// them up a little.
type vowel struct{ f1, f2, f3 float64 }

var vowels = [...]vowel{
	{730, 1090, 2440}, // /a/ as in "father"
	{270, 2290, 3010}, // /i/ as in "beet"
	{300, 870, 2240},  // /u/ as in "boot"
	{530, 1840, 2480}, // /e/ as in "bet"
	{570, 840, 2410},  // /o/ as in "bought"
	{660, 1720, 2410}, // /æ/ as in "bat"
}

// voiceTurns returns the schedule of turns: slot boundaries in seconds,
// from 0 to voiceLoop. Slots are 1.6 to 2.8 s long; the last one stretches
// to the end of the loop.
func voiceTurns() []float64 {
	r := rand.New(rand.NewPCG(0x5ba2, 0x7e1c))
	b := []float64{0}
	for t := 0.0; ; {
		t += 1.6 + 0.1*float64(r.IntN(13))
		if t > voiceLoop-1.6 {
			break
		}
		b = append(b, t)
	}
	return append(b, voiceLoop)
}

// resonator is a second-order digital resonator (a formant): centre
// frequency and bandwidth in Hz, unity gain at 0 Hz.
type resonator struct {
	a, b, c float64
	y1, y2  float64
}

func (r *resonator) set(f, bw, rate float64) {
	t := 1 / rate
	r.c = -math.Exp(-2 * math.Pi * bw * t)
	r.b = 2 * math.Exp(-math.Pi*bw*t) * math.Cos(2*math.Pi*f*t)
	r.a = 1 - r.b - r.c
}

func (r *resonator) step(x float64) float64 {
	y := r.a*x + r.b*r.y1 + r.c*r.y2
	r.y2, r.y1 = r.y1, y
	return y
}

// voiceTable returns voiceLoop seconds of the speech-like signal a party
// with fundamental frequency f0 (Hz) sends on side, sampled at rate Hz.
func voiceTable(f0, rate int, side spanrec.Side) []int16 {
	fs := float64(rate)
	n := int(voiceLoop * fs)
	out := make([]float64, n)
	turns := voiceTurns()
	first := 0
	if side == spanrec.CalleeSide {
		first = 1
	}
	seed := uint64(f0)
	if side == spanrec.CalleeSide {
		seed |= 1 << 32
	}
	r := rand.New(rand.NewPCG(seed, 0x70ca1))
	// Formants scale with the voice: a 200 Hz voice's are ~12 % higher
	// than a 110 Hz voice's (shorter vocal tract).
	scale := 1 + 0.12*math.Max(0, math.Min(1, (float64(f0)-110)/90))
	var f1, f2, f3 resonator
	// The glottal source falls at −12 dB/octave and the lips' radiation
	// lifts it by 6: one one-pole low-pass gives the net −6 dB/octave.
	var glottis float64
	prev := vowels[0]
	phase := 0.0
	tilt := 1 - math.Exp(-2*math.Pi*150/fs) // the low-pass's corner: 150 Hz
	block := int(fs / 200)                  // formants and pitch move every 5 ms

	for k := first; k+1 < len(turns); k += 2 {
		// Speech fills the slot but for a pause after it (and a short
		// breath before it): 0.35 to 0.65 s of silence per turn.
		from := turns[k] + 0.1 + 0.05*float64(r.IntN(3))
		to := turns[k+1] - 0.25 - 0.05*float64(r.IntN(4))
		for t := from; t < to-0.12; {
			syl := 0.16 + 0.02*float64(r.IntN(6)) // syllable, 160 to 260 ms
			if t+syl > to {
				syl = to - t
			}
			v := vowels[r.IntN(len(vowels))]
			accent := 1 + 0.06*float64(r.IntN(3)) // a stressed syllable is higher
			loud := 0.55 + 0.15*float64(r.IntN(4))
			s0, s1 := int(t*fs), min(n, int((t+syl)*fs))
			for i := s0; i < s1; i++ {
				u := float64(i-s0) / fs // time into the syllable
				if (i-s0)%block == 0 {
					// Glide from the last vowel over the first 50 ms;
					// pitch falls over the turn and after the accent.
					g := math.Min(1, u/0.05)
					lerp := func(a, b float64) float64 { return (a + (b-a)*g) * scale }
					f1.set(lerp(prev.f1, v.f1), 90, fs)
					f2.set(lerp(prev.f2, v.f2), 110, fs)
					f3.set(math.Min(lerp(prev.f3, v.f3), 0.45*fs), 170, fs)
				}
				turn := (float64(i)/fs - from) / (to - from)
				f := float64(f0) * (1.08 - 0.18*turn) * (1 + (accent-1)*math.Exp(-u/0.08))
				phase += f / fs
				x := 0.0
				if phase >= 1 {
					phase -= math.Floor(phase)
					x = 1
				}
				glottis += tilt * (x - glottis)
				y := f3.step(f2.step(f1.step(glottis)))
				// Syllable envelope: 30 ms rise, 60 ms fall, a closure
				// (a consonant's near silence) of 40 ms at the end.
				env := 1.0
				switch rest := syl - u; {
				case u < 0.03:
					env = 0.5 - 0.5*math.Cos(math.Pi*u/0.03)
				case rest < 0.04:
					env = 0.03
				case rest < 0.10:
					env = 0.03 + 0.97*(0.5-0.5*math.Cos(math.Pi*(rest-0.04)/0.06))
				}
				out[i] = y * env * loud
			}
			prev = v
			t += syl
		}
		prev = vowels[0]
	}
	peak := 0.0
	for _, v := range out {
		peak = math.Max(peak, math.Abs(v))
	}
	pcm := make([]int16, n)
	if peak == 0 {
		return pcm
	}
	for i, v := range out {
		pcm[i] = int16(math.Round(v / peak * voicePeak))
	}
	return pcm
}
