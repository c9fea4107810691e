package render_test

import (
	"math/rand/v2"
	"testing"

	"github.com/spanrec/spanrec/audio"
	"github.com/spanrec/spanrec/codec/g711"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/render"
)

// TestLoud: the noise guard's level of G.711 codes, summed from a table
// of squares, decides as audio.RMS of the decoded samples does, on the
// A-law call of nb6-telephone.pcap (read as A-law and as µ-law) and on
// random bytes (ciphertext) of several lengths.
func TestLoud(t *testing.T) {
	payloads := pcaptest.RTPPayloads(t, "wireshark-samples/nb6-telephone.pcap", 44344, 8)
	if len(payloads) < 100 {
		t.Fatalf("nb6-telephone.pcap: %d A-law payloads, want its call's", len(payloads))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 31, 32, 160, 1500} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.IntN(256))
		}
		payloads = append(payloads, p)
	}
	laws := []struct {
		key    byte
		decode func(byte) int16
	}{{0xD5, g711.DecodeAlaw}, {0xFF, g711.DecodeUlaw}}
	var yes, no int
	for _, law := range laws {
		for _, p := range payloads {
			pcm := make([]int16, len(p))
			for i, b := range p {
				pcm[i] = law.decode(b)
			}
			want := len(pcm) >= 32 && audio.RMS(pcm) >= render.NoiseRMS
			if got := render.Loud(law.key, p); got != want {
				t.Fatalf("loud(%d codes, key %#x) = %v, audio.RMS says %v", len(p), law.key, got, want)
			}
			if want {
				yes++
			} else {
				no++
			}
		}
	}
	if yes == 0 || no == 0 {
		t.Errorf("%d loud and %d quiet payloads: both answers should be tested", yes, no)
	}
}
