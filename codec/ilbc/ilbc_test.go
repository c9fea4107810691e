package ilbc_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/spanrec/spanrec/codec"
	"github.com/spanrec/spanrec/codec/ilbc"
	"github.com/spanrec/spanrec/codec/internal/codectest"
)

// Interfaces render relies on.
var (
	_ codec.Decoder         = (*ilbc.Decoder)(nil)
	_ codec.Concealer       = (*ilbc.Decoder)(nil)
	_ codec.GarbageDetector = (*ilbc.Decoder)(nil)
)

func TestDecodeErrors(t *testing.T) {
	d := ilbc.NewDecoder()
	for _, n := range []int{1, 37, 39, 49, 51, 101} {
		pcm, err := d.Decode([]int16{7}, make([]byte, n))
		if !errors.Is(err, ilbc.ErrFrame) || len(pcm) != 1 {
			t.Errorf("%d bytes: err %v, %d samples; want ErrFrame and pcm unchanged", n, err, len(pcm))
		}
	}
	if _, err := ilbc.NewDecoderMode(25); err == nil {
		t.Error("mode 25 accepted")
	}
	// Several frames a packet (RFC 3952 §4): 2×50 and 3×38 bytes.
	for _, c := range []struct{ bytes, samples, mode int }{{100, 480, 30}, {114, 480, 20}, {76, 320, 20}, {150, 720, 30}} {
		pcm, err := ilbc.NewDecoder().Decode(nil, make([]byte, c.bytes))
		if err != nil || len(pcm) != c.samples {
			t.Errorf("%d bytes: %d samples, %v; want %d", c.bytes, len(pcm), err, c.samples)
		}
	}
	// 950 bytes are 25×38 or 19×50: the SDP's mode decides.
	d20, err := ilbc.NewDecoderMode(20)
	if err != nil {
		t.Fatal(err)
	}
	if pcm, _ := d20.Decode(nil, make([]byte, 950)); len(pcm) != 25*160 {
		t.Errorf("mode 20, 950 bytes: %d samples, want %d", len(pcm), 25*160)
	}
}

// TestConceal loses packets of the real call: the concealment continues
// the voice for the first lost frame, fades over the next ones, and stops
// after the bound.
func TestConceal(t *testing.T) {
	payloads := capturePayloads(t)
	d := ilbc.NewDecoder()
	var pcm []int16
	for _, p := range payloads[:12] {
		pcm, _ = d.Decode(pcm, p)
	}
	level := codectest.RMS(pcm[len(pcm)-240:])
	c := d.Conceal(nil, 240)
	if len(c) != 240 {
		t.Fatalf("Conceal(240): %d samples", len(c))
	}
	first := codectest.RMS(c)
	t.Logf("last frame RMS %.0f, first concealed %.0f", level, first)
	if first < level/4 || first > 2*level {
		t.Errorf("first concealed frame RMS %.0f, last decoded %.0f", first, level)
	}
	c = d.Conceal(c, 2400)
	late := codectest.RMS(c[len(c)-240:])
	if late > first/4 {
		t.Errorf("RMS %.0f after 330 ms of loss, first concealed frame %.0f: no fade", late, first)
	}
	total := len(c)
	for range 20 {
		c = d.Conceal(c, 8000)
	}
	if len(c) > 8240 {
		t.Errorf("%d samples concealed in a row, want at most about 1 s", len(c))
	}
	t.Logf("concealed %d samples then %d in all", total, len(c))
	// Decoding resumes after the loss.
	if out, err := d.Decode(nil, payloads[12]); err != nil || len(out) != 240 {
		t.Errorf("after loss: %d samples, %v", len(out), err)
	}
	if d.Conceal(nil, 100) != nil {
		t.Error("Conceal made up a frame for 100 samples (less than half a frame)")
	}
	if ilbc.NewDecoder().Conceal(nil, 240) != nil {
		t.Error("Conceal before any frame made audio up")
	}
}

