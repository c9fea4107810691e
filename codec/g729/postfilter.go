package g729

// The Annex A postfilter (§A.4.2): long-term (pitch) postfilter on the
// residual of A(z/0.55), short-term postfilter A(z/0.55)/A(z/0.7), tilt
// compensation, adaptive gain control; then the 100 Hz high-pass output
// filter (§4.2.5).

const (
	gamma2Pst = 18022 // 0.55 in Q15
	gamma1Pst = 22938 // 0.70 in Q15
	muTilt    = 26214 // 0.8 in Q15
	lH        = 22    // length of the truncated impulse response
	agcFac    = 29491 // 0.9 in Q15
	agcFac1   = 3276  // 1 - agcFac
	gammaP    = 16384 // 0.5 in Q15
	invGammaP = 21845 // 1/(1+gammaP) in Q15
	gammaP2   = 10923 // gammaP/(1+gammaP) in Q15
)

// postFilter holds the postfilter's memories.
type postFilter struct {
	res2     [pitMax + lSubfr]int16 // residual, pitMax of history
	scalRes2 [pitMax + lSubfr]int16 // the same scaled down by 4
	memSyn   [order]int16
	memPre   int16
	pastGain int16
}

func (p *postFilter) reset() {
	*p = postFilter{pastGain: 4096}
}

// filter postfilters the frame syn[order:order+lFrame] in place; syn[:order]
// holds the last samples of the previous frame's (unfiltered) synthesis
// and is updated. az holds both subframes' LP filters, t their integer
// pitch lags; voiced says whether the frame is active speech.
func (p *postFilter) filter(syn []int16, az *[2 * mp1]int16, t *[2]int16, voiced bool) {
	var out [lFrame]int16
	var ap3, ap4 [mp1]int16
	var resPst [lSubfr]int16
	var h [lH]int16
	for sf := range 2 {
		tmin := sub(t[sf], 3)
		tmax := add(tmin, 6)
		if tmax > pitMax {
			tmax = pitMax
			tmin = sub(tmax, 6)
		}
		a := az[sf*mp1 : sf*mp1+mp1]
		weightAz(a, gamma2Pst, &ap3)
		weightAz(a, gamma1Pst, &ap4)
		s := syn[sf*lSubfr : order+sf*lSubfr+lSubfr] // with order of history
		res := p.res2[pitMax:]
		if fastPaths && 2*maxAbs(s)*sumAbs(ap3[:]) <= max32 {
			// No partial sum can saturate: plain multiply-accumulates.
			for i := range lSubfr {
				w := (*[mp1]int16)(s[i : i+mp1])
				var acc int32
				for j := 0; j <= order; j++ {
					acc += int32(ap3[j]) * int32(w[order-j])
				}
				res[i] = round16(lShl(acc<<1, 3))
				p.scalRes2[pitMax+i] = shr(res[i], 2)
			}
		} else {
			p.residual(s, &ap3)
		}
		if voiced {
			p.pitch(tmin, tmax, &resPst)
		} else {
			copy(resPst[:], res[:lSubfr])
		}

		// Tilt compensation from the impulse response of
		// A(z/0.55)/A(z/0.7).
		h = [lH]int16{}
		copy(h[:], ap3[:])
		var zero [order]int16
		synth(ap4[:], h[:], h[:], &zero, false)
		acc := lMult(h[0], h[0])
		for i := 1; i < lH; i++ {
			acc = lMac(acc, h[i], h[i])
		}
		t1 := extractH(acc)
		acc = lMult(h[0], h[1])
		for i := 1; i < lH-1; i++ {
			acc = lMac(acc, h[i], h[i+1])
		}
		t2 := extractH(acc)
		if t2 <= 0 {
			t2 = 0
		} else {
			t2 = mult(t2, muTilt)
			t2 = divS(t2, t1)
		}
		p.preemphasis(&resPst, t2)

		o := out[sf*lSubfr : sf*lSubfr+lSubfr]
		synth(ap4[:], resPst[:], o, &p.memSyn, true)
		p.agc(s[order:], o)

		copy(p.res2[:pitMax], p.res2[lSubfr:])
		copy(p.scalRes2[:pitMax], p.scalRes2[lSubfr:])
	}
	copy(syn[:order], syn[lFrame:lFrame+order])
	copy(syn[order:order+lFrame], out[:])
}

// weightAz computes ap[i] = a[i] * gamma^i.
func weightAz(a []int16, gamma int16, ap *[mp1]int16) {
	ap[0] = a[0]
	fac := gamma
	for i := 1; i < order; i++ {
		ap[i] = round16(lMult(a[i], fac))
		fac = round16(lMult(fac, gamma))
	}
	ap[order] = round16(lMult(a[order], fac))
}

