package g729

// Bit unpacking of the 80-bit speech frame and the 15-bit Annex B SID
// frame, in the order of RFC 3551 §4.5.6 (the transmission order of
// G.729 Table 8, most significant bit first).

// Indices of the speech frame parameters in a params array.
const (
	pL0L1 = iota // L0 (1 bit) L1 (7 bits)
	pL2L3        // L2 (5 bits) L3 (5 bits)
	pP1          // first subframe pitch delay, 8 bits
	pP0          // its parity, 1 bit
	pC1          // first subframe fixed codebook positions, 13 bits
	pS1          // its signs, 4 bits
	pG1          // first subframe gains GA1 (3 bits) GB1 (4 bits)
	pP2          // second subframe relative pitch delay, 5 bits
	pC2          // 13 bits
	pS2          // 4 bits
	pG2          // GA2 GB2, 7 bits
	nParams
)

var paramBits = [nParams]uint{8, 10, 8, 1, 13, 4, 7, 5, 13, 4, 7}

// Indices of the SID frame parameters.
const (
	sidMode = iota // MA predictor switch, 1 bit
	sidL1          // first stage LSF index, 5 bits
	sidL2          // second stage LSF index, 4 bits
	sidGain        // energy index, 5 bits
	nSIDParams
)

var sidBits = [nSIDParams]uint{1, 5, 4, 5}

// unpack reads the fields of widths from the most significant bit of b
// on; len(b)*8 must cover them.
func unpack(b []byte, widths []uint, out []int16) {
	pos := uint(0)
	for i, w := range widths {
		var v int16
		for range w {
			bit := b[pos>>3] >> (7 - pos&7) & 1
			v = v<<1 | int16(bit)
			pos++
		}
		out[i] = v
	}
}

// parityError reports whether the parity bit p0 disagrees with the six
// most significant bits of the pitch index p1 (§3.7.2).
func parityError(p1, p0 int16) bool {
	sum := int16(1)
	t := p1 >> 1
	for range 6 {
		t >>= 1
		sum += t & 1
	}
	return (sum+p0)&1 != 0
}
