package wav

import (
	"errors"
	"io"
	"testing"
)

type nopSeeker struct{ pos int64 }

func (n *nopSeeker) Write(p []byte) (int, error) { n.pos += int64(len(p)); return len(p), nil }
func (n *nopSeeker) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekCurrent {
		off += n.pos
	}
	n.pos = off
	return off, nil
}

func TestWriterTooLarge(t *testing.T) {
	for _, channels := range []int{1, 2} {
		w, err := NewWriter(&nopSeeker{}, 8000, channels)
		if err != nil {
			t.Fatal(err)
		}
		// Pretend almost 4 GiB went out already rather than writing it.
		w.data = w.maxData - int64(4*channels)
		if err := w.Write(make([]int16, 2*channels)); err != nil {
			t.Fatalf("%d channels: Write up to the limit: %v", channels, err)
		}
		if err := w.Write(make([]int16, channels)); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%d channels: Write past the limit = %v, want ErrTooLarge", channels, err)
		}
		if riff := headerSize - 8 + w.data; riff > maxRIFFSize || w.data%int64(2*channels) != 0 {
			t.Errorf("%d channels: data %d bytes: RIFF size %d does not fit", channels, w.data, riff)
		}
		if err := w.Flush(); err != nil {
			t.Errorf("%d channels: Flush after ErrTooLarge: %v", channels, err)
		}
	}
}
