package packet

import (
	"encoding/binary"
	"net/netip"
)

// The headers are parsed by hand rather than with gopacket's
// DecodingLayerParser: this is the per-frame hot path (millions of frames a
// second), and the hand-written walk reads only the fields it needs from the
// frame in place, with no interface dispatch per layer, no per-layer structs
// to fill, no error values built for unknown next layers, and no allocation.
// It also covers what gopacket's layers lack (ERSPAN III, TZSP, PPP in
// enhanced GRE). gopacket is used in the tests to build frames.

// result says what became of a frame; Decode maps it to a Stats counter.
type result uint8

const (
	resOK result = iota
	resNonIP
	resNonL4
	resTruncated // snaplen cut or malformed
	resFragment  // held by the defragmenter
	resFragDrop  // fragment rejected by the defragmenter
	resDuplicate
	resUnsupportedLink
)

// layer is the next header the decode loop has to parse.
type layer uint8

const (
	lEther layer = iota
	lIP          // IPv4 or IPv6, by the version nibble
	lIPv4
	lIPv6
	lPPP
	lMPLS
	lGRE
	lUDP
	lTCP
)

// Limits that keep hostile input from looping.
const (
	maxLayers     = 24 // headers walked per frame, tunnels included
	maxVLANTags   = 8  // 802.1Q/802.1ad tags in one Ethernet header
	maxMPLSLabels = 16
	maxExtHeaders = 16 // IPv6 extension headers before the upper layer
)

// Well-known UDP ports of tunnels carried over UDP.
const (
	portVXLAN  = 4789  // RFC 7348 §5
	portGeneve = 6081  // RFC 8926 §3.3
	portTZSP   = 37008 // TaZmen Sniffer Protocol
)

// EtherTypes and GRE protocol types used below.
const (
	etIPv4       = 0x0800
	etIPv6       = 0x86dd
	etVLAN       = 0x8100 // 802.1Q
	etQinQ       = 0x88a8 // 802.1ad
	etQinQOld    = 0x9100 // pre-standard QinQ
	etQinQOld2   = 0x9200
	etMPLS       = 0x8847
	etMPLSMulti  = 0x8848
	etPPPoESess  = 0x8864
	etTEB        = 0x6558 // transparent Ethernet bridging (RFC 1701)
	etERSPAN2    = 0x88be // ERSPAN type I/II
	etERSPAN3    = 0x22eb // ERSPAN type III
	etPPP        = 0x880b // PPP in enhanced GRE (RFC 2637 §4.1)
	pppIPv4      = 0x0021
	pppIPv6      = 0x0057
	ipProtoIPIP  = 4
	ipProtoIPv6  = 41
	ipProtoGRE   = 47
	ipv6HopByHop = 0
	ipv6Routing  = 43
	ipv6Fragment = 44
	ipv6AH       = 51
	ipv6DestOpts = 60
	ipv6Mobility = 135
	ipv6HIP      = 139
	ipv6Shim6    = 140
)

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }
func be64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// tunnel records the outermost encapsulation removed.
func (d *Decoder) tunnel(p *Packet, name string) {
	if p.Tunnel == "" {
		p.Tunnel = name
		d.stats.Tunnels++
	}
}

// etherNext maps an EtherType (also used by SLL, SLL2 and GRE) to the next
// layer.
func etherNext(et uint16) (layer, bool) {
	switch et {
	case etIPv4:
		return lIPv4, true
	case etIPv6:
		return lIPv6, true
	case etMPLS, etMPLSMulti:
		return lMPLS, true
	}
	return 0, false
}

