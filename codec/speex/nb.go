package speex

import (
	"errors"
	"math"
)

// Narrowband CELP: 20 ms frames of 160 samples at 8 kHz, four 40-sample
// sub-frames, a 10th-order LPC synthesis filter.
const (
	nbFrame    = 160
	nbSub      = 40
	nbSubs     = 4
	nbOrder    = 10
	minPitch   = 17
	maxPitch   = 144
	excHistory = 2*maxPitch + nbSub + 6            // past excitation kept before the frame
	excBufLen  = nbFrame + 2*maxPitch + nbSub + 12 // whole excitation buffer
	lspMargin  = 0.002
)

var (
	errEnd  = errors.New("speex: end of payload")
	errMode = errors.New("speex: invalid mode")
	errBits = errors.New("speex: frame truncated")
)

// splitCB is a split vector-quantised innovation codebook.
type splitCB struct {
	subvect, nbSubvect int
	table              []int8
	shapeBits          int
	sign               bool
}

// ltpParams is a 3-tap pitch predictor's quantiser.
type ltpParams struct {
	gains     []int8
	gainBits  int
	pitchBits int
}

// nbMode is one of the narrowband sub-modes 1..8.
type nbMode struct {
	lbrPitch     int  // -1: pitch per sub-frame; else margin around the frame's pitch
	forcedPitch  bool // pitch gain once per frame (modes 1 and 8)
	subframeGain int  // bits of per-sub-frame gain correction: 0, 1 or 3
	double       bool // second innovation codebook
	lspLBR       bool // 18-bit LSP quantiser (else 30-bit)
	ltp          *ltpParams
	cb           *splitCB // nil: noise (mode 1)
	combGain     float32  // enhancer's comb filter gain, < 0 for none
	bits         int
}

var (
	cbVLBR = &splitCB{10, 4, exc10x16[:], 4, false}
	cbULBR = &splitCB{20, 2, exc20x32[:], 5, false}
	cbLBR  = &splitCB{10, 4, exc10x32[:], 5, false}
	cbNB   = &splitCB{5, 8, exc5x64[:], 6, false}
	cbMed  = &splitCB{8, 5, exc8x128[:], 7, false}
	cbSB   = &splitCB{5, 8, exc5x256[:], 8, false}

	ltpVLBR = &ltpParams{gainCdbkLBR[:], 5, 0}
	ltpLBR  = &ltpParams{gainCdbkLBR[:], 5, 7}
	ltpNB   = &ltpParams{gainCdbkNB[:], 7, 7}
)

var nbModes = [9]*nbMode{
	nil,
	{lbrPitch: 0, forcedPitch: true, lspLBR: true, combGain: -1, bits: 43},
	{lbrPitch: 0, lspLBR: true, ltp: ltpVLBR, cb: cbVLBR, combGain: 0.6, bits: 119},
	{lbrPitch: -1, subframeGain: 1, lspLBR: true, ltp: ltpLBR, cb: cbLBR, combGain: 0.55, bits: 160},
	{lbrPitch: -1, subframeGain: 1, lspLBR: true, ltp: ltpLBR, cb: cbMed, combGain: 0.45, bits: 220},
	{lbrPitch: -1, subframeGain: 3, ltp: ltpNB, cb: cbNB, combGain: 0.25, bits: 300},
	{lbrPitch: -1, subframeGain: 3, ltp: ltpNB, cb: cbSB, combGain: 0.15, bits: 364},
	{lbrPitch: -1, subframeGain: 3, double: true, ltp: ltpNB, cb: cbNB, combGain: 0.05, bits: 492},
	{lbrPitch: 0, forcedPitch: true, lspLBR: true, cb: cbULBR, combGain: 0.5, bits: 79},
}

// wbBits is the size of a wideband layer per sub-mode (0: none or invalid),
// used to step over layers a decoder does not use.
var wbBits = [8]int{0, 36, 112, 192, 352, 0, 0, 0}

