package retention_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/retention"
)

// dirsUnder lists the directories under dir/recordings, relative to dir.
func dirsUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, "recordings"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDeleteRemovesEmptyDirs: deleting every call of a day (the demo's
// calls and a Wireshark sample, recorded on two days and a third-party
// capture's own date) removes that day's recordings/YYYY/MM/DD directory,
// and its month and year once empty; a day that keeps a call keeps its
// directory, and recordings/ stays.
func TestDeleteRemovesEmptyDirs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openIndex(t, dir)
	old := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	recent := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	importDemo(t, dir, db, old)
	importDemo(t, dir, db, recent)
	importCapture(t, dir, db, nil, "wireshark-samples/sip-rtp-g722.pcap")
	before := dirsUnder(t, dir)
	for _, want := range []string{"recordings/2025/03/14", "recordings/2026/11/30"} {
		if !strings.Contains(strings.Join(before, " "), want) {
			t.Fatalf("no %s among %v", want, before)
		}
	}
	d := &retention.Deleter{Index: db, DataDir: dir, Logger: quiet}
	var keep *spanrec.Call
	for _, c := range allCalls(t, db) {
		if !c.Start.Before(recent) && keep == nil && c.PCAP != "" {
			keep = c // one call of the recent day stays
			continue
		}
		if err := d.Delete(ctx, c, "ada", "", "deleted by an admin"); err != nil {
			t.Fatal(err)
		}
	}
	after := dirsUnder(t, dir)
	t.Logf("directories before %v, after %v", before, after)
	want := []string{"recordings", "recordings/2026", "recordings/2026/11", "recordings/2026/11/30"}
	if strings.Join(after, " ") != strings.Join(want, " ") {
		t.Errorf("directories left: %v; want %v", after, want)
	}
	if !exists(t, dir, keep.PCAP) {
		t.Errorf("the call kept lost its pcap %s", keep.PCAP)
	}
	if err := d.Delete(ctx, keep, "ada", "", "deleted by an admin"); err != nil {
		t.Fatal(err)
	}
	if got := dirsUnder(t, dir); len(got) != 1 || got[0] != "recordings" {
		t.Errorf("after the last deletion: %v; want recordings/ alone", got)
	}
}
