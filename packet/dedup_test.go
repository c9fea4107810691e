package packet_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/spanrec/spanrec/packet"
)

func TestDedupAcrossSources(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	base := packet.Packet{
		Time:    t0,
		Src:     netip.MustParseAddrPort("10.0.0.1:40000"),
		Dst:     netip.MustParseAddrPort("10.0.0.2:30000"),
		Proto:   packet.ProtoUDP,
		Payload: []byte("\x80\x00\x00\x01rtp payload"),
		Frame:   []byte("port one frame"),
	}
	copyOf := func(f func(*packet.Packet)) *packet.Packet {
		p := base
		p.Payload = append([]byte(nil), base.Payload...)
		f(&p)
		return &p
	}
	tests := []struct {
		name string
		p    *packet.Packet
		dup  bool
	}{
		{"copy from the other port", copyOf(func(p *packet.Packet) {
			p.Frame, p.VLANs, p.NVLAN, p.Time = []byte("port two frame, tagged"), [2]uint16{7}, 1, t0.Add(2*time.Millisecond)
		}), true},
		{"copy earlier than the first", copyOf(func(p *packet.Packet) { p.Time = t0.Add(-time.Millisecond) }), true},
		{"next RTP packet", copyOf(func(p *packet.Packet) { p.Payload[3] = 2 }), false},
		{"other destination port", copyOf(func(p *packet.Packet) { p.Dst = netip.MustParseAddrPort("10.0.0.2:30002") }), false},
		{"other protocol", copyOf(func(p *packet.Packet) { p.Proto = packet.ProtoTCP }), false},
		{"other TCP sequence", copyOf(func(p *packet.Packet) { p.Proto, p.TCPSeq = packet.ProtoTCP, 99 }), false},
		{"retransmission after the window", copyOf(func(p *packet.Packet) { p.Time = t0.Add(500 * time.Millisecond) }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := packet.NewDedup(5 * time.Millisecond)
			if d.Seen(&base) {
				t.Fatal("first packet reported as a copy")
			}
			if got := d.Seen(tt.p); got != tt.dup {
				t.Errorf("Seen = %v, want %v", got, tt.dup)
			}
		})
	}
	off := packet.NewDedup(-1)
	off.Seen(&base)
	if off.Seen(&base) {
		t.Error("disabled Dedup reported a copy")
	}
	d := packet.NewDedup(0)
	if allocs := testing.AllocsPerRun(100, func() { d.Seen(&base) }); allocs != 0 {
		t.Errorf("Seen allocates %v times", allocs)
	}
}