// TestGarbage: random bytes are flagged as garbage, the real call never.
func TestGarbage(t *testing.T) {
	payloads := capturePayloads(t)
	d := ilbc.NewDecoder()
	for i, p := range payloads {
		d.Decode(nil, p)
		if d.Garbage() {
			t.Fatalf("real call flagged as garbage at packet %d", i)
		}
	}
	if d.BadFrames() != 0 {
		t.Errorf("%d bad frames in the real call", d.BadFrames())
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{38, 50} {
		d := ilbc.NewDecoder()
		b := make([]byte, size)
		for range 32 {
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			d.Decode(nil, b)
		}
		if !d.Garbage() {
			t.Errorf("%d-byte random payloads not flagged (%d bad frames of 32)", size, d.BadFrames())
		}
	}
}

// FuzzDecode: any payload, in any order of modes and losses, decodes
// without panic to bounded output.
func FuzzDecode(f *testing.F) {
	f.Add(make([]byte, 50), uint8(0))
	f.Add(make([]byte, 38), uint8(1))
	f.Add(make([]byte, 100), uint8(2))
	for _, fr := range validFrames(30, 2, 9) {
		f.Add(fr, uint8(3))
	}
	for _, fr := range validFrames(20, 2, 9) {
		f.Add(fr, uint8(4))
	}
	f.Fuzz(func(t *testing.T, b []byte, op uint8) {
		d := ilbc.NewDecoder()
		if op&1 == 1 {
			d, _ = ilbc.NewDecoderMode(20)
		}
		if op&2 == 2 {
			d = ilbc.NewEnhancedDecoder()
		}
		for range 3 {
			pcm, err := d.Decode(nil, b)
			if err == nil && len(pcm) != len(b)/38*160 && len(pcm) != len(b)/50*240 {
				t.Fatalf("%d bytes: %d samples", len(b), len(pcm))
			}
			if err != nil && pcm != nil {
				t.Fatal("error with samples")
			}
			if c := d.Conceal(nil, int(op)*10); len(c) > int(op)*10+120 {
				t.Fatalf("Conceal(%d): %d samples", int(op)*10, len(c))
			}
		}
	})
}

// BenchmarkDecode decodes the real call's 30 ms frames.
func BenchmarkDecode(b *testing.B) {
	codectest.HaveFFmpeg(b)
	streams := codectest.RTPStreams(b, codectest.Capture(b, "wireshark-samples/sip-rtp-ilbc.pcap"))
	payloads := streams[0].Payloads
	d := ilbc.NewDecoder()
	pcm := make([]int16, 0, 240)
	b.ReportAllocs()
	cpu0 := codectest.CPUTime()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pcm, _ = d.Decode(pcm[:0], payloads[i%len(payloads)])
	}
	codectest.ReportSpeed(b, 30*time.Millisecond, cpu0)
}

// BenchmarkDecodeEnhanced decodes the real call's 30 ms frames with the
// enhancer.
func BenchmarkDecodeEnhanced(b *testing.B) {
	codectest.HaveFFmpeg(b)
	streams := codectest.RTPStreams(b, codectest.Capture(b, "wireshark-samples/sip-rtp-ilbc.pcap"))
	payloads := streams[0].Payloads
	d := ilbc.NewEnhancedDecoder()
	pcm := make([]int16, 0, 240)
	b.ReportAllocs()
	cpu0 := codectest.CPUTime()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pcm, _ = d.Decode(pcm[:0], payloads[i%len(payloads)])
	}
	codectest.ReportSpeed(b, 30*time.Millisecond, cpu0)
}

// BenchmarkDecode20 decodes valid random 20 ms frames.
func BenchmarkDecode20(b *testing.B) {
	frames := validFrames(20, 100, 3)
	d := ilbc.NewDecoder()
	pcm := make([]int16, 0, 160)
	b.ReportAllocs()
	cpu0 := codectest.CPUTime()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pcm, _ = d.Decode(pcm[:0], frames[i%len(frames)])
	}
	codectest.ReportSpeed(b, 20*time.Millisecond, cpu0)
}
