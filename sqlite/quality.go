package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/spanrec/spanrec"
)

// putQuality stores the Quality of c's streams, replacing what the call
// had, when at least one stream carries it; a call without (one read back
// from the index, or from an older recorder) keeps the stored figures. id
// is c.ID as a statement's value.
func (db *DB) putQuality(ctx context.Context, tx *wtx, c *spanrec.Call, id any, isNew bool) error {
	have := false
	for i := range c.Streams {
		have = have || c.Streams[i].Quality != nil
	}
	if !have {
		return nil
	}
	if !isNew {
		if err := db.exec(ctx, tx, deleteQuality, id); err != nil {
			return fmt.Errorf("stream quality: %w", err)
		}
	}
	rows := tx.rows()
	for i := range c.Streams {
		q := c.Streams[i].Quality
		if q == nil {
			continue
		}
		js, err := json.Marshal(q)
		if err != nil {
			return fmt.Errorf("stream %d quality: %w", i, err)
		}
		rows = append(rows, id, int64(i), string(js))
	}
	if err := insertQuality.exec(ctx, db, tx, rows); err != nil {
		return fmt.Errorf("stream quality: %w", err)
	}
	return nil
}

// StreamQuality returns the quality over time of the streams of the call
// with exactly this ID, by the streams' positions in Call.Streams (nil
// where none was stored), or an error of kind ENOTFOUND if there is no
// such call.
func (db *DB) StreamQuality(ctx context.Context, id spanrec.CallID) ([]*spanrec.StreamQuality, error) {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: stream quality of %s: %w", id, err)
	}
	defer tx.Rollback()
	if err := callExists(ctx, tx, id); err != nil {
		return nil, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM streams WHERE call_id = ?`, id).Scan(&n); err != nil {
		return nil, fmt.Errorf("sqlite: stream quality of %s: %w", id, err)
	}
	out := make([]*spanrec.StreamQuality, n)
	rows, err := tx.QueryContext(ctx, `SELECT seq, quality FROM stream_quality WHERE call_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: stream quality of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int
		var js string
		if err := rows.Scan(&seq, &js); err != nil {
			return nil, fmt.Errorf("sqlite: stream quality of %s: %w", id, err)
		}
		if seq < 0 || seq >= n {
			continue
		}
		var q spanrec.StreamQuality
		if err := json.Unmarshal([]byte(js), &q); err != nil {
			return nil, fmt.Errorf("sqlite: stream quality of %s, stream %d: %w", id, seq, err)
		}
		out[seq] = &q
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: stream quality of %s: %w", id, err)
	}
	return out, nil
}
