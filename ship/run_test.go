package ship_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/retention"
	"github.com/spanrec/spanrec/s3"
	"github.com/spanrec/spanrec/s3/s3test"
	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sqlite"
)

// syncBuf is a log destination read while written.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return strconv.Itoa(port)
}

// metric returns the value of a series in Prometheus text.
func metric(t *testing.T, text, series string) float64 {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s in:\n%s", series, text)
	return 0
}

func metricsOf(t *testing.T, sh *ship.Shipper) string {
	t.Helper()
	var b bytes.Buffer
	if err := sh.WriteMetrics(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRunOutages runs a sensor's Shipper as record does (Run in the
// background, the central side opened by Connect) through outages of the
// real services: PostgreSQL unreachable when the sensor starts (a closed
// port, then the real server), the PostgreSQL server stopped and started
// again under an open pool, and SeaweedFS killed and restarted. Calls of
// real captures recorded meanwhile stay queued, the metrics show the
// backlog and the failure, a warning with the error (and no password) is
// logged while it lasts, and afterwards every call is in the central
// index once, its files in the store, as the sensor has them.
func TestRunOutages(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	good := pgtest.NewSchema(t)
	cluster := pgtest.Start(t)
	pu, _ := url.Parse(good)
	down := *pu
	down.Host = "127.0.0.1:" + closedPort(t)
	var target atomic.Value
	target.Store(down.String())

	data := t.TempDir()
	local, err := sqlite.Open(ctx, filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	var opened []*postgres.DB
	var logs syncBuf
	sh := &ship.Shipper{
		Outbox: local, DataDir: data,
		Log:      slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		LogEvery: 300 * time.Millisecond,
		Connect: func(ctx context.Context) (ship.Central, error) {
			st, err := s3.Open(ctx, s3.Config{URL: srv.URL("site-a"), AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
			if err != nil {
				return ship.Central{}, err
			}
			pg, err := postgres.Open(ctx, target.Load().(string))
			if err != nil {
				return ship.Central{}, err
			}
			opened = append(opened, pg)
			return ship.Central{Index: pg, Store: st}, nil
		},
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); sh.Run(runCtx, 200*time.Millisecond) }()
	defer func() {
		stop()
		<-ran
		for _, pg := range opened {
			pg.Close()
		}
	}()
	central, err := postgres.Open(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	defer central.Close()
	store, err := s3.Open(ctx, s3.Config{URL: srv.URL("site-a"), AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}

	// 1. The index unreachable from the start: calls recorded wait.
	importInto(t, data, local, "wireshark-samples/sip-rtp-g722.pcap")
	importInto(t, data, local, "wireshark-samples/nb6-telephone.pcap")
	sh.Notify()
	queued := len(allCalls(t, local))
	waitFor(t, 10*time.Second, "a failure counted", func() bool { return sh.Stats().Errors >= 2 })
	m := metricsOf(t, sh)
	if metric(t, m, "spanrec_outbox_calls") != float64(queued) || metric(t, m, "spanrec_outbox_bytes") <= 0 ||
		metric(t, m, "spanrec_outbox_oldest_age_seconds") <= 0 || metric(t, m, "spanrec_ship_central_up") != 0 ||
		metric(t, m, "spanrec_ship_calls_total") != 0 {
		t.Errorf("metrics while the index is unreachable (%d calls queued):\n%s", queued, m)
	}
	waitFor(t, 5*time.Second, "a warning logged while failing", func() bool {
		return strings.Contains(logs.String(), "level=WARN msg=\"ship: the central side fails; calls wait in the outbox\"") &&
			strings.Contains(logs.String(), "failing_for=")
	})
	// The index comes up: everything arrives (backoff is at most 8 s here).
	target.Store(good)
	waitFor(t, 30*time.Second, "the outbox shipped after the index came up", func() bool {
		n, _, _ := local.OutboxBacklog(ctx)
		return n == 0
	})
	checkShipped(t, central, store, allCalls(t, local))
	if m := metricsOf(t, sh); metric(t, m, "spanrec_outbox_calls") != 0 || metric(t, m, "spanrec_outbox_bytes") != 0 ||
		metric(t, m, "spanrec_ship_central_up") != 1 || metric(t, m, "spanrec_ship_calls_total") != float64(queued) {
		t.Errorf("metrics after shipping %d calls:\n%s", queued, m)
	}

	// 2. The PostgreSQL server stops under the open pool.
	cluster.Stop(t)
	importInto(t, data, local, "wireshark-samples/SIP_DTMF2.pcap")
	sh.Notify()
	errs := sh.Stats().Errors
	waitFor(t, 10*time.Second, "a failure with the server stopped", func() bool { return sh.Stats().Errors > errs })
	if n, _, _ := local.OutboxBacklog(ctx); n == 0 {
		t.Error("nothing queued while the index is down")
	}
	if metric(t, metricsOf(t, sh), "spanrec_ship_central_up") != 0 {
		t.Error("central_up is not 0 while the index is down")
	}
	cluster.Resume(t)
	waitFor(t, 70*time.Second, "the outbox shipped after the server came back", func() bool {
		n, _, _ := local.OutboxBacklog(ctx)
		return n == 0
	})
	checkShipped(t, central, store, allCalls(t, local))

	// 3. The store killed: calls wait, then arrive.
	srv.Kill()
	importInto(t, data, local, "wireshark-samples/sip-rtp-speex.pcap")
	sh.Notify()
	errs = sh.Stats().Errors
	waitFor(t, 10*time.Second, "a failure with the store down", func() bool { return sh.Stats().Errors > errs })
	if m := metricsOf(t, sh); metric(t, m, "spanrec_outbox_calls") == 0 || metric(t, m, "spanrec_ship_central_up") != 0 {
		t.Errorf("metrics with the store down:\n%s", m)
	}
	srv.Restart(t)
	waitFor(t, 70*time.Second, "the outbox shipped after the store came back", func() bool {
		n, _, _ := local.OutboxBacklog(ctx)
		return n == 0
	})
	want := allCalls(t, local)
	checkShipped(t, central, store, want)
	if got := sh.Stats().Calls; got != len(want) {
		t.Errorf("%d calls shipped for %d recorded: a call shipped twice or lost", got, len(want))
	}
	if strings.Contains(logs.String(), cluster.Password()) || strings.Contains(logs.String(), srv.SecretKey) {
		t.Errorf("a secret in the log:\n%s", logs.String())
	}
	t.Logf("log: %d lines", strings.Count(logs.String(), "\n"))
}

// TestVerifyRetention: with a central side, the sensor's retention
// deletes a call's local copy only once its central copy is verified:
// the disk guard (asked for more room than there is) deletes every
// shipped call and no unshipped one, nor one whose stored object is gone
// or whose central row is missing; an age rule keeps the unshipped ones
// past their age, with the reason. The central copies stay.
func TestVerifyRetention(t *testing.T) {
	ctx := context.Background()
	_, store, central := centralSide(t, "site-b")
	data, local := sensorDir(t)
	sh := &ship.Shipper{Outbox: local, Index: central, Store: store, DataDir: data, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	importInto(t, data, local, "wireshark-samples/sip-rtp-g722.pcap")
	importInto(t, data, local, "wireshark-samples/nb6-telephone.pcap")
	importInto(t, data, local, "wireshark-samples/SIP_DTMF2.pcap")
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	shipped := allCalls(t, local)
	// Recorded after: not shipped.
	importInto(t, data, local, "wireshark-samples/sip-rtp-speex.pcap")
	unshipped := map[spanrec.CallID]bool{}
	for id := range allCalls(t, local) {
		if shipped[id] == nil {
			unshipped[id] = true
		}
	}
	if len(unshipped) == 0 {
		t.Fatal("no unshipped call")
	}
	// One shipped call's object lost from the store, another's central
	// row gone: neither verifies.
	var lostObject, lostRow spanrec.CallID
	for id, c := range shipped {
		switch {
		case lostObject == "" && c.Audio != "":
			lostObject = id
			if err := store.Delete(ctx, c.Audio); err != nil {
				t.Fatal(err)
			}
		case lostRow == "" && id != lostObject:
			lostRow = id
		}
	}
	if lostObject == "" || lostRow == "" {
		t.Fatalf("calls shipped: %d, none with audio to lose", len(shipped))
	}
	if err := central.BeginDeletion(ctx, spanrec.Deletion{Call: lostRow, At: time.Now(), By: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := central.FinishDeletion(ctx, lostRow); err != nil {
		t.Fatal(err)
	}
	for id := range unshipped {
		if err := sh.Verify(ctx, allCalls(t, local)[id]); !errors.Is(err, ship.ErrNotShipped) {
			t.Errorf("unshipped call %s verified: %v", id, err)
		}
	}

	// The disk guard, asked for more room than the disk has.
	sw := retention.New(retention.Config{MinFree: -1, MinFreeBytes: 1 << 62, Archive: sh, Disk: &limits.Disk{}, Logger: sh.Log}, local, data)
	vs, err := sw.Guard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deleted := map[spanrec.CallID]bool{}
	for _, v := range vs {
		deleted[v.Call.ID] = true
	}
	left := allCalls(t, local)
	for id, c := range shipped {
		keep := id == lostObject || id == lostRow || (c.Audio == "" && c.PCAP == "")
		if keep == deleted[id] || keep != (left[id] != nil) {
			t.Errorf("shipped call %s (lost object %v, lost row %v): deleted %v, still local %v", id, id == lostObject, id == lostRow, deleted[id], left[id] != nil)
		}
	}
	for id := range unshipped {
		if deleted[id] || left[id] == nil {
			t.Errorf("the disk guard deleted the unshipped call %s", id)
		}
	}
	if len(deleted) == 0 {
		t.Fatal("the disk guard deleted nothing")
	}
	if st := sw.Stats(); st.KeptUnshipped == 0 || !st.DiskFull {
		t.Errorf("guard stats %+v", st)
	}
	var mb bytes.Buffer
	sw.WriteMetrics(&mb)
	if metric(t, mb.String(), "spanrec_retention_kept_unshipped_total") == 0 {
		t.Errorf("metrics:\n%s", mb.String())
	}
	// The central copies of what went stay, files and rows.
	cc := allCalls(t, central)
	for id := range deleted {
		c := shipped[id]
		if cc[id] == nil || cc[id].AudioSHA256 != c.AudioSHA256 {
			t.Errorf("deleted call %s not in the central index as shipped", id)
		}
		if c.Audio != "" {
			if ok, err := store.Has(ctx, c.Audio, c.AudioSHA256); !ok || err != nil {
				t.Errorf("deleted call %s: audio not in the store: %v", id, err)
			}
		}
	}

	// The two calls whose central copy was lost are queued again, and
	// shipped again with the rest.
	for _, id := range []spanrec.CallID{lostObject, lostRow} {
		if q, err := local.IsQueued(ctx, id); !q || err != nil {
			t.Errorf("call %s, lost centrally, not queued again: %v", id, err)
		}
	}

	// An age rule (every capture is years old) keeps the unshipped calls.
	rw := retention.New(retention.Config{Rules: []retention.Rule{{Name: "all", MaxAge: 24 * time.Hour}}, MinFree: -1, Archive: sh, Logger: sh.Log}, local, data)
	vs, err = rw.Sweep(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if unshipped[v.Call.ID] && (v.Err == nil || !strings.Contains(v.Err.Error(), "central copy")) {
			t.Errorf("the rule deleted the unshipped call %s: %v", v.Call.ID, v.Err)
		}
	}
	for id := range unshipped {
		if allCalls(t, local)[id] == nil {
			t.Errorf("unshipped call %s deleted by the rule", id)
		}
	}
	// Once shipped, they go by the rule too.
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := rw.Sweep(ctx, false); err != nil {
		t.Fatal(err)
	}
	for id := range unshipped {
		if allCalls(t, local)[id] != nil {
			t.Errorf("shipped call %s kept past its age", id)
		}
	}
	if n := len(allCalls(t, local)); n != 0 {
		t.Errorf("%d calls left on the sensor, all shipped and past their age", n)
	}
	checkShipped(t, central, store, allCalls(t, central))
	for id, c := range shipped {
		if cc := allCalls(t, central)[id]; cc == nil || cc.AudioSHA256 != c.AudioSHA256 {
			t.Errorf("call %s not in the central index after all", id)
		}
	}
}

// TestStuckCall: a call whose file conflicts with another object in the
// store (the same key, other bytes) cannot be shipped as it is: it stays
// queued and is counted, and the calls after it are shipped all the same;
// once the conflict is gone it is shipped too.
func TestStuckCall(t *testing.T) {
	ctx := context.Background()
	_, store, central := centralSide(t, "site-c")
	data, local := sensorDir(t)
	var logs syncBuf
	sh := &ship.Shipper{Outbox: local, Index: central, Store: store, DataDir: data, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	importInto(t, data, local, "wireshark-samples/SIP_DTMF2.pcap")
	importInto(t, data, local, "wireshark-samples/sip-rtp-g722.pcap")
	want := allCalls(t, local)
	qs, err := local.Outbox(ctx, 1)
	if err != nil || len(qs) != 1 {
		t.Fatal(qs, err)
	}
	oldest := want[qs[0].ID]
	if oldest.PCAP == "" {
		t.Fatalf("call %s has no pcap", oldest.ID)
	}
	other := []byte("another sensor's bytes under the same key")
	sum := sha256.Sum256(other)
	if err := store.Put(ctx, oldest.PCAP, bytes.NewReader(other), int64(len(other)), hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	if err := sh.Drain(ctx); err != nil {
		t.Fatalf("a stuck call stopped the drain: %v", err)
	}
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	got := allCalls(t, central)
	if got[oldest.ID] != nil || len(got) != len(want)-1 {
		t.Errorf("central index: %d calls (the stuck one there: %v), want the %d others", len(got), got[oldest.ID] != nil, len(want)-1)
	}
	if q, _ := local.IsQueued(ctx, oldest.ID); !q {
		t.Error("the stuck call left the outbox")
	}
	if m := metricsOf(t, sh); metric(t, m, "spanrec_ship_stuck_calls") != 1 || metric(t, m, "spanrec_outbox_calls") != 1 || metric(t, m, "spanrec_ship_central_up") != 1 {
		t.Errorf("metrics:\n%s", m)
	}
	if n := strings.Count(logs.String(), "cannot be shipped as it is"); n != 1 {
		t.Errorf("the stuck call logged %d times, want once:\n%s", n, logs.String())
	}
	if err := store.Delete(ctx, oldest.PCAP); err != nil {
		t.Fatal(err)
	}
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	checkShipped(t, central, store, want)
	if st := sh.Stats(); st.Stuck != 0 {
		t.Errorf("stats after the conflict is gone: %+v", st)
	}
}
