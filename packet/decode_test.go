package packet

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type decodeCase struct {
	name     string
	frame    []byte
	link     LinkType
	src, dst netip.AddrPort
	proto    uint8
	payload  []byte
	vlans    []uint16
	tunnel   string
	tcpSeq   uint32
	tcpFlags uint8
}

func decodeCases() []decodeCase {
	rtp := rtpPayload(1000)
	v4 := udp4(ip4A, ip4B, 40000, 40002, 64, rtp)
	v6 := udp6(ip6A, ip6B, 40000, 40002, rtp)
	s4, d4 := netip.AddrPortFrom(ip4A, 40000), netip.AddrPortFrom(ip4B, 40002)
	s6, d6 := netip.AddrPortFrom(ip6A, 40000), netip.AddrPortFrom(ip6B, 40002)
	sip := []byte("OPTIONS sip:b@example.com SIP/2.0\r\nContent-Length: 0\r\n\r\n")
	ethIn := ether(layers.EthernetTypeIPv4, v4, [2]uint16{0x8100, 300})

	ip4opts := serializeNoTB(&layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: ipOf(ip4A), DstIP: ipOf(ip4B),
		Options: []layers.IPv4Option{{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}}},
		&layers.UDP{SrcPort: 40000, DstPort: 40002}, gopacket.Payload(rtp))

	return []decodeCase{
		{name: "ethernet/ipv4/udp", frame: ether(layers.EthernetTypeIPv4, v4), link: LinkEthernet, src: s4, dst: d4, proto: ProtoUDP, payload: rtp},
		{name: "ethernet/ipv6/udp", frame: ether(layers.EthernetTypeIPv6, v6), link: LinkEthernet, src: s6, dst: d6, proto: ProtoUDP, payload: rtp},
		{name: "802.1Q", frame: ether(layers.EthernetTypeIPv4, v4, [2]uint16{0x8100, 100}), link: LinkEthernet,
			src: s4, dst: d4, proto: ProtoUDP, payload: rtp, vlans: []uint16{100}},
		{name: "QinQ 88a8", frame: ether(layers.EthernetTypeIPv4, v4, [2]uint16{0x88a8, 10}, [2]uint16{0x8100, 20}), link: LinkEthernet,
			src: s4, dst: d4, proto: ProtoUDP, payload: rtp, vlans: []uint16{10, 20}},
		{name: "QinQ 9100 three tags", frame: ether(layers.EthernetTypeIPv6, v6, [2]uint16{0x9100, 30}, [2]uint16{0x9100, 40}, [2]uint16{0x8100, 50}),
			link: LinkEthernet, src: s6, dst: d6, proto: ProtoUDP, payload: rtp, vlans: []uint16{30, 40}},
		{name: "ipv4 options", frame: ether(layers.EthernetTypeIPv4, ip4opts), link: LinkEthernet, src: s4, dst: d4, proto: ProtoUDP, payload: rtp},
		{name: "ipv6 extension headers", frame: ether(layers.EthernetTypeIPv6, ipv6Ext(5060, 5062, sip)), link: LinkEthernet,
			src: netip.AddrPortFrom(ip6A, 5060), dst: netip.AddrPortFrom(ip6B, 5062), proto: ProtoUDP, payload: sip},
		{name: "tcp with options", frame: cat(sll(0x0800), tcp4(7777, true, true, sip)), link: LinkLinuxSLL,
			src: netip.AddrPortFrom(ip4A, 5060), dst: netip.AddrPortFrom(ip4B, 40000), proto: ProtoTCP, payload: sip,
			tcpSeq: 7777, tcpFlags: TCPSyn | TCPAck},
		{name: "linux sll", frame: cat(sll(0x0800), v4), link: LinkLinuxSLL, src: s4, dst: d4, proto: ProtoUDP, payload: rtp},
		{name: "linux sll2", frame: cat(sll2(0x86dd), v6), link: LinkLinuxSLL2, src: s6, dst: d6, proto: ProtoUDP, payload: rtp},
		{name: "null AF_INET little endian", frame: cat(le32b(2), v4), link: LinkNull, src: s4, dst: d4, proto: ProtoUDP, payload: rtp},
		{name: "null AF_INET big endian", frame: cat(be32b(2), v4), link: LinkNull, src: s4, dst: d4, proto: ProtoUDP, payload: rtp},
		{name: "null AF_INET6 24", frame: cat(le32b(24), v6), link: LinkNull, src: s6, dst: d6, proto: ProtoUDP, payload: rtp},
		{name: "null AF_INET6 28", frame: cat(le32b(28), v6), link: LinkNull, src: s6, dst: d6, proto: ProtoUDP, payload: rtp},
		{name: "null AF_INET6 30 big endian", frame: cat(be32b(30), v6), link: LinkNull, src: s6, dst: d6, proto: ProtoUDP, payload: rtp},
		{name: "loop AF_INET", frame: cat(be32b(2), v4), link: LinkLoop, src: s4, dst: d4, proto: ProtoUDP, payload: rtp},
		{name: "raw 101 v4", frame: v4, link: LinkRaw, src: s4, dst: d4, proto: ProtoUDP, payload: rtp},
		{name: "raw 101 v6", frame: v6, link: LinkRaw, src: s6, dst: d6, proto: ProtoUDP, payload: rtp},
		{name: "raw 12", frame: v4, link: LinkRaw12, src: s4, dst: d4, proto: ProtoUDP, payload: rtp},
		{name: "raw 14", frame: v6, link: LinkRaw14, src: s6, dst: d6, proto: ProtoUDP, payload: rtp},
		{name: "ipv4 228", frame: v4, link: LinkIPv4, src: s4, dst: d4, proto: ProtoUDP, payload: rtp},
		{name: "ipv6 229", frame: v6, link: LinkIPv6, src: s6, dst: d6, proto: ProtoUDP, payload: rtp},
		{name: "gre ipv4 with checksum key seq", frame: ether(layers.EthernetTypeIPv4,
			gre4(&layers.GRE{ChecksumPresent: true, KeyPresent: true, SeqPresent: true, Key: 9, Seq: 1, Protocol: layers.EthernetTypeIPv4}, v4)),
			link: LinkEthernet, src: s4, dst: d4, proto: ProtoUDP, payload: rtp, tunnel: "gre"},
		{name: "gre transparent ethernet", frame: ether(layers.EthernetTypeIPv4,
			gre4(&layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging}, ethIn), [2]uint16{0x8100, 7}),
			link: LinkEthernet, src: s4, dst: d4, proto: ProtoUDP, payload: rtp, tunnel: "gre", vlans: []uint16{7, 300}},
		{name: "gre ipv6", frame: ether(layers.EthernetTypeIPv4, gre4(&layers.GRE{Protocol: layers.EthernetTypeIPv6}, v6)),
			link: LinkEthernet, src: s6, dst: d6, proto: ProtoUDP, payload: rtp, tunnel: "gre"},
		{name: "gre v1 ppp", frame: ether(layers.EthernetTypeIPv4, gre4ppp(v4)),
			link: LinkEthernet, src: s4, dst: d4, proto: ProtoUDP, payload: rtp, tunnel: "gre"},
		{name: "erspan type II", frame: ether(layers.EthernetTypeIPv4, serializeNoTB(
			ipv4Layer(ip4X, ip4Y, layers.IPProtocolGRE, 64),
			&layers.GRE{SeqPresent: true, Seq: 5, Protocol: layers.EthernetTypeERSPAN},
			&layers.ERSPANII{Version: 1, VLANIdentifier: 300, SessionID: 3},
			gopacket.Payload(ethIn))),
			link: LinkEthernet, src: s4, dst: d4, proto: ProtoUDP, payload: rtp, tunnel: "erspan", vlans: []uint16{300}},
		{name: "erspan type I", frame: ether(layers.EthernetTypeIPv4,
			gre4(&layers.GRE{Protocol: layers.EthernetTypeERSPAN}, ethIn)),
			link: LinkEthernet, src: s4, dst: d4, proto: ProtoUDP, payload: rtp, tunnel: "erspan", vlans: []uint16{300}},
		{name: "erspan type III", frame: ether(layers.EthernetTypeIPv4,
			gre4(&layers.GRE{SeqPresent: true, Seq: 9, Protocol: 0x22eb}, erspan3(300, 0, false), ethIn)),
			link: LinkEthernet, src: s4, dst: d4, proto: ProtoUDP, payload: rtp, tunnel: "erspan", vlans: []uint16{300}},
		{name: "erspan type III with subheader, IP frame", frame: ether(layers.EthernetTypeIPv4,
			gre4(&layers.GRE{SeqPresent: true, Seq: 9, Protocol: 0x22eb}, erspan3(300, 2, true), v6)),
			link: LinkEthernet, src: s6, dst: d6, proto: ProtoUDP, payload: rtp, tunnel: "erspan"},
		{name: "ip in ip", frame: ether(layers.EthernetTypeIPv4, serializeNoTB(ipv4Layer(ip4X, ip4Y, layers.IPProtocolIPv4, 64), gopacket.Payload(v4))),
			link: LinkEthernet, src: s4, dst: d4, proto: ProtoUDP, payload: rtp, tunnel: "ipip"},
		{name: "ipv6 in ipv4", frame: serializeNoTB(ipv4Layer(ip4X, ip4Y, layers.IPProtocolIPv6, 64), gopacket.Payload(v6)),
			link: LinkRaw, src: s6, dst: d6, proto: ProtoUDP, payload: rtp, tunnel: "ipip"},
		{name: "vxlan", frame: ether(layers.EthernetTypeIPv4, serializeNoTB(ipv4Layer(ip4X, ip4Y, layers.IPProtocolUDP, 64),
			&layers.UDP{SrcPort: 51000, DstPort: 4789}, &layers.VXLAN{ValidIDFlag: true, VNI: 42}, gopacket.Payload(ethIn))),
			link: LinkEthernet, src: s4, dst: d4, proto: ProtoUDP, payload: rtp, tunnel: "vxlan", vlans: []uint16{300}},
		{name: "tzsp", frame: ether(layers.EthernetTypeIPv4, serializeNoTB(ipv4Layer(ip4X, ip4Y, layers.IPProtocolUDP, 64),
			&layers.UDP{SrcPort: 51000, DstPort: 37008}, gopacket.Payload(cat(tzsp(), ethIn)))),
			link: LinkEthernet, src: s4, dst: d4, proto: ProtoUDP, payload: rtp, tunnel: "tzsp", vlans: []uint16{300}},
		{name: "geneve", frame: ether(layers.EthernetTypeIPv4, serializeNoTB(ipv4Layer(ip4X, ip4Y, layers.IPProtocolUDP, 64),
			&layers.UDP{SrcPort: 51000, DstPort: 6081}, gopacket.Payload(cat([]byte{0x01, 0, 0x65, 0x58, 0, 0, 42, 0, 1, 2, 3, 4}, ethIn)))),
			link: LinkEthernet, src: s4, dst: d4, proto: ProtoUDP, payload: rtp, tunnel: "geneve", vlans: []uint16{300}},
		{name: "mpls", frame: serializeNoTB(&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeMPLSUnicast},
			&layers.MPLS{Label: 100, TTL: 64}, &layers.MPLS{Label: 200, StackBottom: true, TTL: 64}, gopacket.Payload(v4)),
			link: LinkEthernet, src: s4, dst: d4, proto: ProtoUDP, payload: rtp, tunnel: "mpls"},
		{name: "pppoe", frame: cat(macB, macA, be16b(0x8864), []byte{0x11, 0, 0, 1}, be16b(uint16(2+len(v6))), []byte{0, 0x57}, v6),
			link: LinkEthernet, src: s6, dst: d6, proto: ProtoUDP, payload: rtp, tunnel: "pppoe"},
		{name: "udp to a tunnel port that is no tunnel", frame: ether(layers.EthernetTypeIPv4, udp4(ip4A, ip4B, 40000, 4789, 64, []byte{0, 1, 2})),
			link: LinkEthernet, src: netip.AddrPortFrom(ip4A, 40000), dst: netip.AddrPortFrom(ip4B, 4789), proto: ProtoUDP, payload: []byte{0, 1, 2}},
	}
}

