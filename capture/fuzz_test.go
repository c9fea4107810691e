package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader feeds arbitrary bytes as a capture file: the reader must not
// panic or loop, must return frames no longer than their original length and
// 256 KiB, must consume at least 12 bytes per frame of an uncompressed file,
// and must keep its buffer within the largest block it accepts.
func FuzzReader(f *testing.F) {
	f.Add(buildPcap(pcapOpts{link: 1}, frameRecs(3, 20)))
	f.Add(buildPcap(pcapOpts{big: true, nano: true, link: 113}, frameRecs(2, 7)))
	g := ngBuilder{bo: binary.BigEndian}
	g.shb()
	g.idb(1, 64, 9)
	g.idb(0, 0, 0x80|20)
	g.epb(0, 1e18, []byte("frame one"), 100)
	g.block(ngSPB, append(binary.BigEndian.AppendUint32(nil, 300), make([]byte, 80)...))
	g.epb(1, 5, []byte("two"), 0)
	f.Add(g.buf)
	f.Add(gzipBytes(f, g.buf))
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a})
	f.Add([]byte{})
	// The first 2 KiB of a few real captures, when present.
	if dir, err := findCaptures(); err == nil {
		for _, name := range []string{"gopacket/le_test202.pcapng", "gopacket/test_loopback.pcap", "ndpi/sip.pcap"} {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				f.Add(b[:min(len(b), 2048)])
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		for n := 0; ; n++ {
			fr, err := src.ReadFrame()
			if err != nil {
				if err != io.EOF {
					if _, err2 := src.ReadFrame(); err2 != err {
						t.Fatalf("error %v not sticky: %v", err, err2)
					}
				}
				break
			}
			if n > len(data)/12+1 && !src.(*fileSource).gzipped {
				t.Fatalf("%d frames from %d bytes", n, len(data))
			}
			if len(fr.Data) > fr.Orig || len(fr.Data) > maxCapLen {
				t.Fatalf("frame of %d bytes, orig %d", len(fr.Data), fr.Orig)
			}
		}
		if cap(src.(*fileSource).buf) > 2*maxBlockLen {
			t.Fatalf("buffer grew to %d", cap(src.(*fileSource).buf))
		}
	})
}
