// Package ilbc decodes iLBC, the Internet Low Bit Rate Codec (RFC 3951), in
// its 20 ms (38-byte, 15.2 kbit/s) and 30 ms (50-byte, 13.33 kbit/s) modes,
// carried in RTP as RFC 3952 describes: one or more frames a packet, the
// mode from SDP's a=fmtp mode= or, failing that, from the payload length.
//
// It follows the RFC's floating-point decoder: LSF dequantisation (split
// VQ), the stability check, LSF interpolation and conversion to LPC, the
// scalar-quantised start state and its all-pass phase correction, the
// 3-stage gain-shape decoding of the other sub-blocks from the adaptive
// codebook (with its augmented and filtered halves), the RFC's packet loss
// concealment (§4.5) for lost and bad frames, synthesis and the output
// high-pass filter (§4.8). NewDecoder takes the RFC's path without the
// pitch-synchronous enhancer (§4.6), as ffmpeg's decoder does;
// NewEnhancedDecoder has it.
package ilbc

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Frame sizes of the two modes.
const (
	Bytes20 = 38 // payload bytes of a 20 ms frame
	Bytes30 = 50 // payload bytes of a 30 ms frame
)

const (
	order     = 10  // LPC order
	subl      = 40  // sub-block length
	stateLen  = 80  // start state length (two sub-blocks)
	cbMemL    = 147 // codebook memory
	stMemL    = 85  // codebook memory of the start state's remainder
	cbNStages = 3
	blockMax  = 240
	maxPLC    = 8000 // concealed samples after the last good frame, then silence
)

// ErrFrame reports a payload that is no whole number of frames of the mode.
var ErrFrame = errors.New("ilbc: payload is not a whole number of frames")

// Decoder decodes one iLBC stream. The zero value is not usable: use
// NewDecoder.
type Decoder struct {
	mode       int // 20 or 30, 0 until the first frame decides
	fixed      bool
	blockl     int
	nsub       int
	nasub      int
	lpcN       int
	stateShort int
	u          *ulp

	lsfOld   [order]float32
	syntMem  [order]float32
	hpoMem   [4]float32
	lastLag  int
	prevLag  int
	per      float32
	consPLI  int
	prevPLI  bool
	seed     uint32
	prevLpc  [order + 1]float32
	prevRes  [blockMax]float32
	concealN int // samples concealed since the last good frame

	bad     int    // frames decoded as bad (empty flag or invalid start)
	badBits uint32 // of the last 32 frames, which were bad
	badSeen int    // how many frames badBits covers (at most 32)

	// the enhancer (RFC 3951 §4.6), off unless NewEnhancedDecoder
	enhance   bool
	enhBuf    [enhBufL]float32
	enhPeriod [enhNBlocksTot]float32
	oldSynt   [6 * (order + 1)]float32
	prevEnhPL bool

	p   params          // the frame being decoded
	mem [cbMemL]float32 // codebook memory of the sub-block being decoded
}

// NewDecoder returns a decoder whose mode (20 or 30 ms) is taken from each
// payload's length (RFC 3952 §5: 38 or 50 bytes a frame; a length that both
// divide, such as 950, is read as 30 ms frames unless the mode is given).
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.reset()
	return d
}

// NewDecoderMode returns a decoder for the given mode (20 or 30, from SDP's
// a=fmtp mode=); payloads of the other mode are still recognised by length
// when the given one cannot divide them.
func NewDecoderMode(mode int) (*Decoder, error) {
	if mode != 20 && mode != 30 {
		return nil, fmt.Errorf("ilbc: mode %d: want 20 or 30", mode)
	}
	d := NewDecoder()
	d.setMode(mode)
	d.fixed = true
	return d, nil
}

// NewEnhancedDecoder is NewDecoder with the RFC's pitch-synchronous
// enhancer (§4.6) on: smoother voiced speech, 40 (20 ms) or 80 (30 ms)
// samples of delay. ffmpeg's decoder, the reference of the tests, has no
// enhancer, so this output is checked for its delay, level and
// robustness only.
func NewEnhancedDecoder() *Decoder {
	d := NewDecoder()
	d.enhance = true
	return d
}

func (d *Decoder) reset() {
	d.lsfOld = lsfMean
	d.syntMem = [order]float32{}
	d.hpoMem = [4]float32{}
	d.lastLag = 20
	d.prevLag = 120
	d.per = 0
	d.consPLI = 0
	d.prevPLI = false
	d.seed = 777
	d.prevLpc = [order + 1]float32{1}
	d.prevRes = [blockMax]float32{}
	d.enhBuf = [enhBufL]float32{}
	for i := range d.enhPeriod {
		d.enhPeriod[i] = 40
	}
	for i := range d.oldSynt {
		if i%(order+1) == 0 {
			d.oldSynt[i] = 1
		} else {
			d.oldSynt[i] = 0
		}
	}
	d.prevEnhPL = false
}

