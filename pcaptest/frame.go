package pcaptest

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// packet is one IP datagram to put on the wire, before framing.
type packet struct {
	at       time.Duration // offset from the capture start
	call     *callPlan
	src, dst netip.AddrPort
	tcp      bool
	flags    uint8 // tcpSYN|tcpACK|... when tcp
	seq, ack uint32
	ipID     uint16
	payload  []byte // owned by the packet's source
	fragment bool   // send as IPv4 fragments if larger than the MTU
	stream   int    // index of the RTP stream in call.streams; -1 for signaling
	slot     int    // RTP: packets the stream sent before this one (sequence offset)
}

// TCP flags of packet.flags.
const (
	tcpFIN = 1 << iota
	tcpSYN
	tcpPSH
	tcpACK
)

const (
	mtu = 1500
	ttl = 64
)

// framer serializes packets into Ethernet frames with gopacket, reusing its
// layers and buffers. A framer is not safe for concurrent use.
type framer struct {
	buf, dgram gopacket.SerializeBuffer
	opts       gopacket.SerializeOptions
	eth        layers.Ethernet
	tags       [2]layers.Dot1Q
	ip4        layers.IPv4
	ip6        layers.IPv6
	udp        layers.UDP
	tcp        layers.TCP
	pl         gopacket.Payload
	ls         []gopacket.SerializableLayer
	srcIP      [16]byte
	dstIP      [16]byte
	srcMAC     [6]byte
	dstMAC     [6]byte
}

func newFramer() *framer {
	return &framer{
		buf:   gopacket.NewSerializeBufferExpectedSize(64, mtu),
		dgram: gopacket.NewSerializeBufferExpectedSize(0, 4096),
		opts:  gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true},
		ls:    make([]gopacket.SerializableLayer, 0, 6),
	}
}

// frames serializes p into one Ethernet frame, or into IPv4 fragments when
// p.fragment is set and p does not fit the MTU, and passes each frame to emit.
// A mirror copy (dup) has the TTL one lower and the innermost VLAN tag plus
// one. The frame passed to emit is valid only during the call.
func (f *framer) frames(p *packet, dup bool, emit func([]byte) error) error {
	c := &p.call.c
	hop := uint8(ttl)
	if dup {
		hop--
	}
	is6 := p.src.Addr().Is6()
	f.srcIP = p.src.Addr().As16()
	f.dstIP = p.dst.Addr().As16()
	copy(f.srcMAC[2:], f.srcIP[12:])
	copy(f.dstMAC[2:], f.dstIP[12:])
	f.srcMAC[0], f.dstMAC[0] = 0x02, 0x02 // locally administered
	f.eth = layers.Ethernet{SrcMAC: f.srcMAC[:], DstMAC: f.dstMAC[:]}

	ipType := layers.EthernetTypeIPv4
	if is6 {
		ipType = layers.EthernetTypeIPv6
	}
	f.ls = append(f.ls[:0], &f.eth)
	next := &f.eth.EthernetType
	for i, v := range c.VLAN {
		tpid := layers.EthernetTypeDot1Q
		if i == 0 && len(c.VLAN) == 2 {
			tpid = layers.EthernetTypeQinQ // IEEE 802.1ad S-tag
		}
		if dup && i == len(c.VLAN)-1 {
			v = v%4094 + 1
		}
		*next = tpid
		f.tags[i] = layers.Dot1Q{VLANIdentifier: v}
		next = &f.tags[i].Type
		f.ls = append(f.ls, &f.tags[i])
	}
	*next = ipType

	proto := layers.IPProtocolUDP
	if p.tcp {
		proto = layers.IPProtocolTCP
	}
	var ip gopacket.NetworkLayer
	if is6 {
		f.ip6 = layers.IPv6{Version: 6, HopLimit: hop, NextHeader: proto, SrcIP: f.srcIP[:], DstIP: f.dstIP[:]}
		ip = &f.ip6
		f.ls = append(f.ls, &f.ip6)
	} else {
		f.ip4 = layers.IPv4{Version: 4, TTL: hop, Protocol: proto, Id: p.ipID, SrcIP: f.srcIP[12:], DstIP: f.dstIP[12:]}
		ip = &f.ip4
		f.ls = append(f.ls, &f.ip4)
	}
	f.pl = p.payload
	if p.tcp {
		f.tcp = layers.TCP{
			SrcPort: layers.TCPPort(p.src.Port()), DstPort: layers.TCPPort(p.dst.Port()),
			Seq: p.seq, Ack: p.ack, Window: 64240,
			SYN: p.flags&tcpSYN != 0, ACK: p.flags&tcpACK != 0, FIN: p.flags&tcpFIN != 0, PSH: p.flags&tcpPSH != 0,
		}
		if err := f.tcp.SetNetworkLayerForChecksum(ip); err != nil {
			return err
		}
		f.ls = append(f.ls, &f.tcp, &f.pl)
		return f.serialize(emit)
	}
	f.udp = layers.UDP{SrcPort: layers.UDPPort(p.src.Port()), DstPort: layers.UDPPort(p.dst.Port())}
	if err := f.udp.SetNetworkLayerForChecksum(ip); err != nil {
		return err
	}
	if !p.fragment || is6 || 20+8+len(p.payload) <= mtu {
		f.ls = append(f.ls, &f.udp, &f.pl)
		return f.serialize(emit)
	}
	return f.fragments(emit)
}

func (f *framer) serialize(emit func([]byte) error) error {
	if err := gopacket.SerializeLayers(f.buf, f.opts, f.ls...); err != nil {
		return fmt.Errorf("pcaptest: serialize: %w", err)
	}
	return emit(f.buf.Bytes())
}

// fragments sends the UDP datagram in f.udp and f.pl as IPv4 fragments
// (RFC 791 §3.2: fragment offsets in 8-octet units, MF on all but the last).
// f.ls holds the link and IPv4 layers.
func (f *framer) fragments(emit func([]byte) error) error {
	if err := gopacket.SerializeLayers(f.dgram, f.opts, &f.udp, &f.pl); err != nil {
		return fmt.Errorf("pcaptest: serialize udp: %w", err)
	}
	d := f.dgram.Bytes()
	const chunk = (mtu - 20) / 8 * 8
	head := f.ls
	for off := 0; off < len(d); off += chunk {
		end := min(off+chunk, len(d))
		f.ip4.Flags = 0
		if end < len(d) {
			f.ip4.Flags = layers.IPv4MoreFragments
		}
		f.ip4.FragOffset = uint16(off / 8)
		f.pl = d[off:end]
		f.ls = append(head, &f.pl)
		if err := f.serialize(emit); err != nil {
			return err
		}
	}
	return nil
}
