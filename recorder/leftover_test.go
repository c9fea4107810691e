package recorder_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sqlite"
)

// TestRecoverRemovesImportLeftovers: an import killed with kill -9 leaves
// the spool directories of its calls in progress (no journal: an import
// keeps none) and their pcapngs, which no index row points to (405 files
// and 403 folders, 51 MB, stayed forever). The next writer, holding the
// data directory's lock, removes them; what the index lists stays.
func TestRecoverRemovesImportLeftovers(t *testing.T) {
	s := record(t, pcaptest.Call{})
	kept := s.call(t, 0)
	day := filepath.Join(s.data, "recordings", "2026", "11", "01")
	leftovers := []string{
		filepath.Join(s.data, "spool", "0123456789abcdef0123", "1.g711"),
		filepath.Join(day, "0123456789abcdef0123.pcapng"),
	}
	for _, p := range leftovers {
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, 4096), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(s.data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, locked := range []bool{false, true} {
		cfg := recorder.Config{Call: call.Config{DataDir: s.data}, Locked: locked}
		if _, err := recorder.Recover(context.Background(), cfg, db, nil); err != nil {
			t.Fatal(err)
		}
		for _, p := range leftovers {
			_, err := os.Stat(p)
			if gone := os.IsNotExist(err); gone != locked {
				t.Errorf("locked %v: %s gone: %v", locked, p, gone)
			}
		}
	}
	if left := pcaptest.SpoolEntries(t, s.data); len(left) > 0 {
		t.Errorf("spool left: %v", left)
	}
	for _, p := range []string{kept.PCAP, kept.Audio} {
		if _, err := os.Stat(filepath.Join(s.data, p)); err != nil {
			t.Errorf("an indexed call's file is gone: %v", err)
		}
	}
	if _, err := db.Call(context.Background(), kept.ID); err != nil {
		t.Error(err)
	}
}
