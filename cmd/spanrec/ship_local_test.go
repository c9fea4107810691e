package main

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/sqlite"
)

// TestImportShipsWholeCalls: the calls a sensor ships (import with a
// central --index) arrive with what sqlite.DB.Call leaves out: their
// INVITE headers (searches by header) and their streams' quality over time
// (the call page's charts).
func TestImportShipsWholeCalls(t *testing.T) {
	ctx := context.Background()
	u := pgtest.NewSchema(t)
	data := filepath.Join(t.TempDir(), "data")
	capture := filepath.Join(pcaptest.CapturesDir(t), "wireshark-samples", "sip-rtp-g722.pcap")
	if code, out, errs := runCLI(t, nil, "import", capture, "--data", data, "--no-progress", "--index", u); code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errs)
	}
	local, err := sqlite.Open(ctx, filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	central, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer central.Close()
	calls, err := local.Calls(ctx, spanrec.CallFilter{})
	if err != nil || len(calls) == 0 {
		t.Fatalf("%d calls, %v", len(calls), err)
	}
	headers, intervals := 0, 0
	for _, c := range calls {
		want, err := local.SIPHeaders(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := central.SIPHeaders(ctx, c.ID); err != nil || !slices.Equal(got, want) {
			t.Errorf("call %s: central headers %+v, %v; local %+v", c.ID, got, err, want)
		}
		headers += len(want)
		wq, err := local.StreamQuality(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		gq, err := central.StreamQuality(ctx, c.ID)
		if err != nil || len(gq) != len(wq) {
			t.Fatalf("call %s: central quality of %d streams, %v; want %d", c.ID, len(gq), err, len(wq))
		}
		for i := range wq {
			if (wq[i] == nil) != (gq[i] == nil) || wq[i] != nil && len(gq[i].Intervals) != len(wq[i].Intervals) {
				t.Errorf("call %s stream %d: central quality differs", c.ID, i)
			}
			if wq[i] != nil {
				intervals += len(wq[i].Intervals)
			}
		}
	}
	if headers == 0 || intervals == 0 {
		t.Fatalf("the capture's calls have %d headers and %d quality intervals: nothing to compare", headers, intervals)
	}
}