func (d *Decoder) setMode(mode int) {
	if d.mode == mode {
		return
	}
	if d.mode != 0 {
		d.reset() // a mode change restarts the decoder's memory
	}
	d.mode = mode
	if mode == 20 {
		d.blockl, d.nsub, d.nasub, d.lpcN, d.stateShort, d.u = 160, 4, 2, 1, 57, &ulp20
	} else {
		d.blockl, d.nsub, d.nasub, d.lpcN, d.stateShort, d.u = 240, 6, 4, 2, 58, &ulp30
	}
}

// Mode returns 20 or 30 once known, else 0.
func (d *Decoder) Mode() int { return d.mode }

// BadFrames returns how many frames were concealed because their own bits
// said so (the empty-frame flag, an impossible start-state position).
func (d *Decoder) BadFrames() int { return d.bad }

// Garbage reports whether the payloads do not look like iLBC at all: a
// quarter or more of the last 16 to 32 frames were bad (the empty-frame
// bit set, or a start-state position the mode does not have). An encoder
// never sends such frames; random bytes (encrypted media, another codec's
// payloads) make two in three of them.
func (d *Decoder) Garbage() bool {
	return d.badSeen >= 16 && 4*bits.OnesCount32(d.badBits) >= d.badSeen
}

// Decode appends the 16-bit samples of the frames in payload to pcm. A
// payload that is no whole number of frames of either mode returns
// ErrFrame and pcm unchanged.
func (d *Decoder) Decode(pcm []int16, payload []byte) ([]int16, error) {
	size := 0
	switch {
	case len(payload) == 0:
	case d.mode == 20 && len(payload)%Bytes20 == 0:
		size = Bytes20
	case d.mode == 30 && len(payload)%Bytes30 == 0:
		size = Bytes30
	case len(payload)%Bytes30 == 0:
		size = Bytes30
	case len(payload)%Bytes20 == 0:
		size = Bytes20
	}
	if size == 0 {
		return pcm, fmt.Errorf("%w: %d bytes", ErrFrame, len(payload))
	}
	if size == Bytes20 {
		d.setMode(20)
	} else {
		d.setMode(30)
	}
	var out [blockMax]float32
	for off := 0; off+size <= len(payload); off += size {
		d.decodeFrame(out[:d.blockl], payload[off:off+size])
		pcm = appendPCM(pcm, out[:d.blockl])
	}
	d.concealN = 0
	return pcm, nil
}

// Conceal implements codec.Concealer: whole frames of the RFC's packet
// loss concealment, at most about 1 s after the last good frame, then
// nothing.
func (d *Decoder) Conceal(pcm []int16, samples int) []int16 {
	if d.mode == 0 {
		return pcm
	}
	var out [blockMax]float32
	for n := 0; n+d.blockl/2 <= samples && d.concealN < maxPLC; n += d.blockl {
		d.conceal(out[:d.blockl])
		pcm = appendPCM(pcm, out[:d.blockl])
		d.concealN += d.blockl
	}
	return pcm
}

func appendPCM(pcm []int16, x []float32) []int16 {
	for _, v := range x {
		r := math.Round(float64(v))
		switch {
		case r > math.MaxInt16:
			r = math.MaxInt16
		case r < math.MinInt16:
			r = math.MinInt16
		case r != r: // NaN cannot come from a bounded filter, but never emit it
			r = 0
		}
		pcm = append(pcm, int16(r))
	}
	return pcm
}

// params are the unpacked indices of one frame.
type params struct {
	lsf        [6]int
	start      int
	stateFirst int
	idxForMax  int
	idxVec     [58]int
	extraCb    [3]int
	extraGain  [3]int
	cb         [12]int
	gain       [12]int
	empty      bool
}

type bitReader struct {
	b   []byte
	pos int
}

func (r *bitReader) read(n int) int {
	v := 0
	for range n {
		bit := 0
		if r.pos>>3 < len(r.b) {
			bit = int(r.b[r.pos>>3]>>(7-r.pos&7)) & 1
		}
		v = v<<1 | bit
		r.pos++
	}
	return v
}

