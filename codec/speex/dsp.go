package speex

import "math"

// lspInterpolate mixes the previous and current frame's LSPs for
// sub-frame sub and keeps them ordered and apart by margin.
func lspInterpolate(old, cur, out []float32, sub, subs int, margin float32) {
	t := float32(1+sub) / float32(subs)
	for i := range out {
		out[i] = (1-t)*old[i] + t*cur[i]
	}
	n := len(out)
	if out[0] < margin {
		out[0] = margin
	}
	if out[n-1] > math.Pi-margin {
		out[n-1] = math.Pi - margin
	}
	for i := 1; i < n-1; i++ {
		if out[i] < out[i-1]+margin {
			out[i] = out[i-1] + margin
		}
		if out[i] > out[i+1]-margin {
			out[i] = 0.5 * (out[i] + out[i+1] - margin)
		}
	}
}

// lspToLPC converts LSPs (radians) to the coefficients a[0..p-1] of
// A(z) = 1 + Σ a[k-1] z^-k, from the symmetric and antisymmetric
// polynomials P(z) (even LSPs, factor 1+z^-1) and Q(z) (odd, 1-z^-1).
func lspToLPC(lsp, a []float32) {
	p := len(lsp)
	var pp, qq [17]float32 // products of the second-order sections, degree ≤ p
	pp[0], qq[0] = 1, 1
	np, nq := 0, 0
	for i := 0; i < p; i++ {
		c := -2 * float32(math.Cos(float64(lsp[i])))
		poly, n := &pp, &np
		if i&1 == 1 {
			poly, n = &qq, &nq
		}
		// multiply by 1 + c z^-1 + z^-2
		for k := *n + 2; k >= 0; k-- {
			v := poly[k]
			if k >= 1 {
				v += c * poly[k-1]
			}
			if k >= 2 {
				v += poly[k-2]
			}
			poly[k] = v
		}
		*n += 2
	}
	for k := 1; k <= p; k++ {
		pk := pp[k] + pp[k-1] // (1 + z^-1) P'
		qk := qq[k] - qq[k-1] // (1 - z^-1) Q'
		a[k-1] = 0.5 * (pk + qk)
	}
}

// iir runs the synthesis filter 1/A(z) in place (transposed direct form,
// state mem).
func iir(x, a, mem []float32) {
	n := len(a)
	for i, xi := range x {
		y := xi + mem[0]
		for j := 0; j < n-1; j++ {
			mem[j] = mem[j+1] - a[j]*y
		}
		mem[n-1] = -a[n-1] * y
		x[i] = y
	}
}

// highpass coefficients (Q14) by filter: 1 narrowband output, 3 wideband
// output.
var hpNum = [5][3]float32{{15672, -31344, 15672}, {15802, -31601, 15802}, {15847, -31694, 15847}, {16162, -32322, 16162}, {14418, -28836, 14418}}
var hpDen = [5][3]float32{{16384, -31313, 14991}, {16384, -31569, 15249}, {16384, -31677, 15328}, {16384, -32313, 15947}, {16384, -22446, 6537}}

// highpass is the decoder's output DC/rumble filter, a biquad.
func highpass(x []float32, id int, mem *[2]float32) {
	b0, b1, b2 := hpNum[id][0]/16384, hpNum[id][1]/16384, hpNum[id][2]/16384
	a1, a2 := hpDen[id][1]/16384, hpDen[id][2]/16384
	for i, xi := range x {
		y := b0*xi + mem[0]
		mem[0] = mem[1] + b1*xi - a1*y
		mem[1] = b2*xi - a2*y
		x[i] = y
	}
}

// shiftFilt interpolates the excitation at fractional lags (Q15).
var shiftFilt = [3][7]float32{
	{-33, 1043, -4551, 19959, 19959, -4551, 1043},
	{-98, 1133, -4425, 29179, 8895, -2328, 444},
	{444, -2328, 8895, 29179, -4425, 1133, -98},
}

func inner(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// interpPitch writes to out the excitation at buf[pos:] delayed by the lag
// near pitch (±3 samples, in quarter... thirds) that correlates best.
func interpPitch(buf []float32, pos int, out []float32, pitch int) {
	n := len(out)
	var corr [4][7]float32
	x := buf[pos : pos+n]
	for i := range 7 {
		s := pos - pitch - 3 + i
		corr[0][i] = inner(x, buf[s:s+n])
	}
	for i := range 3 {
		for j := range 7 {
			i1 := max(3-j, 0)
			i2 := min(10-j, 7)
			var t float32
			for k := i1; k < i2; k++ {
				t += shiftFilt[i][k] / 32768 * corr[0][j+k-3]
			}
			corr[i+1][j] = t
		}
	}
	mi, mj := 0, 0
	best := corr[0][0]
	for i := range 4 {
		for j := range 7 {
			if corr[i][j] > best {
				best, mi, mj = corr[i][j], i, j
			}
		}
	}
	lag := pitch - mj + 3
	for i := range n {
		if mi > 0 {
			var t float32
			for k := range 7 {
				t += buf[pos+i-lag+k-3] * shiftFilt[mi-1][k] / 32768
			}
			out[i] = t
		} else {
			out[i] = buf[pos+i-lag]
		}
	}
}

// multicomb is the enhancer: it adds to the excitation at buf[pos:] its
// copies one pitch period back and forward (or two back), weighted by how
// periodic it is, and keeps the energy.
func multicomb(buf []float32, pos int, out []float32, pitch int, combGain float32) {
	const maxP = 40
	nsf := len(out)
	var iexc [160]float32
	exc := buf[pos : pos+nsf]
	interpPitch(buf, pos, iexc[:nsf], pitch)
	if pitch > maxP {
		interpPitch(buf, pos, iexc[nsf:2*nsf], 2*pitch)
	} else {
		interpPitch(buf, pos, iexc[nsf:2*nsf], -pitch)
	}
	i0 := float32(math.Sqrt(float64(1000 + inner(iexc[:nsf], iexc[:nsf]))))
	i1 := float32(math.Sqrt(float64(1000 + inner(iexc[nsf:2*nsf], iexc[nsf:2*nsf]))))
	em := float32(math.Sqrt(float64(1 + inner(exc, exc))))
	c0 := max(inner(iexc[:nsf], exc), 0)
	c1 := max(inner(iexc[nsf:2*nsf], exc), 0)
	pg1 := c0 / i0 / em
	pg2 := c1 / i1 / em
	gg1 := em / i0
	gg2 := em / i1
	var k1, k2 float32
	if combGain > 0 {
		k1 = 0.4*combGain + 0.07
		k2 = 0.5 + 1.72*(k1-0.07)
	}
	g1 := 1 - k2*pg1*pg1
	g2 := 1 - k2*pg2*pg2
	g1 = k1 / max(g1, k1)
	g2 = k1 / max(g2, k1)
	var gain0, gain1 float32
	if pitch > maxP {
		gain0, gain1 = 0.7*g1*gg1, 0.3*g2*gg2
	} else {
		gain0, gain1 = 0.6*g1*gg1, 0.6*g2*gg2
	}
	for i := range nsf {
		out[i] = exc[i] + gain0*iexc[i] + gain1*iexc[i+nsf]
	}
	newE := rms(out)
	oldE := rms(exc)
	newE = max(newE, 1)
	oldE = max(oldE, 1)
	oldE = min(oldE, newE)
	g := oldE / newE
	for i := range out {
		out[i] *= g
	}
}
