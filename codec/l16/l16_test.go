package l16

import (
	"slices"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		channels int
		payload  []byte
		want     []int16
		wantErr  bool
	}{
		{"empty", 1, nil, []int16{}, false},
		{"mono", 1, []byte{0x00, 0x01, 0xFF, 0xFF, 0x80, 0x00, 0x7F, 0xFF, 0x12, 0x34}, []int16{1, -1, -32768, 32767, 0x1234}, false},
		{"zero channels means mono", 0, []byte{0x01, 0x00}, []int16{256}, false},
		{"stereo", 2, []byte{0x00, 0x64, 0x00, 0xC8, 0xFF, 0x9C, 0x00, 0x64}, []int16{150, 0}, false},
		{"stereo extremes", 2, []byte{0x7F, 0xFF, 0x7F, 0xFF, 0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0x7F, 0xFF}, []int16{32767, -32768, 0}, false},
		{"stereo truncates toward zero", 2, []byte{0x00, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00}, []int16{0, 0}, false},
		{"three channels", 3, []byte{0x00, 0x03, 0x00, 0x06, 0x00, 0x09}, []int16{6}, false},
		{"mono odd length", 1, []byte{0x00, 0x01, 0x02}, nil, true},
		{"stereo half frame", 2, []byte{0x00, 0x01}, nil, true},
		{"stereo odd length", 2, []byte{0x00, 0x01, 0x00, 0x02, 0x03}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []int16{42}
			got, err := NewDecoder(tt.channels).Decode(prefix, tt.payload)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("no error, got %v", got)
				}
				if !slices.Equal(got, prefix) {
					t.Errorf("pcm changed on error: %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got[1:], tt.want) || got[0] != 42 {
				t.Errorf("got %v, want [42] + %v", got, tt.want)
			}
		})
	}
}

func TestZeroValue(t *testing.T) {
	var d Decoder
	got, err := d.Decode(nil, []byte{0xFF, 0xFE})
	if err != nil || !slices.Equal(got, []int16{-2}) {
		t.Errorf("zero Decoder: %v, %v", got, err)
	}
}

func TestDecodeAllocs(t *testing.T) {
	payload := make([]byte, 640)
	pcm := make([]int16, 0, 320)
	for _, ch := range []int{1, 2} {
		d := NewDecoder(ch)
		n := testing.AllocsPerRun(100, func() {
			pcm, _ = d.Decode(pcm[:0], payload)
		})
		if n != 0 {
			t.Errorf("%d channels: %v allocs per Decode, want 0", ch, n)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{}, uint8(1))
	f.Add([]byte{0x80, 0x00, 0x7F, 0xFF}, uint8(2))
	f.Add([]byte{0x01, 0x02, 0x03}, uint8(1))
	f.Fuzz(func(t *testing.T, payload []byte, channels uint8) {
		ch := max(int(channels%9), 1)
		pcm, err := NewDecoder(ch).Decode([]int16{7}, payload)
		if len(payload)%(2*ch) != 0 {
			if err == nil || len(pcm) != 1 {
				t.Fatalf("%d octets, %d channels: err %v, %d samples", len(payload), ch, err, len(pcm))
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(pcm) != 1+len(payload)/(2*ch) {
			t.Fatalf("%d samples for %d octets, %d channels", len(pcm)-1, len(payload), ch)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	for _, ch := range []int{1, 2} {
		b.Run([]string{"", "mono", "stereo"}[ch], func(b *testing.B) {
			payload := make([]byte, 640*ch) // 20 ms at 16 kHz
			for i := range payload {
				payload[i] = byte(i * 31)
			}
			d := NewDecoder(ch)
			pcm := make([]int16, 0, 320)
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				pcm, _ = d.Decode(pcm[:0], payload)
			}
			b.ReportMetric(float64(b.N)*320/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
