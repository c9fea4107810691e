package packet

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Builders of synthetic frames for the tests, made with gopacket's
// SerializeLayers where gopacket has the layer and by hand where it has not
// (SLL/SLL2, ERSPAN III, TZSP, Geneve, PPP in enhanced GRE).

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	ip4A = netip.MustParseAddr("10.0.0.1")
	ip4B = netip.MustParseAddr("10.0.0.2")
	ip6A = netip.MustParseAddr("2001:db8::a")
	ip6B = netip.MustParseAddr("2001:db8::b")
	// Outer tunnel endpoints.
	ip4X = netip.MustParseAddr("192.0.2.1")
	ip4Y = netip.MustParseAddr("192.0.2.2")
)

func ipOf(a netip.Addr) net.IP { return net.IP(a.AsSlice()) }

// rtpPayload is a 12-byte RTP header (PT 0, the given seq) and 160 bytes of
// PCMU.
func rtpPayload(seq uint16) []byte {
	b := make([]byte, 12+160)
	b[0], b[1] = 0x80, 0
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], uint32(seq)*160)
	binary.BigEndian.PutUint32(b[8:], 0x11223344)
	for i := 12; i < len(b); i++ {
		b[i] = 0xff
	}
	return b
}

func ipv4Layer(src, dst netip.Addr, proto layers.IPProtocol, ttl uint8) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: ttl, Id: 0x1234, Protocol: proto, SrcIP: ipOf(src), DstIP: ipOf(dst)}
}

func ipv6Layer(src, dst netip.Addr, nh layers.IPProtocol, hops uint8) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: hops, NextHeader: nh, SrcIP: ipOf(src), DstIP: ipOf(dst)}
}

// udp4 is an IPv4/UDP packet (no link layer).
func udp4(src, dst netip.Addr, sport, dport uint16, ttl uint8, payload []byte) []byte {
	return serializeNoTB(ipv4Layer(src, dst, layers.IPProtocolUDP, ttl),
		&layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}, gopacket.Payload(payload))
}

// udp6 is an IPv6/UDP packet (no link layer).
func udp6(src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	return serializeNoTB(ipv6Layer(src, dst, layers.IPProtocolUDP, 64),
		&layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}, gopacket.Payload(payload))
}

func serializeNoTB(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		panic(err)
	}
	return bytes.Clone(buf.Bytes())
}

// ether prepends an Ethernet header with the given VLAN tags (TPID per
// tag, outermost first) to an IP packet.
func ether(et layers.EthernetType, ip []byte, tags ...[2]uint16) []byte {
	var ls []gopacket.SerializableLayer
	first := et
	if len(tags) > 0 {
		first = layers.EthernetType(tags[0][0])
	}
	ls = append(ls, &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: first})
	for i, tg := range tags {
		next := et
		if i+1 < len(tags) {
			next = layers.EthernetType(tags[i+1][0])
		}
		ls = append(ls, &layers.Dot1Q{VLANIdentifier: tg[1], Type: next})
	}
	ls = append(ls, gopacket.Payload(ip))
	return serializeNoTB(ls...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func be16b(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func le32b(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func be32b(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// sll is a Linux cooked v1 header (outgoing, ARPHRD_ETHER, 6-byte address).
func sll(proto uint16) []byte {
	return cat([]byte{0, 4, 0, 1, 0, 6}, macA, []byte{0, 0}, be16b(proto))
}

// sll2 is a Linux cooked v2 header.
func sll2(proto uint16) []byte {
	return cat(be16b(proto), []byte{0, 0}, be32b(3), []byte{0, 1, 0, 6}, macA, []byte{0, 0})
}

// gre4 wraps inner in IPv4/GRE with the given GRE header.
func gre4(g *layers.GRE, inner ...[]byte) []byte {
	return serializeNoTB(ipv4Layer(ip4X, ip4Y, layers.IPProtocolGRE, 64), g, gopacket.Payload(cat(inner...)))
}

// erspan3 is an ERSPAN type III header (draft-foschiano-erspan §4.3) with
// frame type ft and, if opt, the 8-byte platform-specific subheader.
func erspan3(vlan uint16, ft uint8, opt bool) []byte {
	h := make([]byte, 12)
	binary.BigEndian.PutUint16(h, 2<<12|vlan&0x0fff)
	binary.BigEndian.PutUint16(h[2:], 7) // session 7
	binary.BigEndian.PutUint32(h[4:], 0xdeadbeef)
	h[10] = ft << 2
	if opt {
		h[11] = 1
		h = append(h, 0x08, 0, 0, 0, 0, 0, 0, 0)
	}
	return h
}

// tzsp is a TZSP "received tag list" header for Ethernet with a padding
// tag, one tagged field and the end tag.
func tzsp() []byte {
	return []byte{1, 0, 0, 1, 0, 10, 1, 0xc8, 1}
}

// ipv6Ext is an IPv6 packet with a hop-by-hop, a routing and a destination
// options header before UDP.
func ipv6Ext(sport, dport uint16, payload []byte) []byte {
	u := serializeNoTB(&layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}, gopacket.Payload(payload))
	ext := []byte{
		43, 0, 1, 4, 0, 0, 0, 0, // hop-by-hop → routing, PadN
		60, 0, 4, 0, 0, 0, 0, 0, // routing type 4, segments left 0 → dest opts
		17, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // dest opts (16 bytes) → UDP
	}
	return serializeNoTB(ipv6Layer(ip6A, ip6B, layers.IPProtocolIPv6HopByHop, 64), gopacket.Payload(cat(ext, u)))
}

// tcp4 is an IPv4/TCP segment with MSS and timestamp options.
func tcp4(seq uint32, syn, ack bool, payload []byte) []byte {
	tcp := &layers.TCP{SrcPort: 5060, DstPort: 40000, Seq: seq, SYN: syn, ACK: ack, Window: 1024,
		Options: []layers.TCPOption{
			{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindNop},
			{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: make([]byte, 8)},
		}}
	return serializeNoTB(ipv4Layer(ip4A, ip4B, layers.IPProtocolTCP, 64), tcp, gopacket.Payload(payload))
}
