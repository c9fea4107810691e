package ilbc

import "math"

// The enhancer's constants (RFC 3951 §4.6).
const (
	enhBlockL     = 80 // block length
	enhBlockLHalf = enhBlockL / 2
	enhHL         = 3 // 2*enhHL+1 blocks in the smoothing sequence
	enhSlop       = 2 // search around the estimated pitch period
	enhOverhang   = 2
	enhUps        = 4 // upsampling rate
	enhFL         = 3 // 2*enhFL+1 taps a polyphase filter
	enhVectL      = enhBlockL + 2*enhFL
	enhCorrDim    = 2*enhSlop + 1
	enhNBlocks    = blockMax / enhBlockL
	enhNBlocksTot = 8
	enhBufL       = enhNBlocksTot * enhBlockL
	enhAlpha0     = 0.05
)

// lpFilt is the anti-aliasing filter before the pitch search's
// decimation by 2.
var lpFilt = [7]float32{-0.066650, 0.125000, 0.316650, 0.414063,
	0.316650, 0.125000, -0.066650}

// polyphaser is the 4x upsampler, 4 phases of 7 taps.
var polyphaser = [enhUps * (2*enhFL + 1)]float32{
	0.000000, 0.000000, 0.000000, 1.000000, 0.000000, 0.000000, 0.000000,
	0.015625, -0.076904, 0.288330, 0.862061, -0.106445, 0.018799, -0.015625,
	0.023682, -0.124268, 0.601563, 0.601563, -0.124268, 0.023682, -0.023682,
	0.018799, -0.106445, 0.862061, 0.288330, -0.076904, 0.015625, -0.018799,
}

var enhPlocs = [enhNBlocksTot]float32{40, 120, 200, 280, 360, 440, 520, 600}

// enhance1 runs the enhancer on the frame's excitation in, writing the
// enhanced excitation, half a frame late, to out; it returns the pitch
// lag for a later concealment.
func (d *Decoder) enhance1(out, in []float32) int {
	bl := d.blockl
	buf := d.enhBuf[:]
	period := d.enhPeriod[:]
	copy(buf, buf[bl:])
	copy(buf[enhBufL-bl:], in)

	plcBlockL, ioff := enhBlockL, 0
	if d.mode == 20 {
		plcBlockL, ioff = 40, 1
	}
	i := 3 - ioff
	copy(period, period[i:])

	// Pitch estimate per block, on the signal decimated by 2.
	var lpState [6]float32
	copy(lpState[:], buf[(5+ioff)*enhBlockL-126:])
	var down [(enhNBlocks*enhBlockL + 120) / 2]float32
	inLen := enhNBlocks*enhBlockL + 120 - ioff*enhBlockL
	downSample(buf[(5+ioff)*enhBlockL-120:(5+ioff)*enhBlockL-120+inLen], lpState[:], down[:])
	lag := 10
	for b := 0; b < enhNBlocks-ioff; b++ {
		t := down[60+b*enhBlockLHalf:]
		lag = 10
		maxcc := xCorrCoef(t[:enhBlockLHalf], down[60+b*enhBlockLHalf-lag:])
		for l := 11; l < 60; l++ {
			if cc := xCorrCoef(t[:enhBlockLHalf], down[60+b*enhBlockLHalf-l:]); cc > maxcc {
				maxcc, lag = cc, l
			}
		}
		period[b+5+ioff] = float32(2 * lag)
	}

	if d.prevEnhPL {
		// The previous frame was concealed: mix its tail with a backward
		// prediction from this frame.
		inlag := int(period[5+ioff])
		lag = inlag - 1
		maxcc := xCorrCoef(in[:plcBlockL], in[lag:])
		for l := inlag; l <= inlag+1; l++ {
			if cc := xCorrCoef(in[:plcBlockL], in[l:]); cc > maxcc {
				maxcc, lag = cc, l
			}
		}
		period[5+ioff-1] = float32(lag)
		var pred [enhBlockL]float32
		k := plcBlockL - 1
		for s := min(lag, plcBlockL); s > 0; s-- {
			pred[k] = in[lag-1-(min(lag, plcBlockL)-s)]
			k--
		}
		for s, j := plcBlockL-1-lag, enhBufL-1-bl; s >= 0; s, j = s-1, j-1 {
			pred[k] = buf[j]
			k--
		}
		var e1, e2 float64
		for i := 0; i < plcBlockL; i++ {
			v := float64(buf[enhBufL-1-bl-i])
			e2 += v * v
			e1 += float64(pred[i]) * float64(pred[i])
		}
		e1 = math.Sqrt(e1 / float64(plcBlockL))
		e2 = math.Sqrt(e2 / float64(plcBlockL))
		if e1 > 2*e2 && e1 > 0 {
			g := float32(2 * e2 / e1)
			for i := 0; i < plcBlockL-10; i++ {
				pred[i] *= g
			}
			for i := plcBlockL - 10; i < plcBlockL; i++ {
				pred[i] *= float32(i-plcBlockL+10)*(1-g)/10 + g
			}
		}
		for i := 0; i < plcBlockL; i++ {
			w := float32(i+1) / float32(plcBlockL+1)
			j := enhBufL - 1 - bl - i
			buf[j] = w*buf[j] + (1-w)*pred[plcBlockL-1-i]
		}
	}

	if d.mode == 20 {
		for b := range 2 {
			enhanceBlock(out[b*enhBlockL:(b+1)*enhBlockL], buf, (5+b)*enhBlockL+40, period)
		}
	} else {
		for b := range 3 {
			enhanceBlock(out[b*enhBlockL:(b+1)*enhBlockL], buf, (4+b)*enhBlockL, period)
		}
	}
	return 2 * lag
}

