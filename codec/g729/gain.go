package g729

// Gain decoding (§3.9 and §4.1.5): the pitch gain and the correction
// factor of the fixed codebook gain come from a two-stage
// conjugate-structure VQ; the fixed codebook gain is predicted from the
// energies of the past four subframes (4th order MA prediction in dB).

// gainDecoder holds the gain predictor's memory.
type gainDecoder struct {
	pastQuaEn [4]int16 // past quantized energies, Q10
}

func (g *gainDecoder) reset() { g.pastQuaEn = [4]int16{-14336, -14336, -14336, -14336} }

// decode decodes the 7-bit gain index (GA<<4 | GB) for the fixed
// codebook vector code: pitch gain Q14, code gain Q1.
func (g *gainDecoder) decode(index int16, code *[lSubfr]int16) (gainPit, gainCode int16) {
	i1 := imap1[index>>4&7]
	i2 := imap2[index&15]
	gainPit = add(gbk1[i1][0], gbk2[i2][0])
	gcode0, expGcode0 := g.predict(code)
	gbk12 := int32(gbk1[i1][1]) + int32(gbk2[i2][1]) // Q13
	tmp := extractL(lShr(gbk12, 1))                  // Q12
	acc := lMult(tmp, gcode0)
	acc = lShl(acc, negate(expGcode0)+(-12-1+1+16))
	gainCode = extractH(acc)
	g.update(gbk12)
	return gainPit, gainCode
}

// erased updates the predictor for an erased subframe: the mean of the
// past energies less 4 dB, at least -14 dB.
func (g *gainDecoder) erased() {
	var l int32
	for _, e := range g.pastQuaEn {
		l = lAdd(l, int32(e))
	}
	av := extractL(lShr(l, 2))
	av = sub(av, 4096)
	if av < -14336 {
		av = -14336
	}
	g.shift(av)
}

func (g *gainDecoder) shift(e int16) {
	g.pastQuaEn[3] = g.pastQuaEn[2]
	g.pastQuaEn[2] = g.pastQuaEn[1]
	g.pastQuaEn[1] = g.pastQuaEn[0]
	g.pastQuaEn[0] = e
}

// predict returns the predicted fixed codebook gain as a mantissa and an
// exponent.
func (g *gainDecoder) predict(code *[lSubfr]int16) (gcode0, exp int16) {
	var l int32
	for _, c := range code {
		l = lMac(l, c, c)
	}
	e, frac := log2(l)
	l = mpy3216(e, frac, -24660) // -3.0103 in Q13
	l = lMac(l, 32588, 32)       // 127.298 in Q14
	l = lShl(l, 10)
	for i := range 4 {
		l = lMac(l, pred[i], g.pastQuaEn[i])
	}
	gcode0 = extractH(l) // Q8
	l = lMult(gcode0, 5439)
	l = lShr(l, 8)
	e, frac = lExtract(l)
	gcode0 = extractL(pow2(14, frac))
	return gcode0, sub(14, e)
}

// update records the quantized energy of a decoded subframe,
// 20 log10(gbk12), from its gain correction factor (Q13).
func (g *gainDecoder) update(gbk12 int32) {
	e, frac := log2(gbk12)
	acc := lComp(sub(e, 13), frac)
	tmp := extractH(lShl(acc, 13))
	g.shift(mult(tmp, 24660))
}
