package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/spanrec/spanrec"
)

// queryCalls runs q, which selects callColumns, and returns its calls in
// order with their streams and DTMF loaded: three queries whatever the
// number of calls. The result is empty, not nil, when nothing matches.
func queryCalls(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]*spanrec.Call, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	calls := []*spanrec.Call{}
	byID := map[spanrec.CallID]*spanrec.Call{}
	var ids []spanrec.CallID
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, err
		}
		calls = append(calls, c)
		byID[c.ID] = c
		ids = append(ids, c.ID)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(calls) == 0 {
		return calls, nil
	}
	// The page's IDs travel as one JSON array parameter, so there is no
	// limit on their number and the statement text never changes.
	idList, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	if err := loadStreams(ctx, tx, string(idList), byID); err != nil {
		return nil, err
	}
	if err := loadDTMF(ctx, tx, string(idList), byID); err != nil {
		return nil, err
	}
	if err := loadLegs(ctx, tx, string(idList), byID); err != nil {
		return nil, err
	}
	if err := loadCopies(ctx, tx, string(idList), byID); err != nil {
		return nil, err
	}
	if err := loadTags(ctx, tx, string(idList), byID); err != nil {
		return nil, err
	}
	if err := loadLegalHolds(ctx, tx, string(idList), byID); err != nil {
		return nil, err
	}
	return calls, nil
}

