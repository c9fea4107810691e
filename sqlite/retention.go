package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// SetLegalHold puts the call with exactly the given ID under legal hold,
// or with h nil releases it. It returns an error of kind ENOTFOUND if there
// is no such call, and of kind ECONFLICT when holding a call whose deletion
// has begun. Releasing a call that is not held does nothing.
func (db *DB) SetLegalHold(ctx context.Context, id spanrec.CallID, h *spanrec.LegalHold) error {
	return db.inTx(ctx, "legal hold "+string(id), func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM calls WHERE id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no call %s", id)
		}
		if h == nil {
			_, err := tx.ExecContext(ctx, `DELETE FROM legal_holds WHERE call_id = ?`, id)
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM deletions WHERE call_id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return spanrec.Errorf(spanrec.ECONFLICT, "call %s is being deleted", id)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO legal_holds (call_id, actor, at_ns, reason) VALUES (?, ?, ?, ?)
			ON CONFLICT (call_id) DO UPDATE SET actor = excluded.actor, at_ns = excluded.at_ns, reason = excluded.reason`,
			id, h.By, timeValue(h.At).clampedNS(), h.Reason)
		return err
	})
}

// BeginDeletion records the intent d to delete the call d.Call, before its
// files are removed (see spanrec.Deletion). It returns an error of kind
// ENOTFOUND if there is no such call and of kind ECONFLICT if the call is
// under legal hold; an intent already recorded for the call is replaced.
func (db *DB) BeginDeletion(ctx context.Context, d spanrec.Deletion) error {
	files, err := json.Marshal(nonNilStrings(d.Files))
	if err != nil {
		return fmt.Errorf("index: delete call %s: %w", d.Call, err)
	}
	return db.inTx(ctx, "delete call "+string(d.Call), func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM calls WHERE id = ?`, d.Call).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no call %s", d.Call)
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM legal_holds WHERE call_id = ?`, d.Call).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return spanrec.Errorf(spanrec.ECONFLICT, "call %s is under legal hold", d.Call)
		}
		_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO deletions (call_id, at_ns, actor, remote, reason, files)
			VALUES (?, ?, ?, ?, ?, ?)`, d.Call, timeValue(d.At).clampedNS(), d.By, d.Remote, d.Reason, string(files))
		return err
	})
}

// FinishDeletion completes the deletion of the call id begun by
// BeginDeletion, once its files are gone: in one transaction it deletes
// the call's row (see DeleteCall: the other legs are regrouped), writes the
// audit entry (action "delete", by the intent's By, the reason and the
// files in the detail) and clears the intent. A call already gone is
// audited all the same. It returns an error of kind ENOTFOUND if no
// deletion of the call was begun.
func (db *DB) FinishDeletion(ctx context.Context, id spanrec.CallID) error {
	return db.inTx(ctx, "delete call "+string(id), func(tx *sql.Tx) error {
		ds, err := pendingDeletions(ctx, tx, `WHERE call_id = ?`, id)
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no deletion of call %s begun", id)
		}
		d := ds[0]
		if err := queueDeletion(ctx, tx, d); err != nil {
			return err
		}
		if _, err := db.deleteLinked(ctx, db.wrap(tx), id); err != nil {
			return err
		}
		detail := d.Reason
		if len(d.Files) > 0 {
			detail += "; files: " + strings.Join(d.Files, " ")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at_ns, user, action, call_id, remote, detail)
			VALUES (?, ?, ?, ?, ?, ?)`, timeValue(time.Now()).clampedNS(), d.By, auth.ActionDelete, id, d.Remote, detail); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM deletions WHERE call_id = ?`, id)
		return err
	})
}

// PendingDeletions returns the deletions begun and not finished, oldest
// first: what a crash interrupted.
func (db *DB) PendingDeletions(ctx context.Context) ([]spanrec.Deletion, error) {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("index: pending deletions: %w", err)
	}
	defer tx.Rollback()
	ds, err := pendingDeletions(ctx, tx, `ORDER BY at_ns, call_id`)
	if err != nil {
		return nil, fmt.Errorf("index: pending deletions: %w", err)
	}
	return ds, nil
}

func pendingDeletions(ctx context.Context, tx *sql.Tx, tail string, args ...any) ([]spanrec.Deletion, error) {
	rows, err := tx.QueryContext(ctx, `SELECT call_id, at_ns, actor, remote, reason, files FROM deletions `+tail, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ds []spanrec.Deletion
	for rows.Next() {
		var (
			d     spanrec.Deletion
			at    int64
			files string
		)
		if err := rows.Scan(&d.Call, &at, &d.By, &d.Remote, &d.Reason, &files); err != nil {
			return nil, err
		}
		d.At = time.Unix(0, at).UTC()
		if err := json.Unmarshal([]byte(files), &d.Files); err != nil {
			return nil, fmt.Errorf("deletion of %s: files: %w", d.Call, err)
		}
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

// loadLegalHolds sets the LegalHold of the calls of idList that are held.
func loadLegalHolds(ctx context.Context, tx *sql.Tx, idList string, byID map[spanrec.CallID]*spanrec.Call) error {
	rows, err := tx.QueryContext(ctx, `SELECT call_id, actor, at_ns, reason FROM legal_holds
		WHERE call_id IN (SELECT value FROM json_each(?))`, idList)
	if err != nil {
		return fmt.Errorf("legal holds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id spanrec.CallID
			h  spanrec.LegalHold
			at int64
		)
		if err := rows.Scan(&id, &h.By, &at, &h.Reason); err != nil {
			return fmt.Errorf("legal holds: %w", err)
		}
		h.At = time.Unix(0, at).UTC()
		if c := byID[id]; c != nil {
			c.LegalHold = &h
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("legal holds: %w", err)
	}
	return nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