// nbDecoder decodes the narrowband layer.
type nbDecoder struct {
	excBuf   [excBufLen + 8]float32
	oldLSP   [nbOrder]float32
	lsp      [nbOrder]float32
	interp   [nbOrder]float32 // LPC of the last sub-frame synthesised
	memSP    [nbOrder]float32
	memHP    [2]float32
	hpFilt   int
	first    bool
	seed     uint32
	lastPit  int
	lastGain float32
	gainBuf  [3]float32 // pitch gains of the last three frames, for concealment
	gainIdx  int
	lost     int // frames concealed since the last decoded one
	voc      struct {
		m1, mean float32
		offset   int
	}
	piGain   [nbSubs]float32 // A(z) at z=-1 per sub-frame, for the wideband layer
	excRMS   [nbSubs]float32
	innov    [nbFrame]float32 // the scaled innovation, for wideband folding
	dtx      bool
	lastMode int
}

func newNBDecoder(wideband bool) *nbDecoder {
	d := &nbDecoder{first: true, seed: 1000, lastPit: 40, hpFilt: 1}
	if wideband {
		d.hpFilt = 3
	}
	for i := range d.oldLSP {
		d.oldLSP[i] = 0.25*float32(i) + 0.25
	}
	return d
}

// exc returns the excitation of the current frame (index 0 is its first
// sample; negative indices are history via excAt).
func (d *nbDecoder) exc() []float32 { return d.excBuf[excHistory:] }

// readMode reads in-band signalling and wideband layers up to the next
// narrowband sub-mode. errEnd means no more frames.
func readMode(r *bitReader) (int, error) {
	for {
		if r.remaining() < 5 {
			return 0, errEnd
		}
		if r.bits(1) == 1 { // a wideband layer where narrowband is expected: skip it
			for layer := 0; ; layer++ {
				if layer == 2 {
					return 0, errMode
				}
				sub := r.bits(3)
				if sub == 0 || wbBits[sub] == 0 {
					return 0, errMode
				}
				r.skip(wbBits[sub] - 4)
				if r.remaining() < 5 {
					return 0, errEnd
				}
				if r.bits(1) == 0 {
					break
				}
			}
		}
		m := r.bits(4)
		switch {
		case m == 15: // terminator
			return 0, errEnd
		case m == 14: // in-band request: length by code
			code := r.bits(4)
			r.skip(inbandBits(code))
		case m == 13: // user in-band data
			n := r.bits(4)
			r.skip(5 + 8*n)
		case m > 8:
			return 0, errMode
		default:
			if r.overrun {
				return 0, errBits
			}
			return m, nil
		}
		if r.overrun {
			return 0, errBits
		}
	}
}

func inbandBits(code int) int {
	switch {
	case code < 2:
		return 1
	case code < 8:
		return 4
	case code < 10:
		return 8
	case code < 12:
		return 16
	case code < 14:
		return 32
	}
	return 64
}

