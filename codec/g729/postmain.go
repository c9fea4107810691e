package g729

import "math"

// The main-body G.729 postfilter (§4.2), used by ModeG729: long-term
// postfilter with a fractional delay (1/8 resolution) searched around the
// first subframe's integer pitch lag on the residual of A(z/0.55)
// (§4.2.1), short-term postfilter A(z/0.55)/(g_f A(z/0.7)) (§4.2.2),
// tilt compensation (1 + g_t k1' z^-1)/(1 - |g_t k1'|) (§4.2.3) and
// adaptive gain control on the sums of magnitudes (§4.2.4).

const (
	lhUpS    = 2                      // half length of the short interpolation filters
	lhUpL    = 8                      // of the long ones
	fUpPst   = 8                      // resolution of the fractional delay
	memRes2  = pitMax + 1 + lhUpL     // residual history the delays reach
	longHSt  = 20                     // impulse response length of the short-term postfilter
	gamma3P  = 6554                   // tilt factor when k1' > 0: 0.2 in Q15
	gamma3M  = 29491                  // when k1' < 0: 0.9 in Q15
	minGplt  = 21845                  // 1/(1+0.5) in Q15: the gain of a full long-term postfilter
	agcFacM  = 32358                  // 0.9875 in Q15
	agcFac1M = int16(32768 - agcFacM) // 1 - agcFacM
)

// hupS and hupL are the interpolation filters of the fractional delays
// lambda - phi/8 (phi = 1..7): Hamming-windowed sincs of 4 and 16 taps
// per phase (lengths 33 and 129), tap i at distance L - i - phi/8 from
// the interpolated instant (L = 2 or 8), window 0.54 + 0.46 cos(pi x/L).
var hupS = [fUpPst - 1][2 * lhUpS]int16{
	{-189, 2873, 31650, -1598},
	{-485, 7041, 28469, -2148},
	{-934, 12266, 23705, -1993},
	{-1493, 18050, 18050, -1493},
	{-1993, 23705, 12266, -934},
	{-2148, 28469, 7041, -485},
	{-1598, 31650, 2873, -189},
}

var hupL = [fUpPst - 1][2 * lhUpL]int16{
	{-41, 72, -157, 315, -580, 1023, -1875, 4439, 31915, -3391, 1595, -888, 501, -267, 130, -60},
	{-78, 147, -318, 631, -1151, 2030, -3774, 9639, 29436, -5580, 2727, -1528, 859, -454, 218, -102},
	{-107, 212, -456, 892, -1615, 2850, -5393, 15206, 25569, -6550, 3303, -1861, 1041, -544, 258, -123},
	{-124, 253, -539, 1044, -1877, 3319, -6414, 20676, 20676, -6414, 3319, -1877, 1044, -539, 253, -124},
	{-123, 258, -544, 1041, -1861, 3303, -6550, 25569, 15206, -5393, 2850, -1615, 892, -456, 212, -107},
	{-102, 218, -454, 859, -1528, 2727, -5580, 29436, 9639, -3774, 2030, -1151, 631, -318, 147, -78},
	{-60, 130, -267, 501, -888, 1595, -3391, 31915, 4439, -1875, 1023, -580, 315, -157, 72, -41},
}

// mainPostFilter holds the memories of the main-body postfilter.
type mainPostFilter struct {
	res2     [memRes2 + lSubfr]int16 // residual of A(z/0.55), memRes2 of history
	memStp   [order]int16            // memory of 1/A(z/0.7)
	gainPrec int16                   // gain of the AGC, Q14
}

func (p *mainPostFilter) reset() { *p = mainPostFilter{gainPrec: 16384} }