// downSample low-passes in with lpFilt and keeps every other sample,
// starting at the filter's delay of 3; state holds the 6 samples before
// in.
func downSample(in, state, out []float32) {
	const order, delay = 7, 3
	n := 0
	for i := delay; i < len(in); i += 2 {
		var o float32
		for j := 0; j < order; j++ {
			if i-j >= 0 {
				o += lpFilt[j] * in[i-j]
			} else {
				o += lpFilt[j] * state[order-2-(j-i-1)]
			}
		}
		if n < len(out) {
			out[n] = o
		}
		n++
	}
	// the last sample, with zeros for the future
	for i := len(in) + 2; i < len(in)+delay; i += 2 {
		var o float32
		for j := 0; j < order-(i-len(in)); j++ {
			o += lpFilt[i-len(in)+j] * in[len(in)-1-j]
		}
		if n < len(out) {
			out[n] = o
		}
		n++
	}
}

// enhanceBlock smooths the 80-sample block at start of buf with the
// pitch-synchronous blocks around it.
func enhanceBlock(out, buf []float32, start int, period []float32) {
	var sseq [(2*enhHL + 1) * enhBlockL]float32
	getSSeq(sseq[:], buf, start, period)
	smooth(out, sseq[:])
}

// nearest returns the index of the element of a closest to v.
func nearest(a []float32, v float32) int {
	best, bd := 0, float32(math.MaxFloat32)
	for i, x := range a {
		if dd := (x - v) * (x - v); dd < bd {
			best, bd = i, dd
		}
	}
	return best
}

// getSSeq collects the block at start and, one pitch period apart
// each, enhHL blocks before and after it, each aligned to a quarter
// sample by refine.
func getSSeq(sseq, buf []float32, start int, period []float32) {
	var lagBlock [2*enhHL + 1]int
	var blockStart [2*enhHL + 1]float32
	end := start + enhBlockL - 1
	lagBlock[enhHL] = nearest(enhPlocs[:], 0.5*float32(start+end))
	blockStart[enhHL] = float32(start)
	copy(sseq[enhHL*enhBlockL:(enhHL+1)*enhBlockL], buf[start:])
	for q := enhHL - 1; q >= 0; q-- {
		per := period[lagBlock[q+1]]
		blockStart[q] = blockStart[q+1] - per
		lagBlock[q] = nearest(enhPlocs[:], blockStart[q]+enhBlockLHalf-per)
		seg := sseq[q*enhBlockL : (q+1)*enhBlockL]
		if blockStart[q]-enhOverhang >= 0 {
			blockStart[q] = refine(seg, buf, start, blockStart[q])
		} else {
			clear(seg)
		}
	}
	var plocs2 [enhNBlocksTot]float32
	for i := range plocs2 {
		plocs2[i] = enhPlocs[i] - period[i]
	}
	for q := enhHL + 1; q <= 2*enhHL; q++ {
		lagBlock[q] = nearest(plocs2[:], blockStart[q-1]+enhBlockLHalf)
		blockStart[q] = blockStart[q-1] + period[lagBlock[q]]
		seg := sseq[q*enhBlockL : (q+1)*enhBlockL]
		if blockStart[q]+enhBlockL+enhOverhang < float32(len(buf)) {
			blockStart[q] = refine(seg, buf, start, blockStart[q])
		} else {
			clear(seg)
		}
	}
}

// corr writes the correlations of b against a at each offset of a.
func corr(out, a, b []float32) {
	for i := 0; i+len(b) <= len(a) && i < len(out); i++ {
		var s float32
		for j, v := range b {
			s += a[i+j] * v
		}
		out[i] = s
	}
}

