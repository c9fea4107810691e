package recorder_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sqlite"
)

// TestImportSummaryRefused: the calls the index refuses (here a real
// SQLite index closed before the import: every write fails) are errors,
// never "recorded" nor "with audio"; the same capture imported into an
// open index counts its calls with audio.
func TestImportSummaryRefused(t *testing.T) {
	path := filepath.Join(pcaptest.CapturesDir(t), "wireshark-samples/sip-rtp-g722.pcap")
	run := func(closed bool) recorder.Summary {
		data := t.TempDir()
		src, err := capture.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		db, err := sqlite.Open(context.Background(), filepath.Join(data, "index.db"))
		if err != nil {
			t.Fatal(err)
		}
		if closed {
			db.Close()
		} else {
			defer db.Close()
		}
		sum, err := recorder.Import(context.Background(), recorder.Config{Call: call.Config{DataDir: data}}, src, db, nil)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	ok := run(false)
	if ok.Calls == 0 || ok.WithAudio == 0 || ok.Errors != 0 {
		t.Fatalf("open index: %d calls, %d with audio, %d errors; want calls with audio and no error", ok.Calls, ok.WithAudio, ok.Errors)
	}
	bad := run(true)
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
