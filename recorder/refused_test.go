package recorder_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/sqlite"
)

// TestImportSummaryRefused: the calls the index refuses (here a real
// SQLite index closed before the import: every write fails) are errors,
// never "recorded" nor "with audio"; the same capture imported into an
// open index counts its calls with audio.
func TestImportSummaryRefused(t *testing.T) {
	path := filepath.Join(pcaptest.CapturesDir(t), "wireshark-samples/sip-rtp-g722.pcap")
	_, _, ok := importFile(t, path)
	// The same capture into an index closed before the import.
	data := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(data, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	bad := importIndex(t, path, data, db)
	if ok.Calls == 0 || ok.WithAudio == 0 || ok.Errors != 0 {
		t.Fatalf("open index: %d calls, %d with audio, %d errors; want calls with audio and no error", ok.Calls, ok.WithAudio, ok.Errors)
	}
	if bad.Assembler.Calls != ok.Assembler.Calls {
		t.Fatalf("closed index: %d calls found, want %d as with the open one", bad.Assembler.Calls, ok.Assembler.Calls)
	}
	if bad.Calls != 0 || bad.WithAudio != 0 || bad.WithoutAudio != 0 || bad.Streams != 0 {
		t.Errorf("closed index: summary counts %d calls recorded (%d with audio, %d without), %d streams; want none: the index took none",
			bad.Calls, bad.WithAudio, bad.WithoutAudio, bad.Streams)
	}
	if bad.Errors != ok.Calls {
		t.Errorf("closed index: %d errors, want %d (every call refused)", bad.Errors, ok.Calls)
	}
}
