package recorder

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
)

// benchG729Calls is the size of BenchmarkImportG729's captures: 100
// concurrent answered calls of 15 s talk, about 150,000 frames.
const benchG729Calls = 100

var g729Captures [2]generated

// BenchmarkImportG729 compares the import of G.729 calls with the same
// calls in G.711 µ-law (BenchmarkImport's calls, 100 of them): the
// difference is the cost of decoding G.729 (CELP synthesis and
// postfilter) where G.711 is spooled as its codes. The G.729 frames are
// those of a real call (wireshark-samples/sip-rtp-g729a.pcap), which
// pcaptest sends as they are.
func BenchmarkImportG729(b *testing.B) {
	frames := benchG729Frames(b)
	for i, codec := range []string{"PCMU", "G729"} {
		b.Run("codec="+codec, func(b *testing.B) {
			calls := pcaptest.Concurrent(benchG729Calls, benchSpread, benchTalk)
			for k := range calls {
				calls[k].Codec = codec
				if codec == "G729" {
					calls[k].G729Frames = frames
				}
			}
			name := fmt.Sprintf("%s-c%d-s%v-t%v-seed%d", codec, benchG729Calls, benchSpread, benchTalk, benchSeed)
			data := g729Captures[i].get(b, name, pcaptest.Options{Seed: benchSeed, Calls: calls})
			benchImport(b, data, benchG729Calls, runtime.GOMAXPROCS(0))
		})
	}
}

// benchG729Frames returns the 850 G.729 frames of sip-rtp-g729a.pcap's
// stream to 10.0.2.20:6000 (Ethernet, IPv4, UDP, RTP without CSRCs).
func benchG729Frames(b *testing.B) [][]byte {
	b.Helper()
	path := filepath.Join(pcaptest.CapturesDir(b), "wireshark-samples", "sip-rtp-g729a.pcap")
	fs, err := capture.ReadAll(path)
	if err != nil {
		b.Fatal(err)
	}
	var out [][]byte
	for _, f := range fs {
		d := f.Data
		if len(d) < 54 || d[23] != 17 || binary.BigEndian.Uint16(d[34:]) != 28120 || d[43]&0x7f != 18 {
			continue
		}
		for p := d[54:]; len(p) >= 10; p = p[10:] {
			out = append(out, append([]byte(nil), p[:10]...))
		}
	}
	if len(out) != 850 {
		b.Fatalf("%d G.729 frames in %s, want 850", len(out), path)
	}
	return out
}
