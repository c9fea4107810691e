package g729

// Annex B comfort noise generation (§B.4.4 and §B.4.5): SID frames carry
// a coarsely quantized LSF vector and an energy; between them (and when a
// frame after a SID frame is missing) the decoder excites the smoothed
// LP filter with a random mix of a pitch-like, a Gaussian and a 4-pulse
// excitation of the smoothed energy.

const (
	initSeed = 11111
	aGain0   = 28672 // 0.875 in Q15: gain smoothing
	aGain1   = 4096  // 1 - aGain0
	frac1    = 19043 // alpha * sqrt(40) / 2 in Q13
	k0       = 24576 // 1 - alpha^2 in Q15
	gMax     = 5000
)

// cngState is the Annex B decoder's memory.
type cngState struct {
	curGain int16
	sidGain int16
	lspSID  [order]int16
}

func (c *cngState) reset() {
	c.curGain = 0
	c.sidGain = tabSIDGain[0]
	// The LSPs of equally spaced LSFs: cos(pi*(i+1)/11) in Q15.
	c.lspSID = [order]int16{31441, 27566, 21458, 13612, 4663, -4663, -13612, -21458, -27566, -31441}
}

// cng decodes a SID frame (sid non-nil) or a non-transmitted frame into
// the excitation d.exc and the LP filters az.
func (d *Decoder) cng(sid *[nSIDParams]int16, az *[2 * mp1]int16) {
	c := &d.cngState
	first := d.pastFtyp == ftypSpeech
	if sid != nil {
		c.sidGain = tabSIDGain[sid[sidGain]]
		d.sidLSF(sid)
	} else if first {
		// The first SID frame was lost: quantize the energy of the
		// last speech frame instead.
		l := lShl(int32(d.sidSav), d.shSidSav)
		hi, lo := lExtract(l)
		c.sidGain = tabSIDGain[quantEnergy(mpy3216(hi, lo, sidFact))]
	}
	if first {
		c.curGain = c.sidGain
	} else {
		c.curGain = add(multR(c.curGain, aGain0), multR(c.sidGain, aGain1))
	}
	d.randomExcitation(c.curGain)
	interpolate(&d.lspOld, &c.lspSID, az)
	d.lspOld = c.lspSID
}

// sidLSF decodes the SID frame's LSF indices with the speech decoder's MA
// predictor memory.
func (d *Decoder) sidLSF(sid *[nSIDParams]int16) {
	var buf, lsf [order]int16
	buf = lspcb1[ptrTab1[sid[sidL1]]]
	for i := range order / 2 {
		buf[i] = add(buf[i], lspcb2[ptrTab2[0][sid[sidL2]]][i])
	}
	for i := order / 2; i < order; i++ {
		buf[i] = add(buf[i], lspcb2[ptrTab2[1][sid[sidL2]]][i])
	}
	for j := 1; j < order; j++ {
		acc := lMult(buf[j-1], 16384)
		acc = lMac(acc, buf[j], -16384)
		acc = lMac(acc, 10, 16384)
		if k := extractH(acc); k > 0 {
			buf[j-1] = sub(buf[j-1], k)
			buf[j] = add(buf[j], k)
		}
	}
	m := sid[sidMode]
	compose(&buf, &lsf, &noiseFg[m], &d.lsp.freqPrev, &noiseFgSum[m])
	d.lsp.update(&buf)
	stability(&lsf)
	lsfToLSP(&lsf, &d.cngState.lspSID)
}

// quantEnergy is Annex B's SID energy quantizer (for the erased first
// SID frame).
func quantEnergy(l int32) int16 {
	exp, frac := log2(l)
	e := shl(exp, 10)
	e = add(e, multR(frac, 1024))
	if sub(e, -2721) <= 0 {
		return 0
	}
	if sub(e, 22111) > 0 {
		return 31
	}
	if sub(e, 4762) <= 0 {
		e = add(e, 3401)
		idx := mult(e, 24)
		if idx < 1 {
			idx = 1
		}
		return idx
	}
	e = sub(e, 340)
	idx := sub(shr(mult(e, 193), 2), 1)
	if idx < 6 {
		idx = 6
	}
	return idx
}

// random is the generator of G.729: seed = seed*31821 + 13849.
func random(seed *int16) int16 {
	*seed = extractL(lAdd(lShr(lMult(*seed, 31821), 1), 13849))
	return *seed
}

// gauss returns a roughly Gaussian number (sum of 12 uniform ones).
func gauss(seed *int16) int16 {
	var l int32
	for range 12 {
		l = lAdd(l, int32(random(seed)))
	}
	return extractL(lShr(l, 7))
}

