package render_test

import (
	"encoding/binary"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/render"
)

// TestTrackILBCGarbage feeds random bytes as iLBC, as encrypted media
// taken for iLBC would be: two frames in three are bad (the empty-frame
// bit, an impossible start-state position), and the decoder's
// codec.GarbageDetector makes the Track noise. The real call
// (wireshark-samples/sip-rtp-ilbc.pcap, 284 frames of 30 ms) is kept.
func TestTrackILBCGarbage(t *testing.T) {
	frames, err := capture.ReadAll(filepath.Join(pcaptest.CapturesDir(t), "wireshark-samples", "sip-rtp-ilbc.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	var real [][]byte
	for _, f := range frames {
		b := f.Data
		// Ethernet, IPv4 without options, UDP, RTP without CSRCs.
		if len(b) == 54+50 && b[12] == 0x08 && b[14] == 0x45 && b[23] == 17 &&
			binary.BigEndian.Uint16(b[34:]) == 25256 && b[43]&0x7f == 99 {
			real = append(real, b[54:])
		}
	}
	if len(real) != 284 {
		t.Fatalf("%d iLBC frames in the capture, want 284", len(real))
	}
	rng := rand.New(rand.NewPCG(7, 8))
	random := make([][]byte, 284)
	for i := range random {
		random[i] = make([]byte, 50)
		for k := range random[i] {
			random[i][k] = byte(rng.Uint32())
		}
	}
	cd, ok := codec.Lookup("iLBC", 8000, 1)
	if !ok {
		t.Fatal("iLBC not decodable")
	}
	start := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name     string
		payloads [][]byte
		noise    bool
	}{{"real call", real, false}, {"random bytes", random, true}} {
		tr, err := render.NewTrack(nil, filepath.Join(t.TempDir(), "1"+render.SpoolExt(cd)), spanrec.CallerSide, cd, start)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range c.payloads {
			tr.Add(0x1234, uint16(i), uint32(240*i), start.Add(time.Duration(i)*30*time.Millisecond), p)
		}
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
		if tr.Noise != c.noise {
			t.Errorf("%s: the track is noise: %v, want %v (%d payloads dropped)", c.name, tr.Noise, c.noise, tr.NoiseFrames)
		}
		_ = tr.Remove()
	}
}
