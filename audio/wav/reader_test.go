package wav_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spanrec/spanrec/audio/wav"
)

func newReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// chunk returns a RIFF chunk: id, little-endian size, body and the pad byte
// an odd-sized body needs.
func chunk(id string, body []byte) []byte {
	return chunkSized(id, uint32(len(body)), body, len(body)%2 == 1)
}

func chunkSized(id string, size uint32, body []byte, pad bool) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, size)...)
	b = append(b, body...)
	if pad {
		b = append(b, 0)
	}
	return b
}

// riff wraps chunks into a RIFF/WAVE file with a correct RIFF size.
func riff(chunks ...[]byte) []byte {
	body := slices.Concat(chunks...)
	b := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)))...)
	return append(append(b, "WAVE"...), body...)
}

func fmtBody(format uint16, channels, rate, bits int) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint16(b, format)
	b = binary.LittleEndian.AppendUint16(b, uint16(channels))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate))
	b = binary.LittleEndian.AppendUint32(b, uint32(rate*channels*bits/8))
	b = binary.LittleEndian.AppendUint16(b, uint16(channels*bits/8))
	return binary.LittleEndian.AppendUint16(b, uint16(bits))
}

// extensible returns a WAVE_FORMAT_EXTENSIBLE fmt body with sub-format sub.
func extensible(sub uint16, channels, rate, bits int) []byte {
	b := fmtBody(0xFFFE, channels, rate, bits)
	b = binary.LittleEndian.AppendUint16(b, 22)           // cbSize
	b = binary.LittleEndian.AppendUint16(b, uint16(bits)) // valid bits
	b = binary.LittleEndian.AppendUint32(b, 0x3)          // channel mask
	b = binary.LittleEndian.AppendUint16(b, sub)
	return append(b, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71)
}

var (
	pcm16Mono   = fmtBody(1, 1, 8000, 16)
	pcm16Stereo = fmtBody(1, 2, 16000, 16)
	samples     = []byte{1, 0, 2, 0, 3, 0, 4, 0, 0xFF, 0xFF, 0, 0x80} // 1 2 3 4 -1 -32768
)

