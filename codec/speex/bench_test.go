package speex_test

import (
	"testing"
	"time"

	"github.com/spanrec/spanrec/codec/internal/codectest"
	"github.com/spanrec/spanrec/codec/speex"
)

// BenchmarkDecode decodes the capture's narrowband (mode 4) and wideband
// (mode 5 + layer 1) streams, one 20 ms packet per op, and reports the
// speed in multiples of real time on one core.
func BenchmarkDecode(b *testing.B) {
	streams := codectest.RTPStreams(b, codectest.Capture(b, "wireshark-samples/sip-rtp-speex.pcap"))
	for i, name := range []string{"narrowband", "wideband"} {
		b.Run(name, func(b *testing.B) {
			payloads := streams[i].Payloads
			d := speex.NewDecoder(i == 1)
			pcm := make([]int16, 0, 320)
			b.ReportAllocs()
			cpu0 := codectest.CPUTime()
			k := 0
			for b.Loop() {
				pcm, _ = d.Decode(pcm[:0], payloads[k])
				if k++; k == len(payloads) {
					k = 0
				}
			}
			codectest.ReportSpeed(b, 20*time.Millisecond, cpu0)
		})
	}
}
