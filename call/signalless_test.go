package call_test

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/packet"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// rtpFlow makes n RTP packets src → dst: payload type pt, spp timestamp
// units per packet every ptime, payloads of size bytes from fill.
func rtpFlow(src, dst string, ssrc uint32, pt uint8, n int, spp uint32, ptime time.Duration, start time.Time, size int, fill func(i int, b []byte)) []packet.Packet {
	var out []packet.Packet
	for i := range n {
		b := make([]byte, 12+size)
		b[0], b[1] = 0x80, pt
		binary.BigEndian.PutUint16(b[2:], uint16(1000+i))
		binary.BigEndian.PutUint32(b[4:], 5000+uint32(i)*spp)
		binary.BigEndian.PutUint32(b[8:], ssrc)
		fill(i, b[12:])
		out = append(out, packet.Packet{
			Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst), Proto: packet.ProtoUDP,
			Time: start.Add(time.Duration(i) * ptime), Payload: b,
		})
	}
	return out
}

// silenceish fills G.711 µ-law payloads with codes near silence, as speech
// pauses and quiet tones give.
func silenceish(i int, b []byte) {
	for k := range b {
		b[k] = 0xf0 + byte((i+k)%16)
	}
}

// interleave merges flows in time order.
func interleave(flows ...[]packet.Packet) []packet.Packet {
	var out []packet.Packet
	idx := make([]int, len(flows))
	for {
		best := -1
		for f := range flows {
			if idx[f] < len(flows[f]) && (best < 0 || flows[f][idx[f]].Time.Before(flows[best][idx[best]].Time)) {
				best = f
			}
		}
		if best < 0 {
			return out
		}
		out = append(out, flows[best][idx[best]])
		idx[best]++
	}
}

func holdAll(o *call.Orphans, pkts []packet.Packet) {
	for i := range pkts {
		o.Hold(&pkts[i])
	}
}

// TestOrphansPair: two directions of G.711 RTP pair into one signalless
// call once PendingAge has passed since the first packet, not before; the
// packets come back in capture order.
func TestOrphansPair(t *testing.T) {
	a := rtpFlow("10.0.0.1:4000", "10.0.0.2:5000", 1, 0, 300, 160, 20*time.Millisecond, t0, 160, silenceish)
	b := rtpFlow("10.0.0.2:5000", "10.0.0.1:4000", 2, 0, 300, 160, 20*time.Millisecond, t0.Add(7*time.Millisecond), 160, silenceish)
	all := interleave(a, b)
	o := call.NewOrphans()
	holdAll(o, all[:200])
	if got := o.Expire(all[199].Time); len(got) != 0 {
		t.Fatalf("decided after %v, before PendingAge", all[199].Time.Sub(t0))
	}
	holdAll(o, all[200:])
	got := o.Expire(t0.Add(call.PendingAge))
	if len(got) != 1 {
		t.Fatalf("%d signalless calls, want 1", len(got))
	}
	g := got[0]
	if g.Caller != a[0].Src || g.Callee != a[0].Dst || !g.Paired || g.Encrypted != [2]bool{} {
		t.Errorf("orphan %v → %v paired %v encrypted %v", g.Caller, g.Callee, g.Paired, g.Encrypted)
	}
	if len(g.Packets) != len(all) {
		t.Fatalf("%d packets, want %d", len(g.Packets), len(all))
	}
	for i := range all {
		if !g.Packets[i].Time.Equal(all[i].Time) || g.Packets[i].Src != all[i].Src {
			t.Fatalf("packet %d out of capture order", i)
		}
	}
	if !strings.Contains(g.Reason, "no signalling seen") || o.Len() != 0 {
		t.Errorf("reason %q, %d flows still held", g.Reason, o.Len())
	}
}

// TestOrphansShape: what is not RTP by its shape never becomes a call.
func TestOrphansShape(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(i int, b []byte) {
		for k := range b {
			b[k] = byte(rng.Uint32())
		}
	}
	ms := time.Millisecond
	tests := []struct {
		name string
		pkts []packet.Packet
		want int
	}{
		{"g711 one way", rtpFlow("10.0.0.1:4000", "10.0.0.2:5000", 1, 8, 100, 160, 20*ms, t0, 160, silenceish), 1},
		{"too short", rtpFlow("10.0.0.1:4000", "10.0.0.2:5000", 1, 0, 40, 160, 20*ms, t0, 160, silenceish), 0},
		{"video PT 34", rtpFlow("10.0.0.1:4000", "10.0.0.2:5000", 1, 34, 300, 3000, 33*ms, t0, 1000, random), 0},
		{"dynamic PT", rtpFlow("10.0.0.1:4000", "10.0.0.2:5000", 1, 111, 300, 960, 20*ms, t0, 80, random), 0},
		{"clock too fast", rtpFlow("10.0.0.1:4000", "10.0.0.2:5000", 1, 0, 300, 160, 10*ms, t0, 160, silenceish), 0},
		{"wrong size", rtpFlow("10.0.0.1:4000", "10.0.0.2:5000", 1, 0, 300, 160, 20*ms, t0, 100, silenceish), 0},
	}
	// Random datagrams that pass the version check: games, DNS
	// answers, anything with 10xxxxxx in its first byte.
	var junk []packet.Packet
	for i := range 2000 {
		b := make([]byte, 20+rng.IntN(200))
		random(i, b)
		b[0] = 0x80 | b[0]&0x3f
		junk = append(junk, packet.Packet{
			Src: netip.MustParseAddrPort("10.0.0.9:27015"), Dst: netip.MustParseAddrPort("10.0.0.8:27016"),
			Proto: packet.ProtoUDP, Time: t0.Add(time.Duration(i) * 10 * ms), Payload: b,
		})
	}
	tests = append(tests, struct {
		name string
		pkts []packet.Packet
		want int
	}{"random datagrams", junk, 0})
	for _, tt := range tests {
		o := call.NewOrphans()
		holdAll(o, tt.pkts)
		if got := o.Close(); len(got) != tt.want {
			t.Errorf("%s: %d signalless calls, want %d", tt.name, len(got), tt.want)
		}
		if tt.want == 0 && o.Unassigned != len(tt.pkts) && o.Unassigned+o.Dropped == 0 {
			t.Errorf("%s: unassigned %d of %d", tt.name, o.Unassigned, len(tt.pkts))
		}
	}
}

