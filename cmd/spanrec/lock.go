package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LockFile is the name of the lock file in a data directory: the writer
// that holds it (record or import) owns the spool, the recordings and the
// index; a second writer would recycle the first one's spool files and
// overwrite its recordings. Readers (serve, calls, show) do not take it.
const LockFile = "lock"

// lockInfo is what a writer records in the lock file, for the error a
// refused writer prints.
type lockInfo struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

// dataLock is a held data directory lock; Close releases it.
type dataLock struct{ f *os.File }

// errLocked says that another writer holds the data directory.
var errLocked = errors.New("data directory is locked")

// lockDataDir takes the writer's lock of dataDir (which must exist),
// without waiting: an flock(2) on dataDir/lock, which the kernel releases
// when the process ends, however it ends (kill -9 included), so a stale
// lock file never blocks. command ("spanrec record") is recorded for the
// error another writer gets: the command's name only, never its flags,
// which may carry a password (an --index URL) and the file outlives the
// process.
func lockDataDir(dataDir, command string) (*dataLock, error) {
	l, who, err := tryLockFile(filepath.Join(dataDir, LockFile), command)
	switch {
	case err != nil:
		return nil, fmt.Errorf("lock data directory %s: %w", dataDir, err)
	case l != nil:
		return l, nil
	case who.PID == 0:
		return nil, fmt.Errorf("%w: %s is being written by another spanrec (record or import); wait for it or stop it", errLocked, dataDir)
	}
	return nil, fmt.Errorf("%w: %s is being written by pid %d (%s) since %s; wait for it or stop it (spanrec serve may run beside it)",
		errLocked, dataDir, who.PID, who.Command, who.Since.Format(time.RFC3339))
}

// tryLockFile takes an flock(2) on the file path (created if need be)
// without waiting and records in it who holds it (command: the command's
// name, never its flags). When another open file holds it, it returns
// a nil lock and what the holder recorded (zero if nothing readable).
func tryLockFile(path, command string) (*dataLock, lockInfo, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, lockInfo{}, err
	}
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, lockInfo{}, err
	}
	if !ok {
		defer f.Close()
		var who lockInfo
		// Bounded: the file is anybody's to write.
		b, _ := io.ReadAll(io.NewSectionReader(f, 0, maxLockInfo))
		if json.Unmarshal(b, &who) != nil {
			who = lockInfo{}
		}
		who.Command = redactCommand(who.Command)
		return nil, who, nil
	}
	b, _ := json.Marshal(lockInfo{PID: os.Getpid(), Command: command, Since: time.Now().UTC().Truncate(time.Second)})
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt(append(b, '\n'), 0)
	}
	return &dataLock{f: f}, lockInfo{}, nil
}

// maxLockInfo bounds what is read of a lock file: a spanrec writes a few
// dozen bytes; a longer file is not one of its (and is not parsed).
const maxLockInfo = 4 << 10

// redactCommand returns the holder's command as recorded in a lock file,
// fit to be shown in another process's error: a lock file written by an
// older spanrec held the whole command line, which may carry a password
// (--index postgres://user:PASSWORD@host/db, --store s3://KEY:SECRET@host,
// a key=value password=...), until the next writer truncated it. The
// user information of anything with "://" is replaced by "…", as is the
// value of any password= word.
func redactCommand(cmd string) string {
	words := strings.Fields(cmd)
	for i, w := range words {
		if j := strings.Index(w, "://"); j >= 0 {
			if k := strings.LastIndexByte(w[j+3:], '@'); k >= 0 {
				w = w[:j+3] + "…" + w[j+3+k:]
			}
		}
		if j := strings.Index(strings.ToLower(w), "password="); j >= 0 {
			w = w[:j+len("password=")] + "…"
		}
		words[i] = w
	}
	return strings.Join(words, " ")
}

// Close releases the lock. The file stays: removing it would race with a
// writer that opened it and waits to lock it.
func (l *dataLock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
