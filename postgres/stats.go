package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spanrec/spanrec"
)

// maxStatsBuckets bounds the buckets of one Stats query.
const maxStatsBuckets = 10_000

// hostOf is the SQL expression of the host of an "addr:port" column c
// (IPv6 addresses keep their brackets): the port's digits and the colon
// trimmed from the right; "" for an empty column (the streams of an
// address that was not known), as SQLite's substr gives.
func hostOf(c string) string {
	t := `rtrim(` + c + `, '0123456789')`
	return `substr(` + t + `, 1, greatest(length(` + t + `) - 1, 0))`
}

// Stats computes the dashboard's aggregates of the calls that started in
// [q.From, q.To) in SQL, as package sqlite does: calls and answered calls
// per bucket, the MOS histogram of their streams, RTP loss by sending host
// and by sensor, and the numbers in the most calls. The whole hours of the
// range are read from the per-hour aggregates that migration 0011's
// triggers keep (per-bucket counts too when the buckets are whole hours),
// the whole UTC days of the loss by host and of the top talkers from their
// per-day sums (migration 0015), the rest from the calls and streams
// (spanrec.SplitStats): the figures are those of the calls themselves. The
// top talkers come from the per-hour and per-day counts of each number
// (migrations 0013, 0015) through spanrec.TopTalkers, exact too. It returns an
// error of kind EINVALID for an empty range, a bucket that is not positive,
// more than 10 000 buckets, or a Top out of 1..100.
func (db *DB) Stats(ctx context.Context, q spanrec.StatsQuery) (*spanrec.CallStats, error) {
	if !q.From.Before(q.To) || q.Bucket <= 0 || q.Top < 1 || q.Top > 100 {
		return nil, spanrec.Errorf(spanrec.EINVALID, "stats: empty range, bad bucket or top")
	}
	from, to, width := clampedNS(q.From), clampedNS(q.To), int64(q.Bucket)
	n := (to - from + width - 1) / width
	if n > maxStatsBuckets || n < 0 {
		return nil, spanrec.Errorf(spanrec.EINVALID, "stats: %d buckets, more than %d", n, maxStatsBuckets)
	}
	st := &spanrec.CallStats{From: q.From, To: q.To, Bucket: q.Bucket, Buckets: make([]spanrec.StatsBucket, n)}
	for i := range st.Buckets {
		st.Buckets[i].Start = time.Unix(0, from+int64(i)*width).UTC()
	}
	answered := string(spanrec.Answered)
	// Whole hours [lo, hi) are read from the aggregates of migration 0011,
	// the partial hours at the edges, [from, lo) and [hi, to), from the
	// calls; each figure is the sum of the two.
	// The whole days [DayLo, DayHi) of the host and number figures come
	// from the per-day sums of migration 0015.
	split := spanrec.SplitStats(from, to, width)
	lo, hi, aligned := split.Lo, split.Hi, split.Aligned
	edges := []int64{from, lo, hi, to}
	// One snapshot: every figure sees the same index.
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		var first, last *int64
		if err := tx.QueryRow(ctx, `SELECT min(start_ns), max(start_ns) FROM calls`).Scan(&first, &last); err != nil {
			return fmt.Errorf("span: %w", err)
		}
		st.First, st.Last = timeOf(first), timeOf(last)

		addBucket := func(rows pgx.Rows) error {
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
		rawBuckets := `SELECT (c.start_ns - $1) / $2 AS b, count(*), count(*) FILTER (WHERE c.status = $3)
			FROM calls c WHERE c.start_ns >= $4 AND c.start_ns < $5 GROUP BY b`
		var err error
		if aligned {
			// Every whole hour is in one bucket.
			err = eachRow(ctx, tx, `SELECT (hour_ns - $1) / $2 AS b, sum(calls)::bigint, sum(answered)::bigint
				FROM stats_hours WHERE hour_ns >= $3 AND hour_ns < $4 GROUP BY b`, []any{from, width, lo, hi}, addBucket)
			for i := 0; err == nil && i < len(edges); i += 2 {
				if edges[i] < edges[i+1] {
					err = eachRow(ctx, tx, rawBuckets, []any{from, width, answered, edges[i], edges[i+1]}, addBucket)
				}
			}
		} else {
			err = eachRow(ctx, tx, rawBuckets, []any{from, width, answered, from, to}, addBucket)
		}
		if err != nil {
			return fmt.Errorf("calls per bucket: %w", err)
		}

		// MOS bins of 0.5 from 1.0; the E-model's MOS is 1..4.5, a value
		// up to 5 (or an infinite one) goes to the last bin (as the
		// triggers of migration 0011 count).
		var bins [spanrec.MOSBins + 1]*int64
		dest := make([]any, len(bins))
		for i := range bins {
			dest[i] = &bins[i]
		}
		if err := tx.QueryRow(ctx, `SELECT sum(no_mos)::bigint, sum(mos0)::bigint, sum(mos1)::bigint, sum(mos2)::bigint, sum(mos3)::bigint,
				sum(mos4)::bigint, sum(mos5)::bigint, sum(mos6)::bigint, sum(mos7)::bigint
			FROM stats_hours WHERE hour_ns >= $1 AND hour_ns < $2`, lo, hi).Scan(dest...); err != nil {
			return fmt.Errorf("MOS: %w", err)
		}
		count := func(v *int64) int {
			if v == nil {
				return 0
			}
			return int(*v)
		}
		st.NoMOS = count(bins[0])
		for i := range st.MOS {
			st.MOS[i] = count(bins[i+1])
		}
		for i := 0; i < len(edges); i += 2 {
			if edges[i] >= edges[i+1] {
				continue
			}
			err = eachRow(ctx, tx, `SELECT CASE WHEN s.mos > 0 THEN greatest(0, least($1::float8, trunc((s.mos - 1.0) * 2)))::int ELSE -1 END AS bin, count(*)
				FROM streams s JOIN calls c ON c.id = s.call_id WHERE c.start_ns >= $2 AND c.start_ns < $3 GROUP BY bin`,
				[]any{spanrec.MOSBins - 1, edges[i], edges[i+1]}, func(rows pgx.Rows) error {
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
				return fmt.Errorf("MOS: %w", err)
			}
		}

		// Loss by host and by sensor: the hours' sums and the edges'
		// streams grouped together, so that the order and the limit are
		// those of the whole range.
		lossQuery := func(aggregates, rawKey string) string {
			return `SELECT k, sum(n)::bigint, sum(p)::bigint, sum(l)::bigint FROM (` + aggregates + `
				UNION ALL SELECT ` + rawKey + `, 1, s.packets, s.lost FROM streams s JOIN calls c ON c.id = s.call_id WHERE c.start_ns >= $3 AND c.start_ns < $1
				UNION ALL SELECT ` + rawKey + `, 1, s.packets, s.lost FROM streams s JOIN calls c ON c.id = s.call_id WHERE c.start_ns >= $2 AND c.start_ns < $4
			) AS t GROUP BY k HAVING sum(n) > 0 ORDER BY sum(l) DESC, sum(p) DESC, k LIMIT $5`
		}
		// Hosts: the days' rows (summed over the sensors) and the hours'
		// around them.
		hours := split.HourRanges()
		hostAggregates := `SELECT host AS k, streams AS n, packets AS p, lost AS l FROM stats_hosts WHERE hour_ns >= $1 AND hour_ns < $6
			UNION ALL SELECT host, streams, packets, lost FROM stats_host_days WHERE day_ns >= $6 AND day_ns < $7
			UNION ALL SELECT host, streams, packets, lost FROM stats_hosts WHERE hour_ns >= $7 AND hour_ns < $2`
		err = eachRow(ctx, tx, lossQuery(hostAggregates, hostOf("s.src")), []any{lo, hi, from, to, q.Top, hours[0][1], hours[1][0]}, func(rows pgx.Rows) error {
			var h spanrec.HostLoss
			if err := rows.Scan(&h.Host, &h.Streams, &h.Packets, &h.Lost); err != nil {
				return err
			}
			st.Loss = append(st.Loss, h)
			return nil
		})
		if err != nil {
			return fmt.Errorf("loss: %w", err)
		}
		sensorAggregates := `SELECT sensor AS k, streams AS n, packets AS p, lost AS l FROM stats_hours WHERE hour_ns >= $1 AND hour_ns < $2`
		err = eachRow(ctx, tx, lossQuery(sensorAggregates, "c.sensor"), []any{lo, hi, from, to, q.Top}, func(rows pgx.Rows) error {
			var h spanrec.HostLoss
			if err := rows.Scan(&h.Host, &h.Streams, &h.Packets, &h.Lost); err != nil {
				return err
			}
			st.LossBySensor = append(st.LossBySensor, h)
			return nil
		})
		if err != nil {
			return fmt.Errorf("loss by sensor: %w", err)
		}

		tc := &talkerCounts{tx: tx, s: split.Within(st.First, st.Last)}
		if st.Talkers, err = spanrec.TopTalkers(ctx, tc, tc.s, q.Top); err != nil {
			return fmt.Errorf("talkers: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index: stats: %w", err)
	}
	return st, nil
}

// eachRow runs query and calls fn for each of its rows.
func eachRow(ctx context.Context, tx pgx.Tx, query string, args []any, fn func(pgx.Rows) error) error {
	rows, err := tx.Query(ctx, query, args...)
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
// hours from the per-hour counts of migration 0013, whole days from the
// per-day sums of migration 0015, the edges from the calls.
type talkerCounts struct {
	tx pgx.Tx
	s  spanrec.StatsSplit
}

// talkersIn is the query of the talkers of the calls in [$2, $3) and
// [$4, $5) (status = $1), grouped by number.
const talkersIn = `SELECT number, count(*), count(*) FILTER (WHERE status = $1), sum(duration_ns)::bigint FROM (
		SELECT c.caller_number AS number, c.status, c.duration_ns FROM calls c WHERE c.start_ns >= $2 AND c.start_ns < $3
		UNION ALL
		SELECT c.callee_number, c.status, c.duration_ns FROM calls c WHERE c.start_ns >= $2 AND c.start_ns < $3 AND c.callee_number <> c.caller_number
		UNION ALL
		SELECT c.caller_number, c.status, c.duration_ns FROM calls c WHERE c.start_ns >= $4 AND c.start_ns < $5
		UNION ALL
		SELECT c.callee_number, c.status, c.duration_ns FROM calls c WHERE c.start_ns >= $4 AND c.start_ns < $5 AND c.callee_number <> c.caller_number
	) AS t WHERE number <> '' GROUP BY number`

// scanTalker reads a row of number, calls, answered, talk in ns.
func scanTalker(rows pgx.Rows) (*spanrec.Talker, error) {
	var t spanrec.Talker
	var talk int64
	if err := rows.Scan(&t.Number, &t.Calls, &t.Answered, &talk); err != nil {
		return nil, err
	}
	t.Talk = time.Duration(talk)
	return &t, nil
}

func (c *talkerCounts) talkers(ctx context.Context, query string, args []any) (map[string]*spanrec.Talker, error) {
	m := map[string]*spanrec.Talker{}
	err := eachRow(ctx, c.tx, query, args, func(rows pgx.Rows) error {
		t, err := scanTalker(rows)
		if err == nil {
			m[t.Number] = t
		}
		return err
	})
	return m, err
}

func (c *talkerCounts) Edges(ctx context.Context) (map[string]*spanrec.Talker, error) {
	return c.talkers(ctx, talkersIn, []any{string(spanrec.Answered), c.s.From, c.s.Lo, c.s.Hi, c.s.To})
}

func (c *talkerCounts) TopOf(ctx context.Context, day bool, start int64, k int) ([]string, error) {
	q := `SELECT number FROM stats_numbers WHERE hour_ns = $1 ORDER BY calls DESC LIMIT $2`
	if day {
		q = `SELECT number FROM stats_number_days WHERE day_ns = $1 ORDER BY calls DESC LIMIT $2`
	}
	rows, err := c.tx.Query(ctx, q, start, k)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (c *talkerCounts) Whole(ctx context.Context, numbers []string) (map[string]*spanrec.Talker, error) {
	hours := c.s.HourRanges()
	// A range of each number's primary key a part: hours before the
	// days, the days, hours after.
	return c.talkers(ctx, `SELECT number, sum(calls)::bigint, sum(answered)::bigint, sum(talk_ns)::bigint FROM (
			SELECT number, calls, answered, talk_ns FROM stats_numbers WHERE number = ANY ($1) AND hour_ns >= $2 AND hour_ns < $3
			UNION ALL SELECT number, calls, answered, talk_ns FROM stats_number_days WHERE number = ANY ($1) AND day_ns >= $4 AND day_ns < $5
			UNION ALL SELECT number, calls, answered, talk_ns FROM stats_numbers WHERE number = ANY ($1) AND hour_ns >= $6 AND hour_ns < $7
		) AS t GROUP BY number`, []any{numbers, hours[0][0], hours[0][1], c.s.DayLo, c.s.DayHi, hours[1][0], hours[1][1]})
}

func (c *talkerCounts) AtLeast(ctx context.Context, calls, max int) ([]string, bool, error) {
	// One range of (hour_ns, calls) per hour, of (day_ns, calls) per day.
	rows, err := c.tx.Query(ctx, `SELECT number FROM stats_numbers WHERE hour_ns = ANY ($1) AND calls >= $3
		UNION SELECT number FROM stats_number_days WHERE day_ns = ANY ($2) AND calls >= $3 LIMIT $4`,
		c.s.HourStarts(), c.s.DayStarts(), calls, max+1)
	if err != nil {
		return nil, false, err
	}
	ns, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ns) > max {
		return nil, err == nil, err
	}
	return ns, false, nil
}

func (c *talkerCounts) All(ctx context.Context, top int) ([]spanrec.Talker, error) {
	m, err := c.talkers(ctx, talkersIn, []any{string(spanrec.Answered), c.s.From, c.s.To, c.s.To, c.s.To})
	if err != nil {
		return nil, err
	}
	l := make([]spanrec.Talker, 0, len(m))
	for _, t := range m {
		l = append(l, *t)
	}
	slices.SortFunc(l, func(a, b spanrec.Talker) int {
		if a.Calls != b.Calls {
			return b.Calls - a.Calls
		}
		return strings.Compare(a.Number, b.Number)
	})
	return l[:min(len(l), top)], nil
}
