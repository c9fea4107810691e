package recorder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/sqlite"
)

// The benchmark capture: 1,000 concurrent answered G.711 µ-law calls, all
// started within 5 s, each talking 15 s — about 1.5 million frames, 348 MB.
// `spangen -concurrent -calls 1000 -spread 5s -talk 15s -seed 1` writes the
// same file (docs/PERFORMANCE.md compares tshark on it).
const (
	benchCalls  = 1000
	benchSpread = 5 * time.Second
	benchTalk   = 15 * time.Second
	benchSeed   = 1
)

// generated is a capture generated once per test binary and cached in
// os.TempDir across runs, under a name made of the parameters (the output
// of pcaptest.Write depends only on its options).
type generated struct {
	once sync.Once
	data []byte
	err  error
}

func (g *generated) get(b *testing.B, name string, o pcaptest.Options) []byte {
	b.Helper()
	g.once.Do(func() {
		path := filepath.Join(os.TempDir(), "spanrec-bench-"+name+".pcap")
		if g.data, g.err = os.ReadFile(path); g.err == nil {
			return
		}
		var buf bytes.Buffer
		if g.err = pcaptest.Write(&buf, o); g.err != nil {
			return
		}
		g.data = buf.Bytes()
		tmp := path + ".tmp"
		if os.WriteFile(tmp, g.data, 0o644) == nil {
			_ = os.Rename(tmp, path)
		}
	})
	if g.err != nil {
		b.Fatal(g.err)
	}
	return g.data
}

var concurrentCapture generated

// benchCapture returns the benchmark capture as pcap bytes.
func benchCapture(b *testing.B) []byte {
	return concurrentCapture.get(b, fmt.Sprintf("c%d-s%v-t%v-seed%d", benchCalls, benchSpread, benchTalk, benchSeed), pcaptest.Options{
		Seed:  benchSeed,
		Calls: pcaptest.Concurrent(benchCalls, benchSpread, benchTalk),
	})
}

// decodeAll decodes every frame of a pcap held in memory into packets
// that own their bytes (one arena for all of them).
func decodeAll(b *testing.B, data []byte) []packet.Packet {
	b.Helper()
	src, err := capture.NewReader(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	dec := packet.NewDecoder(packet.Config{})
	var pkts []packet.Packet
	var spans [][3]int
	arena := make([]byte, 0, 2*len(data))
	for {
		fr, err := src.ReadFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
		if !ok {
			continue
		}
		if len(p.Fragments) > 0 {
			b.Fatal("benchmark capture has IP fragments")
		}
		off := len(arena)
		arena = append(arena, p.Frame...)
		arena = append(arena, p.Payload...)
		spans = append(spans, [3]int{off, len(p.Frame), len(p.Payload)})
		p.Frame, p.Payload = nil, nil
		pkts = append(pkts, p)
	}
	for i, s := range spans {
		pkts[i].Frame = arena[s[0] : s[0]+s[1] : s[0]+s[1]]
		pkts[i].Payload = arena[s[0]+s[1] : s[0]+s[1]+s[2] : s[0]+s[1]+s[2]]
	}
	return pkts
}

// discard is a logger for benchmarks.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// BenchmarkImport measures the whole import path on the 1,000-call
// capture: pcap reading, frame decoding, SIP parsing, call assembly,
// per-call pcapng and audio spools, mixing the WAVs, hashing and the
// SQLite index. The capture is held in memory; the output goes to disk.
//
// pkts/s is frames per second of wall time; pkts/cpu-s is frames per
// second of process CPU time (user + system, all goroutines, GC
// included), which the load of a shared machine disturbs less. shards=1
// assembles every call on the worker goroutine; shards=N on N shard
// goroutines.
func BenchmarkImport(b *testing.B) {
	data := benchCapture(b)
	for _, n := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("shards=%d", n), func(b *testing.B) { benchImport(b, data, benchCalls, n) })
	}
}

var turnoverCapture generated

// BenchmarkImportTurnover is BenchmarkImport on a capture where calls
// keep ending and starting: 2,000 calls of 5 s talk starting over 20 s,
// about 500 at once (1 M frames). Unlike the 1,000 calls of
// BenchmarkImport, which all start before any ends, it measures the
// steady state of a recorder, where the spool's files and directories of
// ended calls are recycled (render.Pool) for new ones.
func BenchmarkImportTurnover(b *testing.B) {
	const calls, spread, talk = 2000, 20 * time.Second, 5 * time.Second
	data := turnoverCapture.get(b, fmt.Sprintf("c%d-s%v-t%v-seed%d", calls, spread, talk, benchSeed), pcaptest.Options{
		Seed:  benchSeed,
		Calls: pcaptest.Concurrent(calls, spread, talk),
	})
	benchImport(b, data, calls, runtime.GOMAXPROCS(0))
}

func benchImport(b *testing.B, data []byte, wantCalls, shards int) {
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var frames, calls int
	var wall, cpu time.Duration
	var written int64
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		db, err := sqlite.Open(ctx, filepath.Join(dir, "index.db"))
		if err != nil {
			b.Fatal(err)
		}
		src, err := capture.NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		cfg := Config{Shards: shards, Call: call.Config{DataDir: dir}, Logger: discard}
		runtime.GC()
		b.StartTimer()

		cpu0, t0 := cpuTime(), time.Now()
		sum, err := Import(ctx, cfg, src, db, nil)
		wall += time.Since(t0)
		cpu += cpuTime() - cpu0

		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		if sum.Calls != wantCalls || sum.WithAudio != wantCalls || sum.Errors != 0 {
			b.Fatalf("%d calls, %d with audio, %d errors; want %d, all with audio", sum.Calls, sum.WithAudio, sum.Errors, wantCalls)
		}
		frames += sum.Frames
		calls += sum.Calls
		written += outputBytes(b, dir)
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	reportRates(b, frames, wall, cpu)
	b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
	b.ReportMetric(float64(written)/float64(calls), "B/call")
}

