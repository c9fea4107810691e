package g729

// The excitation: adaptive codebook (pitch lag with 1/3 resolution,
// §3.7 and §4.1.3) and fixed algebraic codebook (4 pulses in 17 bits,
// §3.8 and §4.1.4).

// decLag3 decodes a pitch index: P1 of the first subframe (absolute,
// t0 is ignored) or P2 of the second (relative to the first subframe's
// integer lag t0).
func decLag3(index int16, first bool, t0 int16) (lag, frac int16) {
	if first {
		if index < 197 {
			lag = add(mult(add(index, 2), 10923), 19)
			i := add(add(lag, lag), lag)
			frac = add(sub(index, i), 58)
		} else {
			lag = sub(index, 112)
			frac = 0
		}
		return lag, frac
	}
	tmin := sub(t0, 5)
	if tmin < pitMin {
		tmin = pitMin
	}
	tmax := add(tmin, 9)
	if tmax > pitMax {
		tmax = pitMax
		tmin = sub(tmax, 9)
	}
	i := sub(mult(add(index, 2), 10923), 1)
	lag = add(i, tmin)
	i = add(add(i, i), i)
	frac = sub(sub(index, 2), i)
	return lag, frac
}

// predLt3 computes the adaptive codebook vector into exc[at:at+n] by
// interpolating the past excitation exc[at-t0-1+...] at fractional
// lag t0 - frac/3.
func predLt3(exc []int16, at int, t0, frac int16, n int) {
	x0 := at - int(t0)
	frac = -frac
	if frac < 0 {
		frac += 3
		x0--
	}
	var c1, c2 [10]int16
	for i := range 10 {
		c1[i] = inter3l[int(frac)+3*i]
		c2[i] = inter3l[3-int(frac)+3*i]
	}
	// m bounds every sample the filter reads: those of its window as they
	// were, and those it has written since (short lags read them). Where
	// m rules saturation out for a sample, its multiply-accumulates are
	// plain ones.
	m := maxAbs(exc[x0-9 : x0+n+10])
	sc := sumAbs(c1[:]) + sumAbs(c2[:])
	for j := range n {
		past := exc[x0+j-9 : x0+j+1 : x0+j+1] // x1[-9..0]
		next := exc[x0+j+1 : x0+j+11 : x0+j+11]
		var s int32
		if fastPaths && 2*m*sc <= max32 {
			for i := range 10 {
				s += int32(past[9-i])*int32(c1[i]) + int32(next[i])*int32(c2[i])
			}
			s <<= 1
		} else {
			for i := range 10 {
				s = lMac(s, past[9-i], c1[i])
				s = lMac(s, next[i], c2[i])
			}
		}
		v := round16(s)
		exc[at+j] = v
		m = max(m, int64(abs16(v))+1)
	}
}

// decodeACELP builds the fixed codebook vector (Q13) from the 13-bit
// position index and the 4-bit sign index.
func decodeACELP(sign, index int16, code *[lSubfr]int16) {
	var pos [4]int16
	i := index & 7
	pos[0] = i * 5
	index >>= 3
	i = index & 7
	pos[1] = i*5 + 1
	index >>= 3
	i = index & 7
	pos[2] = i*5 + 2
	index >>= 3
	j := index & 1
	index >>= 1
	i = index & 7
	pos[3] = i*5 + 3 + j
	*code = [lSubfr]int16{}
	for k := range 4 {
		if sign&1 != 0 {
			code[pos[k]] = 8191
		} else {
			code[pos[k]] = -8192
		}
		sign >>= 1
	}
}

// synth filters x through 1/A(z) into y with memory mem (the last
// order outputs). It reports whether the arithmetic saturated; update
// says whether to save the new memory.
func synth(a []int16, x, y []int16, mem *[order]int16, update bool) (overflow bool) {
	var buf [order + lFrame]int16
	copy(buf[:order], mem[:])
	c := (*[mp1]int16)(a)
	n := len(x)
	// sa bounds the feedback's gain and m the magnitude of every sample
	// fed back so far: where they rule saturation out for a sample, its
	// multiply-accumulates are plain ones.
	sa, c0 := sumAbs(c[1:]), int64(abs16(c[0]))+1
	a0, a1, a2, a3, a4, a5 := int32(c[0]), int32(c[1]), int32(c[2]), int32(c[3]), int32(c[4]), int32(c[5])
	a6, a7, a8, a9, a10 := int32(c[6]), int32(c[7]), int32(c[8]), int32(c[9]), int32(c[10])
	m := maxAbs(mem[:])
	for i := range n {
		w := (*[order]int16)(buf[i : i+order]) // the last order outputs
		var s int64
		if fastPaths && 2*(sa*m+c0*(int64(abs16(x[i]))+1)) <= max32 {
			s32 := int32(x[i])*a0 - a1*int32(w[9]) - a2*int32(w[8]) - a3*int32(w[7]) -
				a4*int32(w[6]) - a5*int32(w[5]) - a6*int32(w[4]) - a7*int32(w[3]) -
				a8*int32(w[2]) - a9*int32(w[1]) - a10*int32(w[0])
			s = int64(s32) * 2
		} else {
			s = int64(lMult(x[i], c[0]))
			for j := 1; j <= order; j++ {
				p := int64(c[j]) * int64(w[order-j]) * 2
				if p == 1<<31 { // L_mult saturates
					p = max32
					overflow = true
				}
				s -= p
				if uint64(s-min32) > max32-min32 {
					overflow = true
					if s > 0 {
						s = max32
					} else {
						s = min32
					}
				}
			}
		}
		// L_shl by 3 with saturation.
		if s > max32>>3 || s < min32>>3 {
			overflow = true
			if s > 0 {
				s = max32
			} else {
				s = min32
			}
		} else {
			s <<= 3
		}
		// round: L_add(s, 0x8000).
		s += 0x8000
		if s > max32 {
			s, overflow = max32, true
		}
		v := int16(s >> 16)
		buf[order+i] = v
		m = max(m, int64(abs16(v))+1)
	}
	copy(y, buf[order:order+n])
	if update {
		copy(mem[:], y[n-order:n])
	}
	return overflow
}

// fastPaths enables the plain multiply-accumulates where the bounds of
// the operands rule saturation out; the tests turn it off to check that
// the results are the same.
var fastPaths = true

// sumAbs is the sum of the magnitudes of c.
func sumAbs(c []int16) int64 {
	var t int64
	for _, v := range c {
		t += int64(abs16(v)) + 1 // +1: abs16 of -32768 is 32767
	}
	return t
}

// maxAbs is the largest magnitude in x (32768 for -32768).
func maxAbs(x []int16) int64 {
	var m int32
	for _, v := range x {
		a := int32(v)
		if a < 0 {
			a = -a
		}
		m = max(m, a)
	}
	return int64(m)
}
