package g729

// The 16/32-bit fixed-point basic operators that ITU-T G.729 is written
// in (as ITU-T G.191 defines them): saturating arithmetic on Q-format
// numbers. The decoder uses them everywhere so that its output matches
// the Recommendation's bit for bit.

const (
	max16 = 32767
	min16 = -32768
	max32 = 0x7fffffff
	min32 = -0x80000000
)

func sat16(x int32) int16 {
	if uint32(x-min16) > max16-min16 { // one test for both bounds
		if x > 0 {
			return max16
		}
		return min16
	}
	return int16(x)
}

func add(a, b int16) int16 { return sat16(int32(a) + int32(b)) }
func sub(a, b int16) int16 { return sat16(int32(a) - int32(b)) }

func negate(a int16) int16 {
	if a == min16 {
		return max16
	}
	return -a
}

func abs16(a int16) int16 {
	if a == min16 {
		return max16
	}
	if a < 0 {
		return -a
	}
	return a
}

// mult is (a*b)>>15, saturated.
func mult(a, b int16) int16 { return sat16(int32(a) * int32(b) >> 15) }

// multR is mult with rounding.
func multR(a, b int16) int16 { return sat16((int32(a)*int32(b) + 0x4000) >> 15) }

func shl(a, n int16) int16 {
	if n < 0 {
		return shr(a, -n)
	}
	if n > 15 {
		if a == 0 {
			return 0
		}
		if a > 0 {
			return max16
		}
		return min16
	}
	r := int32(a) << n
	if r != int32(int16(r)) {
		if a > 0 {
			return max16
		}
		return min16
	}
	return int16(r)
}

func shr(a, n int16) int16 {
	if n < 0 {
		return shl(a, -n)
	}
	if n >= 15 {
		if a < 0 {
			return -1
		}
		return 0
	}
	return a >> n
}

// shrR is shr with rounding.
func shrR(a, n int16) int16 {
	if n > 15 {
		return 0
	}
	r := shr(a, n)
	if n > 0 && a&(1<<(n-1)) != 0 {
		r++
	}
	return r
}

func extractH(l int32) int16         { return int16(l >> 16) }
func extractL(l int32) int16         { return int16(l) }
func depositH(a int16) int32         { return int32(a) << 16 }
func round16(l int32) int16          { return extractH(lAdd(l, 0x8000)) }
func lMult(a, b int16) int32         { return sat32(int64(a) * int64(b) * 2) }
func lMac(l int32, a, b int16) int32 { return sat32(int64(l) + int64(lMult(a, b))) }
func lMsu(l int32, a, b int16) int32 { return sat32(int64(l) - int64(lMult(a, b))) }
func lAdd(a, b int32) int32          { return sat32(int64(a) + int64(b)) }
func lSub(a, b int32) int32          { return sat32(int64(a) - int64(b)) }

func sat32(x int64) int32 {
	if uint64(x-min32) > max32-min32 { // one test for both bounds
		if x > 0 {
			return max32
		}
		return min32
	}
	return int32(x)
}

// lShl shifts left with saturation (G.191 shifts one bit at a time and
// saturates at the first overflow; as the magnitude only grows, checking
// the final value is the same).
func lShl(l int32, n int16) int32 {
	if n <= 0 {
		return lShr(l, -n)
	}
	if n > 32 {
		n = 32
	}
	return sat32(int64(l) << n)
}

func lShr(l int32, n int16) int32 {
	if n < 0 {
		return lShl(l, -n)
	}
	if n >= 31 {
		if l < 0 {
			return -1
		}
		return 0
	}
	return l >> n
}

// lShrR is lShr with rounding.
func lShrR(l int32, n int16) int32 {
	if n > 31 {
		return 0
	}
	r := lShr(l, n)
	if n > 0 && l&(1<<(n-1)) != 0 {
		r++
	}
	return r
}

// normS is the left shift that normalizes a (0 for 0).
func normS(a int16) int16 {
	if a == 0 {
		return 0
	}
	if a == -1 {
		return 15
	}
	if a < 0 {
		a = ^a
	}
	var n int16
	for a < 0x4000 {
		a <<= 1
		n++
	}
	return n
}

// normL is the left shift that normalizes l (0 for 0).
func normL(l int32) int16 {
	if l == 0 {
		return 0
	}
	if l == -1 {
		return 31
	}
	if l < 0 {
		l = ^l
	}
	var n int16
	for l < 0x40000000 {
		l <<= 1
		n++
	}
	return n
}

// divS is num/den in Q15 for 0 <= num <= den.
func divS(num, den int16) int16 {
	if num <= 0 || den <= 0 {
		return 0
	}
	if num >= den {
		return max16
	}
	var out int16
	n, d := int32(num), int32(den)
	for range 15 {
		out <<= 1
		n <<= 1
		if n >= d {
			n -= d
			out++
		}
	}
	return out
}

// lExtract splits l into a double precision number hi*2^16 + lo*2.
func lExtract(l int32) (hi, lo int16) {
	hi = extractH(l)
	lo = extractL(lMsu(lShr(l, 1), hi, 16384))
	return hi, lo
}

// lComp is the inverse of lExtract.
func lComp(hi, lo int16) int32 { return lMac(depositH(hi), lo, 1) }

// mpy3216 multiplies the double precision hi, lo by n.
func mpy3216(hi, lo, n int16) int32 {
	return lMac(lMult(hi, n), mult(lo, n), 1)
}

// log2 returns the base 2 logarithm of l > 0 as an exponent and a Q15
// fraction (0, 0 for l <= 0).
func log2(l int32) (exp, frac int16) {
	if l <= 0 {
		return 0, 0
	}
	e := normL(l)
	l = lShl(l, e)
	exp = 30 - e
	l = lShr(l, 9)
	i := extractH(l)
	l = lShr(l, 1)
	a := extractL(l) & 0x7fff
	i -= 32
	y := depositH(tabLog[i])
	tmp := tabLog[i] - tabLog[i+1]
	y = lMsu(y, tmp, a)
	return exp, extractH(y)
}

// pow2 returns 2^(exp+frac), frac in Q15.
func pow2(exp, frac int16) int32 {
	l := lMult(frac, 32)
	i := extractH(l)
	l = lShr(l, 1)
	a := extractL(l) & 0x7fff
	x := depositH(tabPow[i])
	tmp := tabPow[i] - tabPow[i+1]
	x = lMsu(x, tmp, a)
	return lShrR(x, 30-exp)
}

// invSqrt returns 1/sqrt(l) in Q30 for l > 0 (l in Q0..Q31).
func invSqrt(l int32) int32 {
	if l <= 0 {
		return 0x3fffffff
	}
	e := normL(l)
	l = lShl(l, e)
	e = 30 - e
	if e&1 == 0 {
		l = lShr(l, 1)
	}
	e = e>>1 + 1
	l = lShr(l, 9)
	i := extractH(l)
	l = lShr(l, 1)
	a := extractL(l) & 0x7fff
	i -= 16
	y := depositH(tabSqr[i])
	tmp := tabSqr[i] - tabSqr[i+1]
	y = lMsu(y, tmp, a)
	return lShr(y, e)
}