// unpack reads a frame's parameters, class by class (RFC 3951 §3.8): each
// class carries the next bits of every parameter, most significant first.
func (d *Decoder) unpack(p *params, b []byte) {
	*p = params{}
	r := bitReader{b: b}
	u := d.u
	add := func(v *int, n int) { *v = *v<<n | r.read(n) }
	for k := range 3 {
		for i := 0; i < 3*d.lpcN; i++ {
			add(&p.lsf[i], u.lsf[i][k])
		}
		add(&p.start, u.start[k])
		add(&p.stateFirst, u.startFirst[k])
		add(&p.idxForMax, u.scale[k])
		for i := 0; i < d.stateShort; i++ {
			add(&p.idxVec[i], u.state[k])
		}
		for i := range 3 {
			add(&p.extraCb[i], u.extraCbIndex[i][k])
		}
		for i := range 3 {
			add(&p.extraGain[i], u.extraCbGain[i][k])
		}
		for i := 0; i < d.nasub; i++ {
			for j := range 3 {
				add(&p.cb[i*3+j], u.cbIndex[i][j][k])
			}
		}
		for i := 0; i < d.nasub; i++ {
			for j := range 3 {
				add(&p.gain[i*3+j], u.cbGain[i][j][k])
			}
		}
	}
	p.empty = r.read(1) == 1
	// Stages 2 and 3 of the first 40-sample sub-block use a 7-bit index
	// into a reduced search range: map it to the full codebook.
	for k := 1; k < 3; k++ {
		switch c := p.cb[k]; {
		case c >= 44 && c < 108:
			p.cb[k] = c + 64
		case c >= 108 && c < 128:
			p.cb[k] = c + 128
		}
	}
}

// decodeFrame decodes one frame of the decoder's mode to out.
func (d *Decoder) decodeFrame(out []float32, frame []byte) {
	p := &d.p
	d.unpack(p, frame)
	isBad := p.empty || p.start < 1 || p.start > d.nsub-1
	d.badBits <<= 1
	d.badSeen = min(d.badSeen+1, 32)
	if isBad {
		d.bad++
		d.badBits |= 1
		d.conceal(out)
		return
	}
	var lsf [2 * order]float32
	d.lsfDeq(lsf[:], p)
	lsfCheck(lsf[:order*d.lpcN], d.lpcN)
	var synt [6 * (order + 1)]float32
	d.interpolate(synt[:], lsf[:])

	var res [blockMax]float32
	d.decodeResidual(res[:d.blockl], p, synt[:])
	// Remember this frame for a later loss. The pitch search needs 200
	// samples: a 20 ms frame borrows the previous frame's last ones.
	var hist [blockMax]float32
	copy(hist[:], d.prevRes[d.blockl-(blockMax-d.blockl):d.blockl])
	copy(hist[blockMax-d.blockl:], res[:d.blockl])
	d.lastLag = bestLag(hist[:])
	d.consPLI = 0
	d.prevPLI = false
	copy(d.prevLpc[:], synt[(d.nsub-1)*(order+1):d.nsub*(order+1)])
	copy(d.prevRes[:], res[:d.blockl])

	d.synthesize(out, res[:d.blockl], synt[:], false)
}

// synthesize turns the frame's excitation into speech: through the
// enhancer if it is on (which delays the output by 40 or 80 samples, so
// the first sub-blocks take the previous frame's filters),
// the LPC synthesis filters and the output high-pass.
func (d *Decoder) synthesize(out, res, synt []float32, concealed bool) {
	const lp = order + 1
	if !d.enhance {
		copy(out, res)
		for i := 0; i < d.nsub; i++ {
			d.syntFilter(out[i*subl:(i+1)*subl], synt[i*lp:(i+1)*lp])
		}
	} else {
		d.lastLag = d.enhance1(out, res)
		delay := 1 // sub-blocks
		if d.mode == 30 {
			delay = 2
		}
		for i := 0; i < d.nsub; i++ {
			var a []float32
			if i < delay {
				a = d.oldSynt[(i+d.nsub-delay)*lp : (i+d.nsub-delay+1)*lp]
			} else {
				a = synt[(i-delay)*lp : (i-delay+1)*lp]
			}
			d.syntFilter(out[i*subl:(i+1)*subl], a)
		}
	}
	d.highPass(out)
	copy(d.oldSynt[:], synt[:d.nsub*lp])
	d.prevEnhPL = concealed
}

// bestLag is the pitch lag (20..119) of the frame's last 80 samples, the
// starting point of a later concealment.
func bestLag(res []float32) int {
	n := len(res)
	target := res[n-80:]
	lag, maxcc := 20, xCorrCoef(target, res[n-80-20:])
	for l := 21; l < 120; l++ {
		if cc := xCorrCoef(target, res[n-80-l:]); cc > maxcc {
			lag, maxcc = l, cc
		}
	}
	return lag
}

func xCorrCoef(target, reg []float32) float32 {
	var a, b float32
	for i := range target {
		a += target[i] * reg[i]
		b += reg[i] * reg[i]
	}
	if a > 0 && b > 0 {
		return a * a / b
	}
	return 0
}

