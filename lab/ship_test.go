package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/lab/netns"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/s3"
	"github.com/spanrec/spanrec/s3/s3test"
	"github.com/spanrec/spanrec/sqlite"
)

// outageSize is the batch of the central-outage scenario and how long each
// service is down: 200 concurrent calls of 10 s and 20 s outages by
// default (SPANREC_LAB_SHORT=1: 50 calls); SPANREC_LAB_OUTAGE=5m makes the
// issue's 5-minute outages.
func outageSize(t *testing.T) (calls int, talk, outage time.Duration) {
	calls, talk, outage = 200, 10*time.Second, 20*time.Second
	if os.Getenv("SPANREC_LAB_SHORT") == "1" {
		calls = 50
	}
	if v := os.Getenv("SPANREC_LAB_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("SPANREC_LAB_OUTAGE=%q: want a duration such as 5m", v)
		}
		outage = d
	}
	return calls, talk, outage
}

// forward listens on the loopback address of namespace ns and forwards
// each connection to target on the test's own loopback: the recorder in
// its namespace reaches the central side (PostgreSQL, SeaweedFS) this
// way. It returns the address inside ns.
func forward(t *testing.T, ns, target string) string {
	t.Helper()
	var ln net.Listener
	var err error
	if derr := netns.Do(ns, func() { ln, err = net.Listen("tcp", "127.0.0.1:0") }); derr != nil {
		t.Fatal(derr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				d, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer d.Close()
				go func() { io.Copy(d, c); d.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, d)
			}()
		}
	}()
	return ln.Addr().String()
}

