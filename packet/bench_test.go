package packet

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// BenchmarkDecode measures the per-frame cost of decoding RTP frames
// (Ethernet/IPv4/UDP, 172-byte RTP payload).
func BenchmarkDecode(b *testing.B) {
	const nframes = 1024 // distinct RTP packets, cycled
	build := func(tags ...[2]uint16) [][]byte {
		frames := make([][]byte, nframes)
		for i := range frames {
			frames[i] = ether(layers.EthernetTypeIPv4, udp4(ip4A, ip4B, 40000, 40002, 64, rtpPayload(uint16(i))), tags...)
		}
		return frames
	}
	plain := build()
	vlan := build([2]uint16{0x88a8, 10}, [2]uint16{0x8100, 20})
	tests := []struct {
		name   string
		frames [][]byte
		window time.Duration
	}{
		{"udp", plain, -1},
		{"udp-qinq", vlan, -1},
		{"udp-dedup", plain, 0},
		{"udp-qinq-dedup", vlan, 0},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			d := NewDecoder(Config{DedupWindow: tt.window})
			// 20 µs between frames: a frame comes back after 20 ms,
			// past the dedup window, so none is a duplicate.
			ts := t0
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				f := tt.frames[i%nframes]
				if _, ok := d.Decode(f, LinkEthernet, ts, len(f)); !ok {
					b.Fatalf("frame %d not decoded: %+v", i, d.Stats())
				}
				ts = ts.Add(20 * time.Microsecond)
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}
