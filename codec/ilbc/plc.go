package ilbc

import "math"

// conceal makes up one frame for a lost or bad one (RFC 3951 §4.5): the
// previous excitation repeated at its pitch lag, mixed with noise drawn
// from it as the periodicity falls, and damped as losses go on, through
// the last good frame's synthesis filter.
func (d *Decoder) conceal(out []float32) {
	n := d.blockl
	res := out[:n]
	d.consPLI++
	var lag int
	var maxPer float32
	if !d.prevPLI {
		// Search around the last lag for the best pitch period. (The
		// enhancer's lag can be twice a pitch lag after a concealed
		// frame: keep the search within the buffer.)
		last := min(max(d.lastLag, 20), 120)
		lag = last - 3
		maxcc, _, per := compCorr(d.prevRes[:n], lag, 60)
		maxPer = per
		for i := last - 2; i <= last+3; i++ {
			cc, _, per := compCorr(d.prevRes[:n], i, 60)
			if cc > maxcc {
				maxcc, lag, maxPer = cc, i, per
			}
		}
	} else {
		lag, maxPer = d.prevLag, d.per
	}
	useGain := float32(1)
	switch lost := d.consPLI * n; {
	case lost > 4*320:
		useGain = 0
	case lost > 3*320:
		useGain = 0.5
	case lost > 2*320:
		useGain = 0.7
	case lost > 320:
		useGain = 0.9
	}
	pitch := float32(0)
	if f := float32(math.Sqrt(float64(maxPer))); f > 0.7 {
		pitch = 1
	} else if f > 0.4 {
		pitch = (f - 0.4) / (0.7 - 0.4)
	}
	useLag := lag
	if lag < 80 {
		useLag = 2 * lag
	}
	useLag = min(useLag, n)
	var rnd [blockMax]float32
	var energy float32
	for i := 0; i < n; i++ {
		d.seed = (d.seed*69069 + 1) & 0x7fffffff
		pick := i - (50 + int(d.seed%70))
		if pick < 0 {
			rnd[i] = d.prevRes[n+pick]
		} else {
			rnd[i] = rnd[pick]
		}
		if pick = i - useLag; pick < 0 {
			res[i] = d.prevRes[n+pick]
		} else {
			res[i] = res[pick]
		}
		v := useGain * (pitch*res[i] + (1-pitch)*rnd[i])
		switch {
		case i >= 160:
			v *= 0.9
		case i >= 80:
			v *= 0.95
		}
		res[i] = v
		energy += v * v
	}
	if math.Sqrt(float64(energy)/float64(n)) < 30 {
		copy(res, rnd[:n]) // below 30 dB: noise only
	}
	d.prevLag, d.per, d.prevPLI = lag, maxPer, true
	copy(d.prevRes[:n], res)
	var synt [6 * (order + 1)]float32
	for i := 0; i < d.nsub; i++ {
		copy(synt[i*(order+1):], d.prevLpc[:])
	}
	var r [blockMax]float32
	copy(r[:], res)
	d.synthesize(out, r[:n], synt[:], true)
}

// compCorr measures the last sRange samples of buf against themselves lag
// samples earlier: the squared correlation over energy, the gain, and the
// normalised correlation (periodicity).
func compCorr(buf []float32, lag, sRange int) (cc, gain, per float32) {
	n := len(buf)
	if lag < 1 || lag >= n {
		return 0, 0, 0
	}
	if n-sRange-lag < 0 {
		sRange = n - lag
	}
	var c, e2, e3 float32
	for i := 0; i < sRange; i++ {
		x, y := buf[n-sRange+i], buf[n-sRange+i-lag]
		c += x * y
		e2 += y * y
		e3 += x * x
	}
	if e2 <= 0 || e3 <= 0 {
		return 0, 0, 0
	}
	return c * c / e2, float32(math.Abs(float64(c / e2))), float32(math.Abs(float64(c)) / (math.Sqrt(float64(e2)) * math.Sqrt(float64(e3))))
}