// filter postfilters the frame syn[order:order+lFrame] in place (syn[:order]
// holds the end of the previous frame's synthesis and is updated). t0 is
// the integer pitch lag of the first subframe, which both subframes search
// around; ltp says whether to run the long-term postfilter (active
// speech). It returns whether a subframe was found periodic (the voicing
// that frame erasure concealment follows, §4.4.4).
func (p *mainPostFilter) filter(syn []int16, az *[2 * mp1]int16, t0 int16, ltp bool) (voiced bool) {
	var out [lFrame]int16
	for sf := range 2 {
		a := az[sf*mp1 : sf*mp1+mp1]
		var ap1 [mp1]int16     // A(z/0.7)
		var ap2 [longHSt]int16 // A(z/0.55), zero padded
		weightAz(a, gamma1Pst, &ap1)
		var ap2c [mp1]int16
		weightAz(a, gamma2Pst, &ap2c)
		copy(ap2[:], ap2c[:])

		// Residual of A(z/0.55).
		s := syn[sf*lSubfr : order+sf*lSubfr+lSubfr]
		res := p.res2[memRes2:]
		plainRes := fastPaths && 2*maxAbs(s)*sumAbs(ap2c[:]) <= max32
		for i := range lSubfr {
			w := (*[mp1]int16)(s[i : i+mp1])
			var acc int32
			if plainRes { // no partial sum can saturate
				for j := 0; j <= order; j++ {
					acc += int32(ap2c[j]) * int32(w[order-j])
				}
				acc <<= 1
			} else {
				acc = lMult(w[order], ap2c[0])
				for j := 1; j <= order; j++ {
					acc = lMac(acc, ap2c[j], w[order-j])
				}
			}
			res[i] = round16(lShl(acc, 3))
		}

		// Long-term postfilter; sig[0] is the last output of 1/A(z/0.7).
		var sig [lSubfr + 1]int16
		sig[0] = p.memStp[order-1]
		ltpOut := (*[lSubfr]int16)(sig[1:])
		if ltp {
			if p.longTerm(t0, ltpOut) {
				voiced = true
			}
		} else {
			copy(ltpOut[:], res)
		}

		// Short-term postfilter: gain, tilt, 1/A(z/0.7).
		parcor := p.shortTermGain(&ap2, &ap1, ltpOut)
		synth(ap1[:], ltpOut[:], ltpOut[:], &p.memStp, true)
		o := out[sf*lSubfr : sf*lSubfr+lSubfr]
		tilt(&sig, o, parcor)
		p.agc(s[order:], o)

		copy(p.res2[:memRes2], p.res2[lSubfr:])
	}
	copy(syn[:order], syn[lFrame:lFrame+order])
	copy(syn[order:order+lFrame], out[:])
	return voiced
}

// shortTermGain computes the impulse response of A(z/0.55)/A(z/0.7)
// (20 samples), scales sig by the inverse of the sum of its magnitudes
// (g_f) when that is above 1, and returns the first reflection
// coefficient k1' = -r(1)/r(0) of the response, Q15.
func (p *mainPostFilter) shortTermGain(ap2 *[longHSt]int16, ap1 *[mp1]int16, sig *[lSubfr]int16) int16 {
	var h [longHSt]int16
	var zero [order]int16
	synth(ap1[:], ap2[:], h[:], &zero, false)

	// First reflection coefficient of h.
	var acc int32
	for _, v := range h {
		acc = lMac(acc, v, v)
	}
	sh := normL(acc)
	acf0 := extractH(lShl(acc, sh))
	acc = 0
	for i := range longHSt - 1 {
		acc = lMac(acc, h[i], h[i+1])
	}
	acf1 := extractH(lShl(acc, sh))
	var parcor int16
	if acf0 >= abs16(acf1) {
		parcor = divS(abs16(acf1), acf0)
		if acf1 > 0 {
			parcor = negate(parcor)
		}
	}

	// g_f: sum of |h| in Q10 (h is Q12).
	var g int32
	for _, v := range h {
		g = lAdd(g, int32(abs16(v)))
	}
	g0 := extractH(lShl(g, 14))
	if g0 > 1024 {
		inv := divS(1024, g0)
		for i := range sig {
			sig[i] = multR(sig[i], inv)
		}
	}
	return parcor
}

// tilt applies (1 + mu z^-1)/(1 - |mu|) with mu = g_t k1' to sig[1:]
// (sig[0] is the sample before) into out.
func tilt(sig *[lSubfr + 1]int16, out []int16, parcor int16) {
	var mu, fact, sh int16
	var round int32
	if parcor > 0 {
		mu = multR(parcor, gamma3P)
		fact, sh, round = 0x4000, 15, 0x4000 // 1/(1-|mu|) in Q14
	} else {
		mu = multR(parcor, gamma3M)
		fact, sh, round = 0x0800, 12, 0x0800 // in Q11
	}
	mu2 := add(32767, sub(1, abs16(mu))) // 1 - |mu|, Q15
	ga := divS(fact, mu2)
	mu = shr(mu, 1)
	for n := range lSubfr {
		// L_shl(x, 15) cannot saturate (|x| <= 2^15), nor L_mult(mu, y)
		// (mu > -32768): each step is the exact sum clamped to 32 bits.
		l := int64(sig[n+1]) << 15
		l = int64(sat32(l + 2*int64(mu)*int64(sig[n])))
		l = int64(sat32(l + 0x4000))
		v := int16(l >> 15)
		l = int64(sat32(2*int64(v)*int64(ga) + int64(round)))
		out[n] = sat16(int32(l >> sh))
	}
}

