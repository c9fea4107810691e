// Package g726 decodes ITU-T G.726 ADPCM at 16, 24, 32 and 40 kbit/s (2, 3,
// 4 or 5 bits per sample at 8000 Hz) as carried in RTP (RFC 3551 §4.5.4).
//
// The decoder is the recommendation's fixed-point algorithm (G.726 §4,
// the blocks of its Figure 4 and Tables 11-16): inverse adaptive quantiser,
// quantiser scale factor adaptation, adaptation speed control, the adaptive
// predictor (two poles, six zeros) with its floating-point multipliers,
// tone and transition detection. Its output is the reconstructed signal
// sr(k) in the uniform (linear) domain, scaled from G.726's 14-bit range to
// 16 bits; the synchronous coding adjustment of §4.2.8 applies only to a
// decoder whose output is G.711 and is not needed here.
//
// Two bit packings exist. RFC 3551's "G726-16/24/32/40" pack codewords from
// the least significant bit of each octet ("little-endian", ffmpeg's
// g726le); ITU-T I.366.2 (AAL2) and RFC 3551's "AAL2-G726-NN" names pack
// them from the most significant bit ("big-endian"). Some equipment says
// G726-32 but packs big-endian: NewDecoder takes the packing explicitly.
package g726

import (
	"errors"
	"fmt"
	"math/bits"
)

// Packing is the order of codewords within octets.
type Packing uint8

const (
	// LittleEndian is RFC 3551 §4.5.4 (G726-NN): the first codeword in the
	// least significant bits of the first octet.
	LittleEndian Packing = iota
	// BigEndian is ITU-T I.366.2 / AAL2-G726-NN: the first codeword in the
	// most significant bits.
	BigEndian
)

// ErrRate is returned by NewDecoder for a rate other than 16, 24, 32, 40.
var ErrRate = errors.New("g726: rate is not 16, 24, 32 or 40 kbit/s")

// rateTables holds the per-rate tables of G.726 §4.2 (Tables 11-16),
// indexed by the magnitude |I| of a codeword.
type rateTables struct {
	bits int
	dqln []int16 // log of the inverse quantiser's normalised output (12-bit two's complement)
	w    []int16 // scale factor multiplier W(I)
	f    []int16 // rate-of-change function F(I)
	leak int     // zero-predictor leak: 8 (2^-8), or 9 for 40 kbit/s
}

var tables = map[int]*rateTables{
	16: {bits: 2, leak: 8,
		dqln: []int16{116, 365},
		w:    []int16{-22, 439},
		f:    []int16{0, 7}},
	24: {bits: 3, leak: 8,
		dqln: []int16{-2048, 135, 273, 373},
		w:    []int16{-4, 30, 137, 582},
		f:    []int16{0, 1, 2, 7}},
	32: {bits: 4, leak: 8,
		dqln: []int16{-2048, 4, 135, 213, 273, 323, 373, 425},
		w:    []int16{-12, 18, 41, 64, 112, 198, 355, 1122},
		f:    []int16{0, 0, 0, 1, 1, 1, 3, 7}},
	40: {bits: 5, leak: 9,
		dqln: []int16{-2048, -66, 28, 104, 169, 224, 274, 318, 358, 395, 429, 459, 488, 514, 539, 566},
		w:    []int16{14, 14, 24, 39, 40, 41, 58, 100, 141, 179, 219, 280, 358, 440, 529, 696},
		f:    []int16{0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6}},
}

// Decoder decodes one G.726 stream. Use NewDecoder.
type Decoder struct {
	t       *rateTables
	packing Packing
	st      state
	// ffmpeg reproduces two deviations of ffmpeg's decoder from G.726
	// (tests only, see export_test.go): the scale factor mix rounded
	// down instead of towards zero, and the 2^-8 zero-predictor leak at
	// 40 kbit/s too. With them the decoder matches ffmpeg bit for bit,
	// which checks everything else against a second implementation.
	ffmpeg bool
}

// state is the decoder's memory (the delayed values of Figure 4).
type state struct {
	yu  int32    // fast scale factor, 13 bits
	yl  int32    // slow scale factor, 19 bits
	dms int32    // short-term average of F(I), 12 bits
	dml int32    // long-term average of F(I), 14 bits
	ap  int32    // speed control, 10 bits
	a   [2]int32 // pole coefficients a1, a2 (2^-14)
	b   [6]int32 // zero coefficients b1..b6 (2^-14)
	dq  [6]int32 // past quantised differences, 11-bit floating point
	sr  [2]int32 // past reconstructed signals, 11-bit floating point
	pk  [2]int32 // signs of past dq+sez
	td  int32    // tone detected
}

