// Package l16 decodes L16 RTP payloads (RFC 3551 §4.5.11): uncompressed
// signed 16-bit linear PCM in network byte order (big-endian), with the
// samples of multi-channel streams interleaved one per channel per sampling
// instant (RFC 3551 §4.1). It sits at the end of the media pipeline and
// turns a payload into mono 16-bit PCM for the recorder.
package l16

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Decoder decodes L16 payloads with Channels interleaved channels and mixes
// them down to mono by averaging. It is stateless. Channels < 1 means 1.
type Decoder struct {
	Channels int
}

// NewDecoder returns a decoder for payloads of the given channel count
// (0 or less means 1).
func NewDecoder(channels int) *Decoder {
	return &Decoder{Channels: max(channels, 1)}
}

// Decode appends one mono sample per sampling instant of payload to pcm and
// returns the extended slice. A payload that is not a whole number of
// sampling instants (2 octets per channel) is an error and leaves pcm
// unchanged. It does not allocate when pcm has capacity for the samples;
// payload is only read during the call.
func (d *Decoder) Decode(pcm []int16, payload []byte) ([]int16, error) {
	ch := max(d.Channels, 1)
	frame := 2 * ch
	if len(payload)%frame != 0 {
		return pcm, fmt.Errorf("l16: payload of %d octets is not a whole number of %d-channel samples", len(payload), ch)
	}
	pcm = slices.Grow(pcm, len(payload)/frame)
	switch ch {
	case 1:
		for i := 0; i+1 < len(payload); i += 2 {
			pcm = append(pcm, int16(binary.BigEndian.Uint16(payload[i:])))
		}
	default:
		for p := payload; len(p) >= frame; p = p[frame:] {
			var sum int32
			for c := range ch {
				sum += int32(int16(binary.BigEndian.Uint16(p[2*c:])))
			}
			// The mean of int16 values is an int16; integer division
			// truncates toward zero, symmetrically for both signs.
			pcm = append(pcm, int16(sum/int32(ch)))
		}
	}
	return pcm, nil
}
