package retention

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The reserve file.
//
// Deleting a call writes to the index before any byte is freed: SQLite
// needs room in its write-ahead log for the deletion's pages, and a
// checkpoint may grow the database file. On a file system with no byte
// left the deletion fails ("database or disk is full") and the guard
// could never free anything. So while the guard is on, the data
// directory keeps a reserve file of ReserveSize bytes (mode 0600, zeros
// written out, not a sparse file; written beside under a flock(2) and
// renamed), made by the guard's first check once
// there is room for it above the minimum free. The guard deletes it
// first when the file system has no byte free, or when a deletion fails
// for lack of space (and then tries that deletion again); it makes it
// again once the minimum plus the reserve are free. Each step is logged
// and counted (Stats.ReserveReleased, ReserveMade; metrics
// spanrec_disk_guard_reserve_*).
const (
	// ReserveName is the reserve file's name in the data directory.
	ReserveName = "space.reserve"
	// ReserveSize is the reserve file's size: room for the write-ahead
	// log of many deletions (each writes tens of KiB) and a checkpoint.
	ReserveSize = 4 << 20
)

// reservePath returns the reserve file's path.
func (s *Sweeper) reservePath() string { return filepath.Join(s.dataDir, ReserveName) }

// hasReserve reports whether the reserve file is there, whole.
func (s *Sweeper) hasReserve() bool {
	fi, err := os.Lstat(s.reservePath())
	return err == nil && fi.Mode().IsRegular() && fi.Size() == ReserveSize
}

// keepReserve makes the reserve file if it is missing (or not whole) and
// the file system has room for it above need (avail bytes free). It
// reports whether it made it.
func (s *Sweeper) keepReserve(avail, need uint64) bool {
	if s.hasReserve() {
		s.reserve.Store(ReserveSize)
		return false
	}
	if avail < need+ReserveSize+ReserveSize/4 {
		// No room (a quarter more for the file system's own blocks):
		// said once until it is made.
		s.reserve.Store(0)
		if !s.reserveShort {
			s.reserveShort = true
			s.log.Warn("disk guard: no room for the reserve file yet; it is made once retention.min_free plus the reserve are free",
				"file", s.reservePath(), "reserve_bytes", ReserveSize, "avail_bytes", avail, "min_free_bytes", need)
		}
		return false
	}
	if made, err := writeReserve(s.reservePath()); err != nil {
		s.errs.Add(1)
		s.log.Error("disk guard: make the reserve file", "err", err)
		return false
	} else if !made {
		return false // another process is making it
	}
	s.reserveShort = false
	s.reserve.Store(ReserveSize)
	s.reserveMade.Add(1)
	s.log.Info("disk guard: made the reserve file: the index keeps room to delete recordings when the disk is full",
		"file", s.reservePath(), "bytes", ReserveSize)
	return true
}

// writeReserve writes the reserve file at path: ReserveSize zeros in a
// file beside it, synced, then renamed over it, so that a crash or a
// full disk never leaves a short reserve under its name. The file beside
// is written under its flock(2): it reports false, and does nothing,
// while another process writes it (two guards of one data directory: a
// record and a serve); a crash's leftover is written over.
func writeReserve(path string) (bool, error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return false, fmt.Errorf("reserve file: %w", err)
	}
	defer f.Close()
	if !tryLock(f) {
		return false, nil
	}
	// Under the lock: the name may have been renamed to the reserve by
	// the holder before (this file is then no longer under it), or the
	// reserve made meanwhile.
	fi, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("reserve file: %w", err)
	}
	if cur, err := os.Lstat(tmp); err != nil || !os.SameFile(fi, cur) {
		return false, nil
	}
	if rfi, err := os.Lstat(path); err == nil && rfi.Mode().IsRegular() && rfi.Size() == ReserveSize {
		_ = os.Remove(tmp)
		return false, nil
	}
	if err := f.Truncate(0); err != nil {
		return false, fmt.Errorf("reserve file: %w", err)
	}
	zeros := make([]byte, 64<<10)
	for n := 0; n < ReserveSize && err == nil; n += len(zeros) {
		_, err = f.Write(zeros[:min(len(zeros), ReserveSize-n)])
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, path) // still locked: nobody writes it meanwhile
	}
	if err != nil {
		_ = os.Remove(tmp)
		return false, fmt.Errorf("reserve file: %w", err)
	}
	return true, nil
}

// releaseReserve deletes the reserve file, giving its room to the index
// (why: the reason logged). It reports whether there was one.
func (s *Sweeper) releaseReserve(why string) bool {
	err := os.Remove(s.reservePath())
	s.reserve.Store(0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.log.Warn("disk guard: no reserve file to give the index room", "why", why, "file", s.reservePath())
		return false
	case err != nil:
		s.errs.Add(1)
		s.log.Error("disk guard: delete the reserve file", "why", why, "err", err)
		return false
	}
	s.reserveReleased.Add(1)
	s.log.Warn("disk guard: deleted the reserve file to give the index room to delete recordings; it is made again once there is room",
		"why", why, "file", s.reservePath(), "bytes", ReserveSize)
	return true
}

// noSpace reports whether err is a failure for lack of space: ENOSPC, or
// SQLite's SQLITE_FULL ("database or disk is full").
func noSpace(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "database or disk is full") || strings.Contains(msg, "no space left on device")
}
