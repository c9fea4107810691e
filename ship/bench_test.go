package ship_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/s3"
	"github.com/spanrec/spanrec/s3/s3test"
	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sqlite"
)

// The sensors of the shipping benchmarks: $SPANREC_BENCH_SHIP_CALLS
// (default 100) answered G.711 calls each (pcaptest.Concurrent), talking
// benchTalk.
const benchTalk = time.Minute

func benchCalls() int {
	if v, err := strconv.Atoi(os.Getenv("SPANREC_BENCH_SHIP_CALLS")); err == nil && v > 0 {
		return v
	}
	return 100
}

// sensor is a data directory with calls recorded in it by recorder.Import
// from a generated capture, as `spanrec import` leaves it.
type sensor struct {
	dir   string
	db    *sqlite.DB
	calls []*spanrec.Call
	bytes int64 // of the calls' files
}

var (
	sensorsMu sync.Mutex
	sensors   = map[string]*sensor{}
	benchDirs []string // removed by TestMain
)

// cleanupBench removes what the benchmarks kept for the whole binary.
func cleanupBench() {
	for _, s := range sensors {
		s.db.Close()
	}
	for _, d := range benchDirs {
		os.RemoveAll(d)
	}
}

// recordSensor returns a sensor that recorded n calls of talk generated with
// seed (distinct seeds: distinct Call-IDs, so distinct call IDs), made once
// per test binary.
func recordSensor(b *testing.B, seed int64, n int, talk time.Duration) *sensor {
	b.Helper()
	sensorsMu.Lock()
	defer sensorsMu.Unlock()
	name := fmt.Sprintf("seed%d-n%d-t%v", seed, n, talk)
	if s := sensors[name]; s != nil {
		return s
	}
	dir, err := os.MkdirTemp("", "spanrec-ship-bench-")
	if err != nil {
		b.Fatal(err)
	}
	benchDirs = append(benchDirs, dir)
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, pcaptest.Options{Seed: seed, Calls: pcaptest.Concurrent(n, 5*time.Second, talk)}); err != nil {
		b.Fatal(err)
	}
	src, err := capture.NewReader(&buf)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "index.db"))
	if err != nil {
		b.Fatal(err)
	}
	sum, err := recorder.Import(ctx, recorder.Config{Call: call.Config{DataDir: dir}, Logger: discard}, src, db, nil)
	if err != nil || sum.Calls != n || sum.WithAudio != n {
		b.Fatalf("import: %d calls, %d with audio, %v; want %d", sum.Calls, sum.WithAudio, err, n)
	}
	calls, err := db.Calls(ctx, spanrec.CallFilter{})
	if err != nil {
		b.Fatal(err)
	}
	s := &sensor{dir: dir, db: db, calls: calls}
	for _, c := range calls {
		s.bytes += fileSize(b, dir, c.Audio) + fileSize(b, dir, c.PCAP)
	}
	sensors[name] = s
	return s
}