// decode decodes one narrowband frame of mode m (already read) to out.
func (d *nbDecoder) decode(r *bitReader, m int, out []float32) error {
	// Shift the excitation history by one frame.
	copy(d.excBuf[:], d.excBuf[nbFrame:excBufLen])
	exc := d.exc()
	d.lastMode = m
	mode := nbModes[m]
	if mode == nil {
		d.decodeNull(out)
		return nil
	}
	if d.lspUnquant(r, mode.lspLBR); r.overrun {
		return errBits
	}
	if d.first || d.lost > 0 {
		d.oldLSP = d.lsp
	}
	olPitch := 0
	if mode.lbrPitch != -1 {
		olPitch = minPitch + r.bits(7)
	}
	var olPitchCoef float32
	if mode.forcedPitch {
		olPitchCoef = 0.066667 * float32(r.bits(4))
	}
	qe := r.bits(5)
	olGain := float32(math.Exp(float64(qe) / 3.5))
	if m == 1 {
		d.dtx = r.bits(4) == 15
	} else {
		d.dtx = false
	}

	bestPitch, bestGain := 40, float32(0)
	var pitchAvg float32
	var innov, innov2 [nbSub]float32
	for sub := range nbSubs {
		off := sub * nbSub
		e := exc[off:]
		for i := range nbSub {
			e[i] = 0
		}
		var gain [3]float32
		pitch := 0
		if mode.forcedPitch {
			c := min(olPitchCoef, 0.99)
			for i := range nbSub {
				e[i] = d.excBuf[excHistory+off+i-olPitch] * c
			}
			pitch, gain = olPitch, [3]float32{0, c, 0}
		} else {
			pmin, pmax := minPitch, maxPitch
			if mode.lbrPitch == 0 {
				pmin, pmax = olPitch, olPitch
			} else if mode.lbrPitch > 0 {
				pmin = max(olPitch-mode.lbrPitch+1, minPitch)
				pmax = min(olPitch+mode.lbrPitch, maxPitch)
			}
			_ = pmax
			pitch, gain = d.pitch3Tap(r, mode.ltp, excHistory+off, pmin)
		}
		tmp := gain3To1(gain)
		pitchAvg += tmp
		if (tmp > bestGain && iabs(2*bestPitch-pitch) >= 3 && iabs(3*bestPitch-pitch) >= 4 && iabs(4*bestPitch-pitch) >= 5) ||
			(tmp > 0.6*bestGain && (iabs(bestPitch-2*pitch) < 3 || iabs(bestPitch-3*pitch) < 4 || iabs(bestPitch-4*pitch) < 5)) ||
			(0.67*tmp > bestGain && (iabs(2*bestPitch-pitch) < 3 || iabs(3*bestPitch-pitch) < 4 || iabs(4*bestPitch-pitch) < 5)) {
			bestPitch = pitch
			if tmp > bestGain {
				bestGain = tmp
			}
		}

		ener := olGain
		switch mode.subframeGain {
		case 3:
			ener *= excGainScal3[r.bits(3)]
		case 1:
			ener *= excGainScal1[r.bits(1)]
		}
		for i := range innov {
			innov[i] = 0
		}
		if mode.cb != nil {
			mode.cb.unquant(r, innov[:])
		} else {
			for i := range innov {
				innov[i] = d.rand(1)
			}
		}
		for i := range innov {
			innov[i] *= ener
		}
		if mode.double {
			for i := range innov2 {
				innov2[i] = 0
			}
			mode.cb.unquant(r, innov2[:])
			for i := range innov2 {
				innov[i] += innov2[i] * ener * 0.454545
			}
		}
		for i := range nbSub {
			e[i] += innov[i]
		}
		copy(d.innov[off:off+nbSub], innov[:])
		if m == 1 {
			d.vocoder(e, innov[:], olPitchCoef, olPitch, olGain)
		}
	}
	if r.overrun {
		return errBits
	}
	for sub := range nbSubs {
		d.excRMS[sub] = rms(exc[sub*nbSub : (sub+1)*nbSub])
	}

	// Enhancer: comb filtering at the frame's pitch, one sub-frame late.
	src := d.excBuf[excHistory-nbSub:]
	if mode.combGain > 0 {
		multicomb(d.excBuf[:], excHistory-nbSub, out[:2*nbSub], bestPitch, mode.combGain)
		multicomb(d.excBuf[:], excHistory+nbSub, out[2*nbSub:4*nbSub], bestPitch, mode.combGain)
	} else {
		copy(out[:nbFrame], src[:nbFrame])
	}

	var ilsp [nbOrder]float32
	var ak [nbOrder]float32
	for sub := range nbSubs {
		sp := out[sub*nbSub : (sub+1)*nbSub]
		lspInterpolate(d.oldLSP[:], d.lsp[:], ilsp[:], sub, nbSubs, lspMargin)
		lspToLPC(ilsp[:], ak[:])
		pi := float32(1)
		for i := 0; i < nbOrder; i += 2 {
			pi += ak[i+1] - ak[i]
		}
		d.piGain[sub] = pi
		iir(sp, d.interp[:], d.memSP[:])
		d.interp = ak
	}
	highpass(out[:nbFrame], d.hpFilt, &d.memHP)

	d.oldLSP = d.lsp
	d.first = false
	d.lost = 0
	d.lastPit = bestPitch
	d.lastGain = 0.25 * pitchAvg
	d.pushGain(d.lastGain)
	return nil
}