// decode walks the frame's headers down to UDP or TCP and fills p.
func (d *Decoder) decode(p *Packet, b []byte, link LinkType, now int64) result {
	var next layer
	switch link {
	case LinkEthernet:
		next = lEther
	case LinkRaw, LinkRaw12, LinkRaw14:
		next = lIP
	case LinkIPv4:
		next = lIPv4
	case LinkIPv6:
		next = lIPv6
	case LinkNull, LinkLoop:
		// A 4-byte address family; DLT_NULL writes it in the capturing
		// host's byte order and DLT_LOOP in network order, and files of
		// either kind exist with both, so accept both.
		if len(b) < 4 {
			return resTruncated
		}
		af := binary.LittleEndian.Uint32(b)
		if af > 0xffff {
			af = binary.BigEndian.Uint32(b)
		}
		b = b[4:]
		switch af {
		case 2: // AF_INET everywhere
			next = lIPv4
		case 10, 24, 28, 30: // AF_INET6: Linux, NetBSD/OpenBSD, FreeBSD, Darwin
			next = lIPv6
		default:
			return resNonIP
		}
	case LinkLinuxSLL:
		// packet type(2) ARPHRD type(2) address length(2) address(8) protocol(2)
		if len(b) < 16 {
			return resTruncated
		}
		n, ok := etherNext(be16(b[14:]))
		if !ok {
			return resNonIP
		}
		next, b = n, b[16:]
	case LinkLinuxSLL2:
		// protocol(2) reserved(2) ifindex(4) ARPHRD type(2) packet type(1)
		// address length(1) address(8)
		if len(b) < 20 {
			return resTruncated
		}
		n, ok := etherNext(be16(b))
		if !ok {
			return resNonIP
		}
		next, b = n, b[20:]
	default:
		return resUnsupportedLink
	}

	var (
		src, dst netip.Addr
		ipPkt    []byte // inner-most IP packet, header included, for dedup
		ipVer    uint8
		reasm    bool // ipPkt's datagram was reassembled: its fragments were deduplicated already
		proto    uint8
	)
	for range maxLayers {
		switch next {
		case lEther:
			if len(b) < 14 {
				return resTruncated
			}
			et := be16(b[12:])
			b = b[14:]
			for tags := 0; et == etVLAN || et == etQinQ || et == etQinQOld || et == etQinQOld2; tags++ {
				// IEEE 802.1Q tag: TCI(2) with the VLAN ID in its low 12 bits, then the next EtherType.
				if len(b) < 4 {
					return resTruncated
				}
				if tags == maxVLANTags {
					return resTruncated
				}
				if p.NVLAN < len(p.VLANs) {
					p.VLANs[p.NVLAN] = be16(b) & 0x0fff
					p.NVLAN++
				}
				et = be16(b[2:])
				b = b[4:]
			}
			if et == etPPPoESess {
				// RFC 2516 §4: ver/type(1) code(1) session(2) length(2), then PPP protocol.
				if len(b) < 6 {
					return resTruncated
				}
				d.tunnel(p, "pppoe")
				b = b[6:]
				next = lPPP
				continue
			}
			n, ok := etherNext(et)
			if !ok {
				return resNonIP
			}
			next = n

		case lMPLS:
			// RFC 3032 §2.1: 4-byte label stack entries, S bit ends the stack.
			d.tunnel(p, "mpls")
			bottom := false
			for range maxMPLSLabels {
				if len(b) < 4 {
					return resTruncated
				}
				bottom = b[2]&0x01 != 0
				b = b[4:]
				if bottom {
					break
				}
			}
			if !bottom {
				return resTruncated
			}
			if len(b) < 1 {
				return resTruncated
			}
			if b[0]>>4 == 0 {
				// RFC 4385 control word (first nibble 0): an Ethernet pseudowire follows.
				if len(b) < 4 {
					return resTruncated
				}
				b = b[4:]
				next = lEther
				continue
			}
			next = lIP

		case lPPP:
			// RFC 1662 §3.1 address/control (may be omitted), RFC 1661 §2
			// protocol field (1 byte when compressed: odd first byte).
			if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
				b = b[2:]
			}
			if len(b) < 1 {
				return resTruncated
			}
			var pp uint16
			if b[0]&0x01 != 0 {
				pp, b = uint16(b[0]), b[1:]
			} else {
				if len(b) < 2 {
					return resTruncated
				}
				pp, b = be16(b), b[2:]
			}
			switch pp {
			case pppIPv4:
				next = lIPv4
			case pppIPv6:
				next = lIPv6
			default:
				return resNonIP
			}

		case lIP:
			if len(b) < 1 {
				return resTruncated
			}
			switch b[0] >> 4 {
			case 4:
				next = lIPv4
			case 6:
				next = lIPv6
			default:
				return resNonIP
			}

		case lIPv4:
			// RFC 791 §3.1.
			if len(b) < 20 {
				return resTruncated
			}
			ihl := int(b[0]&0x0f) * 4
			total := int(be16(b[2:]))
			if b[0]>>4 != 4 || ihl < 20 || total < ihl {
				return resTruncated // malformed
			}
			if total > len(b) {
				return resTruncated // snaplen cut
			}
			b = b[:total] // drop Ethernet padding
			ipPkt, ipVer, reasm = b, 4, false
			src = netip.AddrFrom4([4]byte(b[12:16]))
			dst = netip.AddrFrom4([4]byte(b[16:20]))
			proto = b[9]
			ff := be16(b[6:])
			more, off := ff&0x2000 != 0, int(ff&0x1fff)*8
			b = b[ihl:]
			if more || off != 0 {
				if d.dedup.seen(ipPkt, 4, now) {
					return resDuplicate
				}
				k := fragKey{src: src, dst: dst, id: uint32(be16(ipPkt[4:])), proto: proto}
				data, _, res := d.fragment(p, k, off, more, b, proto, now)
				if res != resOK {
					return res
				}
				b, reasm = data, true
			}
			var ok bool
			if next, ok = d.ipNext(p, proto); !ok {
				return resNonL4
			}

		case lIPv6:
			// RFC 8200 §3.
			if len(b) < 40 {
				return resTruncated
			}
			plen := int(be16(b[4:]))
			if b[0]>>4 != 6 || plen == 0 { // 0 is a jumbogram (RFC 2675): never on a capture link
				return resTruncated
			}
			if 40+plen > len(b) {
				return resTruncated
			}
			b = b[:40+plen]
			ipPkt, ipVer, reasm = b, 6, false
			src = netip.AddrFrom16([16]byte(b[8:24]))
			dst = netip.AddrFrom16([16]byte(b[24:40]))
			nh, off, fragAt, res := walkExt(b, 40, b[6])
			if res != resOK {
				return res
			}
			if fragAt >= 0 {
				// RFC 8200 §4.5 fragment header: next header(1) reserved(1)
				// offset(13 bits, 8-octet units) res(2) M(1), identification(4).
				fh := b[fragAt : fragAt+8]
				fo := be16(fh[2:])
				more, foff := fo&0x0001 != 0, int(fo&0xfff8)
				if !more && foff == 0 {
					// Atomic fragment (RFC 6946): process it as a whole packet.
					nh, off, fragAt, res = walkExt(b, fragAt+8, fh[0])
					if res != resOK {
						return res
					}
					if fragAt >= 0 {
						return resTruncated // two fragment headers
					}
				} else {
					if d.dedup.seen(ipPkt, 6, now) {
						return resDuplicate
					}
					k := fragKey{src: src, dst: dst, id: be32(fh[4:]), v6: true}
					data, fnh, res := d.fragment(p, k, foff, more, b[fragAt+8:], fh[0], now)
					if res != resOK {
						return res
					}
					// The reassembled fragmentable part may start with
					// more extension headers (RFC 8200 §4.5).
					nh, off, fragAt, res = walkExt(data, 0, fnh)
					if res != resOK {
						return res
					}
					if fragAt >= 0 {
						return resTruncated
					}
					b, reasm = data, true
				}
			}
			b, proto = b[off:], nh
			var ok bool
			if next, ok = d.ipNext(p, proto); !ok {
				return resNonL4
			}

		case lGRE:
			r := d.gre(p, b)
			if r.res != resOK {
				return r.res
			}
			next, b = r.next, r.rest

		case lUDP:
			// RFC 768.
			if len(b) < 8 {
				return resTruncated
			}
			ulen := int(be16(b[4:]))
			if ulen < 8 || ulen > len(b) {
				return resTruncated
			}
			sport, dport := be16(b), be16(b[2:])
			pl := b[8:ulen]
			if n, rest, name, res := udpTunnel(sport, dport, pl); name != "" {
				if res != resOK {
					return res
				}
				d.tunnel(p, name)
				next, b = n, rest
				continue
			}
			if !reasm && d.dedup.seen(ipPkt, ipVer, now) {
				return resDuplicate
			}
			p.Src = netip.AddrPortFrom(src, sport)
			p.Dst = netip.AddrPortFrom(dst, dport)
			p.Proto = ProtoUDP
			p.Payload = pl
			return resOK

		case lTCP:
			// RFC 9293 §3.1.
			if len(b) < 20 {
				return resTruncated
			}
			doff := int(b[12]>>4) * 4
			if doff < 20 || doff > len(b) {
				return resTruncated
			}
			if !reasm && d.dedup.seen(ipPkt, ipVer, now) {
				return resDuplicate
			}
			p.Src = netip.AddrPortFrom(src, be16(b))
			p.Dst = netip.AddrPortFrom(dst, be16(b[2:]))
			p.Proto = ProtoTCP
			p.TCPSeq = be32(b[4:])
			p.TCPFlags = b[13]
			p.Payload = b[doff:]
			return resOK
		}
	}
	return resTruncated // too deeply nested to be real
}