// pitch is the Annex A long-term postfilter: it picks the integer lag in
// [tmin, tmax] that maximizes the correlation of the residual and, if the
// prediction gain is above 3 dB, adds the delayed residual to it.
func (p *postFilter) pitch(tmin, tmax int16, dst *[lSubfr]int16) {
	sig := p.res2[:]
	scal := p.scalRes2[:]
	const at = pitMax
	var corMax int32 = min32
	t0 := tmin
	m := maxAbs(scal[at-int(tmax) : at+lSubfr])
	plain := fastPaths && 1+2*lSubfr*m*m <= max32 // no correlation or energy can saturate
	cur := (*[lSubfr]int16)(scal[at : at+lSubfr])
	for i := tmin; i <= tmax; i++ {
		var corr int32
		d := at - int(i)
		if plain {
			past := (*[lSubfr]int16)(scal[d : d+lSubfr])
			for j := range lSubfr {
				corr += int32(cur[j]) * int32(past[j])
			}
			corr <<= 1
		} else {
			for j := range lSubfr {
				corr = lMac(corr, scal[at+j], scal[d+j])
			}
		}
		if lSub(corr, corMax) > 0 {
			corMax = corr
			t0 = i
		}
	}
	var ener, ener0 int32 = 1, 1
	d := at - int(t0)
	for i := range lSubfr {
		ener = lMac(ener, scal[d+i], scal[d+i])
	}
	for i := range lSubfr {
		ener0 = lMac(ener0, scal[at+i], scal[at+i])
	}
	if corMax < 0 {
		corMax = 0
	}
	temp := corMax
	if ener > temp {
		temp = ener
	}
	if ener0 > temp {
		temp = ener0
	}
	j := normL(temp)
	cmax := round16(lShl(corMax, j))
	en := round16(lShl(ener, j))
	en0 := round16(lShl(ener0, j))

	temp = lMult(cmax, cmax)
	temp = lSub(temp, lShr(lMult(en, en0), 1))
	if temp < 0 {
		copy(dst[:], sig[at:at+lSubfr])
		return
	}
	var g0, gain int16
	if cmax > en {
		g0, gain = invGammaP, gammaP2
	} else {
		cmax = shr(mult(cmax, gammaP), 1)
		en = shr(en, 1)
		s := add(cmax, en)
		if s > 0 {
			gain = divS(cmax, s)
			g0 = sub(32767, gain)
		} else {
			g0, gain = 32767, 0
		}
	}
	for i := range lSubfr {
		dst[i] = add(mult(g0, sig[at+i]), mult(gain, sig[d+i]))
	}
}

// preemphasis applies the tilt compensation 1 - g z^-1.
func (p *postFilter) preemphasis(sig *[lSubfr]int16, g int16) {
	temp := sig[lSubfr-1]
	for i := lSubfr - 1; i > 0; i-- {
		sig[i] = sub(sig[i], mult(g, sig[i-1]))
	}
	sig[0] = sub(sig[0], mult(g, p.memPre))
	p.memPre = temp
}

// agc scales out to the energy of in, smoothing the gain.
func (p *postFilter) agc(in, out []int16) {
	var s int32
	for i := range lSubfr {
		v := shr(out[i], 2)
		s = lMac(s, v, v)
	}
	if s == 0 {
		p.pastGain = 0
		return
	}
	exp := sub(normL(s), 1)
	gainOut := round16(lShl(s, exp))
	s = 0
	for i := range lSubfr {
		v := shr(in[i], 2)
		s = lMac(s, v, v)
	}
	var g0 int16
	if s != 0 {
		i := normL(s)
		gainIn := round16(lShl(s, i))
		exp = sub(exp, i)
		s = int32(divS(gainOut, gainIn))
		s = lShl(s, 7)
		s = lShr(s, exp)
		s = invSqrt(s)
		g0 = mult(round16(lShl(s, 9)), agcFac1)
	}
	gain := p.pastGain
	for i := range lSubfr {
		gain = mult(gain, agcFac)
		gain = add(gain, g0)
		out[i] = extractH(lShl(lMult(out[i], gain), 3))
	}
	p.pastGain = gain
}

// highPass is the output filter: second order high-pass at 100 Hz with
// a gain of 2, in double precision.
type highPass struct {
	y2hi, y2lo, y1hi, y1lo int16
	x0, x1                 int16
}

func (h *highPass) filter(sig []int16) {
	// The Recommendation's operators, with the saturation left out where
	// the filter's coefficients rule it out: a1, a2 are far from -32768,
	// so the double precision products and their sum stay within 31 bits.
	a1, a2 := int64(a100[1]), int64(a100[2])
	b0, b1, b2 := int64(b100[0]), int64(b100[1]), int64(b100[2])
	for i, v := range sig {
		x2 := h.x1
		h.x1 = h.x0
		h.x0 = v
		l := 2*int64(h.y1hi)*a1 + 2*(int64(h.y1lo)*a1>>15) +
			2*int64(h.y2hi)*a2 + 2*(int64(h.y2lo)*a2>>15)
		l = int64(sat32(l + 2*int64(h.x0)*b0))
		l = int64(sat32(l + 2*int64(h.x1)*b1))
		l = int64(sat32(l + 2*int64(x2)*b2))
		l32 := sat32(l << 2)
		sig[i] = round16(sat32(int64(l32) << 1))
		h.y2hi, h.y2lo = h.y1hi, h.y1lo
		h.y1hi = int16(l32 >> 16)
		h.y1lo = int16(l32>>1 - int32(h.y1hi)<<15)
	}
}

// residual filters the subframe s[order:] (with order samples of history)
// through A(z/0.55) into the residual buffer, with saturating arithmetic.
func (p *postFilter) residual(s []int16, ap3 *[mp1]int16) {
	res := p.res2[pitMax:]
	for i := range lSubfr {
		w := (*[mp1]int16)(s[i : i+mp1]) // w[order] is the current sample
		acc := lMult(w[order], ap3[0])
		for j := 1; j <= order; j++ {
			acc = lMac(acc, ap3[j], w[order-j])
		}
		res[i] = round16(lShl(acc, 3))
		p.scalRes2[pitMax+i] = shr(res[i], 2)
	}
}
