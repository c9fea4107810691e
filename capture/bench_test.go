package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"
)

// benchPcap returns an in-memory pcap of n 214-byte frames (a G.711 RTP
// packet over Ethernet).
func benchPcap(tb testing.TB, n int) []byte {
	tb.Helper()
	return buildPcap(pcapOpts{link: 1}, frameRecs(n, 214))
}

// benchPcapng is benchPcap as pcapng, nanosecond timestamps, two interfaces.
func benchPcapng(tb testing.TB, n int) []byte {
	tb.Helper()
	g := ngBuilder{bo: binary.LittleEndian}
	g.shb()
	g.idb(1, 0, 9)
	g.idb(101, 0, -1)
	for i, r := range frameRecs(n, 214) {
		if i%2 == 0 {
			g.epb(0, uint64(r.ts.UnixNano()), r.data, 0)
		} else {
			g.epb(1, uint64(r.ts.UnixMicro()), r.data, 0)
		}
	}
	return g.buf
}

func benchRead(b *testing.B, file []byte, frames int) {
	b.ReportAllocs()
	b.SetBytes(int64(len(file)))
	cpu0 := cpuTime()
	for b.Loop() {
		src, err := NewReader(bytes.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := src.ReadFrame()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != frames {
			b.Fatalf("%d frames, want %d", n, frames)
		}
	}
	reportRate(b, frames*b.N, cpuTime()-cpu0)
}

// reportRate reports frames per second of wall time and, where known, per
// second of process CPU time (which includes the garbage collector's).
func reportRate(b *testing.B, frames int, cpu time.Duration) {
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
	if cpu > 0 {
		b.ReportMetric(float64(frames)/cpu.Seconds(), "frames/cpu-s")
	}
}

func BenchmarkReadPcap(b *testing.B) {
	benchRead(b, benchPcap(b, 100000), 100000)
}

func BenchmarkReadPcapng(b *testing.B) {
	benchRead(b, benchPcapng(b, 100000), 100000)
}

func BenchmarkWriteFrame(b *testing.B) {
	w := NewWriter(io.Discard)
	data := make([]byte, 214)
	ts := time.Unix(1700000000, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	cpu0 := cpuTime()
	for b.Loop() {
		if err := w.WriteFrame(data, 1, ts, 0); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N, cpuTime()-cpu0)
}
