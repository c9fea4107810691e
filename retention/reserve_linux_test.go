//go:build linux

package retention_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/limits"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/retention"
	"github.com/spanrec/spanrec/ship"
	"github.com/spanrec/spanrec/sqlite"
)

// lockedBuffer is a bytes.Buffer safe for a logger's writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// fill writes a file in dir until the file system has no byte left, and
// returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break // ENOSPC; a short write leaves what fitted
		}
	}
	for _, n := range []int{4096, 512, 1} { // the last partial blocks
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	if a := avail(t, dir); a != 0 {
		t.Fatalf("%d bytes free after filling", a)
	}
	return p
}

// TestDiskGuardReserve: a sensor's data directory on a 24 MiB file
// system, its calls (four Wireshark samples) shipped rows only to a real
// PostgreSQL but the last capture's. The disk guard's first check makes
// the reserve file (4 MiB, mode 0600). The file system is filled to its
// last byte: the guard deletes the reserve first, then the oldest shipped
// recordings (never the unshipped ones, although older than some shipped
// ones); once room is back it makes the reserve again. Filled again but
// for one page, the guard's first deletion fails for lack of room in the
// index's write-ahead log ("database or disk is full"): it deletes the
// reserve and deletes the call on its second try. Every step is counted
// and logged; the index stays whole (integrity_check, no deletion left
// begun, every call's files there and no recording unnamed).
func TestDiskGuardReserve(t *testing.T) {
	ctx := context.Background()
	dir := smallFS(t, "24m")
	db := openIndex(t, dir)
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	central, err := postgres.Open(ctx, pgtest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { central.Close() })
	sh := &ship.Shipper{Outbox: ship.Local{DB: db}, Index: central, DataDir: dir, Log: quiet}
	disk := &limits.Disk{}
	// 2005, 2014 and 2016-11-27 shipped; 2016-11-26 (G.726) not.
	for _, rel := range []string{"wireshark-samples/SIP_DTMF2.pcap", "wireshark-samples/nb6-telephone.pcap", "wireshark-samples/sip-rtp-speex.pcap"} {
		importCapture(t, dir, db, disk, rel)
	}
	if err := sh.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	shipped := map[spanrec.CallID]bool{}
	for _, c := range allCalls(t, db) {
		shipped[c.ID] = true
	}
	importCapture(t, dir, db, disk, "wireshark-samples/sip-rtp-g726.pcap")
	before := allCalls(t, db)
	var order []spanrec.CallID // shipped calls with files, oldest first
	unshipped := 0
	for _, c := range before {
		switch {
		case !shipped[c.ID]:
			unshipped++
		case c.Audio != "" || c.PCAP != "":
			order = append(order, c.ID)
		}
	}
	if unshipped == 0 || len(order) < 3 {
		t.Fatalf("%d unshipped calls, %d shipped with files", unshipped, len(order))
	}

	const mib = 1 << 20
	var logs lockedBuffer
	sw := retention.New(retention.Config{MinFree: -1, MinFreeBytes: 6 * mib, Archive: sh, Disk: disk,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))}, db, dir)
	reserve := filepath.Join(dir, retention.ReserveName)
	checkReserve := func(want bool) {
		t.Helper()
		fi, err := os.Stat(reserve)
		switch {
		case !want && !errors.Is(err, fs.ErrNotExist):
			t.Errorf("reserve file: %v, %v; want none", fi, err)
		case want && err != nil:
			t.Errorf("no reserve file: %v", err)
		case want && (fi.Size() != retention.ReserveSize || fi.Mode().Perm() != 0o600):
			t.Errorf("reserve file: %d bytes, mode %v; want %d, 0600", fi.Size(), fi.Mode(), retention.ReserveSize)
		}
	}
	if vs, err := sw.Guard(ctx); err != nil || len(vs) != 0 {
		t.Fatalf("first check: %d deleted, %v", len(vs), err)
	}
	checkReserve(true)
	if st := sw.Stats(); st.ReserveMade != 1 || st.ReserveBytes != retention.ReserveSize {
		t.Errorf("after the first check: %+v", st)
	}

	// Not a byte left. (The index's write-ahead log given back first, as
	// the guard's checkpoint would: so the room the guard finds is the
	// reserve's, not the log's.)
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	filler := fill(t, dir)
	deleted, err := sw.Guard(ctx)
	if err != nil {
		t.Fatalf("guard on a full disk: %v", err)
	}
	checkReserve(false)
	var got []spanrec.CallID
	for _, v := range deleted {
		got = append(got, v.Call.ID)
	}
	t.Logf("full disk: deleted %v; %d KiB free", got, avail(t, dir)>>10)
	if len(got) == 0 || len(got) > len(order) || !slices.Equal(got, order[:len(got)]) {
		t.Errorf("deleted %v, want a prefix of the shipped calls with files, oldest first: %v", got, order)
	}
	if st := sw.Stats(); st.ReserveReleased != 1 || st.ReserveBytes != 0 || st.DeletedByGuard != uint64(len(got)) {
		t.Errorf("after the full disk: %+v", st)
	}
	if !strings.Contains(logs.String(), "no byte free") {
		t.Errorf("the release not logged:\n%s", logs.String())
	}

	// Room back: the reserve is made again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Guard(ctx); err != nil {
		t.Fatal(err)
	}
	checkReserve(true)
	if st := sw.Stats(); st.ReserveMade != 2 {
		t.Errorf("after room came back: %+v", st)
	}

	// Full but for one page: no room for the write-ahead log of a
	// deletion, which fails, then succeeds with the reserve's room.
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	filler = fill(t, dir)
	if err := os.Truncate(filler, mustSize(t, filler)-4096); err != nil {
		t.Fatal(err)
	}
	more, err := sw.Guard(ctx)
	if err != nil {
		t.Fatalf("guard with one page free: %v", err)
	}
	checkReserve(false)
	for _, v := range more {
		got = append(got, v.Call.ID)
	}
	t.Logf("one page free: deleted %d more; %d KiB free", len(more), avail(t, dir)>>10)
	if len(more) == 0 || len(got) > len(order) || !slices.Equal(got, order[:len(got)]) {
		t.Errorf("deleted %v in all, want a prefix of %v", got, order)
	}
	if st := sw.Stats(); st.ReserveReleased != 2 {
		t.Errorf("the reserve was released %d times, want 2 (the deletion failed for lack of space first): %+v", st.ReserveReleased, st)
	}
	if !strings.Contains(logs.String(), "database or disk is full") {
		t.Errorf("the failed deletion not logged as the reason:\n%s", logs.String())
	}
	var m strings.Builder
	if err := sw.WriteMetrics(&m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.String(), "\nspanrec_disk_guard_reserve_released_total 2\n") {
		t.Errorf("metrics:\n%s", m.String())
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}

	// The index is whole; the unshipped calls and the central rows stay.
	checkIndexWhole(t, dir, db)
	left := map[spanrec.CallID]bool{}
	for _, c := range allCalls(t, db) {
		left[c.ID] = true
	}
	for _, c := range before {
		gone := slices.Contains(got, c.ID)
		if left[c.ID] == gone {
			t.Errorf("call %s: deleted %v, still indexed %v", c.ID, gone, left[c.ID])
		}
		if gone && (exists(t, dir, c.Audio) || exists(t, dir, c.PCAP)) {
			t.Errorf("deleted call %s left a file", c.ID)
		}
		if !shipped[c.ID] && gone {
			t.Errorf("unshipped call %s deleted", c.ID)
		}
		if shipped[c.ID] {
			if _, err := central.Call(ctx, c.ID); err != nil {
				t.Errorf("central copy of %s: %v", c.ID, err)
			}
		}
	}
}