// upsample interpolates x by enhUps with the polyphase filters.
func upsample(out, x []float32) {
	hfl := enhFL
	fl := 2*hfl + 1
	var poly [enhUps][]float32
	if fl > len(x) {
		h2 := len(x) / 2
		for j := range poly {
			poly[j] = polyphaser[j*fl+hfl-h2 : (j+1)*fl]
		}
		hfl = h2
		fl = 2*hfl + 1
	} else {
		for j := range poly {
			poly[j] = polyphaser[j*fl : (j+1)*fl]
		}
	}
	n := 0
	emit := func(v float32) {
		if n < len(out) {
			out[n] = v
		}
		n++
	}
	for i := hfl; i < fl; i++ {
		for j := range enhUps {
			var s float32
			for k := 0; k <= i; k++ {
				if i-k < len(x) { // x shorter than the filter
					s += x[i-k] * poly[j][k]
				}
			}
			emit(s)
		}
	}
	for i := fl; i < len(x); i++ {
		for j := range enhUps {
			var s float32
			for k := 0; k < fl; k++ {
				s += x[i-k] * poly[j][k]
			}
			emit(s)
		}
	}
	for q := 1; q <= hfl; q++ {
		for j := range enhUps {
			var s float32
			for k := 0; k < fl-q; k++ {
				s += x[len(x)-1-k] * poly[j][q+k]
			}
			emit(s)
		}
	}
}

// refine finds the segment most like the block at start within enhSlop
// samples of est, to a quarter sample, writes it (interpolated) to seg and
// returns its position.
func refine(seg, buf []float32, start int, est float32) float32 {
	rounded := int(est - 0.5)
	from := max(rounded-enhSlop, 0)
	to := rounded + enhSlop
	if to+enhBlockL >= len(buf) {
		to = len(buf) - enhBlockL - 1
	}
	dim := to - from + 1
	if dim < 1 {
		clear(seg)
		return est
	}
	var cv [enhCorrDim]float32
	corr(cv[:dim], buf[from:min(from+dim+enhBlockL-1, len(buf))], buf[start:start+enhBlockL])
	var up [enhCorrDim * enhUps]float32
	upsample(up[:enhUps*dim], cv[:dim])
	tloc, maxv := 0, up[0]
	for i := 1; i < enhUps*dim; i++ {
		if up[i] > maxv {
			tloc, maxv = i, up[i]
		}
	}
	pos := float32(from) + float32(tloc)/enhUps + 1
	tloc2 := tloc / enhUps
	if tloc > tloc2*enhUps {
		tloc2++
	}
	st := from + tloc2 - enhFL
	var vect [enhVectL]float32
	for i := range vect {
		if j := st + i; j >= 0 && j < len(buf) {
			vect[i] = buf[j]
		}
	}
	frac := tloc2*enhUps - tloc
	corr(seg, vect[:], polyphaser[(2*enhFL+1)*frac:(2*enhFL+1)*(frac+1)])
	return pos
}

// smooth makes the enhanced block from the block sequence: the
// current block moved towards the weighted mean of the others, as far as
// the error allowed by enhAlpha0.
func smooth(out, sseq []float32) {
	const hl = enhHL
	var wt [2*hl + 1]float32
	for i := 1; i <= 2*hl+1; i++ {
		wt[i-1] = float32(0.5 * (1 - math.Cos(2*math.Pi*float64(i)/float64(2*hl+2))))
	}
	wt[hl] = 0
	var sur [enhBlockL]float32
	for k := 0; k <= 2*hl; k++ {
		if k == hl {
			continue
		}
		for i := range sur {
			sur[i] += sseq[k*enhBlockL+i] * wt[k]
		}
	}
	cur := sseq[hl*enhBlockL : (hl+1)*enhBlockL]
	var w00, w10, w11 float32
	for i := range sur {
		w00 += cur[i] * cur[i]
		w11 += sur[i] * sur[i]
		w10 += sur[i] * cur[i]
	}
	if float32(math.Abs(float64(w11))) < 1 {
		w11 = 1
	}
	c := float32(math.Sqrt(float64(w00 / w11)))
	var errs float32
	for i := range sur {
		out[i] = c * sur[i]
		e := cur[i] - out[i]
		errs += e * e
	}
	if errs > enhAlpha0*w00 {
		if w00 < 1 {
			w00 = 1
		}
		a, b := float32(0), float32(1)
		if den := (w11*w00 - w10*w10) / (w00 * w00); den > 0.0001 {
			a = float32(math.Sqrt(float64((enhAlpha0 - enhAlpha0*enhAlpha0/4) / den)))
			b = 1 - enhAlpha0/2 - a*w10/w00
		}
		for i := range sur {
			out[i] = a*sur[i] + b*cur[i]
		}
	}
}
