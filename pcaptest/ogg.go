package pcaptest

import "encoding/binary"

// Ogg (RFC 3533) is how ffmpeg hands codec tests their encoded frames
// (Speex, Opus) and takes the frames of a capture back for its reference
// decode: these two helpers are the only Ogg code the tests need.

// oggCRC is the Ogg page checksum: CRC-32, polynomial 0x04c11db7, not
// reflected, initial value 0.
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

// OggPage appends to b one Ogg page holding packet whole: header type
// flags (2 begins the stream, 4 ends it), granule position, stream serial
// number and page sequence number, lacing table, data and checksum.
func OggPage(b []byte, flags byte, granule int64, serial, seq uint32, packet []byte) []byte {
	start := len(b)
	b = append(b, "OggS"...)
	b = append(b, 0, flags)
	b = binary.LittleEndian.AppendUint64(b, uint64(granule))
	b = binary.LittleEndian.AppendUint32(b, serial)
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

// OggPackets returns the packets of an Ogg stream, in order: each page is a
// 27-byte header, a lacing table and the data; a lacing value below 255
// ends a packet. It stops at the first page that is cut short.
func OggPackets(ogg []byte) [][]byte {
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