// lsfDeq looks the LSF indices up in the split codebook.
func (d *Decoder) lsfDeq(lsf []float32, p *params) {
	for n := 0; n < d.lpcN; n++ {
		pos, cbPos := 0, 0
		for i := range 3 {
			idx := p.lsf[n*3+i]
			for j := 0; j < lsfDim[i]; j++ {
				lsf[n*order+pos+j] = lsfCb[cbPos+idx*lsfDim[i]+j]
			}
			pos += lsfDim[i]
			cbPos += lsfSize[i] * lsfDim[i]
		}
	}
}

// lsfCheck keeps neighbouring LSFs apart and within (0, pi) so that the
// synthesis filter is stable (RFC 3951 §4.1).
func lsfCheck(lsf []float32, n int) {
	const eps, eps2, maxLSF, minLSF = 0.039, 0.0195, 3.14, 0.01
	for range 2 {
		for m := 0; m < n; m++ {
			for k := 0; k < order-1; k++ {
				pos := m*order + k
				if lsf[pos+1]-lsf[pos] < eps {
					if lsf[pos+1] < lsf[pos] {
						t := lsf[pos+1]
						lsf[pos+1] = lsf[pos] + eps2
						lsf[pos] = t - eps2
					} else {
						lsf[pos] -= eps2
						lsf[pos+1] += eps2
					}
				}
				if lsf[pos] < minLSF {
					lsf[pos] = minLSF
				}
				if lsf[pos] > maxLSF {
					lsf[pos] = maxLSF
				}
			}
		}
	}
}

// interpolate makes each sub-block's LPC synthesis filter from the
// previous and current LSFs (RFC 3951 §4.1).
func (d *Decoder) interpolate(synt []float32, lsf []float32) {
	var tmp [order]float32
	mix := func(dst []float32, a, b []float32, w float32) {
		for i := range tmp {
			tmp[i] = w*a[i] + (1-w)*b[i]
		}
		lsf2a(dst, tmp[:])
	}
	if d.mode == 30 {
		mix(synt[0:order+1], d.lsfOld[:], lsf[:order], lsfWeight30[0])
		for i := 1; i < 6; i++ {
			mix(synt[i*(order+1):(i+1)*(order+1)], lsf[:order], lsf[order:2*order], lsfWeight30[i])
		}
		copy(d.lsfOld[:], lsf[order:2*order])
	} else {
		for i := range 4 {
			mix(synt[i*(order+1):(i+1)*(order+1)], d.lsfOld[:], lsf[:order], lsfWeight20[i])
		}
		copy(d.lsfOld[:], lsf[:order])
	}
}

// lsf2a converts LSFs (radians) to the coefficients a[0..10] (a[0] = 1) of
// A(z) = (P(z) + Q(z)) / 2.
func lsf2a(a []float32, lsfIn []float32) {
	var f [order]float64
	for i := range f {
		f[i] = float64(lsfIn[i]) / (2 * math.Pi)
	}
	if f[0] <= 0 || f[order-1] >= 0.5 {
		if f[0] <= 0 {
			f[0] = 0.022
		}
		if f[order-1] >= 0.5 {
			f[order-1] = 0.499
		}
		h := (f[order-1] - f[0]) / (order - 1)
		for i := 1; i < order; i++ {
			f[i] = f[i-1] + h
		}
	}
	// P from the even-indexed LSFs with (1 + z^-1), Q from the odd ones
	// with (1 - z^-1).
	var pp, qq [order + 2]float64
	pp[0], qq[0] = 1, 1
	deg := 0
	for i := 0; i < order/2; i++ {
		cp := -2 * math.Cos(2*math.Pi*f[2*i])
		cq := -2 * math.Cos(2*math.Pi*f[2*i+1])
		for k := deg + 2; k >= 0; k-- {
			vp, vq := pp[k], qq[k]
			if k >= 1 {
				vp += cp * pp[k-1]
				vq += cq * qq[k-1]
			}
			if k >= 2 {
				vp += pp[k-2]
				vq += qq[k-2]
			}
			pp[k], qq[k] = vp, vq
		}
		deg += 2
	}
	a[0] = 1
	for k := 1; k <= order; k++ {
		p := pp[k] + pp[k-1]
		q := qq[k] - qq[k-1]
		a[k] = float32((p + q) / 2)
	}
}

func (d *Decoder) syntFilter(x []float32, a []float32) {
	m := &d.syntMem
	for n := range x {
		v := x[n]
		for k := 1; k <= order; k++ {
			v -= a[k] * m[k-1]
		}
		copy(m[1:], m[:order-1])
		m[0] = v
		x[n] = v
	}
}

func (d *Decoder) highPass(x []float32) {
	m := &d.hpoMem
	for i, in := range x {
		o := hpoZero[0]*in + hpoZero[1]*m[0] + hpoZero[2]*m[1] - hpoPole[1]*m[2] - hpoPole[2]*m[3]
		m[1], m[0] = m[0], in
		m[3], m[2] = m[2], o
		x[i] = o
	}
}
