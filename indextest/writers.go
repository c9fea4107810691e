package indextest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
)

// Writer is what BenchQueries' writers need of an index: what a sensor's
// shipper (or a recorder) does to it, and the deletion that takes their
// calls away again.
type Writer interface {
	PutCall(ctx context.Context, c *spanrec.Call) error
	DeleteCall(ctx context.Context, id spanrec.CallID) error
}

// benchWriters is the load BenchQueries measures its queries under:
// $SPANREC_BENCH_WRITERS sensors (0, none, by default) each putting
// $SPANREC_BENCH_WRITE_RATE calls a second (default 10: four sensors
// then write 3.5 million calls a day, a large site's busy hour kept up
// all day). Their calls start after the n generated calls, so the call
// list's first page shows them, as a live archive's does; they have no
// user agent, header, tag, note, capture loss or codec of the absent
// searches, so those still find nothing. Stopping the writers deletes
// their calls, leaving the n calls a kept index must hold.
type benchWriters struct {
	db     Writer
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	ids    []spanrec.CallID
	lat    []time.Duration
	errs   []error
	start  time.Time
}

// startWriters starts the writers $SPANREC_BENCH_WRITERS asks for on db,
// which holds n generated calls, or returns nil when it asks for none.
func startWriters(b *testing.B, db any, n int) *benchWriters {
	k, _ := strconv.Atoi(os.Getenv("SPANREC_BENCH_WRITERS"))
	if k <= 0 {
		return nil
	}
	w, ok := db.(Writer)
	if !ok {
		b.Fatalf("SPANREC_BENCH_WRITERS: %T cannot put calls", db)
	}
	rate := 10.0
	if v, err := strconv.ParseFloat(os.Getenv("SPANREC_BENCH_WRITE_RATE"), 64); err == nil && v > 0 {
		rate = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	bw := &benchWriters{db: w, cancel: cancel, start: time.Now()}
	for s := range k {
		bw.wg.Go(func() { bw.write(ctx, s, n, rate) })
	}
	b.Logf("writers: %d sensors putting %.0f calls/s each", k, rate)
	return bw
}

// write puts sensor s's calls at rate a second until ctx ends.
func (bw *benchWriters) write(ctx context.Context, s, n int, rate float64) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c := writerCall(s, i, n)
		t := time.Now()
		err := bw.db.PutCall(context.WithoutCancel(ctx), c)
		d := time.Since(t)
		bw.mu.Lock()
		if err != nil {
			bw.errs = append(bw.errs, err)
		} else {
			bw.ids = append(bw.ids, c.ID)
			bw.lat = append(bw.lat, d)
		}
		bw.mu.Unlock()
	}
}

// writerCall returns the i-th call of sensor s, starting after the n
// generated calls (one a second from T0) and after s's earlier calls.
func writerCall(s, i, n int) *spanrec.Call {
	start := T0.Add(time.Duration(n)*time.Second + time.Duration(i)*time.Second + time.Duration(s)*time.Millisecond)
	sip := fmt.Sprintf("w%d-%d@bench.example.com", s, i)
	id := spanrec.NewCallID(sip, start)
	caller := netip.AddrFrom4([4]byte{192, 0, 2, byte(i%250 + 1)})
	callee := netip.AddrFrom4([4]byte{198, 51, 100, byte(i%250 + 1)})
	return &spanrec.Call{
		ID:          id,
		Interaction: id,
		LinkKeys:    []string{"cid:" + sip},
		SIPCallID:   sip,
		Caller:      spanrec.Party{Number: fmt.Sprintf("+4931%06d", i%100000), Addr: caller},
		Callee:      spanrec.Party{Number: fmt.Sprintf("3%03d", i%1000), Addr: callee},
		Direction:   spanrec.Outbound,
		Status:      spanrec.Answered,
		StatusCode:  200,
		Start:       start,
		Answer:      start.Add(500 * time.Millisecond),
		End:         start.Add(60*time.Second + 500*time.Millisecond),
		Duration:    60 * time.Second,
		PDD:         300 * time.Millisecond,
		Codecs:      []string{"PCMA"},
		AudioMS:     60000,
		Signalling:  spanrec.SignallingSIP,
		Sensor:      fmt.Sprintf("writer-%d", s),
		HangupBy:    spanrec.HangupCaller,
		Streams: []spanrec.Stream{
			{SSRC: uint32(i), Src: netip.AddrPortFrom(caller, 40000), Dst: netip.AddrPortFrom(callee, 20000), Side: spanrec.CallerSide,
				PayloadType: 8, Codec: "PCMA", ClockRate: 8000, Decoded: true, First: start.Add(time.Second), Last: start.Add(60 * time.Second),
				Packets: 3000, MOS: 4.3},
			{SSRC: uint32(i) + 1<<31, Src: netip.AddrPortFrom(callee, 20000), Dst: netip.AddrPortFrom(caller, 40000), Side: spanrec.CalleeSide,
				PayloadType: 8, Codec: "PCMA", ClockRate: 8000, Decoded: true, First: start.Add(time.Second), Last: start.Add(60 * time.Second),
				Packets: 3000, MOS: 4.3},
		},
	}
}

// stop stops the writers, reports how many calls they put and how long
// a put took, and deletes their calls.
func (bw *benchWriters) stop(b *testing.B) {
	if bw == nil {
		return
	}
	bw.cancel()
	bw.wg.Wait()
	took := time.Since(bw.start)
	if len(bw.errs) > 0 {
		b.Errorf("writers: %d puts failed, the first: %v", len(bw.errs), bw.errs[0])
	}
	if len(bw.lat) > 0 {
		slices.Sort(bw.lat)
		b.Logf("writers: %d calls in %.0f s (%.1f calls/s); a put p50 %.1f ms, p99 %.1f ms",
			len(bw.ids), took.Seconds(), float64(len(bw.ids))/took.Seconds(),
			float64(bw.lat[len(bw.lat)/2])/1e6, float64(bw.lat[len(bw.lat)*99/100])/1e6)
	}
	t := time.Now()
	for _, id := range bw.ids {
		if err := bw.db.DeleteCall(context.Background(), id); err != nil {
			b.Fatalf("writers: delete %s: %v", id, err)
		}
	}
	b.Logf("writers: their %d calls deleted in %.1f s", len(bw.ids), time.Since(t).Seconds())
}