// ipNext maps the IP protocol of a datagram to the next layer.
func (d *Decoder) ipNext(p *Packet, proto uint8) (layer, bool) {
	switch proto {
	case ProtoUDP:
		return lUDP, true
	case ProtoTCP:
		return lTCP, true
	case ipProtoIPIP: // RFC 2003
		d.tunnel(p, "ipip")
		return lIPv4, true
	case ipProtoIPv6: // RFC 4213 §3.5
		d.tunnel(p, "ipip")
		return lIPv6, true
	case ipProtoGRE:
		return lGRE, true
	}
	return 0, false
}

// walkExt walks IPv6 extension headers in b from off, nh being the type of
// the header at off. It stops at the upper-layer header (returning its type
// and offset) or at a fragment header (fragAt >= 0, its offset; the whole
// 8-byte header is in b).
func walkExt(b []byte, off int, nh uint8) (next uint8, at, fragAt int, res result) {
	for range maxExtHeaders {
		switch nh {
		case ipv6HopByHop, ipv6Routing, ipv6DestOpts, ipv6Mobility, ipv6HIP, ipv6Shim6:
			// RFC 8200 §4.3-4.6 (and RFC 6275, 7401, 5533): next header(1),
			// length in 8-octet units not counting the first 8.
			if len(b) < off+8 {
				return 0, 0, -1, resTruncated
			}
			nh, off = b[off], off+(int(b[off+1])+1)*8
		case ipv6AH:
			// RFC 4302 §2.2: length in 4-octet units minus 2.
			if len(b) < off+8 {
				return 0, 0, -1, resTruncated
			}
			nh, off = b[off], off+(int(b[off+1])+2)*4
		case ipv6Fragment:
			if len(b) < off+8 {
				return 0, 0, -1, resTruncated
			}
			return nh, off, off, resOK
		default:
			if off > len(b) {
				return 0, 0, -1, resTruncated
			}
			return nh, off, -1, resOK
		}
	}
	return 0, 0, -1, resTruncated
}

