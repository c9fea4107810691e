package g729

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestTables checks the Recommendation's tables against the formulas and
// properties that define them, to catch a mistyped number.
// modes are the decoders the tests run.
var modes = []Mode{ModeG729A, ModeG729}

func TestTables(t *testing.T) {
	near := func(what string, got int16, want float64, tol float64) {
		t.Helper()
		if math.Abs(float64(got)-want) > tol {
			t.Errorf("%s = %d, want %.1f ± %.1f", what, got, want, tol)
		}
	}
	for i, row := range lspcb1 {
		for j := 1; j < order; j++ {
			if row[j] <= row[j-1] {
				t.Errorf("lspcb1[%d] not increasing at %d", i, j)
			}
		}
	}
	for m := range 2 {
		for j := range order {
			s := 0.0
			for k := range maNP {
				s += float64(fg[m][k][j])
			}
			near("fgSum", fgSum[m][j], 32768-s, 8)
			near("fgSumInv", fgSumInv[m][j], 4096*32768/float64(fgSum[m][j]), 4)
			s = 0
			for k := range maNP {
				s += float64(noiseFg[m][k][j])
			}
			near("noiseFgSum", noiseFgSum[m][j], 32768-s, 8)
		}
	}
	for i, v := range cosTable {
		near("cosTable", v, min(32767, 32768*math.Cos(math.Pi*float64(i)/64)), 1)
	}
	for i := range slopeCos {
		// The slope between table points: Q15 per 1/256 of a step, in Q19.
		want := (math.Cos(math.Pi*float64(i+1)/64) - math.Cos(math.Pi*float64(i)/64)) * 32768 * 16
		near("slopeCos", slopeCos[i], want, 1)
	}
	for i, v := range tabPow {
		near("tabPow", v, min(32767, 16384*math.Pow(2, float64(i)/32)), 1)
	}
	for i, v := range tabLog {
		near("tabLog", v, min(32767, 32768*math.Log2(1+float64(i)/32)), 1.5)
	}
	for i, v := range tabSqr {
		near("tabSqr", v, min(32767, 32768/math.Sqrt(1+float64(i)/16)), 1)
	}
	for i, v := range freqPrevReset {
		near("freqPrevReset", v, 8192*math.Pi*float64(i+1)/11, 1)
	}
	var c cngState
	c.reset()
	for i, v := range c.lspSID {
		near("lspSID", v, 32768*math.Cos(math.Pi*float64(i+1)/11), 1)
	}
	for i := range map1 {
		if imap1[map1[i]] != int16(i) {
			t.Errorf("imap1 is not the inverse of map1 at %d", i)
		}
	}
	for i := range map2 {
		if imap2[map2[i]] != int16(i) {
			t.Errorf("imap2 is not the inverse of map2 at %d", i)
		}
	}
	near("pred[0]", pred[0], 0.68*8192, 1)
	near("pred[3]", pred[3], 0.19*8192, 1)
	// Each phase of the interpolation filter has unit gain at DC.
	for frac := range 3 {
		s := 0
		for k := 0; k < 10; k++ {
			s += int(inter3l[frac+3*k]) + int(inter3l[3-frac+3*k])
		}
		if math.Abs(float64(s)/32768-1) > 0.03 {
			t.Errorf("inter3l phase %d: DC gain %.3f", frac, float64(s)/32768)
		}
	}
	// The main-body postfilter's interpolation filters (§4.2.1): tap i of
	// phase phi is the Hamming-windowed sinc at x = L - i - phi/8,
	// window 0.54 + 0.46 cos(pi x / L), in Q15. The Recommendation's
	// values are those rounded, except two whose exact value is within
	// 0.02 of a half (-579.49 and -6414.52), which it rounds the other way.
	checkHup := func(name string, l int, row func(phi, i int) int16) {
		for phi := 1; phi < fUpPst; phi++ {
			for i := range 2 * l {
				x := float64(l-i) - float64(phi)/8
				v := 32768 * math.Sin(math.Pi*x) / (math.Pi * x) * (0.54 + 0.46*math.Cos(math.Pi*x/float64(l)))
				tol := 0.0
				if f := math.Abs(v - math.Trunc(v)); f > 0.48 && f < 0.52 {
					tol = 1
				}
				near(fmt.Sprintf("%s[%d][%d]", name, phi-1, i), row(phi, i), math.Round(v), tol)
			}
		}
	}
	checkHup("hupS", lhUpS, func(phi, i int) int16 { return hupS[phi-1][i] })
	checkHup("hupL", lhUpL, func(phi, i int) int16 { return hupL[phi-1][i] })
	for i := 1; i < len(tabSIDGain); i++ {
		if tabSIDGain[i] <= tabSIDGain[i-1] {
			t.Errorf("tabSIDGain not increasing at %d", i)
		}
	}
}