// Scenario 9 (issue 11): the central side down during live recording.
// `spanrec record` ships to a real PostgreSQL index and a real SeaweedFS
// store (reached from the recorder's namespace through forwarders). A
// batch of concurrent SIPp calls is placed, PostgreSQL is stopped while
// they talk and started again after the outage; then the same with the
// S3 server killed. Every call ends while its service is down, waits in
// the sensor's outbox, and afterwards every call is in the central index
// exactly once with the sensor's files and SHA-256s, each file in the
// store; nothing is lost on the mirror port (no kernel or queue drops).
// Figures (the backlog's peak, the time to drain it once the service is
// back) go to the test log.
func TestCentralOutageDuringLiveCalls(t *testing.T) {
	l := newLab(t, Topology{Hosts: []HostSpec{{"pbx", MirrorBoth}, {"a", MirrorNone}, {"b", MirrorNone}}})
	if !l.HasRecord() {
		t.Skip("the spanrec binary has no record command")
	}
	a, _, pbx := phones(l)
	n, talk, outage := outageSize(t)
	ctx := context.Background()
	srv := s3test.Start(t)
	pgURL := pgtest.NewSchema(t)
	cluster := pgtest.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	pu, _ := url.Parse(pgURL)
	pu.Host = forward(t, l.Recorder, pu.Host)
	endpoint := strings.TrimPrefix(srv.Endpoint, "http://")
	storeURL := strings.Replace(srv.URL("lab"), endpoint, forward(t, l.Recorder, endpoint), 1)

	data := filepath.Join(l.Dir, "data-record")
	cfg := l.Config("networks:\n  trunks: [" + pbx.Host.Addr.String() + "]\nstore: " + storeURL + "\n")
	rec := l.StartRecord(data, cfg, "--index", pu.String())
	time.Sleep(2 * time.Second)

	central, err := postgres.Open(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer central.Close()

	// backlog polls the sensor's outbox (its SQLite index, read beside the
	// recorder) for the time given, or until it is empty if drain is set,
	// returning the largest it saw and when it emptied.
	backlog := func(until time.Duration, drain bool) (peak int, emptied time.Time) {
		t.Helper()
		local, err := sqlite.Open(ctx, filepath.Join(data, "index.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer local.Close()
		deadline := time.Now().Add(until)
		for {
			q, _, err := local.OutboxBacklog(ctx)
			if err != nil {
				t.Fatal(err)
			}
			peak = max(peak, q)
			if drain && q == 0 {
				return peak, time.Now()
			}
			if !time.Now().Before(deadline) {
				return peak, time.Time{}
			}
			time.Sleep(time.Second)
		}
	}

	var figures []string
	for i, down := range []struct {
		name       string
		stop, back func()
	}{
		{"PostgreSQL", func() { cluster.Stop(t) }, func() { cluster.Resume(t) }},
		{"the S3 server", srv.Kill, func() { srv.Restart(t) }},
	} {
		batch := Calls{Caller: a, Callee: pbx, Count: n, Concurrent: n, Rate: 50, Talk: talk,
			CallerMediaPort: 20000 + 2000*i, CalleeMediaPort: 40000 + 2000*i}
		uas := l.StartCallee(batch)
		time.Sleep(300 * time.Millisecond)
		uac := l.StartCaller(batch)
		placed := make(chan error, 1)
		go func() { placed <- WaitCalls(batch.Timeout(), uac, uas) }()
		time.Sleep(3 * time.Second) // the first calls are up
		began := time.Now()
		down.stop()
		peak, _ := backlog(min(outage, talk+5*time.Second), false) // the calls end meanwhile
		if err := <-placed; err != nil {
			t.Fatal(err)
		}
		if rest := outage - time.Since(began); rest > 0 {
			time.Sleep(rest)
		}
		p2, _ := backlog(0, false)
		peak = max(peak, p2)
		if peak == 0 || (outage >= talk+8*time.Second && peak != n) {
			t.Errorf("%s down: at most %d calls waited in the outbox, want the %d that ended meanwhile", down.name, peak, n)
		}
		down.back()
		back := time.Now()
		p3, emptied := backlog(3*time.Minute, true)
		peak = max(peak, p3)
		if emptied.IsZero() {
			t.Fatalf("%s back: the outbox is not empty 3 minutes later\n%s", down.name, tail(rec.Output(), 3000))
		}
		figures = append(figures, fmt.Sprintf("%s down %s (until it answered again) during %d concurrent calls of %s: at most %d calls waited; the outbox was empty %.1f s after it was back",
			down.name, back.Sub(began).Round(time.Second), n, talk, peak, emptied.Sub(back).Seconds()))
	}
	if err := rec.Stop(syscall.SIGTERM, 2*time.Minute); err != nil {
		t.Fatalf("spanrec record: %v\n%s", err, rec.Output())
	}
	out := rec.Output()
	if kernel, queue, ok := recordDrops(out); !ok || kernel != 0 || queue != 0 {
		t.Errorf("spanrec record: kernel drops %d, queue drops %d (summary found: %v)", kernel, queue, ok)
	}
	if !strings.Contains(out, "the central side fails") {
		t.Errorf("no warning of the outages in the recorder's log:\n%s", tail(out, 3000))
	}
	if strings.Contains(out, cluster.Password()) || strings.Contains(out, srv.SecretKey) {
		t.Error("a secret in the recorder's log")
	}

	// Every call, once, as the sensor has it.
	local := Recorded(t, data)
	if len(local) != 2*n {
		t.Errorf("the sensor recorded %d calls, want %d", len(local), 2*n)
	}
	got, err := central.Calls(ctx, spanrec.CallFilter{Limit: 10 * n})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[spanrec.CallID]*spanrec.Call{}
	for _, c := range got {
		if byID[c.ID] != nil {
			t.Errorf("call %s twice in the central index", c.ID)
		}
		byID[c.ID] = c
	}
	if len(got) != len(local) {
		t.Errorf("the central index has %d calls, the sensor %d", len(got), len(local))
	}
	store, err := s3.Open(ctx, s3.Config{URL: srv.URL("lab"), AccessKey: srv.AccessKey, SecretKey: srv.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, c := range local {
		g := byID[c.ID]
		if g == nil || g.Audio != c.Audio || g.AudioSHA256 != c.AudioSHA256 || g.PCAPSHA256 != c.PCAPSHA256 ||
			g.Status != spanrec.Answered || len(g.Streams) != len(c.Streams) || c.Audio == "" {
			bad++
			if bad <= 5 {
				t.Errorf("call %s: central %+v", c.ID, g)
			}
			continue
		}
		for _, f := range [][2]string{{c.Audio, c.AudioSHA256}, {c.PCAP, c.PCAPSHA256}} {
			if ok, err := store.Has(ctx, f[0], f[1]); !ok || err != nil {
				bad++
				t.Errorf("call %s: %s not in the store with its SHA-256 (%v)", c.ID, f[0], err)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d calls not as the sensor has them centrally", bad, len(local))
	}
	for _, f := range figures {
		t.Log("SPAN lab central outage: " + f)
	}
}
