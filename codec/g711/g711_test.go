package g711

import (
	"testing"
)

func TestKnownValues(t *testing.T) {
	tests := []struct {
		name string
		fn   func(byte) int16
		in   byte
		want int16
	}{
		{"ulaw 0xFF", DecodeUlaw, 0xFF, 0},
		{"ulaw 0x7F", DecodeUlaw, 0x7F, 0},
		{"ulaw 0x00", DecodeUlaw, 0x00, -32124},
		{"ulaw 0x80", DecodeUlaw, 0x80, 32124},
		{"ulaw 0xFE", DecodeUlaw, 0xFE, 8},
		{"ulaw 0x7E", DecodeUlaw, 0x7E, -8},
		{"ulaw 0xEF", DecodeUlaw, 0xEF, 132}, // segment 1, step 0: (33*2-33)*4
		{"ulaw 0xF0", DecodeUlaw, 0xF0, 120}, // segment 0, step 15: 30*4
		{"alaw 0xD5", DecodeAlaw, 0xD5, 8},
		{"alaw 0x55", DecodeAlaw, 0x55, -8},
		{"alaw 0xAA", DecodeAlaw, 0xAA, 32256},
		{"alaw 0x2A", DecodeAlaw, 0x2A, -32256},
		{"alaw 0xC5", DecodeAlaw, 0xC5, 264}, // segment 1, step 0: 33*8
		{"alaw 0xDA", DecodeAlaw, 0xDA, 248}, // segment 0, step 15: 31*8
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestEncodeKnown(t *testing.T) {
	tests := []struct {
		name string
		fn   func(int16) byte
		in   int16
		want byte
	}{
		{"ulaw 0", EncodeUlaw, 0, 0xFF},
		{"ulaw max", EncodeUlaw, 32767, 0x80},
		{"ulaw min", EncodeUlaw, -32768, 0x00},
		{"ulaw -1", EncodeUlaw, -1, 0x7F},
		{"alaw 0", EncodeAlaw, 0, 0xD5},
		{"alaw -1", EncodeAlaw, -1, 0x55},
		{"alaw max", EncodeAlaw, 32767, 0xAA},
		{"alaw min", EncodeAlaw, -32768, 0x2A},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%s: got %#02x, want %#02x", tt.name, got, tt.want)
		}
	}
}

// TestRoundTrip checks that every character signal survives decode+encode
// (except µ-law negative zero 0x7F, which decodes to 0 = 0xFF) and that
// encoding picks the nearest reconstruction value's interval: the error of
// encode+decode over all 16-bit inputs stays within half a step of the
// segment.
func TestRoundTrip(t *testing.T) {
	for i := range 256 {
		b := byte(i)
		if got := EncodeAlaw(DecodeAlaw(b)); got != b {
			t.Errorf("alaw %#02x: decode %d, re-encode %#02x", b, DecodeAlaw(b), got)
		}
		want := b
		if b == 0x7F {
			want = 0xFF
		}
		if got := EncodeUlaw(DecodeUlaw(b)); got != want {
			t.Errorf("ulaw %#02x: decode %d, re-encode %#02x", b, DecodeUlaw(b), got)
		}
	}
	for s := -32768; s <= 32767; s++ {
		x := int16(s)
		ea := int(DecodeAlaw(EncodeAlaw(x))) - s
		mag := max(s, -s)
		// A-law step is 16 in segments 0 and 1 (16-bit scale), doubling after.
		if lim := max(16, alawStep(mag)) / 2; ea > lim || ea < -lim {
			t.Fatalf("alaw %d: error %d > %d", s, ea, lim)
		}
		eu := int(DecodeUlaw(EncodeUlaw(x))) - s
		if mag <= ulawClip {
			if lim := ulawStep(mag) / 2; eu > lim || eu < -lim {
				t.Fatalf("ulaw %d: error %d > %d", s, eu, lim)
			}
		}
	}
}

func alawStep(mag int) int {
	step := 16
	for m := 512; m <= mag && step < 1024; m *= 2 {
		step *= 2
	}
	return step
}

// ulawStep is the µ-law quantisation step (16-bit scale) of the segment
// holding mag: segment e spans biased magnitudes [128<<e, 256<<e).
func ulawStep(mag int) int {
	e := 0
	for (mag+ulawBias)>>(8+e) != 0 {
		e++
	}
	return 8 << e
}

func TestMonotonic(t *testing.T) {
	prevA, prevU := DecodeAlaw(EncodeAlaw(-32768)), DecodeUlaw(EncodeUlaw(-32768))
	for s := -32767; s <= 32767; s++ {
		a, u := DecodeAlaw(EncodeAlaw(int16(s))), DecodeUlaw(EncodeUlaw(int16(s)))
		if a < prevA || u < prevU {
			t.Fatalf("not monotonic at %d", s)
		}
		prevA, prevU = a, u
	}
}

func TestDecoders(t *testing.T) {
	payload := []byte{0xFF, 0x00, 0x80, 0xD5, 0x55}
	prefix := []int16{7}
	got, err := UlawDecoder{}.Decode(prefix, payload)
	if err != nil {
		t.Fatal(err)
	}
	want := []int16{7, 0, -32124, 32124, DecodeUlaw(0xD5), DecodeUlaw(0x55)}
	if !equal(got, want) {
		t.Errorf("ulaw: got %v, want %v", got, want)
	}
	got, err = AlawDecoder{}.Decode(nil, payload)
	if err != nil {
		t.Fatal(err)
	}
	want = []int16{DecodeAlaw(0xFF), DecodeAlaw(0), DecodeAlaw(0x80), 8, -8}
	if !equal(got, want) {
		t.Errorf("alaw: got %v, want %v", got, want)
	}
	if got, _ := (UlawDecoder{}).Decode(nil, nil); len(got) != 0 {
		t.Errorf("empty payload: got %v", got)
	}
}

func equal(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecodeAllocs(t *testing.T) {
	payload := make([]byte, 160)
	pcm := make([]int16, 0, 160)
	for _, d := range []interface {
		Decode([]int16, []byte) ([]int16, error)
	}{UlawDecoder{}, AlawDecoder{}} {
		n := testing.AllocsPerRun(100, func() {
			pcm, _ = d.Decode(pcm[:0], payload)
		})
		if n != 0 {
			t.Errorf("%T: %v allocs per Decode, want 0", d, n)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0xFF, 0x00, 0x7F, 0x80})
	f.Add(make([]byte, 160))
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, d := range []interface {
			Decode([]int16, []byte) ([]int16, error)
		}{UlawDecoder{}, AlawDecoder{}} {
			pcm, err := d.Decode([]int16{1}, payload)
			if err != nil {
				t.Fatal(err)
			}
			if len(pcm) != 1+len(payload) {
				t.Fatalf("%T: %d samples for %d bytes", d, len(pcm)-1, len(payload))
			}
		}
	})
}

func BenchmarkUlawDecode(b *testing.B) { benchDecode(b, UlawDecoder{}) }
func BenchmarkAlawDecode(b *testing.B) { benchDecode(b, AlawDecoder{}) }

func benchDecode(b *testing.B, d interface {
	Decode([]int16, []byte) ([]int16, error)
}) {
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	pcm := make([]int16, 0, len(payload))
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		pcm, _ = d.Decode(pcm[:0], payload)
	}
	b.ReportMetric(float64(b.N)*float64(len(payload))/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(b.N)*float64(len(payload))/8000/b.Elapsed().Seconds(), "x-realtime")
}