// gre4ppp wraps an IPv4 packet in IPv4/enhanced GRE (RFC 2637 §4.1)/PPP.
func gre4ppp(ip []byte) []byte {
	ppp := cat([]byte{0xff, 0x03, 0x00, 0x21}, ip)
	g := cat([]byte{0x30, 0x81, 0x88, 0x0b}, be16b(uint16(len(ppp))), be16b(38992), be32b(106), be32b(140))
	return serializeNoTB(ipv4Layer(ip4X, ip4Y, layers.IPProtocolGRE, 64), gopacket.Payload(cat(g, ppp)))
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(Config{})
			p, ok := d.Decode(tc.frame, tc.link, t0, len(tc.frame)+4)
			if !ok {
				t.Fatalf("ok = false, stats %+v", d.Stats())
			}
			if p.Src != tc.src || p.Dst != tc.dst || p.Proto != tc.proto {
				t.Errorf("got %v > %v proto %d, want %v > %v proto %d", p.Src, p.Dst, p.Proto, tc.src, tc.dst, tc.proto)
			}
			if !bytes.Equal(p.Payload, tc.payload) {
				t.Errorf("payload %x, want %x", p.Payload, tc.payload)
			}
			if got := p.VLANs[:p.NVLAN]; !equalU16(got, tc.vlans) {
				t.Errorf("VLANs %v, want %v", got, tc.vlans)
			}
			if p.Tunnel != tc.tunnel {
				t.Errorf("Tunnel %q, want %q", p.Tunnel, tc.tunnel)
			}
			if p.TCPSeq != tc.tcpSeq || p.TCPFlags != tc.tcpFlags {
				t.Errorf("TCP seq %d flags %#x, want %d %#x", p.TCPSeq, p.TCPFlags, tc.tcpSeq, tc.tcpFlags)
			}
			if !bytes.Equal(p.Frame, tc.frame) || p.Link != tc.link || !p.Time.Equal(t0) || p.OrigLen != len(tc.frame)+4 || p.Fragments != nil {
				t.Errorf("frame metadata not carried over: link %d time %v origlen %d fragments %d", p.Link, p.Time, p.OrigLen, len(p.Fragments))
			}
			st := d.Stats()
			wantTunnels := uint64(0)
			if tc.tunnel != "" {
				wantTunnels = 1
			}
			if st.Frames != 1 || st.Decoded != 1 || st.Tunnels != wantTunnels {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func equalU16(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDecodeRejects checks frames that carry no UDP/TCP payload and the
// counter each one lands in.
func TestDecodeRejects(t *testing.T) {
	v4 := udp4(ip4A, ip4B, 1, 2, 64, []byte("x"))
	arp := serializeNoTB(&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: 1, SourceHwAddress: macA, SourceProtAddress: ipOf(ip4A).To4(), DstHwAddress: macB, DstProtAddress: ipOf(ip4B).To4()})
	icmp := ether(layers.EthernetTypeIPv4, serializeNoTB(ipv4Layer(ip4A, ip4B, layers.IPProtocolICMPv4, 64),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}, gopacket.Payload([]byte("ping"))))
	badLen := bytes.Clone(v4)
	badLen[3] = 10 // IPv4 total length below the header length
	badTCP := tcp4(1, false, true, nil)
	badTCP[20+12] = 0x40 // TCP data offset 16 bytes
	tests := []struct {
		name  string
		frame []byte
		link  LinkType
		want  func(Stats) uint64
	}{
		{"arp", arp, LinkEthernet, func(s Stats) uint64 { return s.NonIP }},
		{"sll non-ip protocol", cat(sll(0x0806), v4), LinkLinuxSLL, func(s Stats) uint64 { return s.NonIP }},
		{"null AF 7", cat(le32b(7), v4), LinkNull, func(s Stats) uint64 { return s.NonIP }},
		{"raw version 5", append([]byte{0x50}, v4[1:]...), LinkRaw, func(s Stats) uint64 { return s.NonIP }},
		{"icmp", icmp, LinkEthernet, func(s Stats) uint64 { return s.NonL4 }},
		{"unknown link type", v4, 147, func(s Stats) uint64 { return s.UnsupportedLink }},
		{"ipv4 total length < header", badLen, LinkRaw, func(s Stats) uint64 { return s.Truncated }},
		{"ipv6 packet on link 228", udp6(ip6A, ip6B, 1, 2, nil), LinkIPv4, func(s Stats) uint64 { return s.Truncated }},
		{"tcp data offset < 20", badTCP, LinkRaw, func(s Stats) uint64 { return s.Truncated }},
		{"snaplen cut", ether(layers.EthernetTypeIPv4, v4)[:40], LinkEthernet, func(s Stats) uint64 { return s.Truncated }},
		{"gre routing", ether(layers.EthernetTypeIPv4, serializeNoTB(ipv4Layer(ip4X, ip4Y, layers.IPProtocolGRE, 64),
			gopacket.Payload(cat([]byte{0x40, 0, 0x08, 0}, []byte{0, 0, 0, 0}, v4)))), LinkEthernet, func(s Stats) uint64 { return s.NonIP }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(Config{})
			if _, ok := d.Decode(tt.frame, tt.link, t0, len(tt.frame)); ok {
				t.Fatal("ok = true")
			}
			st := d.Stats()
			if tt.want(st) != 1 || st.Frames != 1 || st.Decoded != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestTruncatedEveryLength cuts every test frame at every length: the
// decoder must never panic, and a cut frame either decodes to the same
// payload (only padding was cut) or is counted as truncated.
func TestTruncatedEveryLength(t *testing.T) {
	for _, tc := range decodeCases() {
		d := NewDecoder(Config{DedupWindow: -1})
		for n := range len(tc.frame) {
			before := d.Stats()
			p, ok := d.Decode(tc.frame[:n], tc.link, t0, len(tc.frame))
			after := d.Stats()
			if ok {
				if !bytes.Equal(p.Payload, tc.payload) {
					t.Errorf("%s cut at %d: decoded a different payload", tc.name, n)
				}
				continue
			}
			if after.Truncated != before.Truncated+1 {
				t.Errorf("%s cut at %d of %d: not counted as truncated: %+v", tc.name, n, len(tc.frame), after)
			}
		}
	}
}

func TestFlowHash(t *testing.T) {
	a := netip.MustParseAddrPort("10.0.0.1:5060")
	b := netip.MustParseAddrPort("10.0.0.2:5060")
	c := netip.MustParseAddrPort("10.0.0.1:5061")
	a6 := netip.MustParseAddrPort("[::ffff:10.0.0.1]:5060")
	if FlowHash(a, b, ProtoUDP) != FlowHash(b, a, ProtoUDP) {
		t.Error("not symmetric")
	}
	if FlowHash(a, b, ProtoUDP) == FlowHash(a, b, ProtoTCP) {
		t.Error("protocol not hashed")
	}
	if FlowHash(a, b, ProtoUDP) == FlowHash(c, b, ProtoUDP) {
		t.Error("port not hashed")
	}
	if FlowHash(a, b, ProtoUDP) != FlowHash(a6, b, ProtoUDP) {
		t.Error("IPv4 and IPv4-mapped IPv6 hash differently")
	}
	// Spread: 4096 RTP flows over 16 shards, none badly overloaded.
	var shards [16]int
	for i := range 4096 {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(10000+2*i))
		dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, 0, 1}), 20000)
		shards[FlowHash(src, dst, ProtoUDP)%16]++
	}
	for i, n := range shards {
		if n < 256/2 || n > 256*2 {
			t.Errorf("shard %d has %d of 4096 flows", i, n)
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	frame := ether(layers.EthernetTypeIPv4, udp4(ip4A, ip4B, 40000, 40002, 64, rtpPayload(1)), [2]uint16{0x8100, 100})
	d := NewDecoder(Config{})
	ts := t0
	allocs := testing.AllocsPerRun(1000, func() {
		ts = ts.Add(time.Second) // never a duplicate
		if _, ok := d.Decode(frame, LinkEthernet, ts, len(frame)); !ok {
			t.Fatal("not decoded")
		}
	})
	if allocs != 0 {
		t.Errorf("Decode allocates %.1f times per frame, want 0", allocs)
	}
}
