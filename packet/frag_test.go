package packet

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// sipMessage is a SIP INVITE of about n bytes whose Content-Length is right.
func sipMessage(n int) []byte {
	body := "v=0\r\n" + strings.Repeat("a=x-padding:0123456789abcdef\r\n", n/30)
	return []byte("INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: frag@test\r\nContent-Type: application/sdp\r\n" +
		"Content-Length: " + itoa(len(body)) + "\r\n\r\n" + body)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// frags4 splits an IPv4/UDP datagram carrying payload into Ethernet frames
// of IPv4 fragments with at most size data bytes each (a multiple of 8).
func frags4(id uint16, payload []byte, size int, ttl uint8, vlan uint16) [][]byte {
	udp := serializeNoTB(&layers.UDP{SrcPort: 5060, DstPort: 5080}, gopacket.Payload(payload))
	var frames [][]byte
	for off := 0; off < len(udp); off += size {
		end := min(off+size, len(udp))
		ip := ipv4Layer(ip4A, ip4B, layers.IPProtocolUDP, ttl)
		ip.Id = id
		ip.FragOffset = uint16(off / 8)
		if end < len(udp) {
			ip.Flags = layers.IPv4MoreFragments
		}
		frames = append(frames, serializeCsum(&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: vlan, Type: layers.EthernetTypeIPv4}, ip, gopacket.Payload(udp[off:end])))
	}
	return frames
}

// frags6 does the same for IPv6 (on Linux SLL2), with a destination options
// header inside the fragmentable part.
func frags6(id uint32, payload []byte, size int, hops uint8) [][]byte {
	udp := serializeNoTB(&layers.UDP{SrcPort: 5060, DstPort: 5080}, gopacket.Payload(payload))
	fragmentable := cat([]byte{17, 0, 1, 4, 0, 0, 0, 0}, udp)
	var frames [][]byte
	for off := 0; off < len(fragmentable); off += size {
		end := min(off+size, len(fragmentable))
		fh := &layers.IPv6Fragment{NextHeader: layers.IPProtocolIPv6Destination, FragmentOffset: uint16(off / 8),
			MoreFragments: end < len(fragmentable), Identification: id}
		ip := serializeNoTB(ipv6Layer(ip6A, ip6B, layers.IPProtocolIPv6Fragment, hops), fh, gopacket.Payload(fragmentable[off:end]))
		frames = append(frames, cat(sll2(0x86dd), ip))
	}
	return frames
}

func serializeCsum(ls ...gopacket.SerializableLayer) []byte {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		panic(err)
	}
	return bytes.Clone(buf.Bytes())
}