// agc scales out so that its sum of magnitudes follows that of in,
// smoothing the gain sample by sample: g(n) = 0.9875 g(n-1) + 0.0125 G.
func (p *mainPostFilter) agc(in, out []int16) {
	var g0 int16
	var l int32
	for _, v := range in { // at most 40 * 32767: L_add cannot saturate
		l += int32(abs16(v))
	}
	if l != 0 {
		scalIn := normL(l)
		gainIn := extractH(lShl(l, scalIn))
		l = 0
		for _, v := range out {
			l += int32(abs16(v))
		}
		if l == 0 {
			p.gainPrec = 0
			return
		}
		scalOut := normL(l)
		gainOut := extractH(lShl(l, scalOut))
		shG0 := sub(add(scalIn, 1), scalOut)
		if gainIn < gainOut {
			g0 = divS(gainIn, gainOut)
		} else {
			g0 = divS(shr(gainIn, 1), gainOut)
			shG0 = sub(shG0, 1)
		}
		g0 = shr(g0, shG0) // Q14
		g0 = multR(g0, agcFac1M)
	}
	gain := p.gainPrec
	for i, v := range out {
		gain = add(multR(agcFacM, gain), g0)
		// round(L_shl(L_mult(gain, v), 1)): the product is exact unless
		// both are -32768, then clamped twice.
		l := int64(sat32(2 * int64(gain) * int64(v)))
		l = int64(sat32(l<<1)) + 0x8000
		out[i] = int16(min(l, max32) >> 16)
	}
	p.gainPrec = gain
}

// longTerm is the long-term postfilter of the subframe's residual into
// dst. It reports whether it filtered (the subframe is periodic).
func (p *mainPostFilter) longTerm(t0 int16, dst *[lSubfr]int16) bool {
	const at = memRes2
	sig := p.res2[:]
	in := sig[at : at+lSubfr]
	plain := plainBounds(maxAbs(sig))
	d := p.searchDelay(t0, plain)
	if d.num == 0 {
		copy(dst[:], in)
		return false
	}
	var yShort [lSubfr]int16
	var ltp []int16
	num, den, shNum, shDen := d.num, d.den, d.shNum, d.shDen
	if d.phase == 0 {
		ltp = sig[at-int(d.delay) : at-int(d.delay)+lSubfr]
	} else {
		copy(yShort[:], d.yUp[:])
		// Recompute with the long filter; keep it if its criterion is
		// not lower.
		var yLong [lSubfr]int16
		h := &hupL[d.phase-1]
		base := at - int(d.delay) + lhUpL
		if plain {
			x := sig[base-2*lhUpL+1 : base+lSubfr]
			for n := range lSubfr {
				w := (*[2 * lhUpL]int16)(x[n : n+2*lhUpL]) // sig[base+n-15 .. base+n]
				var acc int32
				for i := range 2 * lhUpL {
					acc += int32(h[i]) * int32(w[2*lhUpL-1-i])
				}
				yLong[n] = int16((acc<<1 + 0x8000) >> 16) // as above
			}
		} else {
			for n := range lSubfr {
				yLong[n] = interp(h[:], sig, base+n)
			}
		}
		ln := dot(yLong[:], in)
		ld := dot(yLong[:], yLong[:])
		if ln < 0 {
			ln = 0
		}
		shNum2, shDen2 := normL(ln), normL(ld)
		num2 := extractH(lShl(ln, shNum2))
		den2 := extractH(lShl(ld, shDen2))
		if den2 != 0 && !criterionLess(num2, den2, shNum2, shDen2, num, den, shNum, shDen) {
			num, den, shNum, shDen = num2, den2, shNum2, shDen2
			ltp = yLong[:]
		} else {
			ltp = yShort[:]
		}
	}
	if num == 0 {
		copy(dst[:], in)
		return false
	}
	// g_l = num/den, at most 1; the filter's gains are 1/(1+g_l/2) and
	// what is left.
	if shNum > shDen {
		num = shr(num, sub(shNum, shDen))
	} else {
		den = shr(den, sub(shDen, shNum))
	}
	var gain int16
	if num >= den {
		gain = minGplt
	} else {
		num = shr(num, 2)
		den = shr(den, 1)
		gain = divS(den, add(den, num))
	}
	g1 := add(sub(32767, gain), 1)
	for n := range lSubfr {
		l := lMult(gain, in[n])
		l = lMac(l, g1, ltp[n])
		dst[n] = round16(l)
	}
	return true
}

