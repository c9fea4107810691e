package g729

// LSP decoding (G.729 §3.2.4 and §4.1.1): two-stage VQ of the LSF
// prediction error, switched 4th order MA prediction, rearrangement for
// stability; then conversion to LSPs, interpolation per subframe and
// conversion to LP coefficients (§3.2.6).

const (
	gap1   = 10    // minimum distance of the first rearrangement, Q13
	gap2   = 5     // of the second
	gap3   = 321   // minimum LSF distance of the stability check, Q13
	lLimit = 40    // lowest LSF, Q13
	mLimit = 25681 // highest LSF, Q13
)

// lspDecoder holds the MA predictor's memory and what frame erasures
// repeat.
type lspDecoder struct {
	freqPrev [maNP][order]int16 // past LSF prediction errors, Q13
	prevMA   int16              // mode of the last good frame
	prevLSF  [order]int16       // LSFs of the last good frame, Q13
}

func (d *lspDecoder) reset() {
	for i := range d.freqPrev {
		d.freqPrev[i] = freqPrevReset
	}
	d.prevMA = 0
	d.prevLSF = freqPrevReset
}

// decode turns the LSP indices (L0 L1 in p0, L2 L3 in p1) into LSPs,
// Q15; erased repeats the last good frame's LSFs.
func (d *lspDecoder) decode(p0, p1 int16, erased bool, lsp *[order]int16) {
	var lsf [order]int16
	if !erased {
		mode := (p0 >> 7) & 1
		c0 := p0 & (nc0 - 1)
		c1 := (p1 >> 5) & (nc1 - 1)
		c2 := p1 & (nc1 - 1)
		var buf [order]int16
		for j := range order / 2 {
			buf[j] = add(lspcb1[c0][j], lspcb2[c1][j])
		}
		for j := order / 2; j < order; j++ {
			buf[j] = add(lspcb1[c0][j], lspcb2[c2][j])
		}
		expand(&buf, gap1)
		expand(&buf, gap2)
		compose(&buf, &lsf, &fg[mode], &d.freqPrev, &fgSum[mode])
		d.update(&buf)
		stability(&lsf)
		d.prevLSF = lsf
		d.prevMA = mode
	} else {
		lsf = d.prevLSF
		// Update the predictor memory with the prediction error that
		// would have given the repeated LSFs.
		var buf [order]int16
		m := d.prevMA
		for j := range order {
			l := depositH(lsf[j])
			for k := range maNP {
				l = lMsu(l, d.freqPrev[k][j], fg[m][k][j])
			}
			t := extractH(l)
			l = lMult(t, fgSumInv[m][j])
			buf[j] = extractH(lShl(l, 3))
		}
		d.update(&buf)
	}
	lsfToLSP(&lsf, lsp)
}

// update pushes a prediction error vector into the MA memory.
func (d *lspDecoder) update(buf *[order]int16) {
	for k := maNP - 1; k > 0; k-- {
		d.freqPrev[k] = d.freqPrev[k-1]
	}
	d.freqPrev[0] = *buf
}

// expand moves apart adjacent coefficients closer than gap (Q13).
func expand(buf *[order]int16, gap int16) {
	for j := 1; j < order; j++ {
		diff := sub(buf[j-1], buf[j])
		tmp := shr(add(diff, gap), 1)
		if tmp > 0 {
			buf[j-1] = sub(buf[j-1], tmp)
			buf[j] = add(buf[j], tmp)
		}
	}
}

// compose adds the MA prediction to the quantized prediction error.
func compose(e, lsf *[order]int16, f *[maNP][order]int16, prev *[maNP][order]int16, sum *[order]int16) {
	for j := range order {
		acc := lMult(e[j], sum[j])
		for k := range maNP {
			acc = lMac(acc, prev[k][j], f[k][j])
		}
		lsf[j] = extractH(acc)
	}
}

// stability orders the LSFs and keeps them apart and within range.
func stability(buf *[order]int16) {
	for j := range order - 1 {
		if int32(buf[j+1])-int32(buf[j]) < 0 {
			buf[j], buf[j+1] = buf[j+1], buf[j]
		}
	}
	if buf[0] < lLimit {
		buf[0] = lLimit
	}
	for j := range order - 1 {
		if int32(buf[j+1])-int32(buf[j]) < gap3 {
			buf[j+1] = add(buf[j], gap3)
		}
	}
	if buf[order-1] > mLimit {
		buf[order-1] = mLimit
	}
}

// lsfToLSP converts LSFs (Q13, 0..pi) to LSPs (cosines, Q15).
func lsfToLSP(lsf, lsp *[order]int16) {
	for i := range order {
		freq := mult(lsf[i], 20861) // 1/(2 pi) in Q17
		ind := shr(freq, 8)
		offset := freq & 0xff
		if ind > 63 {
			ind = 63
		}
		l := lMult(slopeCos[ind], offset)
		lsp[i] = add(cosTable[ind], extractL(lShr(l, 13)))
	}
}

// interpolate gives the LP filters of both subframes: the first from the
// mean of the old and new LSPs, the second from the new ones (Annex A).
func interpolate(old, cur *[order]int16, az *[2 * mp1]int16) {
	var lsp [order]int16
	for i := range order {
		lsp[i] = add(shr(cur[i], 1), shr(old[i], 1))
	}
	lspToAz(&lsp, az[:mp1])
	lspToAz(cur, az[mp1:])
}

// lspToAz converts LSPs (Q15) to LP coefficients a[0..10] (Q12).
func lspToAz(lsp *[order]int16, a []int16) {
	var f1, f2 [6]int32
	lspPoly(lsp, 0, &f1)
	lspPoly(lsp, 1, &f2)
	for i := 5; i > 0; i-- {
		f1[i] = lAdd(f1[i], f1[i-1])
		f2[i] = lSub(f2[i], f2[i-1])
	}
	a[0] = 4096
	for i, j := 1, 10; i <= 5; i, j = i+1, j-1 {
		a[i] = extractL(lShrR(lAdd(f1[i], f2[i]), 13))
		a[j] = extractL(lShrR(lSub(f1[i], f2[i]), 13))
	}
}

// lspPoly computes the polynomial (Q24) whose roots are the LSPs
// lsp[start], lsp[start+2], ...
func lspPoly(lsp *[order]int16, start int, f *[6]int32) {
	f[0] = lMult(4096, 2048)
	f[1] = lMsu(0, lsp[start], 512)
	for i := 2; i <= 5; i++ {
		l := lsp[start+2*(i-1)]
		f[i] = f[i-2]
		for k := i; k > 1; k-- {
			hi, lo := lExtract(f[k-1])
			t := lShl(mpy3216(hi, lo, l), 1)
			f[k] = lAdd(f[k], f[k-2])
			f[k] = lSub(f[k], t)
		}
		f[1] = lMsu(f[1], l, 512)
	}
}