// greResult is what gre found after the GRE header.
type greResult struct {
	next layer
	rest []byte
	res  result
}

// gre parses a GRE header (RFC 2784, RFC 2890 key and sequence; RFC 2637
// §4.1 enhanced GRE of PPTP) and the ERSPAN header that may follow it.
func (d *Decoder) gre(p *Packet, b []byte) greResult {
	if len(b) < 4 {
		return greResult{res: resTruncated}
	}
	flags, pt := be16(b), be16(b[2:])
	hl := 4
	switch flags & 0x0007 { // version
	case 0:
		if flags&0x4000 != 0 {
			// Routing present (RFC 1701 source routing, deprecated by RFC 2784).
			return greResult{res: resNonIP}
		}
		if flags&0x8000 != 0 { // checksum + reserved1
			hl += 4
		}
		if flags&0x2000 != 0 { // key
			hl += 4
		}
		if flags&0x1000 != 0 { // sequence number
			hl += 4
		}
	case 1:
		// Enhanced GRE: key (payload length + call ID) always present.
		if flags&0x2000 == 0 || pt != etPPP {
			return greResult{res: resTruncated}
		}
		hl += 4
		if flags&0x1000 != 0 {
			hl += 4
		}
		if flags&0x0080 != 0 { // acknowledgment number
			hl += 4
		}
	default:
		return greResult{res: resNonIP}
	}
	if len(b) < hl {
		return greResult{res: resTruncated}
	}
	seq := flags&0x1000 != 0
	b = b[hl:]
	switch pt {
	case etIPv4:
		d.tunnel(p, "gre")
		return greResult{next: lIPv4, rest: b}
	case etIPv6:
		d.tunnel(p, "gre")
		return greResult{next: lIPv6, rest: b}
	case etTEB:
		d.tunnel(p, "gre")
		return greResult{next: lEther, rest: b}
	case etPPP:
		d.tunnel(p, "gre")
		return greResult{next: lPPP, rest: b}
	case etMPLS, etMPLSMulti:
		d.tunnel(p, "gre")
		return greResult{next: lMPLS, rest: b}
	case etERSPAN2:
		// Type I has no sequence number and no ERSPAN header; type II
		// (draft-foschiano-erspan §4.2) has an 8-byte header with version 1.
		d.tunnel(p, "erspan")
		if seq {
			if len(b) < 8 {
				return greResult{res: resTruncated}
			}
			if b[0]>>4 != 1 {
				return greResult{res: resNonIP}
			}
			b = b[8:]
		}
		return greResult{next: lEther, rest: b}
	case etERSPAN3:
		// draft-foschiano-erspan §4.3: 12-byte header, version 2; FT (frame
		// type) in bits 17-21 of the third word, O (optional 8-byte
		// platform-specific subheader) in its last bit.
		d.tunnel(p, "erspan")
		if len(b) < 12 {
			return greResult{res: resTruncated}
		}
		if b[0]>>4 != 2 {
			return greResult{res: resNonIP}
		}
		ft := (b[10] >> 2) & 0x1f
		hl := 12
		if b[11]&0x01 != 0 {
			hl += 8
		}
		if len(b) < hl {
			return greResult{res: resTruncated}
		}
		switch ft {
		case 0: // Ethernet
			return greResult{next: lEther, rest: b[hl:]}
		case 2: // IP
			return greResult{next: lIP, rest: b[hl:]}
		}
		return greResult{res: resNonIP}
	}
	return greResult{res: resNonIP}
}