// checkIndexWhole checks what spanrec fsck checks of a data directory:
// SQLite's integrity_check, no deletion left begun, every call's files
// there and every recording named by a call.
func checkIndexWhole(t *testing.T, dir string, db *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	out, err := exec.Command("sqlite3", filepath.Join(dir, "index.db"), "PRAGMA integrity_check").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("integrity_check: %s %v", out, err)
	}
	if ds, err := db.PendingDeletions(ctx); err != nil || len(ds) != 0 {
		t.Errorf("deletions left begun: %v, %v", ds, err)
	}
	named := map[string]bool{}
	for _, c := range allCalls(t, db) {
		for _, rel := range []string{c.Audio, c.PCAP} {
			if rel != "" {
				named[rel] = true
				if !exists(t, dir, rel) {
					t.Errorf("call %s: file %s missing", c.ID, rel)
				}
			}
		}
	}
	err = filepath.WalkDir(filepath.Join(dir, "recordings"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err == nil && !named[filepath.ToSlash(rel)] {
			t.Errorf("recording %s named by no call", rel)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
}

func mustSize(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestReserveTwoGuards: two guards of one data directory (a record and a
// serve) make one reserve file between them, without an error (its
// writing is under a flock); a reserve left half-written by a crash is
// written over.
func TestReserveTwoGuards(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openIndex(t, dir)
	importCapture(t, dir, db, nil, "wireshark-samples/nb6-telephone.pcap")
	reserve := filepath.Join(dir, retention.ReserveName)
	// A crash's leftover.
	if err := os.WriteFile(reserve+".tmp", []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	var guards []*retention.Sweeper
	for range 2 {
		guards = append(guards, retention.New(retention.Config{MinFree: -1, MinFreeBytes: 1 << 20, Logger: quiet}, db, dir))
	}
	var wg sync.WaitGroup
	for _, g := range guards {
		wg.Go(func() {
			for range 3 {
				if _, err := g.Guard(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for _, g := range guards { // the next check of each
		if _, err := g.Guard(ctx); err != nil {
			t.Error(err)
		}
	}
	fi, err := os.Stat(reserve)
	if err != nil || fi.Size() != retention.ReserveSize || fi.Mode().Perm() != 0o600 {
		t.Fatalf("reserve file: %v, %v", fi, err)
	}
	if _, err := os.Stat(reserve + ".tmp"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the half-written reserve is left: %v", err)
	}
	var made, errs uint64
	for _, g := range guards {
		st := g.Stats()
		made += st.ReserveMade
		errs += st.Errors
		if st.ReserveBytes != retention.ReserveSize {
			t.Errorf("a guard sees no reserve: %+v", st)
		}
	}
	if made != 1 || errs != 0 {
		t.Errorf("the guards made the reserve %d times with %d errors, want once and none", made, errs)
	}
}
