package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/spanrec/spanrec"
)

// maxStatsBuckets bounds the buckets of one Stats query.
const maxStatsBuckets = 10_000

// hostOf is the SQL expression of the host of an "addr:port" column c
// (IPv6 addresses keep their brackets): the port's digits and the colon
// trimmed from the right.
func hostOf(c string) string {
	t := `rtrim(` + c + `, '0123456789')`
	return `substr(` + t + `, 1, length(` + t + `) - 1)`
}

// Stats computes the dashboard's aggregates of the calls that started in
// [q.From, q.To) in SQL: calls and answered calls per bucket, the MOS
// histogram of their streams, RTP loss by sending host and the numbers in
// the most calls. It returns an error of kind EINVALID for an empty range,
// a bucket that is not positive, more than 10 000 buckets, or a Top out
// of 1..100.
func (db *DB) Stats(ctx context.Context, q spanrec.StatsQuery) (*spanrec.CallStats, error) {
	if !q.From.Before(q.To) || q.Bucket <= 0 || q.Top < 1 || q.Top > 100 {
		return nil, spanrec.Errorf(spanrec.EINVALID, "stats: empty range, bad bucket or top")
	}
	from, to, width := timeValue(q.From).clampedNS(), timeValue(q.To).clampedNS(), int64(q.Bucket)
	n := (to - from + width - 1) / width
	if n > maxStatsBuckets {
		return nil, spanrec.Errorf(spanrec.EINVALID, "stats: %d buckets, more than %d", n, maxStatsBuckets)
	}
	st := &spanrec.CallStats{From: q.From, To: q.To, Bucket: q.Bucket, Buckets: make([]spanrec.StatsBucket, n)}
	for i := range st.Buckets {
		st.Buckets[i].Start = time.Unix(0, from+int64(i)*width).UTC()
	}
	// One read transaction: every figure sees the same index.
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("index: stats: %w", err)
	}
	defer tx.Rollback()
	answered := string(spanrec.Answered)
	inRange := ` c.start_ns >= ? AND c.start_ns < ?`

	var first, last sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT min(start_ns), max(start_ns) FROM calls`).Scan(&first, &last); err != nil {
		return nil, fmt.Errorf("index: stats: span: %w", err)
	}
	st.First, st.Last = timeOf(first), timeOf(last)

	err = eachRow(ctx, tx, `SELECT (c.start_ns - ?) / ? AS b, count(*), coalesce(sum(c.status = ?), 0)
		FROM calls c WHERE`+inRange+` GROUP BY b`, []any{from, width, answered, from, to}, func(rows *sql.Rows) error {
		var b int64
		var calls, ans int
		if err := rows.Scan(&b, &calls, &ans); err != nil {
			return err
		}
		if b < 0 || b >= n {
			return fmt.Errorf("bucket %d out of 0..%d", b, n-1)
		}
		st.Buckets[b].Calls, st.Buckets[b].Answered = calls, ans
		st.Calls += calls
		st.Answered += ans
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index: stats: calls per bucket: %w", err)
	}

	// MOS bins of 0.5 from 1.0; the E-model's MOS is 1..4.5, a value up
	// to 5 goes to the last bin.
	err = eachRow(ctx, tx, `SELECT CASE WHEN s.mos > 0 THEN max(0, min(?, CAST((s.mos - 1.0) * 2 AS INTEGER))) ELSE -1 END AS bin, count(*)
		FROM streams s JOIN calls c ON c.id = s.call_id WHERE`+inRange+` GROUP BY bin`,
		[]any{spanrec.MOSBins - 1, from, to}, func(rows *sql.Rows) error {
			var bin, count int
			if err := rows.Scan(&bin, &count); err != nil {
				return err
			}
			if bin < 0 {
				st.NoMOS += count
			} else {
				st.MOS[bin] += count
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("index: stats: MOS: %w", err)
	}

	err = eachRow(ctx, tx, `SELECT `+hostOf("s.src")+` AS host, count(*), sum(s.packets), sum(s.lost)
		FROM streams s JOIN calls c ON c.id = s.call_id WHERE`+inRange+`
		GROUP BY host ORDER BY sum(s.lost) DESC, sum(s.packets) DESC, host LIMIT ?`,
		[]any{from, to, q.Top}, func(rows *sql.Rows) error {
			var h spanrec.HostLoss
			if err := rows.Scan(&h.Host, &h.Streams, &h.Packets, &h.Lost); err != nil {
				return err
			}
			st.Loss = append(st.Loss, h)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("index: stats: loss: %w", err)
	}
	err = eachRow(ctx, tx, `SELECT c.sensor, count(*), sum(s.packets), sum(s.lost)
		FROM streams s JOIN calls c ON c.id = s.call_id WHERE`+inRange+`
		GROUP BY c.sensor ORDER BY sum(s.lost) DESC, sum(s.packets) DESC, c.sensor LIMIT ?`,
		[]any{from, to, q.Top}, func(rows *sql.Rows) error {
			var h spanrec.HostLoss
			if err := rows.Scan(&h.Host, &h.Streams, &h.Packets, &h.Lost); err != nil {
				return err
			}
			st.LossBySensor = append(st.LossBySensor, h)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("index: stats: loss by sensor: %w", err)
	}

	err = eachRow(ctx, tx, `SELECT number, count(*) AS calls, sum(status = ?), sum(duration_ns) FROM (
			SELECT c.caller_number AS number, c.status, c.duration_ns FROM calls c WHERE`+inRange+`
			UNION ALL
			SELECT c.callee_number, c.status, c.duration_ns FROM calls c WHERE`+inRange+` AND c.callee_number <> c.caller_number
		) WHERE number <> '' GROUP BY number ORDER BY calls DESC, number LIMIT ?`,
		[]any{answered, from, to, from, to, q.Top}, func(rows *sql.Rows) error {
			var t spanrec.Talker
			var talk int64
			if err := rows.Scan(&t.Number, &t.Calls, &t.Answered, &talk); err != nil {
				return err
			}
			t.Talk = time.Duration(talk)
			st.Talkers = append(st.Talkers, t)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("index: stats: talkers: %w", err)
	}
	return st, nil
}

// eachRow runs query and calls fn for each of its rows.
func eachRow(ctx context.Context, tx *sql.Tx, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
