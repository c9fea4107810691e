package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/spanrec/spanrec"
)

// queueQuality queues the statements that store the Quality of c's
// streams, replacing what the call had, when at least one stream carries
// it; a call without (one read back from the index, or from an older
// recorder) keeps the stored figures.
func queueQuality(b *pgx.Batch, c *spanrec.Call, id string) error {
	have := false
	for i := range c.Streams {
		have = have || c.Streams[i].Quality != nil
	}
	if !have {
		return nil
	}
	b.Queue(`DELETE FROM stream_quality WHERE call_id = $1`, id)
	for i := range c.Streams {
		q := c.Streams[i].Quality
		if q == nil {
			continue
		}
		js, err := json.Marshal(q)
		if err != nil {
			return fmt.Errorf("stream %d quality: %w", i, err)
		}
		b.Queue(`INSERT INTO stream_quality (call_id, seq, quality) VALUES ($1, $2, $3)`, id, i, string(js))
	}
	return nil
}

// StreamQuality returns the quality over time of the streams of the call
// with exactly this ID, by the streams' positions in Call.Streams (nil
// where none was stored), or an error of kind ENOTFOUND if there is no
// such call.
func (db *DB) StreamQuality(ctx context.Context, id spanrec.CallID) ([]*spanrec.StreamQuality, error) {
	cid := text(string(id))
	var out []*spanrec.StreamQuality
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM calls WHERE id = $1)`, cid).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return spanrec.Errorf(spanrec.ENOTFOUND, "postgres: no call %s", cid)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM streams WHERE call_id = $1`, cid).Scan(&n); err != nil {
			return err
		}
		out = make([]*spanrec.StreamQuality, n)
		rows, err := tx.Query(ctx, `SELECT seq, quality::text FROM stream_quality WHERE call_id = $1 ORDER BY seq`, cid)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var seq int
			var js string
			if err := rows.Scan(&seq, &js); err != nil {
				return err
			}
			if seq < 0 || seq >= n {
				continue
			}
			var q spanrec.StreamQuality
			if err := json.Unmarshal([]byte(js), &q); err != nil {
				return fmt.Errorf("stream %d: %w", seq, err)
			}
			out[seq] = &q
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap(err, "postgres: stream quality of %s", cid)
	}
	return out, nil
}
