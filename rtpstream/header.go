package rtpstream

import (
	"encoding/binary"
	"errors"
)

// Errors returned by [Parse]. They are sentinel values so that Parse does not
// allocate; compare with errors.Is.
var (
	ErrShort     = errors.New("rtpstream: packet shorter than its RTP header")
	ErrVersion   = errors.New("rtpstream: RTP version is not 2")
	ErrExtension = errors.New("rtpstream: RTP header extension overruns the packet")
	ErrPadding   = errors.New("rtpstream: bad RTP padding length")
)

// headerLen is the size of the fixed RTP header (RFC 3550 §5.1).
const headerLen = 12

// Header is the fixed RTP header (RFC 3550 §5.1) of a packet. The CSRC list
// and the header extension are skipped, not kept: a recorder has no use for
// them, and keeping them would cost an allocation per packet.
type Header struct {
	Version     uint8
	Padding     bool
	Extension   bool
	Marker      bool
	PayloadType uint8
	Seq         uint16
	Timestamp   uint32
	SSRC        uint32
	CSRCCount   uint8
}

// Parse parses the RTP packet b: its fixed header, CSRC list, header extension
// (RFC 3550 §5.3.1) and padding (RFC 3550 §5.1, P bit). The payload it returns
// is a sub-slice of b (no copy): it is valid as long as b is and aliases it.
//
// Parse never panics and does not allocate. It returns [ErrShort] when b is
// shorter than the header and CSRC list, [ErrVersion] when the version is not
// 2, [ErrExtension] when the extension's length runs past the end of b and
// [ErrPadding] when the padding count is 0 or larger than what follows the
// header. The Header is filled in as far as it was read even on error.
//
// pion/rtp is not used because its Header.Unmarshal allocates the CSRC slice
// and appends every extension element to a slice.
func Parse(b []byte) (h Header, payload []byte, err error) {
	if len(b) < headerLen {
		return h, nil, ErrShort
	}
	h.Version = b[0] >> 6
	h.Padding = b[0]&0x20 != 0
	h.Extension = b[0]&0x10 != 0
	h.CSRCCount = b[0] & 0x0f
	h.Marker = b[1]&0x80 != 0
	h.PayloadType = b[1] & 0x7f
	h.Seq = binary.BigEndian.Uint16(b[2:4])
	h.Timestamp = binary.BigEndian.Uint32(b[4:8])
	h.SSRC = binary.BigEndian.Uint32(b[8:12])
	if h.Version != 2 {
		return h, nil, ErrVersion
	}
	off := headerLen + 4*int(h.CSRCCount)
	if len(b) < off {
		return h, nil, ErrShort
	}
	if h.Extension {
		// RFC 3550 §5.3.1: 16 bits defined by profile, then the
		// extension's length in 32-bit words, excluding this 4-byte header.
		if len(b) < off+4 {
			return h, nil, ErrExtension
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:off+4]))
		if len(b) < off {
			return h, nil, ErrExtension
		}
	}
	end := len(b)
	if h.Padding {
		// RFC 3550 §5.1: the last octet counts the padding octets,
		// itself included, so it is at least 1.
		n := int(b[end-1])
		if n == 0 || end-n < off {
			return h, nil, ErrPadding
		}
		end -= n
	}
	return h, b[off:end:end], nil
}

// IsRTCP reports whether b looks like an RTCP packet, following RFC 5761 §4
// and the validity checks of RFC 3550 A.2: every packet of the compound has
// version 2 and a packet type in 192–223, and their length fields add up to
// exactly len(b). SRTCP, whose trailer breaks that sum, is not recognised.
func IsRTCP(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	for len(b) > 0 {
		if len(b) < 4 || b[0]>>6 != 2 || b[1] < 192 || b[1] > 223 {
			return false
		}
		// RFC 3550 §6.4.1: length in 32-bit words minus one.
		n := 4 * (int(binary.BigEndian.Uint16(b[2:4])) + 1)
		if n > len(b) {
			return false
		}
		b = b[n:]
	}
	return true
}

// LooksRTP is the cheap heuristic for RTP on flows that no SDP announced: b is
// long enough for its header, CSRC list and extension, has version 2, is not
// RTCP, and its payload type is not 72–76 (RTCP SR, RR, SDES, BYE and APP
// read with the marker bit set; RFC 5761 §4). It looks at a single packet, so
// callers should also require a stable SSRC and sane sequence steps over a
// few packets before trusting a flow.
func LooksRTP(b []byte) bool {
	if len(b) < headerLen || b[0]>>6 != 2 {
		return false
	}
	if pt := b[1] & 0x7f; pt >= 72 && pt <= 76 {
		return false
	}
	off := headerLen + 4*int(b[0]&0x0f)
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:off+4]))
	}
	if len(b) < off {
		return false
	}
	return !IsRTCP(b)
}
