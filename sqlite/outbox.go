package sqlite

import (
	"context"
	"database/sql"
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

// MarkShippedTo takes q off the outbox as MarkShipped does and records,
// in the same transaction, where its files went: spanrec.ShippedToStore
// or spanrec.ShippedRow (the central row names this sensor's files). The
// deletion of the call tells the central index accordingly.
func (db *DB) MarkShippedTo(ctx context.Context, q Queued, shipped string) error {
	if shipped != spanrec.ShippedToStore && shipped != spanrec.ShippedRow {
		return spanrec.Errorf(spanrec.EINVALID, "call %s shipped to %q", q.ID, shipped)
	}
	return db.inTx(ctx, "mark "+string(q.ID)+" shipped", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE calls SET shipped_files = ? WHERE id = ?`, shipped, q.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE call_id = ? AND queued_ns = ?`, q.ID, q.Version)
		return err
	})
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

// SetShipping marks the index as a sensor's that ships to a central side
// (its Shipper calls it): from then on every deletion is queued for the
// central index (OutboxDeletions). It is idempotent.
func (db *DB) SetShipping(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, `INSERT INTO shipping (one, since_ns) VALUES (1, ?) ON CONFLICT (one) DO NOTHING`,
		time.Now().UnixNano()); err != nil {
		return fmt.Errorf("sqlite: mark the index as shipping: %w", err)
	}
	return nil
}

// queueDeletion queues in tx, for the central index, the deletion d of a
// call still indexed, if the index ships (SetShipping).
func queueDeletion(ctx context.Context, tx *sql.Tx, d spanrec.Deletion) error {
	_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO outbox_deletions (call_id, at_ns, sensor, actor, remote, reason,
			audio, audio_sha256, pcap, pcap_sha256, queued, shipped_files)
		SELECT c.id, ?, c.sensor, ?, ?, ?, c.audio, c.audio_sha256, c.pcap, c.pcap_sha256,
			EXISTS (SELECT 1 FROM outbox o WHERE o.call_id = c.id), c.shipped_files
		FROM calls c WHERE c.id = ? AND EXISTS (SELECT 1 FROM shipping)`,
		timeValue(d.At).clampedNS(), d.By, d.Remote, d.Reason, d.Call)
	if err != nil {
		return fmt.Errorf("queue the deletion for the central side: %w", err)
	}
	return nil
}

// OutboxDeletions returns up to limit deletions waiting to be told to the
// central index, oldest first.
func (db *DB) OutboxDeletions(ctx context.Context, limit int) ([]spanrec.SensorDeletion, error) {
	out, err := sensorDeletions(ctx, db.r, `SELECT call_id, at_ns, sensor, actor, remote, reason, audio, audio_sha256, pcap, pcap_sha256, queued, shipped_files
		FROM outbox_deletions ORDER BY at_ns, call_id LIMIT ?`, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("sqlite: outbox deletions: %w", err)
	}
	return out, nil
}

// BegunDeletion returns the deletion of the call id begun (BeginDeletion)
// and not finished, as the central index is told of it once finished
// (OutboxDeletions: the same call, time, actor and files), so that a
// Shipper may tell it before the files are removed; ok is false if no
// deletion of the call is begun or the index does not ship (SetShipping).
func (db *DB) BegunDeletion(ctx context.Context, id spanrec.CallID) (d spanrec.SensorDeletion, ok bool, err error) {
	ds, err := sensorDeletions(ctx, db.r, `SELECT d.call_id, d.at_ns, c.sensor, d.actor, d.remote, d.reason, c.audio, c.audio_sha256, c.pcap, c.pcap_sha256,
			EXISTS (SELECT 1 FROM outbox o WHERE o.call_id = c.id), c.shipped_files
		FROM deletions d JOIN calls c ON c.id = d.call_id
		WHERE d.call_id = ? AND EXISTS (SELECT 1 FROM shipping)`, id)
	if err != nil || len(ds) == 0 {
		if err != nil {
			err = fmt.Errorf("sqlite: deletion of %s: %w", id, err)
		}
		return spanrec.SensorDeletion{}, false, err
	}
	return ds[0], true, nil
}

// sensorDeletions returns the deletions of query, whose columns are
// those of outbox_deletions in their order.
func sensorDeletions(ctx context.Context, r *sql.DB, query string, args ...any) ([]spanrec.SensorDeletion, error) {
	rows, err := r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []spanrec.SensorDeletion
	for rows.Next() {
		var (
			d       spanrec.SensorDeletion
			at      int64
			shipped sql.NullString
		)
		if err := rows.Scan(&d.Call, &at, &d.Sensor, &d.By, &d.Remote, &d.Reason, &d.Audio, &d.AudioSHA256, &d.PCAP, &d.PCAPSHA256, &d.Queued, &shipped); err != nil {
			return nil, err
		}
		d.At = time.Unix(0, at).UTC()
		d.Shipped = shipped.String
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeletionShipped takes d off the deletions waiting for the central index.
func (db *DB) DeletionShipped(ctx context.Context, d spanrec.SensorDeletion) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM outbox_deletions WHERE call_id = ? AND at_ns = ?`,
		d.Call, timeValue(d.At).clampedNS()); err != nil {
		return fmt.Errorf("sqlite: deletion of %s told: %w", d.Call, err)
	}
	return nil
}

// OutboxDeletionsBacklog returns how many deletions wait to be told to the
// central index.
func (db *DB) OutboxDeletionsBacklog(ctx context.Context) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM outbox_deletions`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: outbox deletions: %w", err)
	}
	return n, nil
}

// Deleting reports whether the deletion of the call has begun (and not
// finished): such a call is not shipped.
func (db *DB) Deleting(ctx context.Context, id spanrec.CallID) (bool, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM deletions WHERE call_id = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlite: deletion of %s: %w", id, err)
	}
	return n > 0, nil
}
