package speex

import "math"

// Wideband (SB-CELP): the narrowband decoder makes the 0-4 kHz band; a
// second layer codes the 4-8 kHz band at 8 kHz as 8 LSPs and an
// excitation (its own codebook, or the low band's innovation folded up),
// and a QMF filter bank joins both into 16 kHz.
const (
	wbOrder     = 8
	wbLSPMargin = 0.05
	foldGain    = 0.9
	qmfTaps     = 64
)

// wbMode is one of the wideband layer's sub-modes 1..4.
type wbMode struct {
	cb     *splitCB // nil: fold the low band's innovation
	double bool
}

var (
	cbHighLBR = &splitCB{10, 4, hexc10x32[:], 5, false}
	cbHigh    = &splitCB{8, 5, hexc8x128[:], 7, true}
)

var wbModes = [8]*wbMode{nil, {}, {cb: cbHighLBR}, {cb: cbHigh}, {cb: cbHigh, double: true}}

// wbDecoder decodes the high band and joins the bands.
type wbDecoder struct {
	oldLSP, lsp [wbOrder]float32
	interp      [wbOrder]float32
	memSP       [wbOrder]float32
	x1, x2      [qmfTaps/2 - 1]float32   // QMF input history, newest first
	hexc        [nbSub + nbFrame]float32 // excitation: last sub-frame of the previous frame, then this one
	first       bool
	lastEner    float32 // RMS of the last frame's high-band excitation
	seed        uint32
}

func newWBDecoder() *wbDecoder { return &wbDecoder{first: true, seed: 1000} }

// decodeLost stands in for a lost frame's high band: noise at the last
// excitation level, 10 % lower each time, through the last filter.
func (d *wbDecoder) decodeLost(low, out []float32) {
	d.first = true
	d.lastEner *= 0.9
	var high [nbFrame]float32
	for i := range high {
		d.seed = 1664525*d.seed + 1013904223
		f := math.Float32frombits(0x3f800000 | (d.seed & 0x007fffff))
		high[i] = 3.4642 * d.lastEner * (f - 1.5)
	}
	iir(high[:], d.interp[:], d.memSP[:])
	d.qmf(low, high[:], out)
}

// decode reads the wideband layer (if any) after the narrowband frame nb
// decoded to low, and writes 2*nbFrame samples to out.
func (d *wbDecoder) decode(r *bitReader, nb *nbDecoder, low, out []float32) error {
	sub := 0
	if r.remaining() > 0 && r.peek() == 1 {
		r.bits(1)
		sub = r.bits(3)
		if wbModes[sub] == nil && sub != 0 {
			return errMode
		}
	}
	var high [nbFrame]float32
	copy(d.hexc[:nbSub], d.hexc[nbFrame:])
	mode := wbModes[sub]
	if mode == nil {
		d.first = true
		for i := range d.hexc[nbSub:] {
			d.hexc[nbSub+i] = 0
		}
		copy(high[:], d.hexc[:nbFrame])
		iir(high[:], d.interp[:], d.memSP[:])
		d.qmf(low, high[:], out)
		return nil
	}
	for i := range d.lsp {
		d.lsp[i] = 0.3125*float32(i) + 0.75
	}
	id := r.bits(6)
	for i := range wbOrder {
		d.lsp[i] += float32(highLSPCdbk[id*8+i]) / 256
	}
	id = r.bits(6)
	for i := range wbOrder {
		d.lsp[i] += float32(highLSPCdbk2[id*8+i]) / 512
	}
	if d.first {
		d.oldLSP = d.lsp
	}
	var ilsp, ak [wbOrder]float32
	var innov2 [nbSub]float32
	for s := range nbSubs {
		off := s * nbSub
		e := d.hexc[nbSub+off : nbSub+off+nbSub]
		for i := range e {
			e[i] = 0
		}
		lspInterpolate(d.oldLSP[:], d.lsp[:], ilsp[:], s, nbSubs, wbLSPMargin)
		lspToLPC(ilsp[:], ak[:])
		rh := float32(1)
		for i := 0; i < wbOrder; i += 2 {
			rh += ak[i+1] - ak[i]
		}
		ratio := (nb.piGain[s] + 0.01) / (rh + 0.01)
		if mode.cb == nil {
			g := float32(math.Exp(0.125*float64(r.bits(5)-10))) / ratio
			for i := 0; i < nbSub; i += 2 {
				e[i] = foldGain * nb.innov[off+i] * g
				e[i+1] = -foldGain * nb.innov[off+i+1] * g
			}
		} else {
			gc := 0.87360 * gcQuantBound[r.bits(4)]
			scale := gc * nb.excRMS[s] / ratio
			mode.cb.unquant(r, e)
			for i := range e {
				e[i] *= scale
			}
			if mode.double {
				for i := range innov2 {
					innov2[i] = 0
				}
				mode.cb.unquant(r, innov2[:])
				for i := range e {
					e[i] += 0.4 * scale * innov2[i]
				}
			}
		}
		sp := high[off : off+nbSub]
		copy(sp, d.hexc[off:off+nbSub])
		iir(sp, d.interp[:], d.memSP[:])
		d.interp = ak
	}
	if r.overrun {
		return errBits
	}
	d.oldLSP = d.lsp
	d.first = false
	d.lastEner = rms(d.hexc[nbSub:])
	d.qmf(low, high[:], out)
	return nil
}

// qmfEven and qmfOdd are the two phases of 2·h0, oldest input first.
var qmfEven, qmfOdd = func() (e, o [qmfTaps / 2]float32) {
	for k := range qmfTaps / 2 {
		e[qmfTaps/2-1-k] = 2 * qmfH0[2*k]
		o[qmfTaps/2-1-k] = 2 * qmfH0[2*k+1]
	}
	return
}()

// qmf is the synthesis filter bank: out[2n] and out[2n+1] from low[n] and
// high[n] through the even and odd phases of 2·h0.
func (d *wbDecoder) qmf(low, high, out []float32) {
	const m2 = qmfTaps / 2
	var a, b [nbFrame + m2 - 1]float32 // history then frame, oldest first
	for i := range m2 - 1 {
		a[i] = d.x1[m2-2-i]
		b[i] = d.x2[m2-2-i]
	}
	copy(a[m2-1:], low)
	copy(b[m2-1:], high)
	out = out[:2*nbFrame]
	for n := range nbFrame {
		var y0, y1 float32
		sa, sb := a[n:n+m2], b[n:n+m2]
		for j := range sa {
			s, t := sa[j], sb[j]
			y0 += qmfEven[j] * (s - t)
			y1 += qmfOdd[j] * (s + t)
		}
		out[2*n] = y0
		out[2*n+1] = y1
	}
	for i := range m2 - 1 {
		d.x1[i] = low[nbFrame-1-i]
		d.x2[i] = high[nbFrame-1-i]
	}
}
