// Package g722 implements ITU-T G.722 (09/2012) 7 kHz audio coding within
// 64 kbit/s: sub-band ADPCM with a 24-tap quadrature mirror filter (QMF)
// splitting 16 kHz audio into a 6-bit low band and a 2-bit high band.
//
// It sits at the end of the media pipeline: the recorder hands it RTP G722
// payloads (RFC 3551 §4.5.2: one octet per pair of 16 kHz samples, the RTP
// clock nevertheless ticking at 8000 Hz) and gets 16 kHz 16-bit linear PCM
// back. The Encoder exists for the synthetic-capture generator.
//
// The implementation follows the recommendation's "computational details"
// clauses for the QMF and for the lower and higher sub-band ADPCM, block by
// block: transmit and receive QMF; low-band quantiser QUANTL and inverse
// quantisers INVQAL/INVQBL; high-band QUANTH/INVQAH; log-scale-factor
// adaptation LOGSCL/LOGSCH; scale factor SCALEL/SCALEH; and the adaptive
// predictor blocks PARREC, RECONS, UPPOL1, UPPOL2, UPZERO, FILTEP, FILTEZ and
// PREDIC, plus the decoder's LIMIT. The recommendation's fixed-point word
// lengths, shifts and limits are kept, so the output is bit-exact with other
// conforming implementations (the tests check it against ffmpeg, sample for
// sample). The constant tables are those of the same clauses; quantiser
// output levels are stored ×8, as the block descriptions use them.
//
// Samples are 16-bit: the recommendation's 14-bit uniform PCM is taken as the
// top 14 bits of the input and the decoder output is scaled back to 16 bits.
package g722

import (
	"fmt"
	"slices"
)

// Mode is the G.722 operating mode (clause 1 of G.722), i.e. how many bits
// of each octet carry low-band audio; the others carry auxiliary data.
type Mode int

// The three modes of G.722.
const (
	Mode1 Mode = 1 // 64 kbit/s audio: 6-bit low band
	Mode2 Mode = 2 // 56 kbit/s audio + 8 kbit/s data: 5-bit low band
	Mode3 Mode = 3 // 48 kbit/s audio + 16 kbit/s data: 4-bit low band
)

// qmf holds the 24 QMF coefficients h0..h23 (transmit and receive QMF),
// scaled by 2^13. They are symmetric: h[i] == h[23-i].
var qmf = [24]int32{
	3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876,
	3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3,
}

// q6 holds the low-band quantiser decision levels (QUANTL): |EL| lies in
// interval i when q6[i]·DETL/2^12 <= |EL| < q6[i+1]·DETL/2^12.
var q6 = [31]int32{
	0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650,
	714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195,
	2557, 2919, 0,
}

// iln and ilp give the 6-bit low-band code of quantiser interval i for a
// negative and a non-negative EL (QUANTL).
var (
	iln = [31]uint8{
		0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
		16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
	}
	ilp = [31]uint8{
		0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45,
		44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32,
	}
)

// qm6, qm5 and qm4 are the low-band inverse quantiser outputs for 6-, 5- and
// 4-bit codes (INVQBL in modes 1, 2 and 3; the 4-bit table is
// also INVQAL's), ×8. Unused codes decode like their nearest neighbour.
var (
	qm6 = [64]int32{
		-136, -136, -136, -136, -24808, -21904, -19008, -16704,
		-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
		-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
		-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
		24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
		10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
		4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
		1688, 1360, 1040, 728, 432, 136, -432, -136,
	}
	qm5 = [32]int32{
		-280, -280, -23352, -17560, -14120, -11664, -9752, -8184,
		-6864, -5712, -4696, -3784, -2960, -2208, -1520, -880,
		23352, 17560, 14120, 11664, 9752, 8184, 6864, 5712,
		4696, 3784, 2960, 2208, 1520, 880, 280, -280,
	}
	qm4 = [16]int32{
		0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
		20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
	}
)

