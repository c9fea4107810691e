package call

import (
	"net/netip"

	"github.com/spanrec/spanrec"
)

// Networks says which addresses are local, to decide a call's direction.
type Networks struct {
	// Local lists the site's own networks. Empty means the private ranges
	// (RFC 1918, RFC 4193 ULA, RFC 6598 shared space, loopback).
	Local []netip.Prefix
	// Trunks are SIP trunk or provider addresses: outside parties even if
	// they sit in a local range.
	Trunks []netip.Addr
	// PBXs are addresses of local PBXs. A party whose messages come from a
	// PBX is local when its number is an extension (ExtensionDigits digits
	// or fewer) and outside otherwise, as the PBX relays both kinds.
	PBXs []netip.Addr
	// ExtensionDigits is the longest internal extension number; default 6.
	ExtensionDigits int
}

var privateNets = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("::1/128"),
}

type class int

const (
	outside class = iota
	local
	pbx
)

func (n Networks) classify(a netip.Addr) class {
	a = a.Unmap()
	for _, t := range n.Trunks {
		if t.Unmap() == a {
			return outside
		}
	}
	for _, x := range n.PBXs {
		if x.Unmap() == a {
			return pbx
		}
	}
	nets := n.Local
	if len(nets) == 0 {
		nets = privateNets
	}
	for _, pr := range nets {
		if pr.Contains(a) {
			return local
		}
	}
	return outside
}

func (n Networks) isExtension(num string) bool {
	max := n.ExtensionDigits
	if max <= 0 {
		max = 6
	}
	if num == "" || len(num) > max {
		return false
	}
	for _, r := range num {
		if (r < '0' || r > '9') && r != '*' && r != '#' {
			return false
		}
	}
	return true
}

// Direction returns the direction of a call from caller to callee, judged
// by the parties' signalling addresses. A PBX relays calls of every
// direction, so where one party is a PBX the other party and the numbers
// decide: a PBX facing an outside party stands for the local side; a PBX
// facing a local phone stands for a local extension only if the number it
// presents is an extension.
func (n Networks) Direction(caller, callee spanrec.Party) spanrec.Direction {
	cl, ce := n.classify(caller.Addr), n.classify(callee.Addr)
	if cl == pbx {
		switch {
		case ce == outside:
			cl = local
		case ce == pbx || n.isExtension(caller.Number):
			cl = local
		default:
			cl = outside
		}
	}
	if ce == pbx {
		switch {
		case cl == outside:
			ce = local
		case n.isExtension(callee.Number):
			ce = local
		default:
			ce = outside
		}
	}
	switch {
	case cl == local && ce == local:
		return spanrec.Internal
	case cl == local:
		return spanrec.Outbound
	case ce == local:
		return spanrec.Inbound
	default:
		return spanrec.Unknown
	}
}
