package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/spanrec/spanrec"
)

// AddTag puts tag on the call with exactly this ID, by user at t. It
// reports false if the call already had the tag (nothing changes), and
// returns an error of kind ENOTFOUND if there is no such call.
func (db *DB) AddTag(ctx context.Context, id spanrec.CallID, tag, user string, t time.Time) (bool, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("index: add tag: %w", err)
	}
	defer tx.Rollback()
	if err := callExists(ctx, tx, id); err != nil {
		return false, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO call_tags (call_id, tag, author, at_ns) VALUES (?, ?, ?, ?)
		ON CONFLICT (call_id, tag) DO NOTHING`, id, tag, user, nsOf(t))
	if err != nil {
		return false, fmt.Errorf("index: add tag to %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("index: add tag to %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("index: add tag to %s: commit: %w", id, err)
	}
	return n > 0, nil
}

// RemoveTag takes tag off the call with exactly this ID. It reports false
// if the call did not have it, and returns an error of kind ENOTFOUND if
// there is no such call.
func (db *DB) RemoveTag(ctx context.Context, id spanrec.CallID, tag string) (bool, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("index: remove tag: %w", err)
	}
	defer tx.Rollback()
	if err := callExists(ctx, tx, id); err != nil {
		return false, err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM call_tags WHERE call_id = ? AND tag = ?`, id, tag)
	if err != nil {
		return false, fmt.Errorf("index: remove tag from %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("index: remove tag from %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("index: remove tag from %s: commit: %w", id, err)
	}
	return n > 0, nil
}

// TagCount returns the number of tags on the call.
func (db *DB) TagCount(ctx context.Context, id spanrec.CallID) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM call_tags WHERE call_id = ?`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("index: tags of %s: %w", id, err)
	}
	return n, nil
}

// CallTags returns the tags of the call with who put each there and when,
// by tag (none for a call that does not exist).
func (db *DB) CallTags(ctx context.Context, id spanrec.CallID) ([]spanrec.CallTag, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT tag, author, at_ns FROM call_tags WHERE call_id = ? ORDER BY tag`, id)
	if err != nil {
		return nil, fmt.Errorf("index: tags of %s: %w", id, err)
	}
	defer rows.Close()
	tags := []spanrec.CallTag{}
	for rows.Next() {
		var t spanrec.CallTag
		var at sql.NullInt64
		if err := rows.Scan(&t.Tag, &t.User, &at); err != nil {
			return nil, fmt.Errorf("index: tags of %s: %w", id, err)
		}
		t.At = timeOf(at)
		tags = append(tags, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: tags of %s: %w", id, err)
	}
	return tags, nil
}

// AddNote stores n (its CallID, User, At and Text) and returns it with its
// new ID. It returns an error of kind ENOTFOUND if there is no such call.
func (db *DB) AddNote(ctx context.Context, n spanrec.CallNote) (spanrec.CallNote, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return n, fmt.Errorf("index: add note: %w", err)
	}
	defer tx.Rollback()
	if err := callExists(ctx, tx, n.CallID); err != nil {
		return n, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO call_notes (call_id, author, at_ns, text) VALUES (?, ?, ?, ?)`,
		n.CallID, n.User, nsOf(n.At), n.Text)
	if err != nil {
		return n, fmt.Errorf("index: add note to %s: %w", n.CallID, err)
	}
	if n.ID, err = res.LastInsertId(); err != nil {
		return n, fmt.Errorf("index: add note to %s: %w", n.CallID, err)
	}
	if err := tx.Commit(); err != nil {
		return n, fmt.Errorf("index: add note to %s: commit: %w", n.CallID, err)
	}
	return n, nil
}

// Notes returns the notes of the call, oldest first.
func (db *DB) Notes(ctx context.Context, id spanrec.CallID) ([]spanrec.CallNote, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, call_id, author, at_ns, text FROM call_notes
		WHERE call_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("index: notes of %s: %w", id, err)
	}
	defer rows.Close()
	notes := []spanrec.CallNote{}
	for rows.Next() {
		var n spanrec.CallNote
		var at sql.NullInt64
		if err := rows.Scan(&n.ID, &n.CallID, &n.User, &at, &n.Text); err != nil {
			return nil, fmt.Errorf("index: notes of %s: %w", id, err)
		}
		n.At = timeOf(at)
		notes = append(notes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: notes of %s: %w", id, err)
	}
	return notes, nil
}

// DeleteNote deletes note noteID of the call and returns it, or an error
// of kind ENOTFOUND if the call has no such note.
func (db *DB) DeleteNote(ctx context.Context, id spanrec.CallID, noteID int64) (spanrec.CallNote, error) {
	var n spanrec.CallNote
	var at sql.NullInt64
	err := db.w.QueryRowContext(ctx, `DELETE FROM call_notes WHERE call_id = ? AND id = ?
		RETURNING id, call_id, author, at_ns, text`, id, noteID).Scan(&n.ID, &n.CallID, &n.User, &at, &n.Text)
	if errors.Is(err, sql.ErrNoRows) {
		return n, spanrec.Errorf(spanrec.ENOTFOUND, "call %s has no note %d", id, noteID)
	}
	if err != nil {
		return n, fmt.Errorf("index: delete note %d of %s: %w", noteID, id, err)
	}
	n.At = timeOf(at)
	return n, nil
}

// callExists returns an error of kind ENOTFOUND unless a call has exactly
// this ID.
func callExists(ctx context.Context, tx *sql.Tx, id spanrec.CallID) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM calls WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return spanrec.Errorf(spanrec.ENOTFOUND, "no call %s", id)
	}
	if err != nil {
		return fmt.Errorf("index: call %s: %w", id, err)
	}
	return nil
}

// loadTags fills the Tags of the calls in byID, sorted.
func loadTags(ctx context.Context, tx *sql.Tx, idList string, byID map[spanrec.CallID]*spanrec.Call) error {
	rows, err := tx.QueryContext(ctx, `SELECT call_id, tag FROM call_tags
		WHERE call_id IN (SELECT value FROM json_each(?)) ORDER BY call_id, tag`, idList)
	if err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id spanrec.CallID
		var tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return fmt.Errorf("tags: %w", err)
		}
		if c := byID[id]; c != nil {
			c.Tags = append(c.Tags, tag)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	return nil
}
