package opus_test

import (
	"encoding/binary"

	"github.com/spanrec/spanrec/pcaptest"
)

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
	out := pcaptest.OggPage(nil, 2, 0, 0x0b0e5eec, 0, h)
	out = pcaptest.OggPage(out, 0, 0, 0x0b0e5eec, 1, c)
	var gran int64
	for i, p := range payloads {
		gran += int64(48 * frameMS(p))
		flags := byte(0)
		if i == len(payloads)-1 {
			flags = 4
		}
		out = pcaptest.OggPage(out, flags, gran, 0x0b0e5eec, uint32(i+2), p)
	}
	return out
}
