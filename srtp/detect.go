package srtp

import (
	"encoding/binary"
	"strings"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/sipmsg"
)

// zrtpCookie is the ZRTP magic cookie, "ZRTP" (RFC 6189 §5).
const zrtpCookie = 0x5a525450

// IsZRTP reports whether the UDP payload b is a ZRTP packet: its first
// two bits (where RTP has its version) are zero and bytes 4..8 hold the
// ZRTP magic cookie (RFC 6189 §5).
func IsZRTP(b []byte) bool {
	return len(b) >= 12 && b[0]>>6 == 0 && binary.BigEndian.Uint32(b[4:8]) == zrtpCookie
}

// Detect returns the encryption an SDP media description announces:
// DTLS-SRTP for a UDP/TLS profile (RFC 5764 §8), SDES SRTP when it has
// a=crypto, DTLS-SRTP when it has a=fingerprint without a=crypto, SRTP
// for a secure RTP profile (RTP/SAVP, RTP/SAVPF) without either (keys
// exchanged some other way), ZRTP when it carries a=zrtp-hash over plain
// RTP, else plain.
func Detect(m *sipmsg.Media) spanrec.Encryption {
	proto := strings.ToUpper(m.Proto)
	switch {
	case strings.Contains(proto, "TLS"):
		return spanrec.DTLSSRTP
	case m.Crypto:
		return spanrec.SRTP
	case m.Fingerprint:
		return spanrec.DTLSSRTP
	case strings.HasPrefix(proto, "RTP/SAVP"):
		return spanrec.SRTP
	case m.ZRTPHash:
		return spanrec.ZRTP
	}
	return spanrec.Plain
}
