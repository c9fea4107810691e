package opus_test

import "encoding/binary"

var oggCRC = func() *[256]uint32 {
	var t [256]uint32
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return &t
}()

func oggPage(b []byte, flags byte, granule int64, seq uint32, packet []byte) []byte {
	start := len(b)
	b = append(b, "OggS"...)
	b = append(b, 0, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(granule))
	b = binary.LittleEndian.AppendUint32(b, 0x0b0e5eec)
	b = binary.LittleEndian.AppendUint32(b, seq)
	b = append(b, 0, 0, 0, 0)
	var lacing []byte
	n := len(packet)
	for n >= 255 {
		lacing = append(lacing, 255)
		n -= 255
	}
	lacing = append(lacing, byte(n))
	b = append(b, byte(len(lacing)))
	b = append(b, lacing...)
	b = append(b, packet...)
	var crc uint32
	for _, c := range b[start:] {
		crc = crc<<8 ^ oggCRC[byte(crc>>24)^c]
	}
	binary.LittleEndian.PutUint32(b[start+22:], crc)
	return b
}

// oggOpus wraps RTP payloads (one Opus packet each, RFC 7587) in an Ogg
// Opus file (RFC 7845) for ffmpeg, the test oracle: channels, 48 kHz,
// the given pre-skip (0: ffmpeg's decode lines up with ours sample for
// sample), each packet frame samples long.
func oggOpus(payloads [][]byte, channels byte, preSkip uint16) []byte {
	h := []byte("OpusHead")
	h = append(h, 1, channels)
	h = binary.LittleEndian.AppendUint16(h, preSkip)
	h = binary.LittleEndian.AppendUint32(h, 48000)
	h = binary.LittleEndian.AppendUint16(h, 0)
	h = append(h, 0)
	c := []byte("OpusTags")
	c = binary.LittleEndian.AppendUint32(c, 4)
	c = append(c, "test"...)
	c = binary.LittleEndian.AppendUint32(c, 0)
	out := oggPage(nil, 2, 0, 0, h)
	out = oggPage(out, 0, 0, 1, c)
	var gran int64
	for i, p := range payloads {
		gran += int64(48 * frameMS(p))
		flags := byte(0)
		if i == len(payloads)-1 {
			flags = 4
		}
		out = oggPage(out, flags, gran, uint32(i+2), p)
	}
	return out
}

// oggPackets returns the packets of an Ogg stream (RFC 3533): each page
// is a 27-byte header, a lacing table and the data; a lacing value below
// 255 ends a packet.
func oggPackets(ogg []byte) [][]byte {
	var pkts [][]byte
	var cur []byte
	for len(ogg) >= 27 && string(ogg[:4]) == "OggS" {
		n := int(ogg[26])
		if len(ogg) < 27+n {
			break
		}
		lacing, data := ogg[27:27+n], ogg[27+n:]
		for _, l := range lacing {
			if int(l) > len(data) {
				return pkts
			}
			cur = append(cur, data[:l]...)
			data = data[l:]
			if l < 255 {
				pkts, cur = append(pkts, cur), nil
			}
		}
		ogg = data
	}
	return pkts
}
