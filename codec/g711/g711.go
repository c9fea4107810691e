// Package g711 implements ITU-T G.711 (11/1988) pulse code modulation: the
// µ-law (PCMU, RTP static payload type 0) and A-law (PCMA, payload type 8)
// companding laws, as used in RTP audio payloads (RFC 3551 §4.5.14).
//
// It sits at the end of the media pipeline: the recorder hands it RTP payloads
// (one byte per sample, 8000 samples/s) and gets 16-bit linear PCM back, and
// the synthetic-capture generator uses the encoders to build test calls.
//
// Decoded values are the "decoder output values" of G.711 Tables 1a/1b
// (A-law, 13-bit signed scale) and 2a/2b (µ-law, 14-bit signed scale),
// scaled to 16 bits (A-law ×8, µ-law ×4), so µ-law 0xFF decodes to 0, 0x00
// to -32124, A-law 0xD5 to 8 and 0x55 to -8. The encoders pick the segment
// and quantisation interval holding the input (the "decision values" of the
// same tables) and apply the inversions the tables' character signals
// include: the even bits for A-law, all bits for µ-law.
//
// The decode tables are computed once at package initialisation from the
// formula and never modified afterwards.
package g711

import (
	"math/bits"
	"slices"
)

// ulawBias is the µ-law bias 33 in the 14-bit domain of G.711 Tables 2a/2b, ×4 to
// the 16-bit domain: the µ-law segments are uniformly spaced once 33 is added
// to the magnitude.
const ulawBias = 0x84

// ulawClip is the largest 16-bit magnitude that, biased, still fits segment 7.
const ulawClip = 32767 - ulawBias

var (
	ulawTable = buildUlaw()
	alawTable = buildAlaw()
)

func buildUlaw() (t [256]int16) {
	for i := range t {
		t[i] = ulawExpand(byte(i))
	}
	return t
}

func buildAlaw() (t [256]int16) {
	for i := range t {
		t[i] = alawExpand(byte(i))
	}
	return t
}

// ulawExpand decodes one µ-law character signal (G.711 Tables 2a/2b). Bit 7
// of the transmitted octet is the sign (1 = positive); with all bits
// inverted, bits 6-4 are the segment and bits 3-0 the step within it.
func ulawExpand(b byte) int16 {
	u := ^b
	exp := uint(u>>4) & 7
	mant := int32(u & 0x0F)
	mag := ((mant<<3)+ulawBias)<<exp - ulawBias
	if u&0x80 != 0 {
		return int16(-mag)
	}
	return int16(mag)
}

// alawExpand decodes one A-law character signal (G.711 Tables 1a/1b). Bit 7
// is the sign (1 = positive); with the even bits inverted (XOR 0x55), bits
// 6-4 are the segment and bits 3-0 the step within it.
func alawExpand(b byte) int16 {
	a := b ^ 0x55
	exp := uint(a>>4) & 7
	mag := int32(a&0x0F)<<4 + 8
	if exp > 0 {
		mag = (mag + 0x100) << (exp - 1)
	}
	if a&0x80 != 0 {
		return int16(mag)
	}
	return int16(-mag)
}

// DecodeUlaw returns the 16-bit linear value of a µ-law (PCMU) byte.
func DecodeUlaw(b byte) int16 { return ulawTable[b] }

// DecodeAlaw returns the 16-bit linear value of an A-law (PCMA) byte.
func DecodeAlaw(b byte) int16 { return alawTable[b] }

// EncodeUlaw returns the µ-law (PCMU) byte for a 16-bit linear sample
// (G.711 Tables 2a/2b; magnitudes beyond the last decision value are clipped).
func EncodeUlaw(s int16) byte {
	x := int32(s)
	var sign byte
	if x < 0 {
		x = -x
		sign = 0x80
	}
	x = min(x, ulawClip) + ulawBias
	// x is in [0x84, 0x7FFF]: its highest set bit is bit 7+segment.
	exp := bits.Len32(uint32(x)) - 8
	mant := byte(x>>(exp+3)) & 0x0F
	return ^(sign | byte(exp)<<4 | mant)
}

// EncodeAlaw returns the A-law (PCMA) byte for a 16-bit linear sample
// (G.711 Tables 1a/1b; the 13-bit quantiser sees the top 13 bits of s).
func EncodeAlaw(s int16) byte {
	x := int32(s)
	sign := byte(0x80) // 1 = positive
	if x < 0 {
		// One's complement keeps the quantisation intervals symmetric
		// around zero: -1..-8 map to the same magnitude as 0..7.
		x = -x - 1
		sign = 0
	}
	x >>= 3 // 12-bit magnitude, 0..4095
	var code byte
	if x < 32 {
		code = byte(x >> 1) // segment 0: step 2
	} else {
		exp := bits.Len32(uint32(x)) - 5 // 1..7
		code = byte(exp)<<4 | byte(x>>exp)&0x0F
	}
	return (sign | code) ^ 0x55
}

// UlawDecoder decodes PCMU payloads. It is stateless; the zero value is ready.
type UlawDecoder struct{}

// Decode appends one sample per payload byte to pcm and returns the extended
// slice. It never fails and does not allocate when pcm has enough capacity.
// payload is only read during the call.
func (UlawDecoder) Decode(pcm []int16, payload []byte) ([]int16, error) {
	pcm = slices.Grow(pcm, len(payload))
	for _, b := range payload {
		pcm = append(pcm, ulawTable[b])
	}
	return pcm, nil
}

// AlawDecoder decodes PCMA payloads. It is stateless; the zero value is ready.
type AlawDecoder struct{}

// Decode appends one sample per payload byte to pcm and returns the extended
// slice. It never fails and does not allocate when pcm has enough capacity.
// payload is only read during the call.
func (AlawDecoder) Decode(pcm []int16, payload []byte) ([]int16, error) {
	pcm = slices.Grow(pcm, len(payload))
	for _, b := range payload {
		pcm = append(pcm, alawTable[b])
	}
	return pcm, nil
}