// TestPayloadLengths checks the RFC 3551 §4.5.6 framing: 10n bytes, or
// 10n+2 with a trailing SID frame; anything else is an error that leaves
// the output alone.
func TestPayloadLengths(t *testing.T) {
	for n := 0; n <= 33; n++ {
		d := NewDecoder()
		pcm, err := d.Decode([]int16{7}, make([]byte, n))
		frames := n / 10
		switch n % 10 {
		case 0:
		case 2:
			frames++
		default:
			if !errors.Is(err, ErrLength) || len(pcm) != 1 {
				t.Errorf("%d bytes: %d samples, err %v; want ErrLength and pcm unchanged", n, len(pcm), err)
			}
			continue
		}
		if err != nil || len(pcm) != 1+frames*FrameSamples {
			t.Errorf("%d bytes: %d samples, err %v; want %d", n, len(pcm), err, 1+frames*FrameSamples)
		}
	}
}

// sidFrame packs Annex B SID parameters into 2 bytes.
func sidFrame(mode, l1, l2, gain int) []byte {
	v := mode<<15 | l1<<10 | l2<<6 | gain<<1
	return []byte{byte(v >> 8), byte(v)}
}

// TestComfortNoise decodes the real call's first second, then SID frames of
// a low and a high level, then missing frames: the comfort noise must
// follow the SID level, stay bounded, and continue (smoothed) when frames
// are missing after a SID frame.
func TestComfortNoise(t *testing.T) {
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) { testComfortNoise(t, m) })
	}
}

func testComfortNoise(t *testing.T, m Mode) {
	payloads := capturePayloads(t)
	d := NewDecoderMode(m)
	var pcm []int16
	for _, p := range payloads[:50] {
		pcm, _ = d.Decode(pcm, p)
	}
	level := func(sid []byte, frames int) float64 {
		var out []int16
		out, err := d.Decode(out, sid)
		if err != nil {
			t.Fatal(err)
		}
		out = d.Conceal(out, (frames-1)*FrameSamples)
		if len(out) != frames*FrameSamples {
			t.Fatalf("%d samples for %d frames", len(out), frames)
		}
		return rms(out[len(out)/2:])
	}
	quiet := level(sidFrame(0, 3, 5, 6), 50)  // gain index 6: 50
	loud := level(sidFrame(1, 20, 9, 24), 50) // gain index 24: 3185
	t.Logf("comfort noise RMS: quiet %.1f, loud %.1f", quiet, loud)
	if !(quiet > 1 && quiet < 200) {
		t.Errorf("quiet comfort noise RMS %.1f", quiet)
	}
	if !(loud > 10*quiet && loud < 12000) {
		t.Errorf("loud comfort noise RMS %.1f (quiet %.1f)", loud, quiet)
	}
	// Speech resumes normally after comfort noise.
	var out []int16
	for _, p := range payloads[50:100] {
		var err error
		if out, err = d.Decode(out, p); err != nil {
			t.Fatal(err)
		}
	}
	if r := rms(out); r < 100 {
		t.Errorf("speech after comfort noise: RMS %.1f", r)
	}
}

// TestConcealment drops packets of the real call: the erased frames are
// filled in with decaying speech-like audio, and the decoder recovers
// (the output after the loss matches the clean decode again).
func TestConcealment(t *testing.T) {
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) { testConcealment(t, m) })
	}
}

func testConcealment(t *testing.T, m Mode) {
	payloads := capturePayloads(t)
	clean := NewDecoderMode(m)
	lossy := NewDecoderMode(m)
	var want, got []int16
	for i, p := range payloads[:200] {
		want, _ = clean.Decode(want, p)
		if i >= 100 && i < 103 {
			got = lossy.Conceal(got, 160)
			continue
		}
		got, _ = lossy.Decode(got, p)
	}
	if len(got) != len(want) {
		t.Fatalf("%d samples with concealment, %d without", len(got), len(want))
	}
	lost := got[100*160 : 103*160]
	before := rms(want[99*160 : 100*160])
	t.Logf("RMS before loss %.0f, concealed %.0f, SNR of the last 40 packets %.1f dB",
		before, rms(lost), snr(want[160*160:], got[160*160:]))
	if r := rms(lost); r > 3*before+100 {
		t.Errorf("concealed RMS %.0f, before %.0f", r, before)
	}
	if s := snr(want[160*160:], got[160*160:]); s < 10 {
		t.Errorf("no recovery after the loss: SNR %.1f dB", s)
	}
}

