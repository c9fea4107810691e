package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// ShipLockFile is the name of the shipping lock in a data directory: the
// process whose Shipper sends the directory's outbox to the central side
// holds it (record with a central side, from the time it gets it until it
// stops; import while it ships at its end; ship; migrate), so that two
// Shippers of one outbox never work together: one could tell the central
// index of a call's deletion before the other, which read the call before
// it was deleted, ships it. It is apart from the writer's lock (LockFile):
// `spanrec ship` does not write recordings and runs beside a recorder
// without a central side.
const ShipLockFile = "ship.lock"

// errShipping says that another process ships the data directory.
var errShipping = errors.New("another process ships this data directory")

// shipLockPoll is how often a process waiting for the shipping lock looks
// again.
const shipLockPoll = time.Second

// lockShipping takes the shipping lock of dataDir without waiting, for
// command (recorded for the others: "spanrec record", never the flags,
// which may hold a password). When another process holds it, it returns a
// nil lock and what that process recorded.
func lockShipping(dataDir, command string) (*dataLock, lockInfo, error) {
	l, who, err := tryLockFile(filepath.Join(dataDir, ShipLockFile), command)
	if err != nil {
		return nil, lockInfo{}, fmt.Errorf("shipping lock of %s: %w", dataDir, err)
	}
	return l, who, nil
}

// waitShipping takes the shipping lock of dataDir, looking again every
// shipLockPoll while another process holds it, until ctx is done (its
// error then). waiting, if set, is called once, when it has to wait.
func waitShipping(ctx context.Context, dataDir, command string, waiting func(lockInfo)) (*dataLock, error) {
	t := time.NewTicker(shipLockPoll)
	defer t.Stop()
	told := false
	for {
		l, who, err := lockShipping(dataDir, command)
		if err != nil || l != nil {
			return l, err
		}
		if !told && waiting != nil {
			waiting(who)
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// String names the holder of a lock for messages: "pid 42 (spanrec
// record, since 2026-12-07T09:00:00Z)", or "another spanrec" if it
// recorded nothing readable.
func (w lockInfo) String() string {
	if w.PID == 0 {
		return "another spanrec"
	}
	return fmt.Sprintf("pid %d (%s, since %s)", w.PID, w.Command, w.Since.Format(time.RFC3339))
}
