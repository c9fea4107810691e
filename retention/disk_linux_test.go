//go:build linux

package retention_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/retention"
	"golang.org/x/sys/unix"
)

// smallFS mounts a tmpfs of size bytes for the test, or skips it where
// that is not allowed (not root, no mount namespace).
func smallFS(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fs")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0750"); err != nil {
		t.Skipf("cannot mount a tmpfs (root needed): %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("umount %s: %v", dir, err)
		}
	})
	return dir
}

func avail(t *testing.T, dir string) uint64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return st.Bavail * uint64(st.Bsize)
}

// TestDiskGuard fills an 8 MiB file system with real imports of
// third-party captures. Below min_free the guard deletes the oldest
// recordings first and never a held one; when everything left is held
// the verdict turns full: the next import indexes its calls without
// audio, with the note, counted in the metrics; the index stays whole.
func TestDiskGuard(t *testing.T) {
	ctx := context.Background()
	dir := smallFS(t, "8m")
	db := openIndex(t, dir)
	// The new index's migrations went through the write-ahead log
	// (1–2 MiB since the eleventh session's search tables and indexes):
	// give it back, as a recorder's first checkpoint would, so that the
	// 8 MiB hold the recordings below.
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	disk := &limits.Disk{}
	const mib = 1 << 20
	guard := func(minFree int64) (*retention.Sweeper, []retention.Victim) {
		t.Helper()
		s := retention.New(retention.Config{MinFree: -1, MinFreeBytes: minFree, Disk: disk, Logger: quiet}, db, dir)
		vs, err := s.Guard(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s, vs
	}

	// 2005 (two calls, one answered with audio), 2014 (one), 2016-11-27
	// (three Speex calls): about 3.1 MiB of recordings.
	for _, rel := range []string{"wireshark-samples/SIP_DTMF2.pcap", "wireshark-samples/nb6-telephone.pcap", "wireshark-samples/sip-rtp-speex.pcap"} {
		importCapture(t, dir, db, disk, rel)
	}
	if _, vs := guard(3 * mib); len(vs) != 0 {
		t.Fatalf("the guard deleted %d calls with %d MiB free", len(vs), avail(t, dir)/mib)
	}
	first := allCalls(t, db)
	var held *spanrec.Call // the oldest call with audio
	for _, c := range first {
		if c.Audio != "" {
			held = c
			break
		}
	}
	if held == nil || held.Start.Year() != 2005 {
		t.Fatalf("the 2005 call with audio is missing: %+v", held)
	}
	if err := db.SetLegalHold(ctx, held.ID, &spanrec.LegalHold{By: "alice", Reason: "case 1"}); err != nil {
		t.Fatal(err)
	}

	// 2016-11-26 (three G.726 calls, 2.7 MiB): less than 3 MiB is left.
	importCapture(t, dir, db, disk, "wireshark-samples/sip-rtp-g726.pcap")
	before := allCalls(t, db)
	if a := avail(t, dir); a >= 3*mib {
		t.Fatalf("%.1f MiB free after four imports: the test needs less than 3", float64(a)/mib)
	}
	s, deleted := guard(3 * mib)
	if a := avail(t, dir); a < 3*mib {
		t.Errorf("%.1f MiB free after the guard, want 3", float64(a)/mib)
	}
	if disk.Full() {
		t.Error("verdict full although recordings could be deleted")
	}
	// Oldest first, the held call skipped: the deleted calls are a prefix
	// of the calls with files in start order.
	var order []spanrec.CallID
	for _, c := range before {
		if c.ID != held.ID && (c.Audio != "" || c.PCAP != "") {
			order = append(order, c.ID)
		}
	}
	var got []spanrec.CallID
	for _, v := range deleted {
		got = append(got, v.Call.ID)
		if v.By != retention.ByDiskGuard || !strings.Contains(v.Reason, "below retention.min_free") {
			t.Errorf("victim %s: by %s, reason %q", v.Call.ID, v.By, v.Reason)
		}
	}
	if len(got) == 0 || len(got) >= len(order) || !slices.Equal(got, order[:len(got)]) {
		t.Errorf("deleted %v\nwant a prefix of (oldest first) %v", got, order)
	}
	left := allCalls(t, db)
	if len(left) != len(before)-len(got) {
		t.Errorf("%d calls left, want %d", len(left), len(before)-len(got))
	}
	if c, err := db.Call(ctx, held.ID); err != nil || c.LegalHold == nil || !exists(t, dir, c.Audio) {
		t.Errorf("held call: %v (files kept: %v)", err, err == nil && exists(t, dir, c.Audio))
	}
	for _, id := range got {
		for _, c := range before {
			if c.ID == id && (exists(t, dir, c.Audio) || exists(t, dir, c.PCAP)) {
				t.Errorf("deleted call %s left a file", id)
			}
		}
	}
	if es, n, _ := db.Events(ctx, auth.EventFilter{User: retention.ByDiskGuard}); n != len(got) || es[0].Action != auth.ActionDelete {
		t.Errorf("%d audit entries by the disk guard, want %d", n, len(got))
	}
	if st := s.Stats(); st.DeletedByGuard != uint64(len(got)) || st.DiskFull {
		t.Errorf("stats %+v", st)
	}

	// Everything left under hold, and more asked to be free than can be:
	// nothing may be deleted.
	for _, c := range left {
		if c.LegalHold == nil {
			if err := db.SetLegalHold(ctx, c.ID, &spanrec.LegalHold{By: "alice"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, deleted = guard(7 * mib)
	if len(deleted) != 0 {
		t.Errorf("the guard deleted held calls: %v", deleted)
	}
	if !disk.Full() {
		t.Fatal("verdict not full")
	}
	// The next calls (2016-11-26, L16, 5 MiB of recordings if kept) are
	// indexed without audio.
	sum := importCapture(t, dir, db, disk, "wireshark-samples/sip-rtp-l16.pcap")
	if sum.Calls < 3 || sum.Errors != 0 || sum.WithAudio != 0 || sum.Assembler.DiskFull != sum.Calls {
		t.Errorf("import while full: %d calls, %d errors, %d with audio, %d refused", sum.Calls, sum.Errors, sum.WithAudio, sum.Assembler.DiskFull)
	}
	var noAudio int
	for _, c := range allCalls(t, db) {
		if slices.Contains(c.Notes, call.NoteDiskFull) {
			noAudio++
			if c.Audio != "" || c.PCAP != "" || len(c.Streams) == 0 || c.Codecs[0] != "L16" {
				t.Errorf("call %s kept without audio: audio %q pcap %q, %d streams, codecs %v", c.ID, c.Audio, c.PCAP, len(c.Streams), c.Codecs)
			}
		}
	}
	if noAudio != sum.Calls {
		t.Errorf("%d calls with the note %q, want %d", noAudio, call.NoteDiskFull, sum.Calls)
	}
	var m strings.Builder
	if err := s.WriteMetrics(&m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nspanrec_disk_guard_full 1\n", fmt.Sprintf("\nspanrec_calls_audio_not_kept_total{reason=\"disk_full\"} %d\n", sum.Calls)} {
		if !strings.Contains(m.String(), want) {
			t.Errorf("metrics lack %q:\n%s", strings.TrimSpace(want), m.String())
		}
	}

	// The holds released but the first: the guard frees space again and
	// new calls keep their audio.
	for _, c := range left {
		if c.ID != held.ID {
			if err := db.SetLegalHold(ctx, c.ID, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	// (What it frees may be the index's write-ahead log alone: the
	// guard checkpoints it before deleting recordings.)
	if _, vs := guard(3 * mib); disk.Full() {
		t.Errorf("verdict full %v after deleting %d calls", disk.Full(), len(vs))
	}
	if _, err := db.Call(ctx, held.ID); err != nil {
		t.Errorf("held call: %v", err)
	}
	// The index is whole.
	if out, err := exec.Command("sqlite3", filepath.Join(dir, "index.db"), "PRAGMA integrity_check").CombinedOutput(); err == nil && strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("integrity_check: %s", out)
	}
}