func TestIPv4FragmentsOutOfOrder(t *testing.T) {
	msg := sipMessage(3000)
	frames := frags4(77, msg, 1480, 64, 10)
	if len(frames) != 3 {
		t.Fatalf("%d fragments", len(frames))
	}
	d := NewDecoder(Config{})
	order := []int{2, 0, 1}
	var p Packet
	var ok bool
	for i, k := range order {
		in := bytes.Clone(frames[k])
		p, ok = d.Decode(in, LinkEthernet, t0.Add(time.Duration(i)*time.Millisecond), len(in))
		if i < len(order)-1 {
			if ok {
				t.Fatalf("fragment %d decoded on its own", k)
			}
			clear(in) // the decoder must have copied what it keeps
		}
	}
	if !ok {
		t.Fatalf("not reassembled: %+v", d.Stats())
	}
	if !bytes.Equal(p.Payload, msg) {
		t.Errorf("payload of %d bytes differs from the %d sent", len(p.Payload), len(msg))
	}
	if !sipFramingOK(p.Payload, true) {
		t.Error("reassembled SIP message: length is not headers + Content-Length")
	}
	if p.Src != netip.AddrPortFrom(ip4A, 5060) || p.Dst != netip.AddrPortFrom(ip4B, 5080) || p.Proto != ProtoUDP {
		t.Errorf("got %v > %v proto %d", p.Src, p.Dst, p.Proto)
	}
	if len(p.Fragments) != 3 {
		t.Fatalf("%d fragment frames, want 3", len(p.Fragments))
	}
	for i, k := range order {
		if !bytes.Equal(p.Fragments[i], frames[k]) {
			t.Errorf("Fragments[%d] is not frame %d", i, k)
		}
	}
	if !bytes.Equal(p.Frame, frames[1]) || p.NVLAN != 1 || p.VLANs[0] != 10 {
		t.Errorf("Frame is not the last fragment, or VLAN lost (%v)", p.VLANs)
	}
	st := d.Stats()
	if st.Fragments != 3 || st.Reassembled != 1 || st.Decoded != 1 || st.FragmentsDropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestIPv6Fragments(t *testing.T) {
	msg := sipMessage(2500)
	frames := frags6(0xb0647780, msg, 1232, 64)
	if len(frames) != 3 {
		t.Fatalf("%d fragments", len(frames))
	}
	d := NewDecoder(Config{})
	var p Packet
	var ok bool
	for i, k := range []int{1, 2, 0} {
		p, ok = d.Decode(frames[k], LinkLinuxSLL2, t0.Add(time.Duration(i)*time.Millisecond), len(frames[k]))
		if ok != (i == 2) {
			t.Fatalf("step %d: ok = %v", i, ok)
		}
	}
	if !bytes.Equal(p.Payload, msg) {
		t.Errorf("payload of %d bytes differs from the %d sent", len(p.Payload), len(msg))
	}
	if p.Src != netip.AddrPortFrom(ip6A, 5060) || p.Dst != netip.AddrPortFrom(ip6B, 5080) || len(p.Fragments) != 3 {
		t.Errorf("got %v > %v, %d fragments", p.Src, p.Dst, len(p.Fragments))
	}
}

func TestFragmentRules(t *testing.T) {
	msg := sipMessage(3000)
	frames := frags4(1, msg, 1480, 64, 10)
	later := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Millisecond) }

	t.Run("overlap drops the datagram", func(t *testing.T) {
		d := NewDecoder(Config{})
		d.Decode(frames[0], LinkEthernet, later(0), 0)
		// A fragment at offset 1472 overlaps the first one's last 8 bytes.
		ip := ipv4Layer(ip4A, ip4B, layers.IPProtocolUDP, 64)
		ip.Id, ip.FragOffset, ip.Flags = 1, 1472/8, layers.IPv4MoreFragments
		bad := ether(layers.EthernetTypeIPv4, serializeNoTB(ip, gopacket.Payload(make([]byte, 16))))
		if _, ok := d.Decode(bad, LinkEthernet, later(1), 0); ok {
			t.Fatal("overlapping fragment decoded")
		}
		d.Decode(frames[1], LinkEthernet, later(2), 0)
		if _, ok := d.Decode(frames[2], LinkEthernet, later(3), 0); ok {
			t.Error("datagram completed without its first fragment")
		}
		if st := d.Stats(); st.FragmentsDropped != 2 || st.Reassembled != 0 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("repeated fragment is ignored", func(t *testing.T) {
		d := NewDecoder(Config{DedupWindow: -1})
		d.Decode(frames[0], LinkEthernet, later(0), 0)
		d.Decode(frames[0], LinkEthernet, later(100), 0)
		d.Decode(frames[1], LinkEthernet, later(101), 0)
		p, ok := d.Decode(frames[2], LinkEthernet, later(102), 0)
		if !ok || !bytes.Equal(p.Payload, msg) || len(p.Fragments) != 3 {
			t.Fatalf("ok=%v, %d fragments", ok, len(p.Fragments))
		}
		if st := d.Stats(); st.Duplicates != 1 || st.Reassembled != 1 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("timeout by packet time", func(t *testing.T) {
		d := NewDecoder(Config{FragmentTimeout: 2 * time.Second})
		d.Decode(frames[0], LinkEthernet, t0, 0)
		d.Decode(frames[1], LinkEthernet, t0.Add(time.Second), 0)
		if _, ok := d.Decode(frames[2], LinkEthernet, t0.Add(3*time.Second), 0); ok {
			t.Error("completed after the timeout")
		}
		if st := d.Stats(); st.FragmentsExpired != 2 {
			t.Errorf("stats %+v", st)
		}
		d.Expire(t0.Add(time.Hour))
		if st := d.Stats(); st.FragmentsExpired != 3 || d.frag.pending() || d.frag.nfrags != 0 || d.frag.nbytes != 0 {
			t.Errorf("after Expire: stats %+v, %d fragments %d bytes held", st, d.frag.nfrags, d.frag.nbytes)
		}
	})
	t.Run("fragment count limit evicts the oldest datagram", func(t *testing.T) {
		d := NewDecoder(Config{MaxFragments: 2})
		a := frags4(10, msg, 1480, 64, 10)
		b := frags4(11, msg, 1480, 64, 10)
		d.Decode(a[0], LinkEthernet, later(0), 0)
		d.Decode(a[1], LinkEthernet, later(1), 0)
		d.Decode(b[0], LinkEthernet, later(2), 0) // evicts a
		d.Decode(b[1], LinkEthernet, later(3), 0)
		if _, ok := d.Decode(a[2], LinkEthernet, later(4), 0); ok {
			t.Error("evicted datagram completed")
		}
		// a[2] started a new datagram and evicted b.
		if st := d.Stats(); st.FragmentsDropped != 4 {
			t.Errorf("stats %+v", st)
		}
		// b cannot complete any more, but a new datagram can.
		c := frags4(12, msg, 1480, 64, 10)
		d.Decode(c[0], LinkEthernet, later(5), 0)
		d.Decode(c[1], LinkEthernet, later(6), 0)
		if _, ok := d.Decode(c[2], LinkEthernet, later(7), 0); !ok {
			t.Errorf("datagram within the limit not completed: %+v", d.Stats())
		}
	})
	t.Run("byte limit", func(t *testing.T) {
		d := NewDecoder(Config{MaxFragmentBytes: 1000})
		d.Decode(frames[0], LinkEthernet, later(0), 0)
		if st := d.Stats(); st.FragmentsDropped != 1 || d.frag.pending() {
			t.Errorf("fragment over the byte limit kept: %+v", st)
		}
	})
	t.Run("odd-sized middle fragment is malformed", func(t *testing.T) {
		d := NewDecoder(Config{})
		ip := ipv4Layer(ip4A, ip4B, layers.IPProtocolUDP, 64)
		ip.Id, ip.Flags = 3, layers.IPv4MoreFragments
		f := ether(layers.EthernetTypeIPv4, serializeNoTB(ip, gopacket.Payload(make([]byte, 13))))
		d.Decode(f, LinkEthernet, t0, 0)
		if st := d.Stats(); st.Truncated != 1 || d.frag.pending() {
			t.Errorf("stats %+v", st)
		}
	})
}

func TestDedup(t *testing.T) {
	// copyOf is one RTP packet as seen on a mirror port: its own VLAN, and
	// a TTL (hence IPv4 checksum) one lower when a router sits between.
	copyOf := func(seq uint16, vlan uint16, ttl uint8) []byte {
		ip := ipv4Layer(ip4A, ip4B, layers.IPProtocolUDP, ttl)
		udp := &layers.UDP{SrcPort: 40000, DstPort: 40002}
		if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		return serializeCsum(&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: vlan, Type: layers.EthernetTypeIPv4}, ip, udp, gopacket.Payload(rtpPayload(seq)))
	}
	a, b := copyOf(1, 100, 64), copyOf(1, 200, 63)
	if bytes.Equal(a[18:], b[18:]) {
		t.Fatal("test copies do not differ in TTL/checksum")
	}
	v6 := func(hops uint8) []byte {
		return ether(layers.EthernetTypeIPv6, serializeNoTB(ipv6Layer(ip6A, ip6B, layers.IPProtocolUDP, hops), &layers.UDP{SrcPort: 1, DstPort: 2}, gopacket.Payload(rtpPayload(9))))
	}
	type step struct {
		frame []byte
		at    time.Duration
		ok    bool
	}
	tests := []struct {
		name   string
		window time.Duration
		steps  []step
		dups   uint64
	}{
		{"copy 1 ms later, other VLAN and TTL", 0, []step{{a, 0, true}, {b, time.Millisecond, false}}, 1},
		{"copy 1 ms earlier (reordered readers)", 0, []step{{a, time.Millisecond, true}, {b, 0, false}}, 1},
		{"retransmission 50 ms later", 0, []step{{a, 0, true}, {b, 50 * time.Millisecond, true}}, 0},
		{"copy, then a retransmission past the window", 0, []step{{a, 0, true}, {b, time.Millisecond, false}, {a, 20 * time.Millisecond, true}}, 1},
		{"different RTP packets back to back", 0, []step{{copyOf(1, 100, 64), 0, true}, {copyOf(2, 100, 64), 100 * time.Microsecond, true}}, 0},
		{"ipv6 hop limit", 0, []step{{v6(64), 0, true}, {v6(61), 2 * time.Millisecond, false}}, 1},
		{"disabled", -1, []step{{a, 0, true}, {a, 0, true}}, 0},
		{"wider window", 100 * time.Millisecond, []step{{a, 0, true}, {b, 50 * time.Millisecond, false}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(Config{DedupWindow: tt.window})
			for i, s := range tt.steps {
				if _, ok := d.Decode(s.frame, LinkEthernet, t0.Add(s.at), len(s.frame)); ok != s.ok {
					t.Errorf("step %d: ok = %v, want %v", i, ok, s.ok)
				}
			}
			if st := d.Stats(); st.Duplicates != tt.dups {
				t.Errorf("Duplicates = %d, want %d", st.Duplicates, tt.dups)
			}
		})
	}

	t.Run("fragments mirrored twice", func(t *testing.T) {
		msg := sipMessage(3000)
		x, y := frags4(5, msg, 1480, 64, 100), frags4(5, msg, 1480, 63, 200)
		d := NewDecoder(Config{})
		n := 0
		for i := range x {
			for j, f := range [][]byte{x[i], y[i]} {
				if p, ok := d.Decode(f, LinkEthernet, t0.Add(time.Duration(2*i+j)*time.Millisecond/4), len(f)); ok {
					n++
					if !bytes.Equal(p.Payload, msg) {
						t.Error("wrong payload")
					}
				}
			}
		}
		if st := d.Stats(); n != 1 || st.Duplicates != 3 || st.FragmentsDropped != 0 || st.Reassembled != 1 {
			t.Errorf("%d datagrams, stats %+v", n, st)
		}
	})
}