func scanCall(rows *sql.Rows) (*spanrec.Call, error) {
	var (
		c                      spanrec.Call
		callerAddr, calleeAddr string
		start, answer, end     sql.NullInt64
		audioStart             sql.NullInt64
		duration               int64
		codecs, notes          string
		holds                  string
		pdd, ring              sql.NullInt64
		mos                    sql.NullFloat64
	)
	err := rows.Scan(&c.ID, &c.SIPCallID,
		&c.Caller.Number, &c.Caller.Name, &callerAddr,
		&c.Callee.Number, &c.Callee.Name, &calleeAddr,
		&c.Direction, &c.Status, &c.StatusCode,
		&start, &answer, &end, &duration, &codecs,
		&audioStart, &c.AudioMS, &c.Audio, &c.AudioSHA256, &c.PCAP, &c.PCAPSHA256,
		&c.CaptureLoss, &notes, &holds, &c.Signalling,
		&c.StatusReason, &c.HangupBy, &pdd, &ring, &mos, &c.Sensor,
		&c.CallerUA, &c.CalleeUA, &c.HeadersCut, &c.CallerTag, &c.CalleeTag)
	if err != nil {
		return nil, err
	}
	if err := c.Caller.Addr.UnmarshalText([]byte(callerAddr)); err != nil {
		return nil, fmt.Errorf("call %s: caller address: %w", c.ID, err)
	}
	if err := c.Callee.Addr.UnmarshalText([]byte(calleeAddr)); err != nil {
		return nil, fmt.Errorf("call %s: callee address: %w", c.ID, err)
	}
	c.Start, c.Answer, c.End = timeOf(start), timeOf(answer), timeOf(end)
	c.AudioStart = timeOf(audioStart)
	c.Duration = time.Duration(duration)
	c.PDD, c.RingTime = time.Duration(pdd.Int64), time.Duration(ring.Int64)
	if err := json.Unmarshal([]byte(codecs), &c.Codecs); err != nil {
		return nil, fmt.Errorf("call %s: codecs: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(notes), &c.Notes); err != nil {
		return nil, fmt.Errorf("call %s: notes: %w", c.ID, err)
	}
	var hr []holdRow
	if err := json.Unmarshal([]byte(holds), &hr); err != nil {
		return nil, fmt.Errorf("call %s: holds: %w", c.ID, err)
	}
	c.Holds = holdsOf(hr)
	return &c, nil
}

func loadStreams(ctx context.Context, tx *sql.Tx, idList string, byID map[spanrec.CallID]*spanrec.Call) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+streamColumns+` FROM streams
		WHERE call_id IN (SELECT value FROM json_each(?)) ORDER BY call_id, seq`, idList)
	if err != nil {
		return fmt.Errorf("streams: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			s                                  spanrec.Stream
			id                                 spanrec.CallID
			seq                                int
			src, dst                           string
			first, last                        sql.NullInt64
			jitter, maxJitter, maxDelta, score sql.NullFloat64
			meanJitter                         sql.NullFloat64
		)
		err := rows.Scan(&id, &seq, &s.SSRC, &src, &dst, &s.Side, &s.PayloadType, &s.Codec,
			&s.ClockRate, &s.Decoded, &first, &last, &s.Packets, &s.Lost, &s.Duplicates,
			&s.OutOfOrder, &jitter, &maxJitter, &maxDelta, &score, &s.Encryption, &s.AuthFailures, &meanJitter, &s.ConcealedMS)
		if err != nil {
			return fmt.Errorf("streams: %w", err)
		}
		if err := s.Src.UnmarshalText([]byte(src)); err != nil {
			return fmt.Errorf("call %s: stream %d: source: %w", id, seq, err)
		}
		if err := s.Dst.UnmarshalText([]byte(dst)); err != nil {
			return fmt.Errorf("call %s: stream %d: destination: %w", id, seq, err)
		}
		s.First, s.Last = timeOf(first), timeOf(last)
		s.JitterMS, s.MaxJitterMS = floatOf(jitter), floatOf(maxJitter)
		s.MaxDeltaMS, s.MOS = floatOf(maxDelta), floatOf(score)
		s.MeanJitterMS = floatOf(meanJitter)
		if c := byID[id]; c != nil {
			c.Streams = append(c.Streams, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("streams: %w", err)
	}
	return nil
}

func loadDTMF(ctx context.Context, tx *sql.Tx, idList string, byID map[spanrec.CallID]*spanrec.Call) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+dtmfColumns+` FROM dtmf
		WHERE call_id IN (SELECT value FROM json_each(?)) ORDER BY call_id, seq`, idList)
	if err != nil {
		return fmt.Errorf("dtmf: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			d   spanrec.DTMF
			id  spanrec.CallID
			seq int
			at  sql.NullInt64
		)
		if err := rows.Scan(&id, &seq, &d.Digit, &at, &d.DurationMS, &d.Side, &d.Source); err != nil {
			return fmt.Errorf("dtmf: %w", err)
		}
		d.At = timeOf(at)
		if c := byID[id]; c != nil {
			c.DTMF = append(c.DTMF, d)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dtmf: %w", err)
	}
	return nil
}

// timeValue is a time as the database stores it: integer Unix nanoseconds,
// NULL for the zero time.
type timeValue time.Time

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// fits reports whether t is zero or has a Unix nanosecond count.
func (t timeValue) fits() bool {
	tt := time.Time(t)
	return tt.IsZero() || !tt.Before(minTime) && !tt.After(maxTime)
}

// clampedNS returns t's Unix nanoseconds, clamped to the int64 range.
func (t timeValue) clampedNS() int64 {
	tt := time.Time(t)
	switch {
	case tt.Before(minTime):
		return math.MinInt64
	case tt.After(maxTime):
		return math.MaxInt64
	}
	return tt.UnixNano()
}

func (t timeValue) String() string { return time.Time(t).String() }

// nsOf returns the column value of t: its Unix nanoseconds, or NULL if zero.
// t must fit.
func nsOf(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// timeOf is the inverse of nsOf; the time is in UTC.
func timeOf(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(0, v.Int64).UTC()
}

// realOf returns the column value of f. SQLite turns a NaN into NULL
// anyway; saying so here keeps the mapping visible.
func realOf(f float64) any {
	if math.IsNaN(f) {
		return nil
	}
	return f
}

// floatOf is the inverse of realOf.
func floatOf(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}
