package wav_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spanrec/spanrec/audio/wav"
)

// writeWAV writes frames of stereo 8 kHz noise through a Writer into a new
// file, flushing after flushAt frames (if > 0) and closing only if closeIt,
// and returns its path and samples.
func writeWAV(t *testing.T, frames, flushAt int, closeIt bool) (string, []int16) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rec.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := wav.NewWriter(f, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	pcm := noise(9, 2*frames)
	if flushAt > 0 {
		if err := w.Write(pcm[:2*flushAt]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		pcm2 := pcm[2*flushAt:]
		if err := w.Write(pcm2); err != nil {
			t.Fatal(err)
		}
	} else if err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	if closeIt {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Without Close, the Writer is abandoned as if its process died:
	// what the buffer held is lost.
	return path, pcm
}

func repair(t *testing.T, path string) (bool, error) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return wav.Repair(f)
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func TestRepair(t *testing.T) {
	tests := []struct {
		name        string
		frames      int
		flushAt     int
		close       bool
		cut         int64 // truncate the file to this size, if > 0
		wantChanged bool
		wantFrames  int64
	}{
		// Only whole 8 KiB buffers (2048 frames) reached the file:
		// 9 of the 80000 bytes written, 7 of the 60000 after the flush.
		{"killed before first flush", 20000, 0, false, 0, true, 9 * 2048},
		{"killed after a flush", 20000, 5000, false, 0, true, 5000 + 7*2048},
		{"cut mid-frame", 20000, 0, true, 44 + 4*7000 + 3, true, 7000},
		{"cut at a frame", 20000, 0, true, 44 + 4*7001, true, 7001},
		{"cut to header", 20000, 0, true, 44, true, 0},
		{"cut mid-sample of first frame", 100, 0, true, 45, true, 0},
		{"valid", 20000, 0, true, 0, false, 20000},
		{"valid empty", 0, 0, true, 0, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // the external tools take most of the time
			path, pcm := writeWAV(t, tt.frames, tt.flushAt, tt.close)
			if tt.cut > 0 {
				truncate(t, path, tt.cut)
			}
			before, _ := os.ReadFile(path)
			changed, err := repair(t, path)
			if err != nil {
				t.Fatalf("Repair: %v", err)
			}
			if changed != tt.wantChanged {
				t.Errorf("Repair changed = %v, want %v", changed, tt.wantChanged)
			}
			after, _ := os.ReadFile(path)
			if !changed && !bytes.Equal(before, after) {
				t.Error("Repair reported no change but modified the file")
			}
			if int64(len(after)) != 44+4*tt.wantFrames {
				t.Errorf("file size %d after Repair, want %d", len(after), 44+4*tt.wantFrames)
			}
			info, got, err := readFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Frames() != tt.wantFrames || !slices.Equal(got, pcm[:2*tt.wantFrames]) {
				t.Errorf("after Repair: %d frames, want the first %d frames written", info.Frames(), tt.wantFrames)
			}
			// A second Repair has nothing to do.
			if changed, err := repair(t, path); changed || err != nil {
				t.Errorf("second Repair = %v, %v; want false, nil", changed, err)
			}
			checkTools(t, path, 8000, 2, tt.wantFrames)
		})
	}
}

func TestRepairKeepsTrailingChunks(t *testing.T) {
	list := chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00sox\x00\x00"))
	dir := t.TempDir()
	tests := []struct {
		name        string
		file        []byte
		wantChanged bool
		want        wav.Info
	}{
		{"LIST after data", riff(chunk("fmt ", pcm16Mono), chunk("data", samples), list), false,
			wav.Info{SampleRate: 8000, Channels: 1, BitsPerSample: 16, DataOffset: 44, DataBytes: 12}},
		{"LIST after data, stale RIFF size", append(riff(chunk("fmt ", pcm16Mono), chunk("data", samples))[:4:4],
			append([]byte{0, 0, 0, 0}, riff(chunk("fmt ", pcm16Mono), chunk("data", samples), list)[8:]...)...), true,
			wav.Info{SampleRate: 8000, Channels: 1, BitsPerSample: 16, DataOffset: 44, DataBytes: 12}},
		{"odd 8-bit data without pad", riff(chunk("fmt ", fmtBody(1, 1, 8000, 8)), chunkSized("data", 3, []byte{1, 2, 3}, false)), false,
			wav.Info{SampleRate: 8000, Channels: 1, BitsPerSample: 8, DataOffset: 44, DataBytes: 3}},
		{"data size past EOF", riff(chunk("fmt ", pcm16Stereo), chunkSized("data", 4000, samples, false)), true,
			wav.Info{SampleRate: 16000, Channels: 2, BitsPerSample: 16, DataOffset: 44, DataBytes: 12}},
		{"streaming size 0xFFFFFFFF", riff(chunk("fmt ", pcm16Stereo), chunkSized("data", 0xFFFFFFFF, samples[:10], false)), true,
			wav.Info{SampleRate: 16000, Channels: 2, BitsPerSample: 16, DataOffset: 44, DataBytes: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".wav")
			if err := os.WriteFile(path, tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			changed, err := repair(t, path)
			if err != nil || changed != tt.wantChanged {
				t.Fatalf("Repair = %v, %v; want %v, nil", changed, err, tt.wantChanged)
			}
			after, _ := os.ReadFile(path)
			info, err := wav.ReadInfo(bytes.NewReader(after))
			if err != nil || info != tt.want {
				t.Errorf("after Repair: ReadInfo = %+v, %v; want %+v", info, err, tt.want)
			}
			if riffSize := int(uint32(after[4]) | uint32(after[5])<<8 | uint32(after[6])<<16 | uint32(after[7])<<24); riffSize != len(after)-8 {
				t.Errorf("RIFF size %d in a %d-byte file", riffSize, len(after))
			}
		})
	}
}

func TestRepairErrors(t *testing.T) {
	dir := t.TempDir()
	for name, file := range map[string][]byte{
		"empty":           nil,
		"not WAVE":        []byte("ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
		"cut in fmt":      riff(chunk("fmt ", pcm16Mono))[:30],
		"cut before data": riff(chunk("fmt ", pcm16Mono)),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		changed, err := repair(t, path)
		if !errors.Is(err, wav.ErrFormat) || changed {
			t.Errorf("%s: Repair = %v, %v; want false, ErrFormat", name, changed, err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, file) {
			t.Errorf("%s: Repair modified a file it could not repair", name)
		}
	}
}