func fileSize(b *testing.B, dir, rel string) int64 {
	st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

// requeue puts every call of s on its outbox again, as storing it anew
// does.
func (s *sensor) requeue(b *testing.B) {
	ctx := context.Background()
	for _, c := range s.calls {
		if err := s.db.PutCall(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	if n, _, err := s.db.OutboxBacklog(ctx); err != nil || n != len(s.calls) {
		b.Fatalf("outbox: %d calls, %v; want %d", n, err, len(s.calls))
	}
}

// BenchmarkShip measures shipping: sensors=1 is one sensor's Shipper
// draining its outbox (100 one-minute calls, real WAV and pcapng
// files) to a PostgreSQL index (pgtest) and a SeaweedFS store (s3test),
// sensors=4 four sensors' Shippers (each with its own connections) at
// once into one index and store; store=none ships the rows alone (what
// the index ingests). Each iteration ships into a new schema and new key
// prefixes, so every file is uploaded. calls/s and MB/s (of files) are of
// wall time; cpu-ms/call is this process's CPU time (the Shippers: the
// sensor's cost) per call shipped, store-cpu-ms/call SeaweedFS's
// (PostgreSQL's is not counted).
func BenchmarkShip(b *testing.B) {
	for _, n := range []int{1, 4} {
		for _, withStore := range []bool{true, false} {
			name := fmt.Sprintf("sensors=%d/store=none", n)
			if withStore {
				name = fmt.Sprintf("sensors=%d/store=s3", n)
			}
			b.Run(name, func(b *testing.B) { benchShip(b, n, withStore) })
		}
	}
}

func benchShip(b *testing.B, sensorCount int, withStore bool) {
	ctx := context.Background()
	var ss []*sensor
	for i := range sensorCount {
		ss = append(ss, recordSensor(b, int64(i+1), benchCalls(), benchTalk))
	}
	var srv *s3test.Server
	if withStore {
		srv = s3test.Start(b)
	}
	var calls int
	var size int64
	var wall, cpu, storeCPU time.Duration
	iter := 0
	for b.Loop() {
		b.StopTimer()
		iter++
		u := pgtest.NewSchema(b)
		shippers := make([]*ship.Shipper, len(ss))
		centrals := make([]*postgres.DB, len(ss))
		for i, s := range ss {
			s.requeue(b)
			central, err := postgres.Open(ctx, u)
			if err != nil {
				b.Fatal(err)
			}
			centrals[i] = central
			sh := &ship.Shipper{Outbox: ship.Local{DB: s.db}, Index: central, DataDir: s.dir, Log: discard}
			if withStore {
				store, err := s3.Open(ctx, s3.Config{URL: srv.URL(fmt.Sprintf("it%d-sensor%d", iter, i)), AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
				if err != nil {
					b.Fatal(err)
				}
				sh.Store = store
			}
			shippers[i] = sh
		}
		errs := make([]error, len(ss))
		var wg sync.WaitGroup
		var store0 time.Duration
		if srv != nil {
			store0 = srv.CPU()
		}
		b.StartTimer()
		t0, cpu0 := time.Now(), cpuTime()
		for i, sh := range shippers {
			wg.Go(func() { errs[i] = sh.Drain(ctx) })
		}
		wg.Wait()
		wall += time.Since(t0)
		cpu += cpuTime() - cpu0
		b.StopTimer()
		if srv != nil {
			storeCPU += srv.CPU() - store0
		}
		for _, c := range centrals {
			c.Close()
		}
		for i, sh := range shippers {
			if errs[i] != nil {
				b.Fatal(errs[i])
			}
			st := sh.Stats()
			if st.Calls != len(ss[i].calls) || st.MissingFiles != 0 || (withStore && st.Bytes != ss[i].bytes) {
				b.Fatalf("sensor %d: %+v; want %d calls, %d bytes", i, st, len(ss[i].calls), ss[i].bytes)
			}
			calls += st.Calls
			size += st.Bytes
		}
		central, err := postgres.Open(ctx, u)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := central.Count(ctx, spanrec.CallFilter{}); err != nil || n != sensorCount*benchCalls() {
			b.Fatalf("central index: %d calls, %v; want %d", n, err, sensorCount*benchCalls())
		}
		central.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(calls)/wall.Seconds(), "calls/s")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(calls), "cpu-ms/call")
	if withStore {
		b.ReportMetric(float64(size)/1e6/wall.Seconds(), "MB/s")
		b.ReportMetric(float64(storeCPU.Milliseconds())/float64(calls), "store-cpu-ms/call")
	}
}

// putSeq numbers the keys of BenchmarkStorePut across its runs (-count):
// a key put before would not be uploaded again.
var putSeq atomic.Int64

// BenchmarkStorePut measures s3.Store.Put of one file (read from disk,
// uploaded signed with its SHA-256, which SeaweedFS checks) into it, for the
// WAV and pcapng of a one-minute call and the WAV of a five-minute one;
// each iteration puts it under a new key. MB/s is b.SetBytes's.
func BenchmarkStorePut(b *testing.B) {
	ctx := context.Background()
	one := recordSensor(b, 1, benchCalls(), benchTalk)
	five := recordSensor(b, 9, 2, 5*time.Minute)
	srv := s3test.Start(b)
	store, err := s3.Open(ctx, s3.Config{URL: srv.URL("put"), AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []struct {
		name     string
		s        *sensor
		rel, sum string
	}{
		{"wav-1min", one, one.calls[0].Audio, one.calls[0].AudioSHA256},
		{"pcapng-1min", one, one.calls[0].PCAP, one.calls[0].PCAPSHA256},
		{"wav-5min", five, five.calls[0].Audio, five.calls[0].AudioSHA256},
	} {
		b.Run(f.name, func(b *testing.B) {
			path := filepath.Join(f.s.dir, filepath.FromSlash(f.rel))
			size := fileSize(b, f.s.dir, f.rel)
			b.SetBytes(size)
			for b.Loop() {
				i := putSeq.Add(1)
				r, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				err = store.Put(ctx, fmt.Sprintf("%s/%d/%s", f.name, i, f.rel), r, size, f.sum)
				r.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(size)/1e6, "MB/file")
		})
	}
}

// BenchmarkImportWhileShipping measures recording (recorder.Import of a
// capture of 400 calls of 5 s talk starting over 40 s, which keep ending
// while it runs) into a sensor's data directory, alone and with a
// Shipper running in the same process (Run, polling every 100 ms) that
// ships the calls as they are stored to PostgreSQL and SeaweedFS, as a
// sensor does. pkts/s is frames per second of import wall time,
// pkts/cpu-s per second of this process's CPU time (import and shipper:
// PostgreSQL and SeaweedFS run in processes of their own).
func BenchmarkImportWhileShipping(b *testing.B) {
	const n = 400
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, pcaptest.Options{Seed: 5, Calls: pcaptest.Concurrent(n, 40*time.Second, 5*time.Second)}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	for _, shipping := range []bool{false, true} {
		name := "alone"
		if shipping {
			name = "shipping"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			var srv *s3test.Server
			if shipping {
				srv = s3test.Start(b)
			}
			var frames, shipped int
			var wall, cpu time.Duration
			iter := 0
			for b.Loop() {
				b.StopTimer()
				iter++
				dir := b.TempDir()
				db, err := sqlite.Open(ctx, filepath.Join(dir, "index.db"))
				if err != nil {
					b.Fatal(err)
				}
				src, err := capture.NewReader(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				var sh *ship.Shipper
				var central *postgres.DB
				stop, done := func() {}, make(chan struct{})
				if shipping {
					sh, central = benchShipper(b, srv, iter, db, dir)
					runCtx, cancel := context.WithCancel(ctx)
					stop = cancel
					go func() { sh.Run(runCtx, 100*time.Millisecond); close(done) }()
				} else {
					close(done)
				}
				b.StartTimer()
				cpu0, t0 := cpuTime(), time.Now()
				sum, err := recorder.Import(ctx, recorder.Config{Call: call.Config{DataDir: dir}, Logger: discard}, src, db, nil)
				wall += time.Since(t0)
				cpu += cpuTime() - cpu0
				b.StopTimer()
				if err != nil || sum.Calls != n || sum.WithAudio != n {
					b.Fatalf("import: %d calls, %d with audio, %v; want %d", sum.Calls, sum.WithAudio, err, n)
				}
				frames += sum.Frames
				stop()
				<-done
				if shipping {
					shipped += sh.Stats().Calls // during the import, or being shipped when it ended
					drainCentral(b, sh, central, n)
				}
				db.Close()
				if err := os.RemoveAll(dir); err != nil && !os.IsNotExist(err) {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(frames)/wall.Seconds(), "pkts/s")
			b.ReportMetric(float64(frames)/cpu.Seconds(), "pkts/cpu-s")
			if shipping {
				b.ReportMetric(float64(shipped)/float64(iter), "shipped-during-import")
			}
		})
	}
}

// cpuTime returns the process's CPU time (user + system) so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// discard is a logger for benchmarks.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// benchShipper opens the central side of one benchmark iteration (a new
// PostgreSQL schema and the bucket "itN" of srv) and a Shipper of the
// sensor's index db and data directory dir to it.
func benchShipper(b *testing.B, srv *s3test.Server, iter int, db *sqlite.DB, dir string) (*ship.Shipper, *postgres.DB) {
	b.Helper()
	ctx := context.Background()
	central, err := postgres.Open(ctx, pgtest.NewSchema(b))
	if err != nil {
		b.Fatal(err)
	}
	store, err := s3.Open(ctx, s3.Config{URL: srv.URL(fmt.Sprintf("it%d", iter)), AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		b.Fatal(err)
	}
	return &ship.Shipper{Outbox: ship.Local{DB: db}, Index: central, Store: store, DataDir: dir, Log: discard}, central
}

// drainCentral ships what the sensor has left, checks that the central
// index holds its n calls, and closes it.
func drainCentral(b *testing.B, sh *ship.Shipper, central *postgres.DB, n int) {
	b.Helper()
	ctx := context.Background()
	if err := sh.Drain(ctx); err != nil {
		b.Fatal(err)
	}
	if c, err := central.Count(ctx, spanrec.CallFilter{}); err != nil || c != n {
		b.Fatalf("central index: %d calls, %v; want %d", c, err, n)
	}
	central.Close()
}