// NewDecoder returns a decoder for kbit (16, 24, 32 or 40) with the given
// packing, in the recommendation's reset state.
func NewDecoder(kbit int, p Packing) (*Decoder, error) {
	t := tables[kbit]
	if t == nil {
		return nil, fmt.Errorf("%w: %d", ErrRate, kbit)
	}
	d := &Decoder{t: t, packing: p}
	d.Reset()
	return d, nil
}

// Reset returns the decoder to the initial state of G.726 §4.2 (Table 17
// reset values, floating-point zeros for the delayed signals).
func (d *Decoder) Reset() {
	d.st = state{yu: 544, yl: 34816, dq: [6]int32{32, 32, 32, 32, 32, 32}, sr: [2]int32{32, 32}}
}

// Bits returns the codeword size.
func (d *Decoder) Bits() int { return d.t.bits }

// Decode appends one sample per codeword of payload to pcm: 8×len/bits
// samples, any bits left over at the end (fewer than a codeword) ignored.
// An empty payload returns an error. It does not allocate when pcm has
// room.
func (d *Decoder) Decode(pcm []int16, payload []byte) ([]int16, error) {
	if len(payload) == 0 {
		return pcm, errors.New("g726: empty payload")
	}
	n := d.t.bits
	mask := uint32(1)<<n - 1
	var acc uint32 // bit reservoir
	have := 0
	for _, b := range payload {
		if d.packing == LittleEndian {
			acc |= uint32(b) << have
			have += 8
			for have >= n {
				pcm = append(pcm, d.decode(int32(acc&mask)))
				acc >>= n
				have -= n
			}
		} else {
			acc = acc<<8 | uint32(b)
			have += 8
			for have >= n {
				have -= n
				pcm = append(pcm, d.decode(int32(acc>>have&mask)))
			}
			acc &= 1<<have - 1
		}
	}
	return pcm, nil
}

