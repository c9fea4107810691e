package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// SetLegalHold puts the call with exactly the given ID under legal hold,
// or with h nil releases it. It returns an error of kind ENOTFOUND if there
// is no such call, and of kind ECONFLICT when holding a call whose deletion
// has begun. Releasing a call that is not held does nothing.
func (db *DB) SetLegalHold(ctx context.Context, id spanrec.CallID, h *spanrec.LegalHold) error {
	cid := text(string(id))
	return db.inTx(ctx, "legal hold "+cid, func(tx pgx.Tx) error {
		// FOR UPDATE: a BeginDeletion of the call waits for this
		// transaction, and this one for a BeginDeletion's.
		if err := lockCall(ctx, tx, cid); err != nil {
			return err
		}
		if h == nil {
			_, err := tx.Exec(ctx, `DELETE FROM legal_holds WHERE call_id = $1`, cid)
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM deletions WHERE call_id = $1`, cid).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return spanrec.Errorf(spanrec.ECONFLICT, "call %s is being deleted", cid)
		}
		_, err := tx.Exec(ctx, `INSERT INTO legal_holds (call_id, actor, at_ns, reason) VALUES ($1, $2, $3, $4)
			ON CONFLICT (call_id) DO UPDATE SET actor = excluded.actor, at_ns = excluded.at_ns, reason = excluded.reason`,
			cid, text(h.By), clampedNS(h.At), text(h.Reason))
		return err
	})
}

// BeginDeletion records the intent d to delete the call d.Call, before its
// files are removed (see spanrec.Deletion). It returns an error of kind
// ENOTFOUND if there is no such call and of kind ECONFLICT if the call is
// under legal hold; an intent already recorded for the call is replaced.
func (db *DB) BeginDeletion(ctx context.Context, d spanrec.Deletion) error {
	cid := text(string(d.Call))
	files, err := json.Marshal(texts(nonNilStrings(d.Files)))
	if err != nil {
		return fmt.Errorf("index: delete call %s: %w", cid, err)
	}
	return db.inTx(ctx, "delete call "+cid, func(tx pgx.Tx) error {
		if err := lockCall(ctx, tx, cid); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM legal_holds WHERE call_id = $1`, cid).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return spanrec.Errorf(spanrec.ECONFLICT, "call %s is under legal hold", cid)
		}
		_, err := tx.Exec(ctx, `INSERT INTO deletions (call_id, at_ns, actor, remote, reason, files)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (call_id) DO UPDATE SET at_ns = excluded.at_ns,
			actor = excluded.actor, remote = excluded.remote, reason = excluded.reason, files = excluded.files`,
			cid, clampedNS(d.At), text(d.By), text(d.Remote), text(d.Reason), string(files))
		return err
	})
}

// FinishDeletion completes the deletion of the call id begun by
// BeginDeletion, once its files are gone: in one transaction it deletes
// the call's row (see DeleteCall: the other legs are regrouped), writes the
// audit entry (action "delete", by the intent's By, the reason and the
// files in the detail) and clears the intent. A call already gone is
// audited all the same. It returns an error of kind ENOTFOUND if no
// deletion of the call was begun (or another process finished it).
func (db *DB) FinishDeletion(ctx context.Context, id spanrec.CallID) error {
	cid := text(string(id))
	return db.inRetryTx(ctx, "delete call "+cid, func(tx pgx.Tx) error {
		ds, err := pendingDeletions(ctx, tx, `WHERE call_id = $1 FOR UPDATE`, cid)
		if err != nil {
			return err
		}
		if len(ds) == 0 {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no deletion of call %s begun", cid)
		}
		d := ds[0]
		if _, err := deleteLinked(ctx, tx, cid); err != nil {
			return err
		}
		detail := d.Reason
		if len(d.Files) > 0 {
			detail += "; files: " + strings.Join(d.Files, " ")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit (at_ns, user_name, action, call_id, remote, detail)
			VALUES ($1, $2, $3, $4, $5, $6)`, clampedNS(time.Now()), d.By, auth.ActionDelete, cid, d.Remote, detail); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		_, err = tx.Exec(ctx, `DELETE FROM deletions WHERE call_id = $1`, cid)
		return err
	})
}

// PendingDeletions returns the deletions begun and not finished, oldest
// first: what a crash interrupted.
func (db *DB) PendingDeletions(ctx context.Context) ([]spanrec.Deletion, error) {
	var ds []spanrec.Deletion
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		ds, err = pendingDeletions(ctx, tx, `ORDER BY at_ns, call_id`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("index: pending deletions: %w", err)
	}
	return ds, nil
}

func pendingDeletions(ctx context.Context, tx pgx.Tx, tail string, args ...any) ([]spanrec.Deletion, error) {
	rows, err := tx.Query(ctx, `SELECT call_id, at_ns, actor, remote, reason, files FROM deletions `+tail, args...)
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

// lockCall locks the row of the call id for the transaction, or returns an
// error of kind ENOTFOUND.
func lockCall(ctx context.Context, tx pgx.Tx, id string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM calls WHERE id = $1 FOR UPDATE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return spanrec.Errorf(spanrec.ENOTFOUND, "no call %s", id)
	}
	return err
}

// loadLegalHolds sets the LegalHold of the calls of ids that are held.
func loadLegalHolds(ctx context.Context, tx pgx.Tx, ids []string, byID map[spanrec.CallID]*spanrec.Call) error {
	rows, err := tx.Query(ctx, `SELECT call_id, actor, at_ns, reason FROM legal_holds WHERE call_id = ANY ($1)`, ids)
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
