package ship_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sqlite"
)

// TestLocalWholeCalls: shipped through ship.Local, the calls of a real
// capture arrive with their streams' quality over time and their INVITE
// headers (a search by header finds them centrally); through the bare
// sqlite.DB, without (what Local is for).
func TestLocalWholeCalls(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	local, err := sqlite.Open(ctx, filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	imp := func() {
		t.Helper()
		src, err := capture.OpenFile(filepath.Join(pcaptest.CapturesDir(t), "wireshark-samples", "sip-rtp-g722.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		if _, err := recorder.Import(ctx, recorder.Config{Call: call.Config{DataDir: data}}, src, local, nil); err != nil {
			t.Fatal(err)
		}
	}
	imp()
	ship1 := func(outbox ship.Outbox) *sqlite.DB {
		t.Helper()
		central, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "central.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { central.Close() })
		if err := (&ship.Shipper{Outbox: outbox, Index: central, DataDir: data}).Drain(ctx); err != nil {
			t.Fatal(err)
		}
		return central
	}
	whole := ship1(ship.Local{DB: local})
	qs, err := local.Outbox(ctx, 10)
	if err != nil || len(qs) != 0 {
		t.Fatalf("outbox after shipping: %v, %v", qs, err)
	}
	calls, err := local.Calls(ctx, spanrec.CallFilter{})
	if err != nil || len(calls) == 0 {
		t.Fatalf("%d calls, %v", len(calls), err)
	}
	headers, intervals := 0, 0
	for _, c := range calls {
		want, _ := local.SIPHeaders(ctx, c.ID)
		got, err := whole.SIPHeaders(ctx, c.ID)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("call %s: headers shipped %+v, %v; want %+v", c.ID, got, err, want)
		}
		headers += len(want)
		wq, _ := local.StreamQuality(ctx, c.ID)
		gq, err := whole.StreamQuality(ctx, c.ID)
		if err != nil || len(gq) != len(wq) {
			t.Fatalf("call %s: quality shipped %d streams, %v; want %d", c.ID, len(gq), err, len(wq))
		}
		for i := range wq {
			if (wq[i] == nil) != (gq[i] == nil) || wq[i] != nil && !slices.Equal(gq[i].Intervals, wq[i].Intervals) {
				t.Errorf("call %s stream %d: quality shipped differs", c.ID, i)
			}
			if wq[i] != nil {
				intervals += len(wq[i].Intervals)
			}
		}
	}
	if headers == 0 || intervals == 0 {
		t.Fatalf("the capture's calls have %d headers and %d quality intervals: nothing to compare", headers, intervals)
	}

	// The same calls shipped (again: imported again, queued again) from
	// the bare index: without.
	imp()
	bare := ship1(local)
	for _, c := range calls {
		if hs, err := bare.SIPHeaders(ctx, c.ID); err != nil || len(hs) != 0 {
			t.Errorf("call %s shipped from the bare index: %d headers, %v; want none (Call leaves them out)", c.ID, len(hs), err)
		}
	}
}