// udpTunnel recognises tunnels carried over UDP by their port and header.
// name is "" when pl is not a tunnel and the datagram is to be returned as
// it is; otherwise next and rest say where the inner frame starts (or res
// says why it cannot be decoded).
func udpTunnel(sport, dport uint16, pl []byte) (next layer, rest []byte, name string, res result) {
	switch {
	case dport == portVXLAN:
		// RFC 7348 §5: flags(1) with I=0x08, reserved(3), VNI(3), reserved(1).
		if len(pl) >= 8 && pl[0]&0x08 != 0 {
			return lEther, pl[8:], "vxlan", resOK
		}
	case dport == portGeneve:
		// RFC 8926 §3.4: ver(2) opt len(6, 4-octet units), flags(1),
		// protocol type(2), VNI(3), reserved(1), options.
		if len(pl) >= 8 && pl[0]>>6 == 0 {
			hl := 8 + int(pl[0]&0x3f)*4
			if len(pl) < hl {
				return 0, nil, "geneve", resTruncated
			}
			switch be16(pl[2:]) {
			case etTEB:
				return lEther, pl[hl:], "geneve", resOK
			case etIPv4:
				return lIPv4, pl[hl:], "geneve", resOK
			case etIPv6:
				return lIPv6, pl[hl:], "geneve", resOK
			}
			return 0, nil, "geneve", resNonIP
		}
	case dport == portTZSP || sport == portTZSP:
		// TZSP: version(1)=1, type(1) (0 received, 1 for transmit),
		// encapsulation(2) (1 = Ethernet), tagged fields ending with END (1);
		// PADDING (0) and END have no length byte, other tags have tag(1)
		// length(1) value.
		if len(pl) < 4 || pl[0] != 1 || pl[1] > 1 || be16(pl[2:]) != 1 {
			return 0, nil, "", resOK
		}
		i := 4
		for {
			if i >= len(pl) {
				return 0, nil, "tzsp", resTruncated
			}
			switch pl[i] {
			case 0:
				i++
				continue
			case 1:
				return lEther, pl[i+1:], "tzsp", resOK
			}
			if i+1 >= len(pl) {
				return 0, nil, "tzsp", resTruncated
			}
			i += 2 + int(pl[i+1])
		}
	}
	return 0, nil, "", resOK
}
