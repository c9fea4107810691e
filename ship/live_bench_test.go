package ship_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/s3/s3test"
	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sqlite"
)

// pacedSource hands out the frames of a capture at their capture times
// sped up speed times, as a mirror port does: a live source at a fixed
// packet rate.
type pacedSource struct {
	src   capture.Source
	speed float64
	t0    time.Time // wall time of the first frame
	first time.Time // its capture time
}

func (p *pacedSource) ReadFrame() (capture.Frame, error) {
	fr, err := p.src.ReadFrame()
	if err != nil {
		return fr, err
	}
	if p.t0.IsZero() {
		p.t0, p.first = time.Now(), fr.Time
	}
	due := time.Duration(float64(fr.Time.Sub(p.first)) / p.speed)
	if d := due - time.Since(p.t0); d > time.Millisecond {
		time.Sleep(d)
	}
	return fr, nil
}

func (p *pacedSource) Close() error { return p.src.Close() }

// liveSpeed is how many times faster than recorded the live benchmark
// plays its capture: $SPANREC_BENCH_LIVE_SPEED, default 2.
func liveSpeed() float64 {
	if v, err := strconv.ParseFloat(os.Getenv("SPANREC_BENCH_LIVE_SPEED"), 64); err == nil && v > 0 {
		return v
	}
	return 2
}

// BenchmarkLiveWhileShipping measures live recording (recorder.Live, as
// `spanrec record` runs it) of a capture played at a fixed packet rate —
// 400 calls of 5 s talk starting over 40 s (200 k frames), liveSpeed times
// faster than recorded — alone, with a Shipper running beside it as
// record runs it (Run, woken by every call recorded) shipping to
// PostgreSQL and SeaweedFS, and with that Shipper waiting while the
// recorder is busy (Shipper.Busy = Live.Busy, as record wires it).
// queue-drops counts the packets the recorder dropped because it fell
// behind (it must stay 0); cpu-us/pkt is this process's CPU per packet
// (recorder and Shipper); in a CPU profile (-cpuprofile) the recorder's
// goroutines carry the label bench=live and the Shipper's bench=ship-run
// (go tool pprof -tags), the rest being the setup, the drain after the
// run and the runtime's own (GC workers);
// shipped-during-run is the calls the Shipper sent before the recording
// ended, paused-s the seconds it waited for the recorder.
func BenchmarkLiveWhileShipping(b *testing.B) {
	const n = 400
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, pcaptest.Options{Seed: 5, Calls: pcaptest.Concurrent(n, 40*time.Second, 5*time.Second)}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	for _, mode := range []string{"alone", "shipping", "shipping-yields"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			var srv *s3test.Server
			if mode != "alone" {
				srv = s3test.Start(b)
			}
			var frames, drops uint64
			var shipped int
			var wall, cpu, paused time.Duration
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
				live := recorder.NewLive(recorder.Config{Call: call.Config{DataDir: dir}, Logger: discard},
					[]capture.Source{&pacedSource{src: src, speed: liveSpeed()}}, db)
				var sh *ship.Shipper
				var central *postgres.DB
				stop, done := func() {}, make(chan struct{})
				if srv != nil {
					sh, central = benchShipper(b, srv, iter, db, dir)
					if mode == "shipping-yields" {
						sh.Busy = live.Busy
					}
					runCtx, cancel := context.WithCancel(ctx)
					stop = cancel
					go func() {
						pprof.Do(runCtx, pprof.Labels("bench", "ship-run"), func(ctx context.Context) { sh.Run(ctx, time.Second) })
						close(done)
					}()
				} else {
					close(done)
				}
				b.StartTimer()
				cpu0, t0 := cpuTime(), time.Now()
				pprof.Do(ctx, pprof.Labels("bench", "live"), func(ctx context.Context) {
					err = live.Run(ctx, func(ev recorder.Event) {
						if sh != nil && ev.Kind == recorder.CallRecorded {
							sh.Notify()
						}
					})
				})
				wall += time.Since(t0)
				cpu += cpuTime() - cpu0
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				st := live.Stats()
				if st.CallsRecorded != n {
					b.Fatalf("%d calls recorded, want %d", st.CallsRecorded, n)
				}
				for _, s := range st.Sources {
					frames += s.Frames
					drops += s.QueueDrops
				}
				stop()
				<-done
				if sh != nil {
					shipped += sh.Stats().Calls
					paused += sh.Stats().Paused
					drainCentral(b, sh, central, n)
				}
				db.Close()
				if err := os.RemoveAll(dir); err != nil && !os.IsNotExist(err) {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(frames)/wall.Seconds(), "pkts/s")
			b.ReportMetric(float64(drops), "queue-drops")
			b.ReportMetric(float64(cpu.Microseconds())/float64(frames), "cpu-us/pkt")
			if srv != nil {
				b.ReportMetric(float64(shipped)/float64(iter), "shipped-during-run")
				b.ReportMetric(paused.Seconds()/float64(iter), "paused-s")
			}
		})
	}
}
