package ilbc_test

import (
	"math/rand/v2"
	"testing"

	"github.com/spanrec/spanrec/codec/ilbc"
	"github.com/spanrec/spanrec/codec/internal/codectest"
)

// validFrames makes n frames of random bits for the mode with a start
// state position the mode allows and the empty-frame bit clear: frames
// any decoder must decode, though they are not speech.
func validFrames(mode, n int, seed uint64) [][]byte {
	r := rand.New(rand.NewPCG(seed, 1))
	size, startBits, nsub := ilbc.Bytes30, 3, 6
	if mode == 20 {
		size, startBits, nsub = ilbc.Bytes20, 2, 4
	}
	lsfBits := map[int]int{20: 20, 30: 40}[mode] // 40 bits of LSF at 30 ms, 20 at 20 ms
	var frames [][]byte
	for range n {
		f := make([]byte, size)
		for i := range f {
			f[i] = byte(r.Uint32())
		}
		f[size-1] &^= 1
		// the start index follows the LSF bits
		start := 1 + r.IntN(nsub-1)
		for b := range startBits {
			bit := lsfBits + b
			v := byte(start>>(startBits-1-b)) & 1
			f[bit/8] = f[bit/8]&^(0x80>>(bit%8)) | v<<(7-bit%8)
		}
		frames = append(frames, f)
	}
	return frames
}

func TestDecodeRandomFrames(t *testing.T) {
	codectest.HaveFFmpeg(t)
	for _, mode := range []int{20, 30} {
		frames := validFrames(mode, 200, uint64(mode))
		want := codectest.FFmpegDecode(t, ilbcFile(mode, frames...), "ilbc")
		d := ilbc.NewDecoder()
		var got []int16
		for i, f := range frames {
			var err error
			if got, err = d.Decode(got, f); err != nil {
				t.Fatalf("%d ms frame %d: %v", mode, i, err)
			}
		}
		if d.BadFrames() != 0 {
			t.Errorf("%d ms: %d frames concealed, want 0", mode, d.BadFrames())
		}
		if len(got) != len(want) {
			t.Fatalf("%d ms: %d samples, ffmpeg %d", mode, len(got), len(want))
		}
		n := mode * 8
		worst, median := frameSNR(t, want[n:], got[n:], n)
		t.Logf("%d ms random frames: SNR %.1f dB against ffmpeg (per frame median %.1f, worst %.1f), RMS %.0f / ffmpeg %.0f",
			mode, codectest.SNR(want[n:], got[n:]), median, worst, codectest.RMS(got), codectest.RMS(want))
	}
}