// qm2 is the high-band inverse quantiser output (INVQAH), ×8.
var qm2 = [4]int32{-7408, -1616, 7408, 1616}

// ihn and ihp give the 2-bit high-band code of quantiser interval 1 or 2 for
// a negative and a non-negative EH (QUANTH).
var (
	ihn = [3]uint8{0, 1, 0}
	ihp = [3]uint8{0, 3, 2}
)

// wl is the low-band log-scale-factor multiplier (LOGSCL), indexed
// through rl42 by the 4-bit code; wh and rh2 are its high-band counterparts
// (LOGSCH).
var (
	wl   = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}
	rl42 = [16]uint8{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	wh   = [3]int32{0, -214, 798}
	rh2  = [4]uint8{2, 1, 2, 1}
)

// ilb is the inverse log-base-2 table of the scale factor blocks SCALEL and
// SCALEH: 2048·2^(i/32).
var ilb = [32]int32{
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599,
	2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
	3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
}

// Log-scale-factor limits (LOGSCL, LOGSCH) and scale-factor shift bases
// (SCALEL, SCALEH).
const (
	nblMax   = 18432
	nbhMax   = 22528
	lowBase  = 8
	highBase = 10
)

// band is the ADPCM state of one sub-band: the scale factor adaptation and
// the pole-zero predictor.
type band struct {
	nb  int32 // log scale factor NBL/NBH
	det int32 // scale factor DETL/DETH

	s  int32 // predictor output SL/SH for the next sample
	sz int32 // zero section output SZL/SZH for the next sample

	a  [2]int32 // pole coefficients A1, A2
	b  [6]int32 // zero coefficients B1..B6
	d  [6]int32 // quantised differences D(n-1)..D(n-6)
	r  [2]int32 // 2·reconstructed signal 2·R(n-1), 2·R(n-2), limited to 16 bits
	pn [2]bool  // sign (true = negative) of P(n-1), P(n-2)
}

func newBand(base int32) band {
	var b band
	b.det = scale(0, base)
	return b
}

// scale implements SCALEL/SCALEH: the linear scale factor for log scale
// factor nb; base is 8 for the low band, 10 for the high band.
func scale(nb, base int32) int32 {
	wd3 := ilb[(nb>>6)&31]
	if wd2 := base - nb>>11; wd2 >= 0 {
		wd3 >>= wd2
	} else {
		wd3 <<= -wd2
	}
	return wd3 << 2
}

// adaptLow implements LOGSCL and SCALEL for the 4-bit low-band code ilr.
func (b *band) adaptLow(ilr uint8) {
	nb := b.nb*32512>>15 + wl[rl42[ilr]]
	b.nb = min(max(nb, 0), nblMax)
	b.det = scale(b.nb, lowBase)
}

// adaptHigh implements LOGSCH and SCALEH for the 2-bit high-band code ih.
func (b *band) adaptHigh(ih uint8) {
	nb := b.nb*32512>>15 + wh[rh2[ih]]
	b.nb = min(max(nb, 0), nbhMax)
	b.det = scale(b.nb, highBase)
}