// outputBytes sums the sizes of the recordings (WAV and pcapng) under dir.
func outputBytes(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".wav") || strings.HasSuffix(path, ".pcapng") {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// reportRates reports frames per second of wall time and, where known,
// per second of CPU time.
func reportRates(b *testing.B, frames int, wall, cpu time.Duration) {
	b.ReportMetric(float64(frames)/wall.Seconds(), "pkts/s")
	if cpu > 0 {
		b.ReportMetric(float64(frames)/cpu.Seconds(), "pkts/cpu-s")
	}
}

// BenchmarkReadDecode measures the reader stage of Import alone: pcap
// reading, frame decoding and batching.
func BenchmarkReadDecode(b *testing.B) {
	data := benchCapture(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	bt := &batch{pkts: make([]packet.Packet, 0, batchSize), arena: make([]byte, 0, batchSize*512)}
	var frames int
	cpu0 := cpuTime()
	for b.Loop() {
		src, err := capture.NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		dec := packet.NewDecoder(packet.Config{})
		for {
			fr, err := src.ReadFrame()
			if err != nil {
				break
			}
			frames++
			p, ok := dec.Decode(fr.Data, packet.LinkType(fr.Link), fr.Time, fr.Orig)
			if !ok {
				continue
			}
			bt.add(&p)
			if len(bt.pkts) == batchSize {
				bt.seal()
				bt.reset()
			}
		}
	}
	reportRates(b, frames, b.Elapsed(), cpuTime()-cpu0)
}

// BenchmarkAssembler measures the worker stage of Import alone on packets
// decoded beforehand: SIP parsing, call assembly, RTP parsing and stream
// statistics, G.711 decoding into the audio spools and the per-call
// pcapng files — everything the worker goroutine and its shards do.
// Mixing and indexing (the renderer pool) are left out: finished tracks
// are removed. shards=1 is the worker alone; shards=N routes to N shard
// goroutines.
func BenchmarkAssembler(b *testing.B) {
	pkts := decodeAll(b, benchCapture(b))
	for _, n := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("shards=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var wall, cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				var finished atomic.Int64
				w := newWorker(Config{Shards: n, Call: call.Config{DataDir: dir, Logger: discard}}, func(f *call.Finished) {
					finished.Add(1)
					for _, tr := range f.Tracks {
						_ = tr.Remove()
					}
				})
				runtime.GC()
				b.StartTimer()

				cpu0, t0 := cpuTime(), time.Now()
				for i := range pkts {
					w.handle(&pkts[i])
					if i%batchSize == batchSize-1 {
						w.sendAll()
					}
				}
				w.close()
				wall += time.Since(t0)
				cpu += cpuTime() - cpu0

				b.StopTimer()
				if got := finished.Load(); got != benchCalls {
					b.Fatalf("%d calls finished, want %d", got, benchCalls)
				}
				if err := os.RemoveAll(dir); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			reportRates(b, len(pkts)*b.N, wall, cpu)
		})
	}
}

var activeCapture generated

// writeHeapProfile writes the heap profile of the moment to path.
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkMemoryPerCall measures the heap that active calls hold: 1,000
// calls are opened (INVITE, 200 OK, ACK) and fed 3.5 s or more of RTP each
// in both directions, none ended; the live heap after a GC, less the live
// heap before the first packet, divided by the calls, is B/active-call.
// The capture and the decoded packets are live in both measurements, so
// they do not count. With SPANREC_BENCH_HEAPPROFILE=file the heap profile
// of the moment of measurement is written to file (go tool pprof
// -sample_index=inuse_space); run it with -memprofilerate=512 or so.
func BenchmarkMemoryPerCall(b *testing.B) {
	// Calls start within 1 s and are answered 1 s later; their BYEs come
	// 6 s after the answer, at 7 s or later. Stop at 5.5 s.
	const spread, talk, cutoff = time.Second, 6 * time.Second, 5500 * time.Millisecond
	data := activeCapture.get(b, fmt.Sprintf("c%d-s%v-t%v-seed%d", benchCalls, spread, talk, benchSeed), pcaptest.Options{
		Seed:  benchSeed,
		Calls: pcaptest.Concurrent(benchCalls, spread, talk),
	})
	pkts := decodeAll(b, data)
	end := pkts[0].Time.Add(cutoff)
	n := 0
	for n < len(pkts) && pkts[n].Time.Before(end) {
		n++
	}
	pkts = pkts[:n]
	var total float64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		finished := 0
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		b.StartTimer()

		// One shard: the figure is the calls' own state, without the
		// shard router's directory of media endpoints.
		w := newWorker(Config{Shards: 1, Call: call.Config{DataDir: dir, Logger: discard}}, func(*call.Finished) { finished++ })
		for i := range pkts {
			w.handle(&pkts[i])
		}

		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		if path := os.Getenv("SPANREC_BENCH_HEAPPROFILE"); path != "" {
			writeHeapProfile(b, path)
		}
		if active := w.asm.Active(); active != benchCalls || finished != 0 {
			b.Fatalf("%d calls active, %d finished; want %d active", active, finished, benchCalls)
		}
		total += float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc)) / benchCalls
		w.close()
		runtime.KeepAlive(pkts)
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(total/float64(b.N), "B/active-call")
	b.ReportMetric(float64(len(pkts)), "pkts/op")
}
