package pcaptest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

// Frames returns the frames of the pcap or pcapng file at path, each in its
// own slice, for benchmarks that replay a capture. It fails tb on error.
func Frames(tb testing.TB, path string) [][]byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	frames, err := ReadFrames(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return frames
}

// ReadFrames reads all frames of a pcap or pcapng stream.
func ReadFrames(r io.Reader) ([][]byte, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("pcaptest: read magic: %w", err)
	}
	var next func() ([]byte, error)
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("pcaptest: %w", err)
		}
		next = func() ([]byte, error) { d, _, err := ng.ReadPacketData(); return d, err }
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("pcaptest: %w", err)
		}
		next = func() ([]byte, error) { d, _, err := pr.ReadPacketData(); return d, err }
	}
	var frames [][]byte
	for {
		d, err := next()
		if errors.Is(err, io.EOF) {
			return frames, nil
		}
		if err != nil {
			return frames, fmt.Errorf("pcaptest: frame %d: %w", len(frames)+1, err)
		}
		frames = append(frames, d)
	}
}
