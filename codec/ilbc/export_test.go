package ilbc

// Test hooks: the frame parameters, and their packing (the inverse of
// unpack), to build frames of one mode from the parameters of another.

// Params are a frame's quantiser indices.
type Params = params

// Unpack reads a frame of the mode.
func Unpack(mode int, b []byte) Params {
	d := NewDecoder()
	d.setMode(mode)
	var p params
	d.unpack(&p, b)
	return p
}

// Pack writes p as a frame of the mode, class by class as RFC 3951 §3.8
// orders the bits; the empty-frame bit is clear.
func Pack(mode int, p Params) []byte {
	d := NewDecoder()
	d.setMode(mode)
	size := Bytes30
	if mode == 20 {
		size = Bytes20
	}
	b := make([]byte, size)
	pos := 0
	put := func(v, n int) {
		for i := n - 1; i >= 0; i-- {
			if v>>i&1 == 1 {
				b[pos>>3] |= 0x80 >> (pos & 7)
			}
			pos++
		}
	}
	// the 7-bit stage 2 and 3 indices of the first sub-block
	for k := 1; k < 3; k++ {
		switch c := p.cb[k]; {
		case c >= 108 && c < 172:
			p.cb[k] = c - 64
		case c >= 236:
			p.cb[k] = c - 128
		}
	}
	u := d.u
	// part writes, of a value of total bits, the n bits after skip.
	part := func(v int, bits [3]int, k int) {
		total := bits[0] + bits[1] + bits[2]
		skip := 0
		for i := 0; i < k; i++ {
			skip += bits[i]
		}
		n := bits[k]
		put(v>>(total-skip-n)&(1<<n-1), n)
	}
	for k := range 3 {
		for i := 0; i < 3*d.lpcN; i++ {
			part(p.lsf[i], u.lsf[i], k)
		}
		part(p.start, u.start, k)
		part(p.stateFirst, u.startFirst, k)
		part(p.idxForMax, u.scale, k)
		for i := 0; i < d.stateShort; i++ {
			part(p.idxVec[i], u.state, k)
		}
		for i := range 3 {
			part(p.extraCb[i], u.extraCbIndex[i], k)
		}
		for i := range 3 {
			part(p.extraGain[i], u.extraCbGain[i], k)
		}
		for i := 0; i < d.nasub; i++ {
			for j := range 3 {
				part(p.cb[i*3+j], u.cbIndex[i][j], k)
			}
		}
		for i := 0; i < d.nasub; i++ {
			for j := range 3 {
				part(p.gain[i*3+j], u.cbGain[i][j], k)
			}
		}
	}
	return b
}

// To20 makes 20 ms parameters from 30 ms ones: the first LSF set, the
// start state (moved to sub-blocks 2-3 when it was later), the first two
// sub-blocks' codebook indices and gains.
func To20(p Params) Params {
	q := p
	q.lsf = [6]int{p.lsf[0], p.lsf[1], p.lsf[2]}
	q.start = min(p.start, 3)
	q.idxVec[57] = 0
	for i := range q.extraCb {
		q.extraCb[i] = min(q.extraCb[i], 125) // 126 vectors for 23 samples
	}
	for i := 6; i < len(q.cb); i++ {
		q.cb[i], q.gain[i] = 0, 0
	}
	return q
}
