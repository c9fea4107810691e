package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spanrec/spanrec"
)

// AddTag puts tag on the call with exactly this ID, by user at t. It
// reports false if the call already had the tag (nothing changes), and
// returns an error of kind ENOTFOUND if there is no such call.
func (db *DB) AddTag(ctx context.Context, id spanrec.CallID, tag, user string, t time.Time) (bool, error) {
	cid := text(string(id))
	var added bool
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := callExists(ctx, tx, cid); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `INSERT INTO call_tags (call_id, tag, author, at_ns) VALUES ($1, $2, $3, $4)
			ON CONFLICT (call_id, tag) DO NOTHING`, cid, text(tag), text(user), nsOf(t))
		added = res.RowsAffected() > 0
		return err
	})
	if err != nil {
		return false, wrap(err, "index: add tag to %s", cid)
	}
	return added, nil
}

// RemoveTag takes tag off the call with exactly this ID. It reports false
// if the call did not have it, and returns an error of kind ENOTFOUND if
// there is no such call.
func (db *DB) RemoveTag(ctx context.Context, id spanrec.CallID, tag string) (bool, error) {
	cid := text(string(id))
	var removed bool
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := callExists(ctx, tx, cid); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM call_tags WHERE call_id = $1 AND tag = $2`, cid, text(tag))
		removed = res.RowsAffected() > 0
		return err
	})
	if err != nil {
		return false, wrap(err, "index: remove tag from %s", cid)
	}
	return removed, nil
}

// TagCount returns the number of tags on the call.
func (db *DB) TagCount(ctx context.Context, id spanrec.CallID) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM call_tags WHERE call_id = $1`, text(string(id))).Scan(&n); err != nil {
		return 0, fmt.Errorf("index: tags of %s: %w", text(string(id)), err)
	}
	return n, nil
}

// CallTags returns the tags of the call with who put each there and when,
// by tag (none for a call that does not exist).
func (db *DB) CallTags(ctx context.Context, id spanrec.CallID) ([]spanrec.CallTag, error) {
	cid := text(string(id))
	rows, err := db.pool.Query(ctx, `SELECT tag, author, at_ns FROM call_tags WHERE call_id = $1 ORDER BY tag`, cid)
	if err != nil {
		return nil, fmt.Errorf("index: tags of %s: %w", cid, err)
	}
	defer rows.Close()
	tags := []spanrec.CallTag{}
	for rows.Next() {
		var t spanrec.CallTag
		var at *int64
		if err := rows.Scan(&t.Tag, &t.User, &at); err != nil {
			return nil, fmt.Errorf("index: tags of %s: %w", cid, err)
		}
		t.At = timeOf(at)
		tags = append(tags, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: tags of %s: %w", cid, err)
	}
	return tags, nil
}

// AddNote stores n (its CallID, User, At and Text) and returns it with its
// new ID. It returns an error of kind ENOTFOUND if there is no such call.
func (db *DB) AddNote(ctx context.Context, n spanrec.CallNote) (spanrec.CallNote, error) {
	cid := text(string(n.CallID))
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := callExists(ctx, tx, cid); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO call_notes (call_id, author, at_ns, text) VALUES ($1, $2, $3, $4) RETURNING id`,
			cid, text(n.User), nsOf(n.At), text(n.Text)).Scan(&n.ID)
	})
	if err != nil {
		return n, wrap(err, "index: add note to %s", cid)
	}
	return n, nil
}

// Notes returns the notes of the call, oldest first.
func (db *DB) Notes(ctx context.Context, id spanrec.CallID) ([]spanrec.CallNote, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, call_id, author, at_ns, text FROM call_notes
		WHERE call_id = $1 ORDER BY id`, text(string(id)))
	if err != nil {
		return nil, fmt.Errorf("index: notes of %s: %w", text(string(id)), err)
	}
	defer rows.Close()
	notes := []spanrec.CallNote{}
	for rows.Next() {
		var n spanrec.CallNote
		var at *int64
		if err := rows.Scan(&n.ID, &n.CallID, &n.User, &at, &n.Text); err != nil {
			return nil, fmt.Errorf("index: notes of %s: %w", text(string(id)), err)
		}
		n.At = timeOf(at)
		notes = append(notes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: notes of %s: %w", text(string(id)), err)
	}
	return notes, nil
}

// DeleteNote deletes note noteID of the call and returns it, or an error
// of kind ENOTFOUND if the call has no such note.
func (db *DB) DeleteNote(ctx context.Context, id spanrec.CallID, noteID int64) (spanrec.CallNote, error) {
	var n spanrec.CallNote
	var at *int64
	cid := text(string(id))
	err := db.pool.QueryRow(ctx, `DELETE FROM call_notes WHERE call_id = $1 AND id = $2
		RETURNING id, call_id, author, at_ns, text`, cid, noteID).Scan(&n.ID, &n.CallID, &n.User, &at, &n.Text)
	if errors.Is(err, pgx.ErrNoRows) {
		return n, spanrec.Errorf(spanrec.ENOTFOUND, "call %s has no note %d", cid, noteID)
	}
	if err != nil {
		return n, fmt.Errorf("index: delete note %d of %s: %w", noteID, cid, err)
	}
	n.At = timeOf(at)
	return n, nil
}

// callExists returns an error of kind ENOTFOUND unless a call has exactly
// this ID. It locks the call's row until the transaction ends (FOR KEY
// SHARE), so that it is not deleted meanwhile.
func callExists(ctx context.Context, tx pgx.Tx, id string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM calls WHERE id = $1 FOR KEY SHARE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return spanrec.Errorf(spanrec.ENOTFOUND, "no call %s", id)
	}
	if err != nil {
		return fmt.Errorf("call %s: %w", id, err)
	}
	return nil
}

// wrap returns err as it is if it is a spanrec error, else wrapped with the
// message format and args.
func wrap(err error, format string, args ...any) error {
	var e *spanrec.Error
	if errors.As(err, &e) {
		return err
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// loadTags fills the Tags of the calls of ids, sorted.
func loadTags(ctx context.Context, tx pgx.Tx, ids []string, byID map[spanrec.CallID]*spanrec.Call) error {
	rows, err := tx.Query(ctx, `SELECT call_id, tag FROM call_tags
		WHERE call_id = ANY ($1) ORDER BY call_id, tag`, ids)
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