// sqrtHalf returns sqrt(n/2) by bisection.
func sqrtHalf(n int32) int16 {
	var r int16
	e := int16(0x4000)
	for range 14 {
		a := lMult(add(r, e), add(r, e))
		if lSub(n, a) >= 0 {
			r = add(r, e)
		}
		e >>= 1
	}
	return r
}

// randomExcitation fills the frame's excitation with comfort noise of
// gain g.
func (d *Decoder) randomExcitation(g int16) {
	exc := d.exc[:]
	const base = pitMax + lInterpol
	if g == 0 {
		clear(exc[base : base+lFrame])
		return
	}
	seed := &d.seed
	for sf := 0; sf < lFrame; sf += lSubfr {
		at := base + sf
		cur := exc[at : at+lSubfr]
		var pos, sign [4]int16
		t := random(seed)
		frac := sub(t&3, 1)
		if frac == 2 {
			frac = 0
		}
		t >>= 2
		t0 := add(t&0x3f, 40)
		t >>= 6
		pos[0] = (t & 7) * 5
		t >>= 3
		sign[0] = t & 1
		t >>= 1
		pos[1] = (t&7)*5 + 1
		t >>= 3
		sign[1] = t & 1
		t = random(seed)
		pos[2] = (t&7)*5 + 2
		t >>= 3
		sign[2] = t & 1
		t >>= 1
		t2 := t & 0xf
		pos[3] = t2&1 + 3 + (t2>>1&7)*5
		t >>= 4
		sign[3] = t & 1
		gp := random(seed) & 0x1fff // < 0.5 in Q14
		gp2 := shl(gp, 1)

		var excg, excs [lSubfr]int16
		var acc int32
		for i := range lSubfr {
			v := gauss(seed)
			acc = lMac(acc, v, v)
			excg[i] = v
		}
		acc = invSqrt(lShr(acc, 1))
		hi, lo := lExtract(acc)
		acc = mpy3216(hi, lo, multR(g, frac1))
		sh := normL(acc)
		fact := extractH(lShl(acc, sh))
		sh = sub(sh, 14)
		for i := range lSubfr {
			excg[i] = shrR(multR(excg[i], fact), sh)
		}

		predLt3(exc, at, t0, frac, lSubfr)

		var maxv int16
		for i := range lSubfr {
			v := add(multR(cur[i], gp2), excg[i])
			cur[i] = v
			if a := abs16(v); a > maxv {
				maxv = a
			}
		}
		sh = 0
		if maxv != 0 {
			sh = sub(3, normS(maxv))
			if sh < 0 {
				sh = 0
			}
		}
		for i := range lSubfr {
			excs[i] = shr(cur[i], sh)
		}

		// Solve 4 x^2 + 2 b x + c = 0 for the pulses' gain x.
		var ener int32
		for i := range lSubfr {
			ener = lMac(ener, excs[i], excs[i])
		}
		var inter int16
		for i := range 4 {
			if sign[i] == 0 {
				inter = sub(inter, excs[pos[i]])
			} else {
				inter = add(inter, excs[pos[i]])
			}
		}
		acc = lMult(g, lSubfr)
		acc = lShr(acc, 6)
		lk := lMult(g, extractL(acc))
		acc = lShr(lk, add(1, shl(sh, 1)))
		acc = lSub(acc, ener)
		inter = shr(inter, 1)
		acc = lMac(acc, inter, inter)
		sh = add(sh, 1)

		if acc < 0 {
			// No real root: drop the adaptive part.
			copy(cur, excg[:])
			a := abs16(excg[pos[0]]) | abs16(excg[pos[1]]) | abs16(excg[pos[2]]) | abs16(excg[pos[3]])
			sh = 1
			if a&0x4000 != 0 {
				sh = 2
			}
			inter = 0
			for i := range 4 {
				v := shr(excg[pos[i]], sh)
				if sign[i] == 0 {
					inter = sub(inter, v)
				} else {
					inter = add(inter, v)
				}
			}
			hi, lo := lExtract(lk)
			acc = mpy3216(hi, lo, k0)
			acc = lShr(acc, sub(shl(sh, 1), 1))
			acc = lMac(acc, inter, inter)
		}
		r := sqrtHalf(acc)
		x1 := sub(r, inter)
		x2 := negate(add(inter, r))
		if abs16(x2) < abs16(x1) {
			x1 = x2
		}
		gx := shrR(x1, sub(2, sh))
		if gx > gMax {
			gx = gMax
		} else if gx < -gMax {
			gx = -gMax
		}
		for i := range 4 {
			if sign[i] != 0 {
				cur[pos[i]] = add(cur[pos[i]], gx)
			} else {
				cur[pos[i]] = sub(cur[pos[i]], gx)
			}
		}
	}
}