// criterionLess reports whether num1²/den1 < num2²/den2 for mantissas
// justified by shifts sh (value = mantissa * 2^-sh).
func criterionLess(num1, den1, shNum1, shDen1, num2, den2, shNum2, shDen2 int16) bool {
	// num1² den2 2^(-2shNum1-shDen2) < num2² den1 2^(-2shNum2-shDen1)
	a := int64(num1) * int64(num1) * int64(den2)
	b := int64(num2) * int64(num2) * int64(den1)
	e := int(2*shNum1+shDen2) - int(2*shNum2+shDen1) // a is scaled down by 2^e more
	if e > 0 {
		b <<= min(e, 20)
		if e > 20 {
			return a == 0 || b != 0
		}
	} else if e < 0 {
		a <<= min(-e, 20)
		if -e > 20 {
			return a == 0 && b != 0
		}
	}
	return a < b
}

// delaySearch is the outcome of the delay search: delay - phase/8, the
// normalized correlation num and energy den of the delayed residual, and
// (for a fractional delay) the residual interpolated with the short
// filter.
type delaySearch struct {
	delay, phase int16
	num, den     int16
	shNum, shDen int16
	yUp          [lSubfr]int16
}

// searchDelay (plain: see plainBounds) finds the delay of the long-term postfilter: the best of
// the three integer lags around t0 by correlation, then the best of the
// fractions around it by correlation²/energy; num is 0 when the
// prediction gain is below 3 dB (the filter is off).
func (p *mainPostFilter) searchDelay(t0 int16, plain bool) (d delaySearch) {
	const at = memRes2
	sig := p.res2[:]
	in := sig[at : at+lSubfr]
	ener := dot(in, in)
	if ener == 0 {
		return d
	}
	mIn := maxAbs(in)

	// The integer lag of highest correlation among t0-1, t0, t0+1.
	lambda := sub(t0, 1)
	var numInt int32 = -1
	best := 0
	for i := range 3 {
		acc := dot(in, sig[at-int(lambda)-i:])
		if acc < 0 {
			acc = 0
		}
		if acc > numInt {
			numInt, best = acc, i
		}
	}
	if numInt == 0 {
		return d
	}
	lambda = add(lambda, int16(best))
	past := sig[at-int(lambda) : at-int(lambda)+lSubfr]
	denInt := dot(past, past)
	if denInt == 0 {
		return d
	}

	// Interpolate the residual at lambda+1-phi/8 (y[n]) and lambda-phi/8
	// (y[n+1]) for every phase, with their energies and correlations.
	var yUp [fUpPst - 1][lSubfr + 1]int16
	var den0, den1, num0, num1 [fUpPst - 1]int32
	base := at - int(lambda) + lhUpS - 1
	for phi := range fUpPst - 1 {
		h := &hupS[phi]
		y := &yUp[phi]
		if plain {
			h0, h1, h2, h3 := int32(h[0]), int32(h[1]), int32(h[2]), int32(h[3])
			x := sig[base-3 : base+lSubfr+1]
			var mY int32
			for n := 0; n <= lSubfr; n++ {
				w := (*[4]int16)(x[n : n+4]) // sig[base+n-3 .. base+n]
				acc := h0*int32(w[3]) + h1*int32(w[2]) + h2*int32(w[1]) + h3*int32(w[0])
				v := int16((acc<<1 + 0x8000) >> 16) // round16: the bound rules its saturation out
				y[n] = v
				mY = max(mY, int32(v), -int32(v))
			}
			// One pass for the energy and both correlations: the energy
			// is exact clamped at its end, the correlations where the
			// magnitudes rule saturation out.
			if 2*lSubfr*mIn*int64(mY) <= max32 {
				cur := (*[lSubfr]int16)(in)
				var e, c0, c1 int64
				for n := range lSubfr {
					v := int64(y[n+1])
					e += v * v
					c0 += int64(cur[n]) * int64(y[n])
					c1 += int64(cur[n]) * v
				}
				e -= int64(y[lSubfr]) * int64(y[lSubfr])
				acc := int32(min(e<<1, max32))
				den0[phi] = lMac(acc, y[0], y[0])
				den1[phi] = lMac(acc, y[lSubfr], y[lSubfr])
				num0[phi], num1[phi] = int32(max(c0, 0)<<1), int32(max(c1, 0)<<1)
				continue
			}
		} else {
			for n := 0; n <= lSubfr; n++ {
				y[n] = interp(h[:], sig, base+n)
			}
		}
		acc := dot(y[1:lSubfr], y[1:lSubfr])
		den0[phi] = lMac(acc, y[0], y[0])
		den1[phi] = lMac(acc, y[lSubfr], y[lSubfr])
		c0 := dot(in, y[:])
		c1 := dot(in, y[1:])
		num0[phi], num1[phi] = max(c0, 0), max(c1, 0)
	}

	// Common justifications of the numerators and denominators.
	numMax, denMax := numInt, denInt
	for phi := range fUpPst - 1 {
		numMax = max(numMax, num0[phi], num1[phi])
		denMax = max(denMax, den0[phi], den1[phi])
	}
	shNum, shDen := normL(numMax), normL(denMax)
	n16 := func(l int32) int16 { return extractH(lShl(l, shNum)) }
	d16 := func(l int32) int16 { return extractH(lShl(l, shDen)) }

	bestNum, bestDen := n16(numInt), d16(denInt)
	delay, phase := lambda, int16(0)
	off := 0
	better := func(num, den int16) bool {
		// num²/den > bestNum²/bestDen
		return int64(num)*int64(num)*int64(bestDen) > int64(bestNum)*int64(bestNum)*int64(den)
	}
	for phi := range fUpPst - 1 {
		if n, dd := n16(num0[phi]), d16(den0[phi]); better(n, dd) {
			bestNum, bestDen = n, dd
			delay, phase, off = add(lambda, 1), int16(phi+1), 0
		}
		if n, dd := n16(num1[phi]), d16(den1[phi]); better(n, dd) {
			bestNum, bestDen = n, dd
			delay, phase, off = lambda, int16(phi+1), 1
		}
	}
	if bestNum == 0 || bestDen <= 1 {
		return d
	}
	// Off below 3 dB of prediction gain: num² < 0.5 den ener.
	if 2*math.Ldexp(float64(bestNum)*float64(bestNum), -2*int(shNum)) <
		math.Ldexp(float64(bestDen)*float64(ener), -int(shDen)-16) {
		return d
	}
	d.delay, d.phase = delay, phase
	d.num, d.den, d.shNum, d.shDen = bestNum, bestDen, shNum, shDen
	if phase != 0 {
		copy(d.yUp[:], yUp[phase-1][off:off+lSubfr])
	}
	return d
}

