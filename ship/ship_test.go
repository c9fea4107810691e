package ship_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/s3"
	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sqlite"
)

func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	cleanupBench()
	os.Exit(code)
}

// importInto records a third-party capture into the sensor's data
// directory and index, as `spanrec import` does.
func importInto(t *testing.T, data string, db *sqlite.DB, rel string) {
	t.Helper()
	src, err := capture.OpenFile(filepath.Join(pcaptest.CapturesDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := recorder.Import(context.Background(), recorder.Config{Call: call.Config{DataDir: data}}, src, db, nil); err != nil {
		t.Fatalf("import %s: %v", rel, err)
	}
}

func allCalls(t *testing.T, ix spanrec.CallIndex) map[spanrec.CallID]*spanrec.Call {
	t.Helper()
	cs, err := ix.Calls(context.Background(), spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[spanrec.CallID]*spanrec.Call{}
	for _, c := range cs {
		m[c.ID] = c
	}
	return m
}

// TestShip ships a sensor's calls (real captures imported) to a real
// PostgreSQL index and a real SeaweedFS store: every call arrives once,
// with its files verified against the index's SHA-256; an S3 outage
// leaves the calls queued, and they all arrive when it is back; a call
// stored again is shipped again (one row); a file missing on the sensor is
// said in the shipped call's notes.
func TestShip(t *testing.T) {
	ctx := context.Background()
	srv, store, central := centralSide(t, "site-a")
	data, local := sensorDir(t)
	sh := &ship.Shipper{Outbox: local, Index: central, Store: store, DataDir: data}

	importInto(t, data, local, "wireshark-samples/sip-rtp-g722.pcap")
	importInto(t, data, local, "wireshark-samples/nb6-telephone.pcap")
	want := allCalls(t, local)
	if n, _, _ := local.OutboxBacklog(ctx); n != len(want) || n < 2 {
		t.Fatalf("outbox: %d calls queued, %d recorded", n, len(want))
	}
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	checkShipped(t, central, store, want)
	if n, _, _ := local.OutboxBacklog(ctx); n != 0 {
		t.Errorf("outbox after shipping: %d calls", n)
	}
	st := sh.Stats()
	if st.Calls != len(want) || st.Files == 0 || st.MissingFiles != 0 {
		t.Errorf("stats %+v for %d calls", st, len(want))
	}

	// S3 down: recording goes on, shipping fails, nothing is lost.
	srv.Kill()
	importInto(t, data, local, "wireshark-samples/SIP_DTMF2.pcap")
	if err := sh.Drain(ctx); err == nil {
		t.Fatal("shipping with the store down did not fail")
	}
	n, oldest, err := local.OutboxBacklog(ctx)
	if err != nil || n == 0 || oldest.IsZero() {
		t.Fatalf("backlog during the outage: %d calls, oldest %v, %v", n, oldest, err)
	}
	t.Logf("outage: %d calls wait, the oldest ended %v", n, oldest)
	if got := len(allCalls(t, central)); got != len(want) {
		t.Errorf("during the outage the central index has %d calls, want the %d shipped before", got, len(want))
	}
	srv.Restart(t)
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	want = allCalls(t, local)
	checkShipped(t, central, store, want)

	// The same capture imported again: its calls are stored again,
	// queued again, shipped again, still one row each.
	importInto(t, data, local, "wireshark-samples/sip-rtp-g722.pcap")
	if n, _, _ := local.OutboxBacklog(ctx); n == 0 {
		t.Error("a call stored again was not queued again")
	}
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	checkShipped(t, central, store, allCalls(t, local))

	// A file gone from the sensor: the call is shipped without it.
	importInto(t, data, local, "wireshark-samples/aaa.pcap")
	qs, err := local.Outbox(ctx, 100)
	if err != nil || len(qs) == 0 {
		t.Fatalf("outbox: %v, %v", qs, err)
	}
	c, err := local.Call(ctx, qs[0].ID)
	if err != nil || c.PCAP == "" {
		t.Fatalf("call %s: %v", qs[0].ID, err)
	}
	if err := os.Remove(filepath.Join(data, filepath.FromSlash(c.PCAP))); err != nil {
		t.Fatal(err)
	}
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := central.Call(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PCAP != "" || !strings.Contains(strings.Join(got.Notes, "\n"), "missing on the sensor") || sh.Stats().MissingFiles != 1 {
		t.Errorf("call shipped without its pcap: pcap %q, notes %q, stats %+v", got.PCAP, got.Notes, sh.Stats())
	}
}

// checkShipped checks that the central index holds want (by ID, with the
// same files and hashes) and that the store holds each file with content
// matching its hash.
func checkShipped(t *testing.T, central spanrec.CallIndex, store *s3.Store, want map[spanrec.CallID]*spanrec.Call) {
	t.Helper()
	ctx := context.Background()
	got := allCalls(t, central)
	if len(got) != len(want) {
		t.Errorf("central index: %d calls, sensor %d", len(got), len(want))
	}
	for id, w := range want {
		g := got[id]
		if g == nil {
			t.Errorf("call %s not in the central index", id)
			continue
		}
		if g.SIPCallID != w.SIPCallID || g.Audio != w.Audio || g.AudioSHA256 != w.AudioSHA256 || g.PCAPSHA256 != w.PCAPSHA256 || len(g.Streams) != len(w.Streams) {
			t.Errorf("call %s: central %q %q %q, sensor %q %q %q", id, g.SIPCallID, g.Audio, g.AudioSHA256, w.SIPCallID, w.Audio, w.AudioSHA256)
		}
		for _, f := range [][2]string{{w.Audio, w.AudioSHA256}, {w.PCAP, w.PCAPSHA256}} {
			if f[0] == "" {
				continue
			}
			b, err := store.Open(ctx, f[0])
			if err != nil {
				t.Errorf("call %s: %s: %v", id, f[0], err)
				continue
			}
			if err := b.Verify(f[1]); err != nil {
				t.Errorf("call %s: %s: %v", id, f[0], err)
			}
			b.Close()
		}
	}
}