func (d *nbDecoder) pushGain(g float32) {
	d.gainBuf[d.gainIdx] = g
	d.gainIdx = (d.gainIdx + 1) % len(d.gainBuf)
}

// lostAttenuation scales the pitch gain and noise of the n-th lost frame
// in a row; from the 11th on, concealment is silence.
var lostAttenuation = [10]float32{1, 0.961, 0.852, 0.698, 0.527, 0.368, 0.237, 0.141, 0.077, 0.039}

// decodeLost stands in for a lost frame as the reference decoder does:
// the last excitation repeated at a jittered pitch with the median recent
// pitch gain, plus noise of the energy the pitch does not carry, both
// fading over ten frames, through the last synthesis filter with its
// bandwidth widened.
func (d *nbDecoder) decodeLost(out []float32) {
	var fact float32
	if d.lost < len(lostAttenuation) {
		fact = lostAttenuation[d.lost]
	}
	a, b, c := d.gainBuf[0], d.gainBuf[1], d.gainBuf[2]
	med := max(min(a, b), min(max(a, b), c))
	if med < d.lastGain {
		d.lastGain = med
	}
	pg := fact*min(d.lastGain, 0.95) + 1e-15
	innovGain := rms(d.exc()[:nbFrame])
	noiseGain := innovGain * fact * float32(math.Sqrt(float64(max(1-pg*pg, 0))))
	copy(d.excBuf[:], d.excBuf[nbFrame:excBufLen])
	exc := d.exc()
	pitch := d.lastPit + int(d.rand(float32(1+d.lost)))
	pitch = min(max(pitch, minPitch), maxPitch)
	for i := range nbFrame {
		exc[i] = pg*d.excBuf[excHistory+i-pitch] + d.rand(noiseGain)
	}
	g := float32(1)
	for i := range d.interp {
		g *= 0.98
		d.interp[i] *= g
	}
	copy(out[:nbFrame], d.excBuf[excHistory-nbSub:])
	iir(out[:nbFrame], d.interp[:], d.memSP[:])
	highpass(out[:nbFrame], d.hpFilt, &d.memHP)
	for i := range d.innov {
		d.innov[i] = 0
	}
	for i := range d.excRMS {
		d.excRMS[i] = rms(exc[i*nbSub : (i+1)*nbSub])
	}
	d.first = false
	d.lost++
	d.pushGain(pg)
}

// decodeNull is sub-mode 0: no parameters, noise shaped by the last filter.
func (d *nbDecoder) decodeNull(out []float32) {
	exc := d.exc()[:nbFrame]
	var lpc [nbOrder]float32
	g := float32(1)
	for i := range lpc {
		g *= 0.93
		lpc[i] = d.interp[i] * g
	}
	gain := rms(exc)
	for i := range exc {
		exc[i] = d.rand(gain)
	}
	d.first = true
	copy(out, exc)
	iir(out[:nbFrame], lpc[:], d.memSP[:])
	for i := range d.innov {
		d.innov[i] = 0
	}
	for i := range d.excRMS {
		d.excRMS[i] = rms(exc[i*nbSub : (i+1)*nbSub])
		d.piGain[i] = 1
	}
}

// lspUnquant reads the frame's LSPs (radians).
func (d *nbDecoder) lspUnquant(r *bitReader, lbr bool) {
	for i := range d.lsp {
		d.lsp[i] = 0.25*float32(i) + 0.25
	}
	id := r.bits(6)
	for i := range 10 {
		d.lsp[i] += float32(lspCdbkNB[id*10+i]) / 256
	}
	if lbr {
		id = r.bits(6)
		for i := range 5 {
			d.lsp[i] += float32(lspCdbkLow1[id*5+i]) / 512
		}
		id = r.bits(6)
		for i := range 5 {
			d.lsp[i+5] += float32(lspCdbkHigh1[id*5+i]) / 512
		}
		return
	}
	id = r.bits(6)
	for i := range 5 {
		d.lsp[i] += float32(lspCdbkLow1[id*5+i]) / 512
	}
	id = r.bits(6)
	for i := range 5 {
		d.lsp[i] += float32(lspCdbkLow2[id*5+i]) / 1024
	}
	id = r.bits(6)
	for i := range 5 {
		d.lsp[i+5] += float32(lspCdbkHigh1[id*5+i]) / 512
	}
	id = r.bits(6)
	for i := range 5 {
		d.lsp[i+5] += float32(lspCdbkHigh2[id*5+i]) / 1024
	}
}