// FuzzDecode feeds garbage, truncated and wrongly sized payloads: no
// panic, and the output length follows the payload length.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 10))
	f.Add(make([]byte, 22))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0x01})
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, payload []byte) {
		d := NewDecoderMode(Mode(len(payload) % 2)) // both modes
		for range 3 {                               // run the state through the same frames again
			pcm, err := d.Decode(nil, payload)
			n := len(payload) / 10 * FrameSamples
			if len(payload)%10 == 2 {
				n += FrameSamples
			}
			if err != nil {
				if len(payload)%10 == 0 || len(payload)%10 == 2 || len(pcm) != 0 {
					t.Fatalf("%d bytes: err %v, %d samples", len(payload), err, len(pcm))
				}
				continue
			}
			if len(pcm) != n {
				t.Fatalf("%d bytes: %d samples, want %d", len(payload), len(pcm), n)
			}
			pcm = d.Conceal(pcm, 160)
			if len(pcm) != n+160 {
				t.Fatalf("Conceal(160) gave %d samples", len(pcm)-n)
			}
		}
	})
}

// TestFastPathsExact decodes the real call, random frames (loud, often
// saturating) with SID frames and concealment, once with the plain
// multiply-accumulates and once with the saturating operators only: the
// output must be the same sample for sample.
func TestFastPathsExact(t *testing.T) {
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) { testFastPathsExact(t, m) })
	}
}

func testFastPathsExact(t *testing.T, m Mode) {
	payloads := capturePayloads(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		p := make([]byte, 20)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		payloads = append(payloads, p)
	}
	payloads = append(payloads, sidFrame(1, 7, 3, 31), sidFrame(0, 30, 12, 2))
	run := func() []int16 {
		d := NewDecoderMode(m)
		var pcm []int16
		for i, p := range payloads {
			pcm, _ = d.Decode(pcm, p)
			if i%37 == 0 {
				pcm = d.Conceal(pcm, 240)
			}
		}
		return pcm
	}
	fast := run()
	fastPaths = false
	slow := run()
	fastPaths = true
	if len(fast) != len(slow) {
		t.Fatalf("%d samples against %d", len(fast), len(slow))
	}
	for i := range fast {
		if fast[i] != slow[i] {
			t.Fatalf("sample %d of %d: %d with the plain paths, %d without", i, len(fast), fast[i], slow[i])
		}
	}
}

// TestGarbage checks the parity-based plausibility test: the real call
// never trips it, random bytes (encrypted media taken for G.729) soon do.
func TestGarbage(t *testing.T) {
	d := NewDecoder()
	for i, p := range capturePayloads(t) {
		d.Decode(nil, p)
		if d.Garbage() {
			t.Fatalf("real call: Garbage after packet %d", i)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	d = NewDecoder()
	for i := range 32 {
		p := make([]byte, 10)
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		d.Decode(nil, p)
		if i == 31 && !d.Garbage() {
			t.Errorf("32 random frames: not Garbage (parity errors %032b)", d.parity)
		}
	}
}

// TestComfortNoiseLevel checks the Annex B excitation against its
// definition: after a few SID frames of one energy index, the comfort
// noise excitation (Gaussian, pitch-like and 4-pulse parts scaled by the
// solved gain) has an RMS of the SID gain / 8 (tabSIDGain is in Q3).
func TestComfortNoiseLevel(t *testing.T) {
	for _, gi := range []int{10, 16, 22, 28} {
		d := NewDecoder()
		var sum float64
		var n int
		for k := range 40 {
			d.Decode(nil, sidFrame(0, 5, 5, gi))
			if k < 5 {
				continue
			}
			// The frame's excitation, shifted into the past.
			for _, v := range d.exc[pitMax+lInterpol-lFrame : pitMax+lInterpol] {
				sum += float64(v) * float64(v)
				n++
			}
		}
		got := math.Sqrt(sum/float64(n)) / float64(tabSIDGain[gi]) * 8
		if got < 0.9 || got > 1.1 {
			t.Errorf("SID gain index %d: excitation RMS is %.3f of gain/8", gi, got)
		}
	}
}

// TestUntransmittedAfterSpeech covers Annex B's untransmitted frame right
// after speech (the first SID frame never came, signalled as such rather
// than as an erasure, as ITU bitstreams do): the comfort noise takes its
// energy from the last speech frame's excitation, so it is neither silent
// nor louder than the speech.
func TestUntransmittedAfterSpeech(t *testing.T) {
	payloads := capturePayloads(t)
	d := NewDecoder()
	var speech []int16
	for _, p := range payloads[100:150] {
		speech, _ = d.Decode(speech, p)
	}
	var noise []int16
	for range 20 {
		noise = d.frame(noise, ftypNone, nil, nil, false)
	}
	s, n := rms(speech[len(speech)-800:]), rms(noise)
	t.Logf("speech RMS %.0f, comfort noise RMS %.1f", s, n)
	if n < 1 || n > s {
		t.Errorf("comfort noise RMS %.1f after speech of RMS %.0f", n, s)
	}
}
