package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
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

// statsSpan selects the first and last start time of the calls, each as
// a subquery of its own: SQLite reads a lone min() or max() from an end of
// calls_start, but both in one query from every entry of an index (0.3-1.6
// s of a million calls, most of the dashboard's time: docs/PERFORMANCE.md
// "Twelfth session").
const statsSpan = `SELECT (SELECT min(start_ns) FROM calls), (SELECT max(start_ns) FROM calls)`

// Stats computes the dashboard's aggregates of the calls that started in
// [q.From, q.To) in SQL: calls and answered calls per bucket, the MOS
// histogram of their streams, RTP loss by sending host and by sensor, and
// the numbers in the most calls. The whole hours of the range are read from
// the per-hour aggregates that migration 0017's triggers keep (per-bucket
// counts too when the buckets are whole hours), the whole UTC days of the
// loss by host and of the top talkers from their per-day sums (migration
// 0023), the rest from the calls and streams (spanrec.SplitStats): the
// figures are those of the calls themselves. The top talkers come from the
// per-hour and per-day counts of each number (migrations 0020, 0023)
// through spanrec.TopTalkers, exact too. It returns an error of kind EINVALID for
// an empty range, a bucket that is not positive, more than 10 000 buckets,
// or a Top out of 1..100.
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
	// Whole hours [lo, hi) are read from the aggregates of migration 0017,
	// the partial hours at the edges, [from, lo) and [hi, to), from the
	// calls; each figure is the sum of the two.
	// The whole days [dlo, dhi) of the host and number figures come from
	// the per-day sums of migration 0023.
	split := spanrec.SplitStats(from, to, width)
	lo, hi, aligned := split.Lo, split.Hi, split.Aligned
	edges := []int64{from, lo, hi, to}

	var first, last sql.NullInt64
	if err := tx.QueryRowContext(ctx, statsSpan).Scan(&first, &last); err != nil {
		return nil, fmt.Errorf("index: stats: span: %w", err)
	}
	st.First, st.Last = timeOf(first), timeOf(last)

	addBucket := func(rows *sql.Rows) error {
		var b int64
		var calls, ans int
		if err := rows.Scan(&b, &calls, &ans); err != nil {
			return err
		}
		if b < 0 || b >= n {
			return fmt.Errorf("bucket %d out of 0..%d", b, n-1)
		}
		st.Buckets[b].Calls += calls
		st.Buckets[b].Answered += ans
		st.Calls += calls
		st.Answered += ans
		return nil
	}
	rawBuckets := `SELECT (c.start_ns - ?) / ? AS b, count(*), coalesce(sum(c.status = ?), 0)
		FROM calls c WHERE` + inRange + ` GROUP BY b`
	if aligned {
		// Every whole hour is in one bucket.
		err = eachRow(ctx, tx, `SELECT (hour_ns - ?) / ? AS b, sum(calls), sum(answered)
			FROM stats_hours WHERE hour_ns >= ? AND hour_ns < ? GROUP BY b`, []any{from, width, lo, hi}, addBucket)
		for i := 0; err == nil && i < len(edges); i += 2 {
			if edges[i] < edges[i+1] {
				err = eachRow(ctx, tx, rawBuckets, []any{from, width, answered, edges[i], edges[i+1]}, addBucket)
			}
		}
	} else {
		err = eachRow(ctx, tx, rawBuckets, []any{from, width, answered, from, to}, addBucket)
	}
	if err != nil {
		return nil, fmt.Errorf("index: stats: calls per bucket: %w", err)
	}

	// MOS bins of 0.5 from 1.0; the E-model's MOS is 1..4.5, a value up
	// to 5 goes to the last bin (as the triggers of migration 0017 count).
	var bins [spanrec.MOSBins + 1]sql.NullInt64
	dest := make([]any, len(bins))
	for i := range bins {
		dest[i] = &bins[i]
	}
	if err := tx.QueryRowContext(ctx, `SELECT sum(no_mos), sum(mos0), sum(mos1), sum(mos2), sum(mos3), sum(mos4), sum(mos5), sum(mos6), sum(mos7)
		FROM stats_hours WHERE hour_ns >= ? AND hour_ns < ?`, lo, hi).Scan(dest...); err != nil {
		return nil, fmt.Errorf("index: stats: MOS: %w", err)
	}
	st.NoMOS = int(bins[0].Int64)
	for i := range st.MOS {
		st.MOS[i] = int(bins[i+1].Int64)
	}
	for i := 0; i < len(edges); i += 2 {
		if edges[i] >= edges[i+1] {
			continue
		}
		err = eachRow(ctx, tx, `SELECT CASE WHEN s.mos > 0 THEN max(0, min(?, CAST((s.mos - 1.0) * 2 AS INTEGER))) ELSE -1 END AS bin, count(*)
			FROM streams s JOIN calls c ON c.id = s.call_id WHERE`+inRange+` GROUP BY bin`,
			[]any{spanrec.MOSBins - 1, edges[i], edges[i+1]}, func(rows *sql.Rows) error {
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
	}

	// Loss by host and by sensor: the hours' sums and the edges' streams
	// grouped together, so that the order and the limit are those of the
	// whole range.
	rawStreams := ` FROM streams s JOIN calls c ON c.id = s.call_id WHERE` + inRange
	hours := split.HourRanges()
	lossQuery := func(aggregates, rawKey string) string {
		return `SELECT k, sum(n), sum(p), sum(l) FROM (` + aggregates + `
			UNION ALL SELECT ` + rawKey + `, 1, s.packets, s.lost` + rawStreams + `
			UNION ALL SELECT ` + rawKey + `, 1, s.packets, s.lost` + rawStreams + `
		) GROUP BY k HAVING sum(n) > 0 ORDER BY sum(l) DESC, sum(p) DESC, k LIMIT ?`
	}
	hostAggregates := `SELECT host AS k, streams AS n, packets AS p, lost AS l FROM stats_hosts WHERE hour_ns >= ? AND hour_ns < ?
		UNION ALL SELECT host, streams, packets, lost FROM stats_hosts WHERE hour_ns >= ? AND hour_ns < ?
		UNION ALL SELECT host, streams, packets, lost FROM stats_host_days WHERE day_ns >= ? AND day_ns < ?`
	lossArgs := []any{hours[0][0], hours[0][1], hours[1][0], hours[1][1], split.DayLo, split.DayHi, from, lo, hi, to, q.Top}
	err = eachRow(ctx, tx, lossQuery(hostAggregates, hostOf("s.src")), lossArgs, func(rows *sql.Rows) error {
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
	sensorAggregates := `SELECT sensor AS k, streams AS n, packets AS p, lost AS l FROM stats_hours WHERE hour_ns >= ? AND hour_ns < ?`
	err = eachRow(ctx, tx, lossQuery(sensorAggregates, "c.sensor"), []any{lo, hi, from, lo, hi, to, q.Top}, func(rows *sql.Rows) error {
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

	tc := &talkerCounts{tx: tx, s: split.Within(st.First, st.Last)}
	if st.Talkers, err = spanrec.TopTalkers(ctx, tc, tc.s, q.Top); err != nil {
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

// talkerCounts gives spanrec.TopTalkers the figures of the numbers: whole
// hours from the per-hour counts of migration 0020, whole days from the
// per-day sums of migration 0023, the edges from the calls.
type talkerCounts struct {
	tx *sql.Tx
	s  spanrec.StatsSplit
}

// talkersOf is the query of the talkers of the calls in ranges [?, ?)
// (one for each pair of placeholders after the first, status = ?),
// grouped by number.
func talkersOf(ranges int) string {
	var b strings.Builder
	b.WriteString(`SELECT number, count(*), sum(status = ?), sum(duration_ns) FROM (`)
	for i := range ranges {
		if i > 0 {
			b.WriteString(` UNION ALL `)
		}
		b.WriteString(`SELECT c.caller_number AS number, c.status, c.duration_ns FROM calls c WHERE c.start_ns >= ? AND c.start_ns < ?
			UNION ALL
			SELECT c.callee_number, c.status, c.duration_ns FROM calls c WHERE c.start_ns >= ? AND c.start_ns < ? AND c.callee_number <> c.caller_number`)
	}
	b.WriteString(`) WHERE number <> '' GROUP BY number`)
	return b.String()
}

// scanTalker reads a row of number, calls, answered, talk in ns.
func scanTalker(rows *sql.Rows) (*spanrec.Talker, error) {
	var t spanrec.Talker
	var talk int64
	if err := rows.Scan(&t.Number, &t.Calls, &t.Answered, &talk); err != nil {
		return nil, err
	}
	t.Talk = time.Duration(talk)
	return &t, nil
}

func (c *talkerCounts) Edges(ctx context.Context) (map[string]*spanrec.Talker, error) {
	m := map[string]*spanrec.Talker{}
	s := c.s
	args := []any{string(spanrec.Answered), s.From, s.Lo, s.From, s.Lo, s.Hi, s.To, s.Hi, s.To}
	err := eachRow(ctx, c.tx, talkersOf(2), args, func(rows *sql.Rows) error {
		t, err := scanTalker(rows)
		if err == nil {
			m[t.Number] = t
		}
		return err
	})
	return m, err
}

// strings returns the rows of query, a column of text each.
func (c *talkerCounts) strings(ctx context.Context, query string, args ...any) ([]string, error) {
	var ns []string
	err := eachRow(ctx, c.tx, query, args, func(rows *sql.Rows) error {
		var n string
		ns = append(ns, n)
		return rows.Scan(&ns[len(ns)-1])
	})
	return ns, err
}

func (c *talkerCounts) TopOf(ctx context.Context, day bool, start int64, k int) ([]string, error) {
	if day {
		return c.strings(ctx, `SELECT number FROM stats_number_days WHERE day_ns = ? ORDER BY calls DESC LIMIT ?`, start, k)
	}
	return c.strings(ctx, `SELECT number FROM stats_numbers WHERE hour_ns = ? ORDER BY calls DESC LIMIT ?`, start, k)
}

func (c *talkerCounts) Whole(ctx context.Context, numbers []string) (map[string]*spanrec.Talker, error) {
	list, err := json.Marshal(numbers)
	if err != nil {
		return nil, err
	}
	hours := c.s.HourRanges()
	m := map[string]*spanrec.Talker{}
	// A range of each number's primary key a part: hours before the
	// days, the days, hours after.
	err = eachRow(ctx, c.tx, `WITH n(number) AS (SELECT value FROM json_each(?1))
		SELECT number, sum(calls), sum(answered), sum(talk_ns) FROM (
			SELECT number, calls, answered, talk_ns FROM stats_numbers WHERE number IN n AND hour_ns >= ?2 AND hour_ns < ?3
			UNION ALL SELECT number, calls, answered, talk_ns FROM stats_number_days WHERE number IN n AND day_ns >= ?4 AND day_ns < ?5
			UNION ALL SELECT number, calls, answered, talk_ns FROM stats_numbers WHERE number IN n AND hour_ns >= ?6 AND hour_ns < ?7
		) GROUP BY number`,
		[]any{string(list), hours[0][0], hours[0][1], c.s.DayLo, c.s.DayHi, hours[1][0], hours[1][1]}, func(rows *sql.Rows) error {
			t, err := scanTalker(rows)
			if err == nil {
				m[t.Number] = t
			}
			return err
		})
	return m, err
}

func (c *talkerCounts) AtLeast(ctx context.Context, calls, max int) ([]string, bool, error) {
	hours, err := json.Marshal(c.s.HourStarts())
	if err != nil {
		return nil, false, err
	}
	days, err := json.Marshal(c.s.DayStarts())
	if err != nil {
		return nil, false, err
	}
	// One seek per hour into (hour_ns, calls), one per day into
	// (day_ns, calls).
	ns, err := c.strings(ctx, `SELECT number FROM stats_numbers WHERE hour_ns IN (SELECT value FROM json_each(?1)) AND calls >= ?3
		UNION SELECT number FROM stats_number_days WHERE day_ns IN (SELECT value FROM json_each(?2)) AND calls >= ?3 LIMIT ?4`,
		string(hours), string(days), calls, max+1)
	if len(ns) > max {
		return nil, true, err
	}
	return ns, false, err
}

func (c *talkerCounts) All(ctx context.Context, top int) ([]spanrec.Talker, error) {
	var l []spanrec.Talker
	err := eachRow(ctx, c.tx, talkersOf(1)+` ORDER BY count(*) DESC, number LIMIT ?`,
		[]any{string(spanrec.Answered), c.s.From, c.s.To, c.s.From, c.s.To, top}, func(rows *sql.Rows) error {
			t, err := scanTalker(rows)
			if err == nil {
				l = append(l, *t)
			}
			return err
		})
	return l, err
}
