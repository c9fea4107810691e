package call

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"github.com/spanrec/spanrec/packet"
)

// Hints remembers which hosts were seen talking signalling that spanrec
// does not follow, to say why a signalless call has none: SIP over TLS
// (TCP 5061, RFC 3261 §26.2), Cisco SCCP (Skinny, TCP 2000), H.323 call
// signalling (H.225.0 over TPKT, TCP 1720) and MGCP (RFC 3435, UDP 2427
// and 2727). It keeps at most maxHintHosts hosts and maxHintPairs host
// pairs; what comes beyond is not remembered.
type Hints struct {
	hosts map[netip.Addr]hintKind
	pairs map[[2]netip.Addr]hintKind
}

type hintKind uint8

const (
	hintTLS hintKind = 1 << iota
	hintSCCP
	hintH323
	hintMGCP
)

const (
	maxHintHosts = 4096
	maxHintPairs = 4096
)

// Ports of the signalling Hints recognises.
const (
	portSIPTLS = 5061
	portSCCP   = 2000
	portH323   = 1720
	portMGCP   = 2427
	portMGCPCA = 2727
)

// NewHints returns an empty Hints.
func NewHints() *Hints {
	return &Hints{hosts: make(map[netip.Addr]hintKind), pairs: make(map[[2]netip.Addr]hintKind)}
}

// Observe looks at one TCP or UDP packet that is not SIP and remembers its
// hosts if it is signalling of a kind Hints knows. It is cheap for every
// other packet (two port comparisons).
func (h *Hints) Observe(p *packet.Packet) {
	var k hintKind
	sp, dp := p.Src.Port(), p.Dst.Port()
	switch p.Proto {
	case packet.ProtoTCP:
		switch {
		case sp == portSIPTLS || dp == portSIPTLS:
			if looksTLSRecord(p.Payload) {
				k = hintTLS
			}
		case sp == portSCCP || dp == portSCCP:
			if looksSCCP(p.Payload) {
				k = hintSCCP
			}
		case sp == portH323 || dp == portH323:
			if looksTPKT(p.Payload) {
				k = hintH323
			}
		}
	case packet.ProtoUDP:
		if (sp == portMGCP || dp == portMGCP || sp == portMGCPCA || dp == portMGCPCA) && looksMGCP(p.Payload) {
			k = hintMGCP
		}
	}
	if k == 0 {
		return
	}
	for _, a := range []netip.Addr{p.Src.Addr(), p.Dst.Addr()} {
		if _, ok := h.hosts[a]; ok || len(h.hosts) < maxHintHosts {
			h.hosts[a] |= k
		}
	}
	pk := pairKey(p.Src.Addr(), p.Dst.Addr())
	if _, ok := h.pairs[pk]; ok || len(h.pairs) < maxHintPairs {
		h.pairs[pk] |= k
	}
}

func pairKey(a, b netip.Addr) [2]netip.Addr {
	if b.Less(a) {
		a, b = b, a
	}
	return [2]netip.Addr{a, b}
}

// Seen reports whether host a was seen in signalling Hints knows.
func (h *Hints) Seen(a netip.Addr) bool { return h.hosts[a] != 0 }

// Reason says, for a signalless call between media hosts a and b, the
// likely reason its signalling was not followed.
func (h *Hints) Reason(a, b netip.Addr) string {
	const pre = "signalless call (RTP paired by addresses, no SIP seen for it): "
	pair := h.pairs[pairKey(a, b)]
	either := h.hosts[a] | h.hosts[b]
	switch {
	case pair&hintTLS != 0:
		return pre + "SIP over TLS (port 5061) was seen between these hosts: the signalling is encrypted"
	case either&hintSCCP != 0:
		return pre + "Cisco SCCP (Skinny, TCP 2000) was seen from these hosts: spanrec does not follow SCCP"
	case either&hintH323 != 0:
		return pre + "H.323 (TCP 1720) was seen from these hosts: spanrec does not follow H.323"
	case either&hintMGCP != 0:
		return pre + "MGCP (UDP 2427/2727) was seen from these hosts: spanrec does not follow MGCP"
	case either&hintTLS != 0:
		return pre + "SIP over TLS (port 5061) was seen from these hosts: the signalling is encrypted"
	}
	return pre + "no signalling seen (the call began before the capture, or its signalling is not mirrored)"
}

// looksTLSRecord reports whether b starts with a TLS record header (RFC
// 8446 §5.1): content type 20–23, legacy version 3.x.
func looksTLSRecord(b []byte) bool {
	return len(b) >= 5 && b[0] >= 20 && b[0] <= 23 && b[1] == 3 && b[2] <= 4
}

// looksSCCP reports whether b starts with an SCCP message header: a
// little-endian length (of what follows the 8-byte header, message ID
// included), a header version (0 in old releases, 0x11–0x16 later) and a
// message ID below 0x200.
func looksSCCP(b []byte) bool {
	if len(b) < 12 {
		return false
	}
	n := binary.LittleEndian.Uint32(b)
	ver := binary.LittleEndian.Uint32(b[4:])
	id := binary.LittleEndian.Uint32(b[8:])
	return n >= 4 && n <= 4096 && (ver == 0 || (ver >= 0x11 && ver <= 0x16)) && id < 0x200
}

// looksTPKT reports whether b starts with a TPKT header (RFC 1006 §6:
// version 3, reserved 0, a length of at least the header).
func looksTPKT(b []byte) bool {
	return len(b) >= 4 && b[0] == 3 && b[1] == 0 && int(binary.BigEndian.Uint16(b[2:])) >= 4
}

// mgcpVerbs are the MGCP commands (RFC 3435 §2.3).
var mgcpVerbs = [][]byte{
	[]byte("EPCF "), []byte("CRCX "), []byte("MDCX "), []byte("DLCX "), []byte("RQNT "),
	[]byte("NTFY "), []byte("AUEP "), []byte("AUCX "), []byte("RSIP "),
}

// looksMGCP reports whether b starts with an MGCP command or a response
// (three digits, a space and a transaction ID).
func looksMGCP(b []byte) bool {
	for _, v := range mgcpVerbs {
		if bytes.HasPrefix(b, v) {
			return true
		}
	}
	return len(b) >= 5 && isDigit(b[0]) && isDigit(b[1]) && isDigit(b[2]) && b[3] == ' ' && isDigit(b[4])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