// decode runs the decoder of G.726 Figure 4 for one codeword i.
func (d *Decoder) decode(i int32) int16 {
	s := &d.st
	t := d.t
	n := t.bits

	// Sign and magnitude of the codeword: the top bit is the sign and
	// negative magnitudes count down from all ones.
	is := i >> (n - 1)
	im := i
	if is != 0 {
		im = (1<<n - 1) - i
	}

	// LIMA, MIX: scale factor.
	al := s.ap >> 2
	if s.ap >= 256 {
		al = 64
	}
	dif := s.yu - s.yl>>6
	prod := dif * al >> 6 // PRODM and PROD in sign-magnitude: truncated towards zero
	if dif < 0 {
		prod = -(-dif * al >> 6)
	}
	y := (s.yl>>6 + prod) & 8191
	if d.ffmpeg {
		y = (s.yl + dif*al) >> 6
	}

	// FMULT, ACCUM: signal estimate.
	var sezi int32
	for k := range 6 {
		sezi += fmult(s.b[k], s.dq[k])
	}
	sezi = int32(int16(sezi))
	sei := int32(int16(sezi + fmult(s.a[0], s.sr[0]) + fmult(s.a[1], s.sr[1])))
	sez := sezi >> 1
	se := sei >> 1

	// RECONST, ADDA, ANTILOG: quantised difference, sign-magnitude.
	dql := (int32(t.dqln[im]) + y>>2) & 4095
	var dqmag int32
	if dql>>11 == 0 {
		dex := dql >> 7 & 15
		dqt := 128 + dql&127
		dqmag = dqt << 7 >> (14 - dex)
	}
	dq := dqmag // two's complement value
	if is != 0 {
		dq = -dqmag
	}

	// ADDB: reconstructed signal; ADDC: sign of dq + sez.
	sr := int32(int16(dq + se))
	dqsez := int32(int16(dq + sez))
	pk0 := int32(0)
	if dqsez < 0 {
		pk0 = 1
	}
	sigpk := dqsez == 0

	// TRANS: transition detector (uses the delayed td and yl).
	tr := false
	if s.td != 0 {
		ylint := s.yl >> 15
		ylfrac := s.yl >> 10 & 31
		thr := (32 + ylfrac) << ylint
		if ylint > 9 {
			thr = 31 << 10
		}
		dqthr := (thr + thr>>1) >> 1
		tr = dqmag > dqthr
	}

	// UPA2, LIMC: second pole.
	a1, a2 := s.a[0], s.a[1]
	pks1 := pk0 ^ s.pk[0]
	pks2 := pk0 ^ s.pk[1]
	var uga2 int32
	if !sigpk {
		uga2a := int32(16384)
		if pks2 != 0 {
			uga2a = -16384
		}
		fa1 := min(max(a1, -8191), 8191) << 2
		if pks1 == 0 {
			fa1 = -fa1
		}
		uga2 = (uga2a + fa1) >> 7
	}
	a2p := a2 + uga2 - a2>>7
	a2p = min(max(a2p, -12288), 12288)

	// UPA1, LIMD: first pole.
	var uga1 int32
	if !sigpk {
		uga1 = 192
		if pks1 != 0 {
			uga1 = -192
		}
	}
	a1p := a1 + uga1 - a1>>8
	a1ul := 15360 - a2p
	a1p = min(max(a1p, -a1ul), a1ul)

	// UPB: zeros.
	var bp [6]int32
	leak := t.leak
	if d.ffmpeg {
		leak = 8
	}
	for k := range 6 {
		var ugb int32
		if dqmag != 0 {
			ugb = 128
			if is != s.dq[k]>>10 {
				ugb = -128
			}
		}
		bp[k] = int32(int16(s.b[k] + ugb - s.b[k]>>leak))
	}

	// TONE, TRIGB: tone detector, predictor reset on transitions.
	tdp := int32(0)
	if a2p < -11776 {
		tdp = 1
	}
	if tr {
		a1p, a2p = 0, 0
		bp = [6]int32{}
		tdp = 0 // TDR
	}

	// FUNCTW, FILTD, LIMB, FILTE: scale factor adaptation.
	wi := int32(t.w[im])
	yu := y + ((wi<<5 - y) >> 5)
	yu = min(max(yu, 544), 5120)
	yl := s.yl + ((yu<<6 - s.yl) >> 6)

	// FUNCTF, FILTA, FILTB, SUBTC, FILTC, TRIGA: adaptation speed.
	fi := int32(t.f[im])
	dms := s.dms + ((fi<<9 - s.dms) >> 5)
	dml := s.dml + ((fi<<11 - s.dml) >> 7)
	ax := int32(1)
	if difm := abs32(dms<<2 - dml); y >= 1536 && difm < dml>>3 {
		ax = tdp
	}
	ap := s.ap + ((ax<<9 - s.ap) >> 4)
	if tr {
		ap = 256
	}

	// Delays.
	copy(s.dq[1:], s.dq[:5])
	s.dq[0] = float11(is, dqmag)
	srs, srmag := int32(0), sr
	if sr < 0 {
		srs, srmag = 1, -sr&32767
	}
	s.sr[1] = s.sr[0]
	s.sr[0] = float11(srs, srmag)
	s.pk[1], s.pk[0] = s.pk[0], pk0
	s.a[0], s.a[1] = a1p, a2p
	s.b = bp
	s.yu, s.yl = yu, yl
	s.dms, s.dml, s.ap = dms, dml, ap
	s.td = tdp

	// 14-bit linear to 16 bits.
	return int16(min(max(sr<<2, -32768), 32767))
}

// float11 is FLOATA/FLOATB: sign, 4-bit exponent and 6-bit mantissa of a
// 15-bit magnitude.
func float11(sign, mag int32) int32 {
	exp := bitlen(mag)
	mant := int32(32)
	if mag != 0 {
		mant = mag << 6 >> exp
	}
	return sign<<10 | exp<<6 | mant
}

// fmult is FMULT: a predictor coefficient (16-bit two's complement, 2^-14)
// times a signal in float11, the product in 16-bit two's complement.
func fmult(an, srn int32) int32 {
	ans := int32(0)
	anmag := an >> 2
	if an < 0 {
		ans = 1
		anmag = -(an >> 2) & 8191
	}
	anexp := bitlen(anmag)
	anmant := int32(32)
	if anmag != 0 {
		anmant = anmag << 6 >> anexp
	}
	srns := srn >> 10 & 1
	srnexp := srn >> 6 & 15
	srnmant := srn & 63
	wanexp := srnexp + anexp
	wanmant := (srnmant*anmant + 48) >> 4
	var wanmag int32
	if wanexp <= 26 {
		wanmag = wanmant << 7 >> (26 - wanexp)
	} else {
		wanmag = wanmant << 7 << (wanexp - 26) & 32767
	}
	if srns^ans != 0 {
		return -wanmag
	}
	return wanmag
}

// bitlen is the number of significant bits of a non-negative value.
func bitlen(x int32) int32 {
	return int32(bits.Len32(uint32(x)))
}

func abs32(x int32) int32 {
	if x < 0 {
		return -x
	}
	return x
}