// predict updates the adaptive predictor with the quantised difference d
// (PARREC, RECONS, UPPOL2, UPPOL1, UPZERO, the delays, FILTEZ,
// FILTEP and PREDIC, in that order) and leaves the next prediction in b.s.
func (b *band) predict(d int32) {
	// PARREC and RECONS.
	pn := d+b.sz < 0
	r := sat16(2 * (b.s + d))

	// UPPOL2: second pole coefficient.
	wd1 := sat16(b.a[0] << 2)
	wd2 := wd1
	if pn == b.pn[0] {
		wd2 = -wd1
	}
	wd2 = min(wd2, 32767) >> 7
	wd3 := int32(-128)
	if pn == b.pn[1] {
		wd3 = 128
	}
	a2 := min(max(wd2+wd3+b.a[1]*32512>>15, -12288), 12288)

	// UPPOL1: first pole coefficient, limited by the new A2.
	wd1 = -192
	if pn == b.pn[0] {
		wd1 = 192
	}
	lim := 15360 - a2
	a1 := min(max(wd1+b.a[0]*32640>>15, -lim), lim)
	b.a = [2]int32{a1, a2}

	// UPZERO: sign-sign update of the zero coefficients with leakage.
	for i := range b.b {
		leak := b.b[i] * 32640 >> 15
		switch {
		case d == 0:
			b.b[i] = leak
		case (d < 0) == (b.d[i] < 0):
			b.b[i] = leak + 128
		default:
			b.b[i] = leak - 128
		}
	}

	// Delays.
	copy(b.d[1:], b.d[:5])
	b.d[0] = d
	b.r[1], b.r[0] = b.r[0], r
	b.pn[1], b.pn[0] = b.pn[0], pn

	// FILTEZ, FILTEP, PREDIC.
	var sz int32
	for i := range b.b {
		sz += b.b[i] * (b.d[i] + b.d[i]) >> 15
	}
	sp := b.a[0]*b.r[0]>>15 + b.a[1]*b.r[1]>>15
	b.sz = sz
	b.s = sat16(sp + sz)
}

// sat16 limits x to the 16-bit two's complement range.
func sat16(x int32) int32 { return min(max(x, -32768), 32767) }

// lim15 is the LIMIT block of the decoder: reconstructed
// sub-band signals are limited to 15 bits.
func lim15(x int32) int32 { return min(max(x, -16384), 16383) }

// Decoder decodes a G.722 stream to 16 kHz PCM. It keeps the ADPCM and QMF
// state between calls, so use one per stream. The zero value is not usable;
// call NewDecoder. Not safe for concurrent use.
type Decoder struct {
	low, high band
	shift     uint // low-band code bits dropped: 0, 1 or 2 for modes 1-3
	// xd and xs are the receive QMF delay lines of
	// RL-RH and RL+RH, newest first.
	xd, xs [12]int32
}

// NewDecoder returns a mode 1 (64 kbit/s) decoder, the mode RTP uses.
func NewDecoder() *Decoder {
	d, _ := NewDecoderMode(Mode1)
	return d
}

// NewDecoderMode returns a decoder for mode m; in modes 2 and 3 the low-order
// one or two bits of each octet are auxiliary data and are ignored.
func NewDecoderMode(m Mode) (*Decoder, error) {
	if m < Mode1 || m > Mode3 {
		return nil, fmt.Errorf("g722: invalid mode %d", m)
	}
	return &Decoder{
		low:   newBand(lowBase),
		high:  newBand(highBase),
		shift: uint(m - Mode1),
	}, nil
}

// Decode appends two 16 kHz samples per payload octet to pcm and returns the
// extended slice. Every octet is valid G.722, so it never fails. It does not
// allocate when pcm has capacity for 2·len(payload) more samples; payload is
// only read during the call.
func (d *Decoder) Decode(pcm []int16, payload []byte) ([]int16, error) {
	pcm = slices.Grow(pcm, 2*len(payload))
	for _, c := range payload {
		x0, x1 := d.decode(c)
		pcm = append(pcm, x0, x1)
	}
	return pcm, nil
}

