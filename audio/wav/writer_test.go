package wav_test

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spanrec/spanrec/audio/wav"
)

// seekBuffer is an in-memory io.WriteSeeker.
type seekBuffer struct {
	b   []byte
	pos int64
}

func (s *seekBuffer) Write(p []byte) (int, error) {
	if end := s.pos + int64(len(p)); end > int64(len(s.b)) {
		s.b = append(s.b, make([]byte, end-int64(len(s.b)))...)
	}
	copy(s.b[s.pos:], p)
	s.pos += int64(len(p))
	return len(p), nil
}

func (s *seekBuffer) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += s.pos
	case io.SeekEnd:
		off += int64(len(s.b))
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	s.pos = off
	return off, nil
}

// discard is an io.WriteSeeker that keeps nothing, for benchmarks.
type discard struct{ pos int64 }

func (d *discard) Write(p []byte) (int, error) { d.pos += int64(len(p)); return len(p), nil }
func (d *discard) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekCurrent {
		off += d.pos
	}
	d.pos = off
	return off, nil
}

// failing fails every Write after the first ok ones.
type failing struct {
	discard
	ok int
}

func (f *failing) Write(p []byte) (int, error) {
	if f.ok == 0 {
		return 0, errors.New("disk full")
	}
	f.ok--
	return f.discard.Write(p)
}

func noise(seed uint64, n int) []int16 {
	rng := rand.New(rand.NewPCG(seed, 7))
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(rng.Uint32())
	}
	return pcm
}

// writeChunks writes pcm through w in random whole-frame chunks.
func writeChunks(t *testing.T, w *wav.Writer, pcm []int16, channels int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	for len(pcm) > 0 {
		n := min(len(pcm), channels*rng.IntN(3000))
		if err := w.Write(pcm[:n]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		pcm = pcm[n:]
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		rate, channels, frames int
	}{
		{8000, 1, 0},
		{8000, 1, 1},
		{8000, 2, 1},
		{16000, 2, 8000},
		{44100, 1, 44100},
		{48000, 2, 12345},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dHz-%dch-%d", tt.rate, tt.channels, tt.frames), func(t *testing.T) {
			t.Parallel() // the external tools take most of the time
			path := filepath.Join(t.TempDir(), "rt.wav")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			w, err := wav.NewWriter(f, tt.rate, tt.channels)
			if err != nil {
				t.Fatal(err)
			}
			pcm := noise(uint64(tt.frames), tt.frames*tt.channels)
			writeChunks(t, w, pcm, tt.channels, 3)
			if got := w.Samples(); got != int64(tt.frames) {
				t.Errorf("Samples() = %d, want %d", got, tt.frames)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Write(pcm[:0]); err == nil {
				t.Error("Write after Close: no error")
			}
			if fi, _ := f.Stat(); fi.Size() != int64(44+2*len(pcm)) {
				t.Errorf("file size %d, want %d", fi.Size(), 44+2*len(pcm))
			}
			info, got, err := wav.ReadPCM16(f)
			if err != nil {
				t.Fatal(err)
			}
			want := wav.Info{SampleRate: tt.rate, Channels: tt.channels, BitsPerSample: 16, DataOffset: 44, DataBytes: int64(2 * len(pcm))}
			if info != want {
				t.Errorf("Info = %+v, want %+v", info, want)
			}
			if !slices.Equal(got, pcm) {
				t.Error("samples read back differ from those written")
			}
			checkTools(t, path, tt.rate, tt.channels, int64(tt.frames))
		})
	}
}

func TestWriterLittleEndian(t *testing.T) {
	var buf seekBuffer
	w, err := wav.NewWriter(&buf, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{0x0102, -2}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := []byte{0x02, 0x01, 0xFE, 0xFF}
	if got := buf.b[44:]; !slices.Equal(got, want) {
		t.Errorf("data bytes % x, want % x", got, want)
	}
}

func TestWriterAtOffset(t *testing.T) {
	// A header not at offset 0 (e.g. after a container prefix) is patched
	// where it was written.
	buf := seekBuffer{b: []byte("prefix"), pos: 6}
	w, err := wav.NewWriter(&buf, 16000, 1)
	if err != nil {
		t.Fatal(err)
	}
	pcm := noise(1, 5000)
	if err := w.Write(pcm); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if string(buf.b[:6]) != "prefix" {
		t.Errorf("prefix overwritten: %q", buf.b[:6])
	}
	_, got, err := wav.ReadPCM16(newReader(buf.b[6:]))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, pcm) {
		t.Error("samples read back differ")
	}
}

func TestFlushLeavesValidFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flush.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := wav.NewWriter(f, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Before any sample, the header alone is a valid empty file.
	checkOnDisk(t, path, 0)
	var all []int16
	for i, frames := range []int{1000, 3, 20000} {
		pcm := noise(uint64(i), 2*frames)
		all = append(all, pcm...)
		writeChunks(t, w, pcm, 2, uint64(i))
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		checkOnDisk(t, path, int64(len(all)/2))
	}
	// Flush without new samples changes nothing.
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	_, got, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, all) {
		t.Error("samples read back differ from those written")
	}
}

