// Package gsm decodes GSM 06.10 full-rate speech (ETSI EN 300 961, the
// RPE-LTP codec) as carried in RTP: payload type 3, "GSM" (RFC 3551
// §4.5.8), one or more 33-octet frames of 20 ms per packet, each frame
// starting with the signature nibble 0xD.
//
// The decoder follows the recommendation's fixed-point description (§4.3
// and the basic operators of §5.1) so that it is bit-exact: parameter
// unpacking, APCM inverse quantisation, RPE grid positioning, long-term
// synthesis, LAR decoding and interpolation over four sub-segments,
// short-term synthesis lattice filter, de-emphasis and up-scaling. It sits
// at the end of the media pipeline and turns a payload into 8000 Hz mono
// 16-bit PCM (13 significant bits, as the recommendation specifies).
package gsm

import (
	"errors"
	"fmt"
	"math/bits"
)

// Frame sizes.
const (
	FrameBytes   = 33  // octets per RTP frame (RFC 3551 §4.5.8)
	FrameSamples = 160 // samples per 20 ms frame
	signature    = 0xD // top nibble of every frame
)

// ErrFrame is returned for a payload that is not a whole number of GSM
// frames or a frame without the 0xD signature.
var ErrFrame = errors.New("gsm: not a sequence of 33-octet GSM 06.10 frames")

// Decoder decodes GSM 06.10 frames of one stream. The zero value is not
// ready; use NewDecoder.
type Decoder struct {
	dp     [120]int16 // long-term synthesis history drp[-120..-1]
	nrp    int16      // last valid LTP lag
	larpp  [2][8]int16
	j      int // which larpp holds the current frame
	v      [9]int16
	msr    int16 // de-emphasis state
	params frame
	wt     [FrameSamples]int16
	sr     [FrameSamples]int16
	// badSig has a bit set for each of the last 32 payloads that had a
	// frame without the signature; seen counts payloads up to 32.
	badSig uint32
	seen   int
	// Concealment: the last good frame's parameters, whether there is
	// one, and how many frames have been concealed since.
	last frame
	good bool
	lost int
}

// maxConcealFrames is how many lost frames in a row Conceal stands in
// for: 320 ms, by which GSM 06.11 has the output muted.
const maxConcealFrames = 16

// NewDecoder returns a decoder in the recommendation's home state.
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.Reset()
	return d
}

// Reset returns the decoder to its initial state (§4.3: all state zero,
// nrp = 40).
func (d *Decoder) Reset() {
	*d = Decoder{nrp: 40}
}

// Garbage reports that at least a quarter of the last 16 to 32 payloads
// had a frame without the 0xD signature, which every GSM 06.10 frame in
// RTP carries: the stream is not GSM (encrypted media, another codec). Of
// random payloads, 15 in 16 fail; the rest would decode to shaped noise
// that no spectral test tells from speech.
func (d *Decoder) Garbage() bool {
	return d.seen >= 16 && 4*bits.OnesCount32(d.badSig) >= d.seen
}

func (d *Decoder) note(bad bool) {
	d.badSig <<= 1
	if bad {
		d.badSig |= 1
	}
	d.seen = min(d.seen+1, 32)
}

// Decode appends 160 samples per 33-octet frame of payload to pcm. A payload
// that is empty, not a multiple of 33 octets or holds a frame without the
// 0xD signature returns ErrFrame (wrapped) and pcm unchanged, with the
// decoder's audio state untouched (a missing signature counts towards
// Garbage). It does not allocate when pcm has room.
func (d *Decoder) Decode(pcm []int16, payload []byte) ([]int16, error) {
	if len(payload) == 0 || len(payload)%FrameBytes != 0 {
		return pcm, fmt.Errorf("%w: %d octets", ErrFrame, len(payload))
	}
	for i := 0; i < len(payload); i += FrameBytes {
		if payload[i]>>4 != signature {
			d.note(true)
			return pcm, fmt.Errorf("%w: frame %d signature %#x", ErrFrame, i/FrameBytes, payload[i]>>4)
		}
	}
	d.note(false)
	for i := 0; i < len(payload); i += FrameBytes {
		d.params.unpack(payload[i : i+FrameBytes])
		pcm = d.decodeFrame(pcm)
	}
	d.last, d.good, d.lost = d.params, true, 0
	return pcm, nil
}

