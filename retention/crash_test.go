package retention

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sqlite"
)

// The crash child: deletes the call $SPANREC_CRASH_CALL of the data
// directory $SPANREC_CRASH_DIR and kills itself (SIGKILL: no deferred
// function, no database close) at the seam $SPANREC_CRASH_SEAM.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("SPANREC_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestCrashBetweenSteps")
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Call(ctx, spanrec.CallID(os.Getenv("SPANREC_CRASH_CALL")))
	if err != nil {
		t.Fatal(err)
	}
	d := &Deleter{Index: db, DataDir: dir, Logger: slog.New(slog.DiscardHandler), crash: func(seam string) {
		if seam == os.Getenv("SPANREC_CRASH_SEAM") {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute)
		}
	}}
	if err := d.Delete(ctx, c, "carol", "192.0.2.1", "deleted by an admin"); err != nil {
		t.Fatal(err)
	}
	t.Fatal("the child was not killed")
}

// TestCrashBetweenSteps kills a process deleting a call (a B2BUA leg
// whose other leg stays) after it recorded the intent, and after it
// removed the files, then opens the data directory again: the index still
// lists the call until Recover, which finishes the deletion, audits it
// and leaves the other leg consistent.
func TestCrashBetweenSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, seam := range []string{"intent", "files"} {
		t.Run(seam, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			db, err := sqlite.Open(ctx, filepath.Join(dir, "index.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { db.Close() }()
			// Two legs of one conversation through a PBX, each with
			// its own media, linked by the header the PBX adds.
			b := pcaptest.B2BUA{
				Caller:  pcaptest.Endpoint{Number: "3001", SIP: netip.MustParseAddr("10.9.1.1")},
				Callee:  pcaptest.Endpoint{Number: "3002", SIP: netip.MustParseAddr("10.9.2.1")},
				PBX:     netip.MustParseAddr("10.9.0.5"),
				Headers: []string{"X-Orig-Call-ID: {a}"},
			}
			var buf bytes.Buffer
			if err := pcaptest.Write(&buf, pcaptest.Options{Calls: b.Legs(0)}); err != nil {
				t.Fatal(err)
			}
			src, err := capture.NewReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := recorder.Import(ctx, recorder.Config{Call: call.Config{DataDir: dir}, Logger: slog.New(slog.DiscardHandler)}, src, db, nil); err != nil {
				t.Fatal(err)
			}
			cs, err := db.Calls(ctx, spanrec.CallFilter{Sort: spanrec.SortStart})
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) < 2 || cs[0].Interaction != cs[0].ID || cs[1].Interaction != cs[0].ID {
				t.Fatalf("want two legs of one interaction, got %d calls", len(cs))
			}
			victim, other := cs[0], cs[1] // the earliest leg names the interaction
			files := []string{filepath.Join(dir, victim.Audio), filepath.Join(dir, victim.PCAP)}
			db.Close()

			child := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
			child.Env = append(os.Environ(), "SPANREC_CRASH_DIR="+dir, "SPANREC_CRASH_CALL="+string(victim.ID), "SPANREC_CRASH_SEAM="+seam)
			out, err := child.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child not killed at %s: %v\n%s", seam, err, out)
			}

			db, err = sqlite.Open(ctx, filepath.Join(dir, "index.db"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Call(ctx, victim.ID); err != nil {
				t.Errorf("after the crash the row must still be there: %v", err)
			}
			for _, f := range files {
				_, err := os.Stat(f)
				if gone := errors.Is(err, fs.ErrNotExist); gone != (seam == "files") {
					t.Errorf("after a crash at %s: %s gone = %v", seam, f, gone)
				}
			}
			ds, err := db.PendingDeletions(ctx)
			if err != nil || len(ds) != 1 || ds[0].Call != victim.ID || ds[0].By != "carol" {
				t.Fatalf("pending deletions %+v, %v", ds, err)
			}

			d := &Deleter{Index: db, DataDir: dir, Logger: slog.New(slog.DiscardHandler)}
			n, err := d.Recover(ctx)
			if err != nil || n != 1 {
				t.Fatalf("Recover = %d, %v", n, err)
			}
			if _, err := db.Call(ctx, victim.ID); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
				t.Errorf("row after Recover: %v", err)
			}
			for _, f := range files {
				if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s after Recover: %v", f, err)
				}
			}
			o, err := db.Call(ctx, other.ID)
			if err != nil {
				t.Fatal(err)
			}
			if o.Interaction != o.ID || len(o.Legs) != 0 {
				t.Errorf("other leg: interaction %s, legs %v; want its own, none", o.Interaction, o.Legs)
			}
			if _, err := os.Stat(filepath.Join(dir, o.Audio)); err != nil {
				t.Errorf("other leg's audio: %v", err)
			}
			es, _, err := db.Events(ctx, auth.EventFilter{Action: auth.ActionDelete})
			if err != nil || len(es) != 1 || es[0].User != "carol" || es[0].CallID != string(victim.ID) || es[0].Remote != "192.0.2.1" {
				t.Errorf("audit %+v, %v", es, err)
			}
			if ds, _ := db.PendingDeletions(ctx); len(ds) != 0 {
				t.Errorf("pending after Recover: %+v", ds)
			}
			if n, err := d.Recover(ctx); n != 0 || err != nil {
				t.Errorf("second Recover = %d, %v", n, err)
			}
		})
	}
}
