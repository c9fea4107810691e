package speex

// bitReader reads the Speex bitstream: most significant bit first. Reading
// past the end yields zeros and sets overrun.
type bitReader struct {
	b       []byte
	pos     int // bit position
	overrun bool
}

func (r *bitReader) remaining() int { return len(r.b)*8 - r.pos }

// bits reads n (≤ 16) bits as an unsigned number.
func (r *bitReader) bits(n int) int {
	v := 0
	for range n {
		v <<= 1
		if r.pos < len(r.b)*8 {
			v |= int(r.b[r.pos>>3]>>(7-uint(r.pos&7))) & 1
		} else {
			r.overrun = true
		}
		r.pos++
	}
	return v
}

// peek returns the next bit without consuming it (0 at the end).
func (r *bitReader) peek() int {
	if r.pos >= len(r.b)*8 {
		return 0
	}
	return int(r.b[r.pos>>3]>>(7-uint(r.pos&7))) & 1
}

// skip advances n bits.
func (r *bitReader) skip(n int) {
	r.pos += n
	if r.pos > len(r.b)*8 {
		r.overrun = true
		r.pos = len(r.b) * 8
	}
}