// Conceal appends about samples samples (whole 20 ms frames) standing in
// for frames that never came, after GSM 06.11's substitution and muting:
// the first repeats the last good frame, each next one repeats it with its
// block amplitudes 4 codes (about 3 dB) lower, and after 16 frames (320
// ms) it appends nothing. Before the first good frame it appends nothing.
func (d *Decoder) Conceal(pcm []int16, samples int) []int16 {
	if !d.good {
		return pcm
	}
	for range (samples + FrameSamples/2) / FrameSamples {
		if d.lost >= maxConcealFrames {
			break
		}
		d.params = d.last
		for j := range d.params.xmaxc {
			d.params.xmaxc[j] = max(0, d.params.xmaxc[j]-int16(4*d.lost))
		}
		pcm = d.decodeFrame(pcm)
		d.lost++
	}
	return pcm
}

// frame holds the 76 parameters of one frame (§1.7, Table 1.1).
type frame struct {
	larc  [8]int16
	nc    [4]int16
	bc    [4]int16
	mc    [4]int16
	xmaxc [4]int16
	xmc   [4][13]int16
}

// bitReader reads big-endian bit fields from a frame.
type bitReader struct {
	b   []byte
	pos int
}

func (r *bitReader) read(n int) int16 {
	var v int16
	for range n {
		bit := r.b[r.pos>>3] >> (7 - r.pos&7) & 1
		v = v<<1 | int16(bit)
		r.pos++
	}
	return v
}

// unpack reads the parameters in the order of RFC 3551 §4.5.8.1, after the
// 4-bit signature.
func (f *frame) unpack(b []byte) {
	r := bitReader{b: b, pos: 4}
	for i, n := range [8]int{6, 6, 5, 5, 4, 4, 3, 3} {
		f.larc[i] = r.read(n)
	}
	for j := range 4 {
		f.nc[j] = r.read(7)
		f.bc[j] = r.read(2)
		f.mc[j] = r.read(2)
		f.xmaxc[j] = r.read(6)
		for i := range 13 {
			f.xmc[j][i] = r.read(3)
		}
	}
}

// Tables of §5.2 (quantities as integers).
var (
	mic  = [8]int16{-32, -32, -16, -16, -8, -8, -4, -4}                     // Table 5.1: LARc minimum
	bTab = [8]int16{0, 0, 2048, -2560, 94, -1792, -341, -1144}              // Table 5.1: B
	inva = [8]int16{13107, 13107, 13107, 13107, 19223, 17476, 31454, 29708} // Table 5.1: 1/A
	qlb  = [4]int16{3277, 11469, 21299, 32767}                              // Table 5.3b: DLB decision levels' quantised gains
	fac  = [8]int16{18431, 20479, 22527, 24575, 26623, 28671, 30719, 32767} // Table 5.5: FAC, the mantissa (9+mant)/16
)

func (d *Decoder) decodeFrame(pcm []int16) []int16 {
	p := &d.params
	for j := range 4 {
		var erp [40]int16
		d.rpeDecode(p.xmaxc[j], p.mc[j], &p.xmc[j], &erp)
		d.longTermSynthesis(p.nc[j], p.bc[j], &erp, d.wt[j*40:j*40+40])
	}
	d.shortTermSynthesis(&p.larc)
	// §4.3.5 de-emphasis, §4.3.6 up-scaling with truncation to 13 bits.
	for _, s := range d.sr {
		d.msr = add(s, multR(d.msr, 28180))
		pcm = append(pcm, add(d.msr, d.msr)&^7)
	}
	return pcm
}

// rpeDecode is §4.2.16 (APCM inverse quantisation) and §4.2.17 (RPE grid
// positioning).
func (d *Decoder) rpeDecode(xmaxc, mc int16, xmc *[13]int16, erp *[40]int16) {
	// §4.2.15: exponent and mantissa of xmaxc.
	var exp int16
	if xmaxc > 15 {
		exp = xmaxc>>3 - 1
	}
	mant := xmaxc - exp<<3
	if mant == 0 {
		exp, mant = -4, 15
	} else {
		for mant <= 7 {
			mant = mant<<1 | 1
			exp--
		}
	}
	mant -= 8
	temp1 := fac[mant]
	temp2 := sub(6, exp)
	temp3 := shl(1, sub(temp2, 1))
	for i, x := range xmc {
		temp := (x<<1 - 7) << 12 // restore sign: 3-bit code to odd value −7..7
		temp = multR(temp1, temp)
		temp = add(temp, temp3)
		erp[int(mc)+3*i] = shr(temp, temp2)
	}
}