// checkOnDisk opens path anew, as another process would, and checks it holds
// a valid stereo 8 kHz file of frames frames.
func checkOnDisk(t *testing.T, path string, frames int64) {
	t.Helper()
	info, _, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Frames() != frames {
		t.Errorf("on disk: %d frames, want %d", info.Frames(), frames)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 44+4*frames {
		t.Errorf("on disk: size %v, want %d", fi.Size(), 44+4*frames)
	}
	checkTools(t, path, 8000, 2, frames)
}

func readFile(path string) (wav.Info, []int16, error) {
	f, err := os.Open(path)
	if err != nil {
		return wav.Info{}, nil, err
	}
	defer f.Close()
	return wav.ReadPCM16(f)
}

func TestNewWriterErrors(t *testing.T) {
	for _, tt := range []struct{ rate, channels int }{{8000, 0}, {8000, 3}, {0, 1}, {-1, 2}, {2_000_000, 1}} {
		if _, err := wav.NewWriter(&discard{}, tt.rate, tt.channels); err == nil {
			t.Errorf("NewWriter(%d Hz, %d channels): no error", tt.rate, tt.channels)
		}
	}
	if _, err := wav.NewWriter(&failing{}, 8000, 1); err == nil {
		t.Error("NewWriter on a failing writer: no error")
	}
}

func TestWriterErrors(t *testing.T) {
	w, err := wav.NewWriter(&discard{}, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]int16{1, 2, 3}); err == nil {
		t.Error("Write of 1.5 stereo frames: no error")
	}
	if w.Samples() != 0 {
		t.Errorf("Samples() = %d after a rejected Write", w.Samples())
	}

	// An I/O error sticks.
	fw := &failing{ok: 1} // the header
	w, err = wav.NewWriter(fw, 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	err = w.Write(make([]int16, 10000)) // more than the buffer
	if err == nil {
		t.Fatal("Write to a failing writer: no error")
	}
	if err2 := w.Flush(); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("Flush after write error = %v, want %v", err2, err)
	}
	if err2 := w.Close(); err2 == nil {
		t.Error("Close after write error: no error")
	}
}

func TestWriterAllocs(t *testing.T) {
	w, err := wav.NewWriter(&discard{}, 16000, 2)
	if err != nil {
		t.Fatal(err)
	}
	pcm := noise(1, 640)
	allocs := testing.AllocsPerRun(100, func() {
		if err := w.Write(pcm); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Write+Flush allocate %v times per call, want 0", allocs)
	}
}

func BenchmarkWrite(b *testing.B) {
	w, err := wav.NewWriter(&discard{}, 16000, 2)
	if err != nil {
		b.Fatal(err)
	}
	pcm := noise(1, 640) // 20 ms of 16 kHz stereo
	b.SetBytes(int64(2 * len(pcm)))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(pcm); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(pcm))/b.Elapsed().Seconds(), "samples/s")
}

func ExampleWriter() {
	f, err := os.CreateTemp("", "example-*.wav")
	if err != nil {
		panic(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()

	w, err := wav.NewWriter(f, 8000, 2)
	if err != nil {
		panic(err)
	}
	left, right := make([]int16, 160), make([]int16, 160)
	for i := range left {
		left[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	frame := make([]int16, 0, 320)
	for i := range left {
		frame = append(frame, left[i], right[i])
	}
	if err := w.Write(frame); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}

	info, err := wav.ReadInfo(f)
	if err != nil {
		panic(err)
	}
	fmt.Println(info.SampleRate, info.Channels, info.BitsPerSample, info.Frames())
	// Output: 8000 2 16 160
}

// onlyWriter hides every method but Write.
type onlyWriter struct{ b []byte }

func (o *onlyWriter) Write(p []byte) (int, error) { o.b = append(o.b, p...); return len(p), nil }

func TestSizedWriterMatchesWriter(t *testing.T) {
	for _, tt := range []struct {
		name           string
		rate, channels int
		frames         int
	}{
		{"empty", 8000, 2, 0},
		{"mono-odd", 16000, 1, 4097},
		{"stereo-3-buffers", 8000, 2, 3 * 2048},
		{"stereo-1s", 8000, 2, 8000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pcm := noise(uint64(tt.frames), tt.frames*tt.channels)
			var seek seekBuffer
			w, err := wav.NewWriter(&seek, tt.rate, tt.channels)
			if err != nil {
				t.Fatal(err)
			}
			writeChunks(t, w, pcm, tt.channels, 1)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			var plain onlyWriter
			sw, err := wav.NewSizedWriter(&plain, tt.rate, tt.channels, int64(tt.frames))
			if err != nil {
				t.Fatal(err)
			}
			writeChunks(t, sw, pcm, tt.channels, 2)
			if err := sw.Flush(); err != nil {
				t.Fatal(err)
			}
			if err := sw.Close(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(plain.b, seek.b) {
				t.Errorf("sized writer wrote %d bytes unlike the seeking writer's %d", len(plain.b), len(seek.b))
			}
			if sw.Samples() != int64(tt.frames) {
				t.Errorf("Samples() = %d, want %d", sw.Samples(), tt.frames)
			}
		})
	}
}

func TestSizedWriterErrors(t *testing.T) {
	if _, err := wav.NewSizedWriter(&onlyWriter{}, 8000, 2, 1<<31); !errors.Is(err, wav.ErrTooLarge) {
		t.Errorf("NewSizedWriter(2^31 stereo frames) = %v, want ErrTooLarge", err)
	}
	if _, err := wav.NewSizedWriter(&onlyWriter{}, 8000, 2, -1); err == nil {
		t.Error("NewSizedWriter(-1 frames): no error")
	}
	if _, err := wav.NewSizedWriter(&onlyWriter{}, 8000, 3, 10); err == nil {
		t.Error("NewSizedWriter(3 channels): no error")
	}
	if _, err := wav.NewSizedWriter(&failing{}, 8000, 1, 10); err == nil {
		t.Error("NewSizedWriter on a failing writer: no error")
	}

	w, err := wav.NewSizedWriter(&onlyWriter{}, 8000, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(make([]int16, 8)); !errors.Is(err, wav.ErrTooLarge) {
		t.Errorf("Write of 4 frames into 3 = %v, want ErrTooLarge", err)
	}
	if err := w.Write(make([]int16, 4)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after 2 of 3 frames: no error")
	}
}
