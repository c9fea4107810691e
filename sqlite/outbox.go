package sqlite

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/spanrec/spanrec"
)

// The outbox (migration 0015): every call PutCall stores is queued for
// shipping to a central index and store (package ship), in order of end
// time, until MarkShipped takes it off. A recorder without a central side
// keeps a row per call there, which retention deletes with the call.

const queueCall = `INSERT INTO outbox (call_id, end_ns, queued_ns) VALUES (?, ?, ?)
	ON CONFLICT (call_id) DO UPDATE SET end_ns = excluded.end_ns, queued_ns = excluded.queued_ns`

// lastVersion is the last outbox version handed out: the time in
// nanoseconds, or one more than the last if the clock has not moved.
var lastVersion atomic.Int64

func queueVersion() int64 {
	for {
		last, now := lastVersion.Load(), time.Now().UnixNano()
		if now <= last {
			now = last + 1
		}
		if lastVersion.CompareAndSwap(last, now) {
			return now
		}
	}
}

// Queued is a call waiting in the outbox, at the version it was queued.
type Queued struct {
	ID      spanrec.CallID
	End     time.Time
	Version int64
}

// Outbox returns up to limit calls waiting to be shipped, the one that
// ended first first.
func (db *DB) Outbox(ctx context.Context, limit int) ([]Queued, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT call_id, end_ns, queued_ns FROM outbox ORDER BY end_ns, call_id LIMIT ?`, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("sqlite: outbox: %w", err)
	}
	defer rows.Close()
	var out []Queued
	for rows.Next() {
		var q Queued
		var end int64
		if err := rows.Scan(&q.ID, &end, &q.Version); err != nil {
			return nil, fmt.Errorf("sqlite: outbox: %w", err)
		}
		q.End = time.Unix(0, end).UTC()
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: outbox: %w", err)
	}
	return out, nil
}

// MarkShipped takes q off the outbox, unless the call was stored again
// (a newer version) since: then it stays, to be shipped again.
func (db *DB) MarkShipped(ctx context.Context, q Queued) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM outbox WHERE call_id = ? AND queued_ns = ?`, q.ID, q.Version); err != nil {
		return fmt.Errorf("sqlite: mark %s shipped: %w", q.ID, err)
	}
	return nil
}

// OutboxBacklog returns how many calls wait in the outbox and when the
// oldest of them ended (zero if none).
func (db *DB) OutboxBacklog(ctx context.Context) (calls int, oldest time.Time, err error) {
	var end *int64
	if err := db.r.QueryRowContext(ctx, `SELECT count(*), min(end_ns) FROM outbox`).Scan(&calls, &end); err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: outbox backlog: %w", err)
	}
	if end != nil {
		oldest = time.Unix(0, *end).UTC()
	}
	return calls, oldest, nil
}

// IsQueued reports whether the call waits in the outbox (not shipped
// since it was last stored).
func (db *DB) IsQueued(ctx context.Context, id spanrec.CallID) (bool, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE call_id = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlite: outbox %s: %w", id, err)
	}
	return n > 0, nil
}

// OutboxFiles calls fn with the files (paths in the data directory, ""
// for none) of every call waiting in the outbox, for the size of the
// backlog; fn returning false stops it.
func (db *DB) OutboxFiles(ctx context.Context, fn func(id spanrec.CallID, audio, pcap string) bool) error {
	rows, err := db.r.QueryContext(ctx, `SELECT o.call_id, c.audio, c.pcap FROM outbox o JOIN calls c ON c.id = o.call_id`)
	if err != nil {
		return fmt.Errorf("sqlite: outbox files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id spanrec.CallID
		var audio, pcap string
		if err := rows.Scan(&id, &audio, &pcap); err != nil {
			return fmt.Errorf("sqlite: outbox files: %w", err)
		}
		if !fn(id, audio, pcap) {
			return nil
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: outbox files: %w", err)
	}
	return nil
}

// Requeue queues the call again (its central copy was found missing or
// different): it is shipped again. A call not indexed is not queued.
func (db *DB) Requeue(ctx context.Context, id spanrec.CallID) error {
	if _, err := db.w.ExecContext(ctx, `INSERT INTO outbox (call_id, end_ns, queued_ns)
		SELECT id, coalesce(end_ns, start_ns, 0), ? FROM calls WHERE id = ?
		ON CONFLICT (call_id) DO NOTHING`, queueVersion(), id); err != nil {
		return fmt.Errorf("sqlite: queue %s again: %w", id, err)
	}
	return nil
}
