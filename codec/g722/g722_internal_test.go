package g722

import (
	"math"
	"testing"
)

// codecDelay is the end-to-end delay, in 16 kHz samples, of the transmit and
// receive QMF pair with the sample phase this package uses.
const codecDelay = 22

// sine returns n samples of a sine of frequency f at 16 kHz plus a quarter
// amplitude 5 kHz tone, peak amp.
func sine(n int, f, amp float64) []int16 {
	x := make([]int16, n)
	for i := range x {
		t := float64(i) / 16000
		x[i] = int16(amp * (math.Sin(2*math.Pi*f*t) + 0.25*math.Sin(2*math.Pi*5000*t)))
	}
	return x
}

// TestRoundTrip needs no oracle: our encoder, then our decoder, reproduces
// the input (delayed by the QMF) with a sane SNR and the right spectrum.
func TestRoundTrip(t *testing.T) {
	for _, amp := range []float64{500, 4000, 26000} {
		in := sine(16000, 1000, amp)
		stream := NewEncoder().Encode(nil, in)
		if len(stream) != len(in)/2 {
			t.Fatalf("%d octets for %d samples", len(stream), len(in))
		}
		out, err := NewDecoder().Decode(nil, stream)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != len(in) {
			t.Fatalf("%d samples back for %d", len(out), len(in))
		}
		// Skip the adaptation transient at the start.
		const skip = 800
		s := snr(in[skip:len(in)-codecDelay], out[skip+codecDelay:])
		if s < 20 {
			t.Errorf("amplitude %v: round-trip SNR %.1f dB, want >= 20", amp, s)
		}
		checkTones(t, out[skip:], 20*math.Log10(amp/32768)-6.02)
	}
}

func TestSilence(t *testing.T) {
	in := make([]int16, 3200)
	out, _ := NewDecoder().Decode(nil, NewEncoder().Encode(nil, in))
	for i, v := range out {
		if v < -4 || v > 4 {
			t.Fatalf("sample %d of encoded silence decodes to %d", i, v)
		}
	}
}

func TestEncodeOddLength(t *testing.T) {
	got := NewEncoder().Encode([]byte{0xAA}, make([]int16, 5))
	if len(got) != 3 || got[0] != 0xAA {
		t.Errorf("Encode of 5 samples onto 1 octet: %x", got)
	}
}

func TestNewDecoderMode(t *testing.T) {
	for _, m := range []Mode{0, 4, -1} {
		if _, err := NewDecoderMode(m); err == nil {
			t.Errorf("mode %d accepted", m)
		}
	}
}

// TestDecodeExtremes drives the decoder with saturating and alternating
// code sequences: the limits of the recommendation must keep the output
// within range and the predictor stable (silence afterwards decays).
func TestDecodeExtremes(t *testing.T) {
	for _, pattern := range [][]byte{{0x20}, {0x04}, {0x20, 0x04}, {0x00}, {0xFF}, {0x3F, 0x20, 0x80}} {
		d := NewDecoder()
		payload := make([]byte, 8000)
		for i := range payload {
			payload[i] = pattern[i%len(pattern)]
		}
		if _, err := d.Decode(nil, payload); err != nil {
			t.Fatal(err)
		}
		for _, b := range []*band{&d.low, &d.high} {
			if b.a[1] < -12288 || b.a[1] > 12288 || b.a[0] > 15360-b.a[1] || b.a[0] < b.a[1]-15360 {
				t.Errorf("pattern %x: pole coefficients %v outside the stability triangle", pattern, b.a)
			}
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	d := NewDecoder()
	payload := make([]byte, 160)
	pcm := make([]int16, 0, 320)
	n := testing.AllocsPerRun(100, func() {
		pcm, _ = d.Decode(pcm[:0], payload)
	})
	if n != 0 {
		t.Errorf("%v allocs per Decode, want 0", n)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{}, uint8(1))
	f.Add([]byte{0x00, 0xFF, 0x20, 0x04, 0x3F}, uint8(1))
	f.Add(NewEncoder().Encode(nil, sine(320, 1000, 8000)), uint8(2))
	f.Fuzz(func(t *testing.T, payload []byte, mode uint8) {
		d, err := NewDecoderMode(Mode(mode%3 + 1))
		if err != nil {
			t.Fatal(err)
		}
		// Two calls: state carried across payloads must stay sane.
		pcm, err := d.Decode([]int16{1}, payload)
		if err != nil {
			t.Fatal(err)
		}
		pcm, err = d.Decode(pcm, payload)
		if err != nil {
			t.Fatal(err)
		}
		if len(pcm) != 1+4*len(payload) {
			t.Fatalf("%d samples for 2×%d octets", len(pcm)-1, len(payload))
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	stream := NewEncoder().Encode(nil, sine(320, 1000, 8000)) // one 20 ms packet
	d := NewDecoder()
	pcm := make([]int16, 0, 2*len(stream))
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		pcm, _ = d.Decode(pcm[:0], stream)
	}
	b.ReportMetric(float64(b.N)*float64(2*len(stream))/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkEncode(b *testing.B) {
	in := sine(320, 1000, 8000)
	e := NewEncoder()
	dst := make([]byte, 0, len(in)/2)
	b.ReportAllocs()
	for b.Loop() {
		dst = e.Encode(dst[:0], in)
	}
	b.ReportMetric(float64(b.N)*float64(len(in))/b.Elapsed().Seconds(), "samples/s")
}