// longTermSynthesis is §4.3.2: it writes 40 reconstructed residual samples
// to out and shifts them into the history.
func (d *Decoder) longTermSynthesis(nc, bc int16, erp *[40]int16, out []int16) {
	nr := nc
	if nc < 40 || nc > 120 {
		nr = d.nrp
	}
	d.nrp = nr
	brp := qlb[bc]
	// drp[-120..39] as one slice: history then the new subsegment.
	var drp [160]int16
	copy(drp[:120], d.dp[:])
	for k := range 40 {
		drpp := multR(brp, drp[120+k-int(nr)])
		drp[120+k] = add(erp[k], drpp)
	}
	copy(out, drp[120:])
	copy(d.dp[:], drp[40:])
}

// shortTermSynthesis is §4.3.3 and §4.3.4 (with §4.2.8-4.2.10): LAR
// decoding, interpolation over the four sub-segments, reflection
// coefficients and the lattice filter, from wt to sr.
func (d *Decoder) shortTermSynthesis(larc *[8]int16) {
	prev := &d.larpp[d.j]
	d.j ^= 1
	cur := &d.larpp[d.j]
	for i := range 8 {
		temp1 := add(larc[i], mic[i]) << 10
		temp2 := bTab[i] << 1
		temp1 = sub(temp1, temp2)
		temp1 = multR(inva[i], temp1)
		cur[i] = add(temp1, temp1)
	}
	var larp, rrp [8]int16
	// k 0..12: 3/4 previous + 1/4 current.
	for i := range 8 {
		larp[i] = add(add(prev[i]>>2, cur[i]>>2), prev[i]>>1)
	}
	larToRp(&larp, &rrp)
	d.lattice(&rrp, 0, 13)
	// k 13..26: mean.
	for i := range 8 {
		larp[i] = add(prev[i]>>1, cur[i]>>1)
	}
	larToRp(&larp, &rrp)
	d.lattice(&rrp, 13, 27)
	// k 27..39: 1/4 previous + 3/4 current.
	for i := range 8 {
		larp[i] = add(add(prev[i]>>2, cur[i]>>2), cur[i]>>1)
	}
	larToRp(&larp, &rrp)
	d.lattice(&rrp, 27, 40)
	// k 40..159: current.
	larp = *cur
	larToRp(&larp, &rrp)
	d.lattice(&rrp, 40, 160)
}

// larToRp is §4.2.10: interpolated LARs to reflection coefficients.
func larToRp(larp, rp *[8]int16) {
	for i, l := range larp {
		temp := abs(l)
		switch {
		case temp < 11059:
			temp <<= 1
		case temp < 20070:
			temp += 11059
		default:
			temp = add(temp>>2, 26112)
		}
		if l < 0 {
			temp = -temp
		}
		rp[i] = temp
	}
}

// lattice is §4.3.4, the short-term synthesis filter over wt[from:to].
func (d *Decoder) lattice(rrp *[8]int16, from, to int) {
	v := &d.v
	for k := from; k < to; k++ {
		sri := d.wt[k]
		for i := 7; i >= 0; i-- {
			sri = sub(sri, multR(rrp[i], v[i]))
			v[i+1] = add(v[i], multR(rrp[i], sri))
		}
		v[0] = sri
		d.sr[k] = sri
	}
}

// Basic operators of §5.1 on 16-bit values.

func sat(x int32) int16 {
	if x > 32767 {
		return 32767
	}
	if x < -32768 {
		return -32768
	}
	return int16(x)
}

func add(a, b int16) int16 { return sat(int32(a) + int32(b)) }
func sub(a, b int16) int16 { return sat(int32(a) - int32(b)) }

// multR is mult_r: the rounded product of two Q15 values.
func multR(a, b int16) int16 {
	if a == -32768 && b == -32768 {
		return 32767
	}
	return int16((int32(a)*int32(b) + 16384) >> 15)
}

func abs(a int16) int16 {
	if a == -32768 {
		return 32767
	}
	if a < 0 {
		return -a
	}
	return a
}

// shl and shr shift by n, shifting the other way for negative n (§5.1).
func shl(a, n int16) int16 {
	if n < 0 {
		return shr(a, -n)
	}
	if n >= 16 {
		return 0
	}
	return sat(int32(a) << n)
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
