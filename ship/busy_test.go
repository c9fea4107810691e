package ship_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spanrec/spanrec/ship"
)

// TestRunWaitsWhileBusy: a Shipper whose recorder says it is busy ships
// nothing (the calls wait in the outbox, the time waited is counted and
// shown), and ships them all once the recorder is not busy; stopping it
// while it waits does not hang.
func TestRunWaitsWhileBusy(t *testing.T) {
	ctx := context.Background()
	_, store, central := centralSide(t, "busy")
	data, local := sensorDir(t)
	importInto(t, data, local, "wireshark-samples/sip-rtp-g722.pcap")
	importInto(t, data, local, "wireshark-samples/nb6-telephone.pcap")
	want := allCalls(t, local)

	var busy atomic.Bool
	busy.Store(true)
	var asked atomic.Int64
	sh := &ship.Shipper{Outbox: ship.Local{DB: local}, Index: central, Store: store, DataDir: data, Log: discard,
		Busy: func() bool { asked.Add(1); return busy.Load() }}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { sh.Run(runCtx, 50*time.Millisecond); close(done) }()
	waitFor(t, 10*time.Second, "the Shipper to ask whether the recorder is busy, again", func() bool { return asked.Load() >= 5 })
	if st := sh.Stats(); st.Calls != 0 || st.Files != 0 {
		t.Fatalf("shipped while the recorder was busy: %+v", st)
	}
	if n, _, _ := local.OutboxBacklog(ctx); n != len(want) {
		t.Errorf("outbox while busy: %d calls, want %d", n, len(want))
	}
	busy.Store(false)
	waitFor(t, 60*time.Second, "the calls to be shipped", func() bool { return sh.Stats().Calls == len(want) })
	checkShipped(t, central, store, want)
	st := sh.Stats()
	if st.Paused < 4*ship.BusyPoll {
		t.Errorf("paused %v, want at least the %v it waited", st.Paused, 4*ship.BusyPoll)
	}
	if v := metric(t, metricsOf(t, sh), "spanrec_ship_paused_seconds_total"); v < (4 * ship.BusyPoll).Seconds() {
		t.Errorf("spanrec_ship_paused_seconds_total = %v", v)
	}
	// Busy again, with a call waiting: stopping Run while it waits.
	busy.Store(true)
	importInto(t, data, local, "wireshark-samples/SIP_DTMF2.pcap")
	sh.Notify()
	time.Sleep(3 * ship.BusyPoll)
	stop()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop while waiting for the recorder")
	}
	if n, _, _ := local.OutboxBacklog(ctx); n == 0 {
		t.Error("a call was shipped while the recorder was busy")
	}
}

// TestRunBusyForever: a recorder that never stops being busy still gets
// its calls shipped, one per MaxPause, each counted as forced: the backlog
// does not grow without end.
func TestRunBusyForever(t *testing.T) {
	ctx := context.Background()
	_, store, central := centralSide(t, "busyforever")
	data, local := sensorDir(t)
	importInto(t, data, local, "wireshark-samples/nb6-telephone.pcap")
	want := allCalls(t, local)

	const pause = 300 * time.Millisecond
	sh := &ship.Shipper{Outbox: ship.Local{DB: local}, Index: central, Store: store, DataDir: data, Log: discard,
		Busy: func() bool { return true }, MaxPause: pause}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	t0 := time.Now()
	go func() { sh.Run(runCtx, 50*time.Millisecond); close(done) }()
	waitFor(t, 60*time.Second, "the calls to be shipped although the recorder stays busy", func() bool { return sh.Stats().Calls == len(want) })
	took := time.Since(t0)
	stop()
	<-done
	checkShipped(t, central, store, want)
	st := sh.Stats()
	if st.Forced != len(want) {
		t.Errorf("forced %d calls, want %d (each waited MaxPause)", st.Forced, len(want))
	}
	if min := time.Duration(len(want)) * pause; took < min || st.Paused < min {
		t.Errorf("%d calls shipped in %v after pausing %v: each should have waited %v", len(want), took, st.Paused, pause)
	}
	if v := metric(t, metricsOf(t, sh), "spanrec_ship_forced_calls_total"); int(v) != len(want) {
		t.Errorf("spanrec_ship_forced_calls_total = %v, want %d", v, len(want))
	}
}