// dot is the Recommendation's sum of L_mac(a[i], b[i]). Where the sum of
// the products' magnitudes rules saturation out (and always for an
// energy, a = b, whose partial sums only grow: it saturates at its end or
// never), plain multiply-accumulates give the same result.
func dot(a, b []int16) int32 {
	b = b[:len(a)]
	if !fastPaths {
		return dotSat(a, b)
	}
	if &a[0] == &b[0] {
		var acc int64
		for _, v := range a {
			acc += int64(v) * int64(v)
		}
		return int32(min(acc<<1, max32))
	}
	var acc, mag int64
	if len(a) == lSubfr {
		x, y := (*[lSubfr]int16)(a), (*[lSubfr]int16)(b)
		for i := range lSubfr {
			p := int64(x[i]) * int64(y[i])
			acc += p
			mag += p ^ (p >> 63) // |p| - 1 for negative p: within the bound's margin
		}
	} else {
		for i, v := range a {
			p := int64(v) * int64(b[i])
			acc += p
			mag += p ^ (p >> 63)
		}
	}
	if mag+int64(len(a)) <= max32/2 {
		return int32(acc << 1)
	}
	return dotSat(a, b)
}

// dotSat is dot with the saturating operators only.
func dotSat(a, b []int16) int32 {
	var acc int32
	for i, v := range a {
		acc = lMac(acc, v, b[i])
	}
	return acc
}

// interp is the Recommendation's sum of L_mac(h[i], x[base-i]), rounded.
func interp(h []int16, x []int16, base int) int16 {
	var acc int32
	for i, v := range h {
		acc = lMac(acc, v, x[base-i])
	}
	return round16(acc)
}

// plainBounds reports whether, for residual samples of magnitude at most
// m, no interpolation with the short or long filters can saturate, nor
// its rounding: the sum of any phase's |taps| is at most 68,492, so
// 2 m 70,000 <= 2^31-1 leaves more than 0x8000 of room.
func plainBounds(m int64) bool {
	const sh = 70000 // > the sum of |taps| of any phase of hupS or hupL
	return fastPaths && 2*m*sh <= max32
}
