package ilbc

import "math"

// decodeResidual rebuilds the frame's LPC excitation (RFC 3951 §4.2-4.4):
// the start state, its remainder from the short codebook, then the
// sub-blocks after and, in reversed time, before it.
func (d *Decoder) decodeResidual(res []float32, p *params, synt []float32) {
	var rev [blockMax]float32
	mem := &d.mem
	*mem = [cbMemL]float32{}
	start := p.start
	diff := stateLen - d.stateShort
	startPos := (start - 1) * subl
	if p.stateFirst == 0 {
		startPos += diff
	}
	stateConstruct(res[startPos:startPos+d.stateShort], p, synt[(start-1)*(order+1):start*(order+1)])

	if p.stateFirst == 1 {
		// The remainder follows the scalar part in time.
		copy(mem[cbMemL-d.stateShort:], res[startPos:startPos+d.stateShort])
		cbConstruct(res[startPos+d.stateShort:startPos+d.stateShort+diff], p.extraCb[:], p.extraGain[:], mem[cbMemL-stMemL:])
	} else {
		// The remainder precedes it: decode it in reversed time.
		for k := 0; k < d.stateShort; k++ {
			mem[cbMemL-1-k] = res[startPos+k]
		}
		cbConstruct(rev[:diff], p.extraCb[:], p.extraGain[:], mem[cbMemL-stMemL:])
		for k := 0; k < diff; k++ {
			res[startPos-1-k] = rev[k]
		}
	}

	sub := 0
	// Forward: the sub-blocks after the start state.
	if nfor := d.nsub - start - 1; nfor > 0 {
		*mem = [cbMemL]float32{}
		copy(mem[cbMemL-stateLen:], res[(start-1)*subl:(start-1)*subl+stateLen])
		for s := 0; s < nfor; s++ {
			out := res[(start+1+s)*subl : (start+2+s)*subl]
			cbConstruct(out, p.cb[sub*3:sub*3+3], p.gain[sub*3:sub*3+3], mem[:])
			copy(mem[:], mem[subl:])
			copy(mem[cbMemL-subl:], out)
			sub++
		}
	}
	// Backward: the sub-blocks before it, in reversed time.
	if nback := start - 1; nback > 0 {
		*mem = [cbMemL]float32{}
		got := min(subl*(d.nsub+1-start), cbMemL)
		for k := 0; k < got; k++ {
			mem[cbMemL-1-k] = res[(start-1)*subl+k]
		}
		for s := 0; s < nback; s++ {
			out := rev[s*subl : (s+1)*subl]
			cbConstruct(out, p.cb[sub*3:sub*3+3], p.gain[sub*3:sub*3+3], mem[:])
			copy(mem[:], mem[subl:])
			copy(mem[cbMemL-subl:], out)
			sub++
		}
		for i := 0; i < subl*nback; i++ {
			res[subl*nback-1-i] = rev[i]
		}
	}
}

// stateConstruct decodes the scalar-quantised start state (RFC 3951 §4.2):
// the samples were quantised after an all-pass filtering in reversed time,
// which a circular convolution undoes.
func stateConstruct(out []float32, p *params, a []float32) {
	n := len(out)
	maxVal := float32(math.Pow(10, float64(stateFrgq[p.idxForMax]))) / 4.5
	var in, fout [order + 2*stateLen]float32
	var num [order + 1]float32
	for k := 0; k < order; k++ {
		num[k] = a[order-k]
	}
	num[order] = a[0]
	x := in[order:]
	for k := 0; k < n; k++ {
		x[k] = maxVal * stateSq3[p.idxVec[n-1-k]]
	}
	// zero-pole filter num/a over 2n samples, zero history
	y := fout[order:]
	for i := 0; i < 2*n; i++ {
		var v float32
		for k := 0; k <= order; k++ {
			v += num[k] * in[order+i-k]
		}
		for k := 1; k <= order; k++ {
			v -= a[k] * fout[order+i-k]
		}
		y[i] = v
	}
	for k := 0; k < n; k++ {
		out[k] = y[n-1-k] + y[2*n-1-k]
	}
}

// gainDequant scales a gain table entry by the previous stage's gain.
func gainDequant(idx int, maxIn float32, stage int) float32 {
	scale := float32(math.Abs(float64(maxIn)))
	if scale < 0.1 {
		scale = 0.1
	}
	switch stage {
	case 0:
		return scale * gainSq5[idx&31]
	case 1:
		return scale * gainSq4[idx&15]
	}
	return scale * gainSq3[idx&7]
}

// cbConstruct sums the three gain-scaled codebook vectors of a target of
// len(out) samples from the codebook memory mem (RFC 3951 §4.3).
func cbConstruct(out []float32, index, gainIdx []int, mem []float32) {
	var g [cbNStages]float32
	g[0] = gainDequant(gainIdx[0], 1, 0)
	g[1] = gainDequant(gainIdx[1], g[0], 1)
	g[2] = gainDequant(gainIdx[2], g[1], 2)
	var cb codebook
	cb.init(mem, len(out))
	var v [subl]float32
	for k := range out {
		out[k] = 0
	}
	for s := range cbNStages {
		cb.vector(v[:len(out)], index[s])
		for k := range out {
			out[k] += g[s] * v[k]
		}
	}
}

// codebook is the adaptive codebook of one target (RFC 3951 §3.6.3):
// vectors cut from the memory, augmented vectors for lags shorter than a
// 40-sample target, and the same two again from the memory filtered by
// cbFilters.
type codebook struct {
	mem      []float32
	filt     [cbMemL]float32
	filtDone bool
	veclen   int
}

func (c *codebook) init(mem []float32, veclen int) {
	c.mem, c.veclen, c.filtDone = mem, veclen, false
}

// size is the number of vectors in each half of the codebook.
func (c *codebook) size() int {
	n := len(c.mem) - c.veclen + 1
	if c.veclen == subl {
		n += subl / 2
	}
	return n
}

func (c *codebook) filtered() []float32 {
	l := len(c.mem)
	if !c.filtDone {
		for m := 0; m < l; m++ {
			var v float32
			for j := 0; j < len(cbFilters); j++ {
				if i := m - 3 + j; i >= 0 && i < l {
					v += c.mem[i] * cbFilters[len(cbFilters)-1-j]
				}
			}
			c.filt[m] = v
		}
		c.filtDone = true
	}
	return c.filt[:l]
}

// vector writes codebook vector index to v; an index beyond the codebook
// (a corrupt frame) gives silence.
func (c *codebook) vector(v []float32, index int) {
	half := c.size()
	mem := c.mem
	if index >= half {
		index -= half
		if index >= half {
			clear(v)
			return
		}
		mem = c.filtered()
	}
	lMem, n := len(mem), c.veclen
	base := lMem - n + 1
	if index < base {
		k := index + n
		copy(v, mem[lMem-k:lMem-k+n])
		return
	}
	// Augmented vector: the last k/2 samples repeated, with a 5-sample
	// crossfade.
	k := 2*(index-base) + n
	hi := k / 2
	lo := hi - 5
	copy(v[:lo], mem[lMem-k/2:])
	alfa := float32(0)
	for j := lo; j < hi; j++ {
		v[j] = (1-alfa)*mem[lMem-k/2+j] + alfa*mem[lMem-k+j]
		alfa += 0.2
	}
	copy(v[hi:n], mem[lMem-k+hi:])
}