func TestReadInfo(t *testing.T) {
	list := chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00sox\x00\x00")) // odd-sized, padded
	tests := []struct {
		name string
		file []byte
		want wav.Info
		err  error
	}{
		{"canonical", riff(chunk("fmt ", pcm16Mono), chunk("data", samples)),
			wav.Info{SampleRate: 8000, Channels: 1, BitsPerSample: 16, DataOffset: 44, DataBytes: 12}, nil},
		{"stereo", riff(chunk("fmt ", pcm16Stereo), chunk("data", samples)),
			wav.Info{SampleRate: 16000, Channels: 2, BitsPerSample: 16, DataOffset: 44, DataBytes: 12}, nil},
		{"odd LIST chunk before fmt", riff(list, chunk("fmt ", pcm16Mono), chunk("data", samples)),
			wav.Info{SampleRate: 8000, Channels: 1, BitsPerSample: 16, DataOffset: 44 + int64(len(list)), DataBytes: 12}, nil},
		{"fact and LIST between", riff(chunk("fmt ", pcm16Mono), chunk("fact", []byte{6, 0, 0, 0}), list, chunk("data", samples)),
			wav.Info{SampleRate: 8000, Channels: 1, BitsPerSample: 16, DataOffset: 56 + int64(len(list)), DataBytes: 12}, nil},
		{"fmt after data", riff(chunk("data", samples), chunk("fmt ", pcm16Mono)),
			wav.Info{SampleRate: 8000, Channels: 1, BitsPerSample: 16, DataOffset: 20, DataBytes: 12}, nil},
		{"LIST after data", riff(chunk("fmt ", pcm16Mono), chunk("data", samples), list),
			wav.Info{SampleRate: 8000, Channels: 1, BitsPerSample: 16, DataOffset: 44, DataBytes: 12}, nil},
		{"fmt with cbSize", riff(chunk("fmt ", append(pcm16Mono, 0, 0)), chunk("data", samples)),
			wav.Info{SampleRate: 8000, Channels: 1, BitsPerSample: 16, DataOffset: 46, DataBytes: 12}, nil},
		{"extensible PCM", riff(chunk("fmt ", extensible(1, 2, 48000, 16)), chunk("data", samples)),
			wav.Info{SampleRate: 48000, Channels: 2, BitsPerSample: 16, DataOffset: 68, DataBytes: 12}, nil},
		{"8-bit odd data", riff(chunk("fmt ", fmtBody(1, 1, 8000, 8)), chunk("data", []byte{1, 2, 3})),
			wav.Info{SampleRate: 8000, Channels: 1, BitsPerSample: 8, DataOffset: 44, DataBytes: 3}, nil},
		{"streaming size 0xFFFFFFFF", riff(chunk("fmt ", pcm16Stereo), chunkSized("data", 0xFFFFFFFF, samples, false)),
			wav.Info{SampleRate: 16000, Channels: 2, BitsPerSample: 16, DataOffset: 44, DataBytes: 12}, nil},
		{"truncated data, partial frame", riff(chunk("fmt ", pcm16Stereo), chunkSized("data", 400, samples[:11], false)),
			wav.Info{SampleRate: 16000, Channels: 2, BitsPerSample: 16, DataOffset: 44, DataBytes: 8}, nil},
		{"empty data", riff(chunk("fmt ", pcm16Mono), chunk("data", nil)),
			wav.Info{SampleRate: 8000, Channels: 1, BitsPerSample: 16, DataOffset: 44, DataBytes: 0}, nil},

		{"empty", nil, wav.Info{}, wav.ErrFormat},
		{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVEfmt "), wav.Info{}, wav.ErrFormat},
		{"not WAVE", riff(chunk("fmt ", pcm16Mono))[:8:8], wav.Info{}, wav.ErrFormat},
		{"AVI", append([]byte("RIFF\x04\x00\x00\x00AVI "), chunk("data", samples)...), wav.Info{}, wav.ErrFormat},
		{"no fmt", riff(chunk("data", samples)), wav.Info{}, wav.ErrFormat},
		{"no data", riff(chunk("fmt ", pcm16Mono), list), wav.Info{}, wav.ErrFormat},
		{"short fmt", riff(chunk("fmt ", pcm16Mono[:14]), chunk("data", samples)), wav.Info{}, wav.ErrFormat},
		{"fmt cut by EOF", riff(chunk("fmt ", pcm16Mono))[:30], wav.Info{}, wav.ErrFormat},
		{"zero channels", riff(chunk("fmt ", fmtBody(1, 0, 8000, 16)), chunk("data", samples)), wav.Info{}, wav.ErrFormat},
		{"zero rate", riff(chunk("fmt ", fmtBody(1, 1, 0, 16)), chunk("data", samples)), wav.Info{}, wav.ErrFormat},
		{"bad block align", riff(chunk("fmt ", fmtBody(1, 2, 8000, 16)[:12:12]), chunk("data", samples)), wav.Info{}, wav.ErrFormat},
		{"short extensible", riff(chunk("fmt ", fmtBody(0xFFFE, 1, 8000, 16)), chunk("data", samples)), wav.Info{}, wav.ErrFormat},
		{"µ-law", riff(chunk("fmt ", fmtBody(7, 1, 8000, 8)), chunk("data", samples)), wav.Info{}, wav.ErrUnsupported},
		{"float", riff(chunk("fmt ", fmtBody(3, 1, 8000, 32)), chunk("data", samples)), wav.Info{}, wav.ErrUnsupported},
		{"extensible float", riff(chunk("fmt ", extensible(3, 2, 48000, 32)), chunk("data", samples)), wav.Info{}, wav.ErrUnsupported},
		{"12 bits", riff(chunk("fmt ", fmtBody(1, 1, 8000, 12)), chunk("data", samples)), wav.Info{}, wav.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wav.ReadInfo(newReader(tt.file))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ReadInfo error = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadInfo: %v", err)
			}
			if got != tt.want {
				t.Errorf("ReadInfo = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadPCM16(t *testing.T) {
	file := riff(chunk("LIST", []byte("INFO")), chunk("fmt ", pcm16Stereo), chunk("data", samples))
	info, got, err := wav.ReadPCM16(newReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int16{1, 2, 3, 4, -1, -32768}; !slices.Equal(got, want) {
		t.Errorf("ReadPCM16 = %v, want %v", got, want)
	}
	if info.Frames() != 3 {
		t.Errorf("Frames() = %d, want 3", info.Frames())
	}

	eight := riff(chunk("fmt ", fmtBody(1, 1, 8000, 8)), chunk("data", samples))
	if _, _, err := wav.ReadPCM16(newReader(eight)); !errors.Is(err, wav.ErrUnsupported) {
		t.Errorf("ReadPCM16 of 8-bit PCM: error %v, want ErrUnsupported", err)
	}
}

// TestReadSox reads files made by sox, an independent writer, when it is
// installed.
func TestReadSox(t *testing.T) {
	if _, err := os.Stat("/usr/bin/sox"); err != nil {
		t.Skip("sox not installed: no third-party WAVE files to read")
	}
	dir := t.TempDir()
	tests := []struct {
		args                 []string
		rate, channels, bits int
		frames               int64
	}{
		{[]string{"-r", "8000", "-c", "1", "-b", "16"}, 8000, 1, 16, 800},
		{[]string{"-r", "44100", "-c", "2", "-b", "16"}, 44100, 2, 16, 4410},
		{[]string{"-r", "48000", "-c", "2", "-b", "24"}, 48000, 2, 24, 4800},
	}
	for i, tt := range tests {
		path := filepath.Join(dir, "sox"+string(rune('a'+i))+".wav")
		args := append(append([]string{"-n"}, tt.args...), path, "synth", "0.1", "sine", "440")
		run(t, "sox", args...)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		info, err := wav.ReadInfo(f)
		f.Close()
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if info.SampleRate != tt.rate || info.Channels != tt.channels || info.BitsPerSample != tt.bits || info.Frames() != tt.frames {
			t.Errorf("%v: ReadInfo = %+v (%d frames)", tt.args, info, info.Frames())
		}
	}
}

func FuzzReadInfo(f *testing.F) {
	f.Add(riff(chunk("fmt ", pcm16Mono), chunk("data", samples)))
	f.Add(riff(chunk("LIST", []byte("INFOabc")), chunk("fmt ", pcm16Stereo), chunk("data", samples)))
	f.Add(riff(chunk("data", samples), chunk("fmt ", pcm16Mono)))
	f.Add(riff(chunk("fmt ", extensible(1, 2, 48000, 16)), chunkSized("data", 0xFFFFFFFF, samples, false)))
	f.Add(riff(chunk("fmt ", fmtBody(1, 1, 8000, 8)), chunk("data", []byte{1, 2, 3})))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, file []byte) {
		info, err := wav.ReadInfo(newReader(file))
		if err != nil {
			return
		}
		size := int64(len(file))
		if info.DataOffset < 12 || info.DataBytes < 0 || info.DataOffset+info.DataBytes > size {
			t.Fatalf("data [%d, +%d) outside a %d-byte file", info.DataOffset, info.DataBytes, size)
		}
		if fb := int64(info.Channels * info.BitsPerSample / 8); fb == 0 || info.DataBytes%fb != 0 {
			t.Fatalf("DataBytes %d is not whole frames of %d bytes", info.DataBytes, fb)
		}
		info2, pcm, err := wav.ReadPCM16(newReader(file))
		if info.BitsPerSample != 16 {
			if !errors.Is(err, wav.ErrUnsupported) {
				t.Fatalf("ReadPCM16 of %d-bit data: error %v", info.BitsPerSample, err)
			}
			return
		}
		if err != nil || info2 != info || int64(len(pcm)) != info.DataBytes/2 {
			t.Fatalf("ReadPCM16 = %+v, %d samples, %v; ReadInfo = %+v", info2, len(pcm), err, info)
		}
	})
}
