package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spanrec/spanrec"
)

// queryCalls runs q, which selects callColumns, and returns its calls in
// order with their streams, DTMF and legs loaded: a fixed number of queries
// whatever the number of calls. The result is empty, not nil, when nothing
// matches.
func queryCalls(ctx context.Context, tx pgx.Tx, q string, args ...any) ([]*spanrec.Call, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	calls := []*spanrec.Call{}
	byID := map[spanrec.CallID]*spanrec.Call{}
	var ids []string
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		calls = append(calls, c)
		byID[c.ID] = c
		ids = append(ids, string(c.ID))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(calls) == 0 {
		return calls, nil
	}
	if err := loadStreams(ctx, tx, ids, byID); err != nil {
		return nil, err
	}
	if err := loadDTMF(ctx, tx, ids, byID); err != nil {
		return nil, err
	}
	if err := loadLegs(ctx, tx, ids, byID); err != nil {
		return nil, err
	}
	if err := loadCopies(ctx, tx, ids, byID); err != nil {
		return nil, err
	}
	if err := loadTags(ctx, tx, ids, byID); err != nil {
		return nil, err
	}
	if err := loadLegalHolds(ctx, tx, ids, byID); err != nil {
		return nil, err
	}
	return calls, nil
}

func scanCall(rows pgx.Rows) (*spanrec.Call, error) {
	var (
		c                      spanrec.Call
		callerAddr, calleeAddr string
		start, answer, end     *int64
		audioStart             *int64
		duration               int64
		codecs                 []byte
		notes, holds           string
		pdd, ring              *int64
		mos                    *float64
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
	if pdd != nil {
		c.PDD = time.Duration(*pdd)
	}
	if ring != nil {
		c.RingTime = time.Duration(*ring)
	}
	if codecs != nil {
		if err := json.Unmarshal(codecs, &c.Codecs); err != nil {
			return nil, fmt.Errorf("call %s: codecs: %w", c.ID, err)
		}
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

func loadStreams(ctx context.Context, tx pgx.Tx, ids []string, byID map[spanrec.CallID]*spanrec.Call) error {
	rows, err := tx.Query(ctx, `SELECT `+streamColumns+` FROM streams
		WHERE call_id = ANY ($1) ORDER BY call_id, seq`, ids)
	if err != nil {
		return fmt.Errorf("streams: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			s                                  spanrec.Stream
			id                                 spanrec.CallID
			seq                                int
			ssrc                               int64
			pt                                 int32
			src, dst                           string
			first, last                        *int64
			jitter, maxJitter, maxDelta, score *float64
			meanJitter                         *float64
		)
		err := rows.Scan(&id, &seq, &ssrc, &src, &dst, &s.Side, &pt, &s.Codec,
			&s.ClockRate, &s.Decoded, &first, &last, &s.Packets, &s.Lost, &s.Duplicates,
			&s.OutOfOrder, &jitter, &maxJitter, &maxDelta, &score, &s.Encryption, &s.AuthFailures, &meanJitter, &s.ConcealedMS)
		if err != nil {
			return fmt.Errorf("streams: %w", err)
		}
		s.SSRC, s.PayloadType = uint32(ssrc), uint8(pt)
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

func loadDTMF(ctx context.Context, tx pgx.Tx, ids []string, byID map[spanrec.CallID]*spanrec.Call) error {
	rows, err := tx.Query(ctx, `SELECT `+dtmfColumns+` FROM dtmf
		WHERE call_id = ANY ($1) ORDER BY call_id, seq`, ids)
	if err != nil {
		return fmt.Errorf("dtmf: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			d   spanrec.DTMF
			id  spanrec.CallID
			seq int
			at  *int64
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