// pitch3Tap reads a pitch lag and 3-tap gain and writes the adaptive
// codebook contribution at d.excBuf[pos:pos+nbSub].
func (d *nbDecoder) pitch3Tap(r *bitReader, p *ltpParams, pos, start int) (int, [3]float32) {
	pitch := start + r.bits(p.pitchBits)
	gi := r.bits(p.gainBits)
	var g [3]float32
	for k := range 3 {
		g[k] = 0.015625*float32(p.gains[gi*4+k]) + 0.5
	}
	buf := d.excBuf[:]
	var acc [nbSub]float32
	for i := range 3 {
		pp := pitch + 1 - i
		t1 := min(nbSub, pp)
		for j := 0; j < t1; j++ {
			acc[j] += g[2-i] * buf[pos+j-pp]
		}
		t3 := min(nbSub, pp+pitch)
		for j := t1; j < t3; j++ {
			acc[j] += g[2-i] * buf[pos+j-pp-pitch]
		}
	}
	for j := range acc {
		buf[pos+j] = clampf(acc[j], -32000, 32000)
	}
	return pitch, g
}

// unquant adds the codebook's decoded vectors (scale 1/32) to exc.
func (cb *splitCB) unquant(r *bitReader, exc []float32) {
	var ind, sgn [8]int
	for i := range cb.nbSubvect {
		if cb.sign {
			sgn[i] = r.bits(1)
		}
		ind[i] = r.bits(cb.shapeBits)
	}
	for i := range cb.nbSubvect {
		s := float32(0.03125)
		if sgn[i] != 0 {
			s = -s
		}
		v := cb.table[ind[i]*cb.subvect : (ind[i]+1)*cb.subvect]
		for j, c := range v {
			exc[cb.subvect*i+j] += s * float32(c)
		}
	}
}

// vocoder is mode 1's excitation: a pulse train at the frame's pitch mixed
// with the noise innovation.
func (d *nbDecoder) vocoder(e, innov []float32, coef float32, pitch int, olGain float32) {
	g := 1.5 * (coef - 0.2)
	g = clampf(g, 0, 1)
	for i := range nbSub {
		e[i] = 0
	}
	for d.voc.offset < nbSub {
		if d.voc.offset >= 0 {
			e[d.voc.offset] = float32(math.Sqrt(2*float64(pitch))) * g * olGain
		}
		d.voc.offset += pitch
	}
	d.voc.offset -= nbSub
	for i := range nbSub {
		ei := e[i]
		e[i] = 0.7*e[i] + 0.3*d.voc.m1 + (1-0.85*g)*innov[i] - 0.15*g*d.voc.mean
		d.voc.m1 = ei
		d.voc.mean = 0.8*d.voc.mean + 0.2*e[i]
		e[i] -= d.voc.mean
	}
}

// rand is uniform noise of standard deviation std.
func (d *nbDecoder) rand(std float32) float32 {
	d.seed = 1664525*d.seed + 1013904223
	f := math.Float32frombits(0x3f800000 | (d.seed & 0x007fffff))
	return 3.4642 * std * (f - 1.5)
}

func gain3To1(g [3]float32) float32 {
	t := float32(math.Abs(float64(g[1])))
	if g[0] > 0 {
		t += g[0]
	} else {
		t -= 0.5 * g[0]
	}
	if g[2] > 0 {
		t += g[2]
	} else {
		t -= 0.5 * g[2]
	}
	return t
}

func iabs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// clampf limits x to [lo, hi]; NaN becomes 0.
func clampf(x, lo, hi float32) float32 {
	switch {
	case x >= lo && x <= hi:
		return x
	case x < lo:
		return lo
	case x > hi:
		return hi
	}
	return 0
}

func rms(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v * v
	}
	return float32(math.Sqrt(float64(0.1 + s/float32(len(x)))))
}