// TestOrphansEncrypted: G.711 payloads with an SRTP authentication tag, or
// as flat as ciphertext, are flagged; the srtp stage then keeps them from
// being decoded as plain audio.
func TestOrphansEncrypted(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := func(_ int, b []byte) {
		for k := range b {
			b[k] = byte(rng.Uint32())
		}
	}
	for _, tt := range []struct {
		name string
		size int
	}{{"auth tag", 170}, {"no tag, random payload", 160}} {
		o := call.NewOrphans()
		holdAll(o, rtpFlow("10.0.0.1:10000", "10.0.0.2:10000", 0xdeadbeef, 8, 200, 160, 20*time.Millisecond, t0, tt.size, random))
		got := o.Close()
		if len(got) != 1 || !got[0].Encrypted[0] {
			t.Errorf("%s: %+v, want one call flagged encrypted", tt.name, got)
		}
	}
}

// TestOrphansTail: RTP that goes on after its SDP call ended is the tail
// of that call, not a new one; with SCCP seen from a host, a short pair
// is a call, and the reason names SCCP.
func TestOrphansTail(t *testing.T) {
	o := call.NewOrphans()
	o.Announce(netip.MustParseAddrPort("10.0.0.2:5000"), t0.Add(-10*time.Second))
	holdAll(o, rtpFlow("10.0.0.1:4000", "10.0.0.2:5000", 1, 0, 300, 160, 20*time.Millisecond, t0, 160, silenceish))
	if got := o.Close(); len(got) != 0 {
		t.Errorf("tail of an SDP call made %d calls", len(got))
	}

	o = call.NewOrphans()
	sccp := make([]byte, 16)
	binary.LittleEndian.PutUint32(sccp, 8)
	binary.LittleEndian.PutUint32(sccp[8:], 0x0111)
	o.Hints.Observe(&packet.Packet{Proto: packet.ProtoTCP, Src: netip.MustParseAddrPort("10.0.0.1:49399"),
		Dst: netip.MustParseAddrPort("10.0.9.9:2000"), Payload: sccp})
	a := rtpFlow("10.0.0.1:4000", "10.0.0.2:5000", 1, 0, 18, 160, 20*time.Millisecond, t0, 160, silenceish)
	b := rtpFlow("10.0.0.2:5000", "10.0.0.1:4000", 2, 0, 17, 160, 20*time.Millisecond, t0, 160, silenceish)
	holdAll(o, interleave(a, b))
	got := o.Close()
	if len(got) != 1 || !strings.Contains(got[0].Reason, "SCCP") {
		t.Fatalf("short pair beside SCCP: %+v", got)
	}
}

// FuzzOrphans holds arbitrary datagrams as one flow and its reverse: no
// panic, and every packet is either decided or counted.
func FuzzOrphans(f *testing.F) {
	for _, p := range rtpFlow("10.0.0.1:4000", "10.0.0.2:5000", 1, 0, 4, 160, 20*time.Millisecond, t0, 160, silenceish) {
		f.Add(p.Payload, uint8(0))
	}
	f.Add([]byte{0x80, 0x12, 0, 1, 0, 0, 0, 80, 0, 0, 0, 1, 1, 2}, uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		o := call.NewOrphans()
		src, dst := netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("10.0.0.2:5000")
		for i := range int(n%64) + 60 {
			p := packet.Packet{Src: src, Dst: dst, Proto: packet.ProtoUDP, Time: t0.Add(time.Duration(i) * 20 * time.Millisecond), Payload: b}
			if i%3 == 1 {
				p.Src, p.Dst = dst, src
			}
			o.Hints.Observe(&p)
			o.Hold(&p)
		}
		o.Expire(t0.Add(time.Hour))
		o.Close()
		if o.Len() != 0 {
			t.Fatalf("%d flows held after Close", o.Len())
		}
	})
}

// FuzzHints shows arbitrary payloads on the signalling ports Hints knows.
func FuzzHints(f *testing.F) {
	f.Add([]byte("CRCX 1204 aaln/1@gw MGCP 1.0\r\n"), uint16(2427), true)
	f.Add([]byte{3, 0, 0, 20, 2, 0xf0, 0x80}, uint16(1720), false)
	f.Add([]byte{0x16, 3, 3, 0, 10}, uint16(5061), false)
	f.Fuzz(func(t *testing.T, b []byte, port uint16, udp bool) {
		h := call.NewHints()
		p := packet.Packet{Proto: packet.ProtoTCP, Src: netip.MustParseAddrPort("10.0.0.1:40000"),
			Dst: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), port), Payload: b}
		if udp {
			p.Proto = packet.ProtoUDP
		}
		h.Observe(&p)
		_ = h.Reason(p.Src.Addr(), p.Dst.Addr())
	})
}