// decode decodes one octet (bits 7-6 are the high-band code IH,
// bits 5-0 the low-band code IL) into two output samples.
func (d *Decoder) decode(c byte) (int16, int16) {
	// Low band: INVQBL for the output, INVQAL (4-bit) for adaptation.
	il := c & 0x3F
	ilr := il >> 2
	lo := &d.low
	var q int32
	switch d.shift {
	case 0:
		q = qm6[il]
	case 1:
		q = qm5[il>>1]
	default:
		q = qm4[ilr]
	}
	rl := lim15(lo.s + lo.det*q>>15)
	dlt := lo.det * qm4[ilr] >> 15
	lo.adaptLow(ilr)
	lo.predict(dlt)

	// High band: INVQAH.
	ih := c >> 6
	hi := &d.high
	dh := hi.det * qm2[ih] >> 15
	rh := lim15(hi.s + dh)
	hi.adaptHigh(ih)
	hi.predict(dh)

	// Receive QMF: x(2j) from RL-RH through the even
	// coefficients, x(2j+1) from RL+RH through the odd ones.
	copy(d.xd[1:], d.xd[:11])
	copy(d.xs[1:], d.xs[:11])
	d.xd[0], d.xs[0] = rl-rh, rl+rh
	var o1, o2 int32
	for i := range 12 {
		o1 += qmf[2*i] * d.xd[i]
		o2 += qmf[2*i+1] * d.xs[i]
	}
	// The filter gain is 2^13 and the bands carry 2× the 14-bit input:
	// >>13 gives 14-bit PCM, >>11 16-bit.
	return int16(sat16(o1 >> 11)), int16(sat16(o2 >> 11))
}

// Encoder encodes 16 kHz PCM to a mode 1 (64 kbit/s) G.722 stream. It keeps
// state between calls; use one per stream. The zero value is not usable;
// call NewEncoder. Not safe for concurrent use.
type Encoder struct {
	low, high band
	// x is the transmit QMF delay line, oldest first.
	x [24]int32
}

// NewEncoder returns a mode 1 (64 kbit/s) encoder.
func NewEncoder() *Encoder {
	return &Encoder{low: newBand(lowBase), high: newBand(highBase)}
}

// Encode appends one octet per two samples of pcm (16 kHz) to dst and
// returns the extended slice. A trailing odd sample is ignored; callers
// should pass even lengths.
func (e *Encoder) Encode(dst []byte, pcm []int16) []byte {
	dst = slices.Grow(dst, len(pcm)/2)
	for i := 0; i+1 < len(pcm); i += 2 {
		dst = append(dst, e.encode(pcm[i], pcm[i+1]))
	}
	return dst
}

// encode encodes the sample pair x0 (older), x1 into one octet.
func (e *Encoder) encode(x0, x1 int16) byte {
	// Transmit QMF: XA over the even coefficients and the
	// newest sample, XB over the odd ones; gain 2^13, 16-bit input >>14
	// gives the bands 2× the 14-bit scale.
	copy(e.x[:], e.x[2:])
	e.x[22], e.x[23] = int32(x0), int32(x1)
	var xa, xb int32
	for i := range 12 {
		xa += qmf[2*i] * e.x[23-2*i]
		xb += qmf[2*i+1] * e.x[22-2*i]
	}
	xl, xh := (xa+xb)>>14, (xa-xb)>>14

	// Low band: SUBTRA, QUANTL, INVQAL, adaptation.
	lo := &e.low
	el := xl - lo.s
	wd := el
	if el < 0 {
		wd = ^el
	}
	i := 1
	for ; i < 30; i++ {
		if wd < q6[i]*lo.det>>12 {
			break
		}
	}
	il := ilp[i]
	if el < 0 {
		il = iln[i]
	}
	ilr := il >> 2
	dlt := lo.det * qm4[ilr] >> 15
	lo.adaptLow(ilr)
	lo.predict(dlt)

	// High band: SUBTRA, QUANTH, INVQAH, adaptation.
	hi := &e.high
	eh := xh - hi.s
	wd = eh
	if eh < 0 {
		wd = ^eh
	}
	mih := 1
	if wd >= 564*hi.det>>12 {
		mih = 2
	}
	ih := ihp[mih]
	if eh < 0 {
		ih = ihn[mih]
	}
	dh := hi.det * qm2[ih] >> 15
	hi.adaptHigh(ih)
	hi.predict(dh)

	return ih<<6 | il
}
