package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/spanrec/spanrec"
)

const callColumns = `id, sip_call_id,
	caller_number, caller_name, caller_addr,
	callee_number, callee_name, callee_addr,
	direction, status, status_code,
	start_ns, answer_ns, end_ns, duration_ns, codecs,
	audio_start_ns, audio_ms, audio, audio_sha256, pcap, pcap_sha256,
	capture_loss, notes, holds, signalling,
	status_reason, hangup_by, pdd_ns, ring_ns, mos, sensor,
	caller_ua, callee_ua, headers_cut, caller_tag, callee_tag`

// upsertCall inserts a calls row or replaces it. A new row's interaction
// is its own ID, what linkCall gives a call without other legs, and its
// legs the column's default, 1; a row replaced keeps both until linkCall
// sets them. A new row's rowid (its position for CallsAfter) is above
// every row's and every deleted row's (call_rowid_high, migration 0027),
// never one a deleted call had.
const upsertCall = `INSERT INTO calls (rowid, ` + callColumns + `, interaction)
	VALUES ((SELECT max(n, coalesce((SELECT max(rowid) FROM calls), 0)) + 1 FROM call_rowid_high), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET
	sip_call_id = excluded.sip_call_id,
	caller_number = excluded.caller_number, caller_name = excluded.caller_name, caller_addr = excluded.caller_addr,
	callee_number = excluded.callee_number, callee_name = excluded.callee_name, callee_addr = excluded.callee_addr,
	direction = excluded.direction, status = excluded.status, status_code = excluded.status_code,
	start_ns = excluded.start_ns, answer_ns = excluded.answer_ns, end_ns = excluded.end_ns,
	duration_ns = excluded.duration_ns, codecs = excluded.codecs,
	audio_start_ns = excluded.audio_start_ns, audio_ms = excluded.audio_ms, audio = excluded.audio,
	audio_sha256 = excluded.audio_sha256, pcap = excluded.pcap, pcap_sha256 = excluded.pcap_sha256,
	capture_loss = excluded.capture_loss, notes = excluded.notes,
	holds = excluded.holds, signalling = excluded.signalling,
	status_reason = excluded.status_reason, hangup_by = excluded.hangup_by,
	pdd_ns = excluded.pdd_ns, ring_ns = excluded.ring_ns, mos = excluded.mos,
	sensor = excluded.sensor,
	caller_ua = excluded.caller_ua, callee_ua = excluded.callee_ua, headers_cut = excluded.headers_cut,
	caller_tag = excluded.caller_tag, callee_tag = excluded.callee_tag`

const streamColumns = `call_id, seq, ssrc, src, dst, side, payload_type, codec, clock_rate, decoded,
	first_ns, last_ns, packets, lost, duplicates, out_of_order,
	jitter_ms, max_jitter_ms, max_delta_ms, mos, encryption, auth_failures, mean_jitter_ms, concealed_ms`

var insertStreams = newMultiInsert(`INSERT INTO streams (`+streamColumns+`)`, 24)

const dtmfColumns = `call_id, seq, digit, at_ns, duration_ms, side, source`

var insertDTMF = newMultiInsert(`INSERT INTO dtmf (`+dtmfColumns+`)`, 7)

// PutCall stores c, replacing the call with the same ID and all its streams
// and DTMF rows, in one transaction. c is not retained. It returns an error
// of kind EINVALID if c is nil, has no ID, or has a time Unix nanoseconds
// cannot hold (before 1678 or after 2262). A call stored again replaces
// the row whatever sensor it names: this is one sensor's index, whose rows
// go with the files of its data directory, which the call's recording
// replaced too (the central index, package postgres, refuses another
// sensor's call instead).
func (db *DB) PutCall(ctx context.Context, c *spanrec.Call) error {
	return db.PutCalls(ctx, []*spanrec.Call{c})
}

// PutCalls stores calls as PutCall would one after the other, in one
// transaction: all of them, or none if it returns an error (a call PutCall
// would refuse, or a failure of the database). A transaction's commit
// costs as much as its calls' rows take pages, and several calls that end
// together share most of their pages (the same tables and indexes), so a
// recorder that stores calls by the batch writes a fraction of the pages.
// The calls are not retained.
func (db *DB) PutCalls(ctx context.Context, calls []*spanrec.Call) error {
	if len(calls) == 0 {
		return nil
	}
	args := make([][]any, len(calls))
	for i, c := range calls {
		if c == nil || c.ID == "" {
			return spanrec.Errorf(spanrec.EINVALID, "call without an id")
		}
		var err error
		if args[i], err = callArgs(c); err != nil {
			return err
		}
	}
	what := "put call " + string(calls[0].ID)
	if len(calls) > 1 {
		what = fmt.Sprintf("put %d calls", len(calls))
	}
	tx, err := db.beginWrite(ctx)
	if err != nil {
		return fmt.Errorf("index: %s: %w", what, err)
	}
	defer tx.Rollback()
	for i, c := range calls {
		var exists bool
		if err := db.queryRow(ctx, tx, callExistsQuery, args[i][0]).Scan(&exists); err != nil {
			return fmt.Errorf("index: put call %s: %w", c.ID, err)
		}
		if err := db.putCall(ctx, tx, c, args[i], !exists); err != nil {
			return fmt.Errorf("index: put call %s: %w", c.ID, err)
		}
		if err := db.linkCall(ctx, tx, c, args[i][0], !exists); err != nil {
			return fmt.Errorf("index: put call %s: %w", c.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("index: %s: commit: %w", what, err)
	}
	return nil
}

// putCall stores c's row and the rows that hang from it; isNew says that
// the call was not stored before, so that there are none to delete. args
// are c's row (callArgs); its first, the call's ID, serves every row.
func (db *DB) putCall(ctx context.Context, tx *wtx, c *spanrec.Call, args []any, isNew bool) error {
	id := args[0]
	if err := db.exec(ctx, tx, upsertCall, args...); err != nil {
		return err
	}
	end := c.End
	if end.IsZero() {
		end = c.Start
	}
	if err := db.exec(ctx, tx, queueCall, id, end.UnixNano(), queueVersion()); err != nil {
		return err
	}
	if !isNew {
		if err := db.exec(ctx, tx, deleteStreams, id); err != nil {
			return err
		}
		if err := db.exec(ctx, tx, deleteDTMF, id); err != nil {
			return err
		}
	}
	rows := tx.rows()
	for i := range c.Streams {
		s := &c.Streams[i]
		rows = append(rows, id, int64(i), int64(s.SSRC), tx.text(s.Src), tx.text(s.Dst), string(s.Side),
			int64(s.PayloadType), s.Codec, int64(s.ClockRate), s.Decoded,
			nsOf(s.First), nsOf(s.Last), int64(s.Packets), int64(s.Lost), int64(s.Duplicates), int64(s.OutOfOrder),
			realOf(s.JitterMS), realOf(s.MaxJitterMS), realOf(s.MaxDeltaMS), realOf(s.MOS),
			string(s.Encryption), int64(s.AuthFailures), realOf(s.MeanJitterMS), int64(s.ConcealedMS))
	}
	if err := insertStreams.exec(ctx, db, tx, rows); err != nil {
		return fmt.Errorf("streams: %w", err)
	}
	if err := db.putSearch(ctx, tx, c, id, isNew); err != nil {
		return err
	}
	if err := db.putQuality(ctx, tx, c, id, isNew); err != nil {
		return err
	}
	rows = tx.rows()
	for i := range c.DTMF {
		d := &c.DTMF[i]
		rows = append(rows, id, int64(i), d.Digit, nsOf(d.At), int64(d.DurationMS), string(d.Side), d.Source)
	}
	if err := insertDTMF.exec(ctx, db, tx, rows); err != nil {
		return fmt.Errorf("dtmf: %w", err)
	}
	return nil
}

// callArgs returns the calls row of c in callColumns order and its
// interaction (upsertCall's values), after checking that every time of c
// fits the storage.
func callArgs(c *spanrec.Call) ([]any, error) {
	for _, t := range []struct {
		name string
		v    timeValue
	}{
		{"start", timeValue(c.Start)}, {"answer", timeValue(c.Answer)},
		{"end", timeValue(c.End)}, {"audio start", timeValue(c.AudioStart)},
	} {
		if !t.v.fits() {
			return nil, spanrec.Errorf(spanrec.EINVALID, "call %s: %s time %v out of range", c.ID, t.name, t.v)
		}
	}
	for i, s := range c.Streams {
		if !timeValue(s.First).fits() || !timeValue(s.Last).fits() {
			return nil, spanrec.Errorf(spanrec.EINVALID, "call %s: stream %d: time out of range", c.ID, i)
		}
	}
	for i, d := range c.DTMF {
		if !timeValue(d.At).fits() {
			return nil, spanrec.Errorf(spanrec.EINVALID, "call %s: dtmf %d: time out of range", c.ID, i)
		}
	}
	codecs, err := json.Marshal(c.Codecs)
	if err != nil {
		return nil, fmt.Errorf("index: call %s: codecs: %w", c.ID, err)
	}
	notes, err := json.Marshal(c.Notes)
	if err != nil {
		return nil, fmt.Errorf("index: call %s: notes: %w", c.ID, err)
	}
	for i, h := range c.Holds {
		if !timeValue(h.Start).fits() || !timeValue(h.End).fits() {
			return nil, spanrec.Errorf(spanrec.EINVALID, "call %s: hold %d: time out of range", c.ID, i)
		}
	}
	holds, err := json.Marshal(holdRows(c.Holds))
	if err != nil {
		return nil, fmt.Errorf("index: call %s: holds: %w", c.ID, err)
	}
	signalling := c.Signalling
	if signalling == "" {
		signalling = spanrec.SignallingSIP
	}
	callerAddr, _ := c.Caller.Addr.MarshalText() // never fails
	calleeAddr, _ := c.Callee.Addr.MarshalText()
	// Values of the driver's own types (string, int64, float64, bool,
	// nil), which database/sql passes on as they are, where it converts
	// others by reflection into a new value each.
	id := any(string(c.ID))
	return []any{
		id, c.SIPCallID,
		c.Caller.Number, c.Caller.Name, string(callerAddr),
		c.Callee.Number, c.Callee.Name, string(calleeAddr),
		string(c.Direction), string(c.Status), int64(c.StatusCode),
		nsOf(c.Start), nsOf(c.Answer), nsOf(c.End), int64(c.Duration), string(codecs),
		nsOf(c.AudioStart), c.AudioMS, c.Audio, c.AudioSHA256, c.PCAP, c.PCAPSHA256,
		c.CaptureLoss, string(notes), string(holds), signalling,
		c.StatusReason, string(c.HangupBy), durationOf(c.PDD), durationOf(c.RingTime), worstMOS(c.Streams),
		c.Sensor,
		c.CallerUA, c.CalleeUA, int64(c.HeadersCut), c.CallerTag, c.CalleeTag,
		id, // interaction (upsertCall)
	}, nil
}

// durationOf returns the column value of a measured duration: its
// nanoseconds, or NULL for 0 (not measured).
func durationOf(d time.Duration) any {
	if d <= 0 {
		return nil
	}
	return int64(d)
}

// worstMOS returns the lowest MOS of the streams that have one, or NULL:
// the call list's quality column, stored so that it sorts.
func worstMOS(streams []spanrec.Stream) any {
	worst := 0.0
	for _, s := range streams {
		if s.MOS > 0 && (worst == 0 || s.MOS < worst) {
			worst = s.MOS
		}
	}
	if worst == 0 {
		return nil
	}
	return worst
}

// Call returns the call with the given ID, with its streams and DTMF. id may
// also be a prefix of at least spanrec.MinIDPrefix characters of exactly one
// call's ID. It returns an error of kind ENOTFOUND if no call matches (its
// message names the shortest prefix when id is shorter), and of kind
// EINVALID if the prefix matches several calls (the message lists the first few).
func (db *DB) Call(ctx context.Context, id spanrec.CallID) (*spanrec.Call, error) {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("index: call %s: %w", id, err)
	}
	defer tx.Rollback()
	full, err := resolveID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	calls, err := queryCalls(ctx, tx, `SELECT `+callColumns+` FROM calls WHERE id = ?`, full)
	if err != nil {
		return nil, fmt.Errorf("index: call %s: %w", id, err)
	}
	if len(calls) == 0 { // deleted since resolveID: cannot happen in one transaction
		return nil, spanrec.Errorf(spanrec.ENOTFOUND, "no call %s", id)
	}
	return calls[0], nil
}

// resolveID returns the full ID of the call whose ID is id or, failing
// that, starts with id.
func resolveID(ctx context.Context, tx *sql.Tx, id spanrec.CallID) (spanrec.CallID, error) {
	if id == "" {
		return "", spanrec.Errorf(spanrec.EINVALID, "empty call id")
	}
	var full spanrec.CallID
	err := tx.QueryRowContext(ctx, `SELECT id FROM calls WHERE id = ?`, id).Scan(&full)
	switch {
	case err == nil:
		return full, nil
	case !errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("index: call %s: %w", id, err)
	case len(id) < spanrec.MinIDPrefix:
		return "", spanrec.IDPrefixTooShort(id)
	}
	// A range on the primary key rather than LIKE, which ignores case and
	// cannot use the index.
	q, args := `SELECT id FROM calls WHERE id > ? ORDER BY id LIMIT ?`, []any{id, spanrec.MaxIDCandidates + 1}
	if hi, ok := prefixEnd(string(id)); ok {
		q, args = `SELECT id FROM calls WHERE id > ? AND id < ? ORDER BY id LIMIT ?`, []any{id, hi, spanrec.MaxIDCandidates + 1}
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return "", fmt.Errorf("index: call %s: %w", id, err)
	}
	defer rows.Close()
	var ids []spanrec.CallID
	for rows.Next() {
		var s spanrec.CallID
		if err := rows.Scan(&s); err != nil {
			return "", fmt.Errorf("index: call %s: %w", id, err)
		}
		if strings.HasPrefix(string(s), string(id)) {
			ids = append(ids, s)
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("index: call %s: %w", id, err)
	}
	switch len(ids) {
	case 0:
		return "", spanrec.Errorf(spanrec.ENOTFOUND, "no call %s", id)
	case 1:
		return ids[0], nil
	}
	return "", spanrec.IDPrefixAmbiguous(id, ids)
}

// prefixEnd returns the least string greater than every string that starts
// with p, in SQLite's BINARY (byte-wise) order, or false if there is none.
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// Calls returns the calls that match f, newest first (by start time, then
// by ID) unless f.Sort says otherwise, with their streams and DTMF. It
// returns an error of kind EINVALID if f.Limit or f.Offset is negative, a
// duration bound is negative or f.Sort is unknown.
func (db *DB) Calls(ctx context.Context, f spanrec.CallFilter) ([]*spanrec.Call, error) {
	st, err := db.startsFor(ctx, f, false)
	if err != nil {
		return nil, err
	}
	st.walk = true
	if st, err = db.withBound(ctx, f, st); err != nil {
		return nil, err
	}
	// A user agent of few distinct values: a page of few calls starts
	// from them, one of many walks the calls (and so does a bounded
	// search, which walks no more than its bound).
	if st.uaValues {
		st.uaValues = false
		if st.bound == "" {
			if st.uaRows, err = db.rareUA(ctx, st); err != nil {
				return nil, err
			}
		}
	}
	where, args, err := filterSQL(f, st)
	if err != nil {
		return nil, err
	}
	order, err := orderSQL(f.Sort)
	if err != nil {
		return nil, err
	}
	var q string
	if f.After != nil && f.Limit > 0 && seekable(f.Sort) {
		// The page after a call: ranges of indexes from that call on.
		q, args, err = seekPageSQL(`calls`+rangeHint(f), where, args, f.Sort, f.After.ID, f.Limit, f.Offset)
		if err != nil {
			return nil, err
		}
	} else {
		if f.After != nil {
			cond, kargs, err := afterSQL(f.Sort, f.After.ID)
			if err != nil {
				return nil, err
			}
			// The condition joins the filter (with grouping, after the
			// condition that the call is its conversation's first leg: which
			// leg is first does not depend on the page).
			if where == "" {
				where = " WHERE " + cond
			} else {
				where += " AND " + cond
			}
			args = append(args, kargs...)
		}
		q = `SELECT ` + callColumns + ` FROM calls` + rangeHint(f) + where + order
		if f.Limit > 0 || f.Offset > 0 {
			limit := -1 // SQLite: no limit
			if f.Limit > 0 {
				limit = f.Limit
			}
			q += ` LIMIT ? OFFSET ?`
			args = append(args, limit, f.Offset)
		}
	}
	// One read transaction, so the calls and their child rows are one
	// snapshot even while a writer replaces calls.
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("index: calls: %w", err)
	}
	defer tx.Rollback()
	if f.After != nil {
		// A page cannot follow a call that is gone: its key is unknown.
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM calls WHERE id = ?`, f.After.ID).Scan(&n); err != nil {
			return nil, fmt.Errorf("index: calls: %w", err)
		}
		if n == 0 {
			return nil, spanrec.Errorf(spanrec.ECONFLICT, "call %s, after which the page starts, is gone", f.After.ID)
		}
	}
	calls, err := queryCalls(ctx, tx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("index: calls: %w", err)
	}
	return calls, nil
}

// Count returns the number of calls that match f, ignoring f.Limit,
// f.Offset and f.After.
func (db *DB) Count(ctx context.Context, f spanrec.CallFilter) (int, error) {
	st, err := db.withBound(ctx, f, startAll)
	if err != nil {
		return 0, err
	}
	where, args, err := filterSQL(f, st)
	if err != nil {
		return 0, err
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM calls`+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("index: count calls: %w", err)
	}
	return n, nil
}

// CountUpTo returns the number of calls that match f (ignoring f.Limit,
// f.Offset and f.After) when it is at most max, with more false; when
// more than max calls match it returns max and more true, having counted
// no more than max+1 of them (a count of every matching row costs seconds
// on millions of calls). The count of all calls (no filter) is exact
// whatever max is, with more false: SQLite counts a table from its
// smallest index. max ≤ 0 counts exactly, as Count does.
func (db *DB) CountUpTo(ctx context.Context, f spanrec.CallFilter, max int) (n int, more bool, err error) {
	if where, _, err := filterSQL(f, startAll); err != nil {
		return 0, false, err
	} else if max <= 0 || where == "" {
		n, err = db.Count(ctx, f)
		return n, false, err
	}
	st, err := db.countPlan(ctx, f, max)
	if err != nil {
		return 0, false, err
	}
	where, args, err := filterSQL(f, st)
	if err != nil {
		return 0, false, err
	}
	q := `SELECT count(*) FROM (SELECT 1 FROM calls` + where + ` LIMIT ?)`
	if err := db.r.QueryRowContext(ctx, q, append(args, max+1)...).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("index: count calls: %w", err)
	}
	if n > max {
		return max, true, nil
	}
	return n, false, nil
}

// countPlan returns what a count of f up to max starts from (startsFor),
// with its bound, and which terms it reads from other indexes than the
// walk's.
func (db *DB) countPlan(ctx context.Context, f spanrec.CallFilter, max int) (starts, error) {
	st, err := db.startsFor(ctx, f, true)
	if err != nil {
		return st, err
	}
	if st, err = db.withBound(ctx, f, st); err != nil {
		return st, err
	}
	// A bounded search walks no more than its bound: no header name's
	// fields, nor distinct user agents, to read instead.
	if st.bound != "" {
		st.uaValues = false
		return st, nil
	}
	if !st.header && f.HeaderName != "" && strings.Contains(f.HeaderValue, "*") {
		if st.headerName, err = db.rareHeader(ctx, f, max); err != nil {
			return st, err
		}
	}
	return st, nil
}

// DeleteCall deletes the call with exactly the given ID, with its streams and
// DTMF. It returns an error of kind ENOTFOUND if there is no such call.
// The other legs of its interaction are regrouped without it. The call's
// files are the caller's: BeginDeletion and FinishDeletion delete a call
// with its files.
func (db *DB) DeleteCall(ctx context.Context, id spanrec.CallID) error {
	return db.inTx(ctx, "delete call "+string(id), func(tx *sql.Tx) error {
		ok, err := db.deleteLinked(ctx, db.wrap(tx), id)
		if err != nil {
			return err
		}
		if !ok {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no call %s", id)
		}
		return nil
	})
}

// filterSQL returns the WHERE clause (with its leading space, or "") and
// arguments that select the calls f matches, starting from the candidate
// sets st names. Since is inclusive and Until exclusive.
func filterSQL(f spanrec.CallFilter, st starts) (string, []any, error) {
	if f.Limit < 0 || f.Offset < 0 {
		return "", nil, spanrec.Errorf(spanrec.EINVALID, "negative limit or offset")
	}
	if f.MinDuration < 0 || f.MaxDuration < 0 || f.MinPDD < 0 || f.MaxPDD < 0 || f.MinRing < 0 || f.MaxRing < 0 {
		return "", nil, spanrec.Errorf(spanrec.EINVALID, "negative duration bound")
	}
	var conds []string
	var args []any
	if f.Number != "" {
		if m, ok := trigramPhrase(f.Number); ok && st.number {
			// The rows whose numbers hold every three-character sequence
			// of the text in a row (migration 0019), which the LIKE
			// below then tests as it tests every row without them.
			conds = append(conds, `calls.rowid IN (`+numberMatches+`)`)
			args = append(args, m)
		}
		conds = append(conds, `(caller_number LIKE ? ESCAPE '\' OR callee_number LIKE ? ESCAPE '\')`)
		p := "%" + spanrec.EscapeLike(f.Number) + "%"
		args = append(args, p, p)
	}
	if !f.Since.IsZero() {
		conds = append(conds, `start_ns >= ?`)
		args = append(args, timeValue(f.Since).clampedNS())
	}
	if !f.Until.IsZero() {
		conds = append(conds, `start_ns < ?`)
		args = append(args, timeValue(f.Until).clampedNS())
	}
	if f.Direction != "" {
		conds = append(conds, `direction = ?`)
		args = append(args, f.Direction)
	}
	if f.Status != "" {
		conds = append(conds, `status = ?`)
		args = append(args, f.Status)
	}
	// A range of many calls (st.many) is tested on the rows a page
	// walks: the unary + keeps SQLite from starting from its index.
	col := func(name string, many bool) string {
		if many {
			return `+` + name
		}
		return name
	}
	for _, b := range []struct {
		col string
		op  string
		v   time.Duration
	}{
		{col("duration_ns", st.many.duration), ` >= ?`, f.MinDuration}, {col("duration_ns", st.many.duration), ` <= ?`, f.MaxDuration},
		{col("pdd_ns", st.many.pdd), ` >= ?`, f.MinPDD}, {col("pdd_ns", st.many.pdd), ` <= ?`, f.MaxPDD},
		{col("ring_ns", st.many.ring), ` >= ?`, f.MinRing}, {col("ring_ns", st.many.ring), ` <= ?`, f.MaxRing},
	} {
		if b.v > 0 {
			conds = append(conds, b.col+b.op)
			args = append(args, int64(b.v))
		}
	}
	switch f.HangupBy {
	case "":
	case "unknown":
		conds = append(conds, `hangup_by = ''`)
	case string(spanrec.HangupCaller), string(spanrec.HangupCallee), string(spanrec.HangupSystem):
		conds = append(conds, `hangup_by = ?`)
		args = append(args, f.HangupBy)
	default:
		return "", nil, spanrec.Errorf(spanrec.EINVALID, "unknown hangup_by %q", f.HangupBy)
	}
	if f.StatusCode != 0 {
		conds = append(conds, `status_code = ?`)
		args = append(args, f.StatusCode)
	}
	if f.Codec != "" {
		// The calls of the distinct codec lists that hold the codec
		// (migration 0024): from calls_codecs_start, not every call's list
		// tested.
		switch {
		case st.codec:
			conds = append(conds, `calls.rowid IN (`+codecMatches+`)`)
		case st.walk:
			// The unary + keeps SQLite from reading the calls of a
			// common list from calls_codecs_start and sorting them all
			// (as it would where the index has no statistics yet: an
			// index upgraded by migration 0024).
			conds = append(conds, `+codecs IN (`+codecLists+`)`)
		default:
			conds = append(conds, `codecs IN (`+codecLists+`)`)
		}
		args = append(args, f.Codec)
	}
	if f.Interaction != "" {
		conds = append(conds, `interaction = ?`)
		args = append(args, f.Interaction)
	}
	switch {
	case f.HasLoss == nil:
	case *f.HasLoss:
		// Constants, so that the plan that reads the partial index
		// calls_loss_start (migration 0019) does not hang on a bound
		// value (SQLite would prepare the statement again per value).
		conds = append(conds, `capture_loss = 1`)
	default:
		conds = append(conds, `capture_loss = 0`)
	}
	if f.Signalling != "" {
		conds = append(conds, `signalling = ?`)
		args = append(args, f.Signalling)
	}
	if f.Sensor != "" {
		conds = append(conds, `sensor = ?`)
		args = append(args, f.Sensor)
	}
	switch {
	case f.Tag == "":
	case st.many.tag:
		// A tag of many calls, tested on the rows a page walks (a
		// lookup of the call's tag).
		conds = append(conds, `EXISTS (SELECT 1 FROM call_tags WHERE call_tags.call_id = calls.id AND call_tags.tag = ?)`)
		args = append(args, f.Tag)
	default:
		// IN, not EXISTS: SQLite may then start from the tag's entries.
		conds = append(conds, `calls.id IN (SELECT call_tags.call_id FROM call_tags WHERE call_tags.tag = ?)`)
		args = append(args, f.Tag)
	}
	if f.NoteText != "" {
		p := "%" + spanrec.EscapeLike(f.NoteText) + "%"
		if m, ok := trigramPhrase(f.NoteText); ok && st.note {
			// The notes that hold every three-character sequence of the
			// text (migration 0024), tested with the LIKE.
			conds = append(conds, `calls.id IN (SELECT call_notes.call_id FROM call_notes WHERE call_notes.id IN
				(`+noteMatches+`) AND call_notes.text LIKE ? ESCAPE '\')`)
			args = append(args, m, p)
		} else {
			conds = append(conds, `EXISTS (SELECT 1 FROM call_notes WHERE call_notes.call_id = calls.id AND call_notes.text LIKE ? ESCAPE '\')`)
			args = append(args, p)
		}
	}
	conds, args = searchConds(f, st, conds, args)
	if len(f.Extensions) > 0 {
		// One JSON array parameter, as in queryCalls: any number of
		// extensions, one statement text.
		list, err := json.Marshal(f.Extensions)
		if err != nil {
			return "", nil, fmt.Errorf("index: extensions: %w", err)
		}
		conds = append(conds, `(caller_number IN (SELECT value FROM json_each(?)) OR callee_number IN (SELECT value FROM json_each(?)))`)
		args = append(args, string(list), string(list))
	}
	if st.bound != "" {
		// Before the test of the conversation's earlier legs, which
		// then looks at the legs the search examines only.
		conds = append(conds, st.bound)
		args = append(args, st.boundArgs...)
	}
	if f.GroupInteraction {
		conds, args = firstLegCond(conds, args)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// firstLegCond appends to the conditions conds (with their arguments
// args) of a filter the condition that a call is the earliest of the
// calls that match them in its conversation (CallFilter.GroupInteraction):
// no leg of the same conversation (the same interaction, or the call whose
// ID the interaction is) that matches conds comes before it (by start
// time, calls without one last, as the sorts put calls without a value
// and as PostgreSQL's firstLegCond does, then by ID). Each
// call is tested by looking up its own legs (calls_interaction, the
// primary key), so a page of grouped calls reads as many rows as a page
// of calls, not every matching call as ranking them all would.
func firstLegCond(conds []string, args []any) ([]string, []any) {
	// The legs' filter: in the subquery, the calls table (and unqualified
	// columns) is the leg's row, which hides the outer one.
	match := ""
	if len(conds) > 0 {
		match = ` AND EXISTS (SELECT 1 FROM calls WHERE calls.id = leg.id AND ` + strings.Join(conds, " AND ") + `)`
	}
	const key = `CASE calls.interaction WHEN '' THEN calls.id ELSE calls.interaction END`
	const before = ` AND (leg.start_ns < calls.start_ns OR (leg.start_ns IS NOT NULL AND calls.start_ns IS NULL)
		OR (leg.start_ns IS calls.start_ns AND leg.id < calls.id))`
	filterArgs := slices.Clone(args)
	conds = append(conds,
		`NOT EXISTS (SELECT 1 FROM calls AS leg WHERE leg.interaction = `+key+before+match+`)`,
		`NOT EXISTS (SELECT 1 FROM calls AS leg WHERE leg.interaction = '' AND leg.id = `+key+before+match+`)`)
	if match != "" {
		args = append(append(args, filterArgs...), filterArgs...)
	}
	return conds, args
}

// sortExprs maps each of spanrec.SortKeys to the SQL expression it
// orders by. Only these constant texts enter a statement: the key itself
// never does.
var sortExprs = map[string]string{
	"start":       `start_ns`,
	"caller":      `caller_number`,
	"callee":      `callee_number`,
	"direction":   `direction`,
	"duration":    `duration_ns`,
	"talk":        `duration_ns`,
	"status":      `status`,
	"status_code": `NULLIF(status_code, 0)`,
	"codec":       `json_extract(codecs, '$[0]')`,
	"legs":        `legs`, // kept by PutCall and the deletions (legs.go, migration 0026)
	"mos":         `mos`,
	"quality":     `mos`,
	"pdd":         `pdd_ns`,
	"ring":        `ring_ns`,
	"hangup_by":   `NULLIF(hangup_by, '')`,
	"sensor":      `NULLIF(sensor, '')`,
}

// rangeHint returns the index a page of a time range alone, by start
// time, must walk: calls_start from the range's newest (or oldest) end,
// as many entries as the page holds. With ANALYZE's statistics of an index
// whose calls have few directions and statuses, SQLite prefers a
// skip-scan of calls_direction_status_start (0019) and sorts the whole
// range instead: a day of a million calls took 0.26 s instead of a few ms
// (docs/PERFORMANCE.md, "Eleventh session: a million calls in SQLite").
// So too with grouping by conversation, which tests each call the walk
// reads by looking up its own legs (firstLegCond): the planner sorted a
// day of a million calls, each tested so (0.7 s). Any other filter keeps
// the planner's choice.
func rangeHint(f spanrec.CallFilter) string {
	if f.Since.IsZero() && f.Until.IsZero() {
		return ""
	}
	if key := strings.TrimPrefix(f.Sort, "-"); key != "" && key != "start" {
		return ""
	}
	alone := spanrec.CallFilter{Since: f.Since, Until: f.Until, GroupInteraction: f.GroupInteraction,
		Sort: f.Sort, After: f.After, Limit: f.Limit, Offset: f.Offset, ScanLimit: f.ScanLimit}
	if !reflect.DeepEqual(f, alone) {
		return ""
	}
	return ` INDEXED BY calls_start`
}

// orderSQL returns the ORDER BY clause of a CallFilter.Sort value: calls
// without a value last, ties by ID.
func orderSQL(sort string) (string, error) {
	if sort == "" {
		sort = spanrec.SortStartDesc
	}
	key, dir := strings.CutPrefix(sort, "-")
	expr, ok := sortExprs[key]
	if !ok {
		return "", spanrec.Errorf(spanrec.EINVALID, "unknown sort order %q", sort)
	}
	if dir {
		return ` ORDER BY ` + expr + ` DESC NULLS LAST, id`, nil
	}
	return ` ORDER BY ` + expr + ` NULLS LAST, id`, nil
}

// afterSQL returns the condition (and its arguments) that selects the rows
// after call id in the order sort gives (keyset pagination): rows whose
// sort key comes after that call's, or equals it with a greater ID; calls
// without a value come last in either direction. The call's key is read
// from the index by a subquery, so any sort expression pages alike. It
// serves the pages seekPageSQL does not: of no given size (every call
// after the call; and of a key no index holds, of which there is none).
func afterSQL(sort string, id spanrec.CallID) (string, []any, error) {
	if sort == "" {
		sort = spanrec.SortStartDesc
	}
	key, desc := strings.CutPrefix(sort, "-")
	expr, ok := sortExprs[key]
	if !ok {
		return "", nil, spanrec.Errorf(spanrec.EINVALID, "unknown sort order %q", sort)
	}
	op := ` > `
	if desc {
		op = ` < `
	}
	// The subquery's own calls table hides the outer one, so an expression
	// that names calls.x reads the after call's row.
	v := `(SELECT ` + expr + ` FROM calls WHERE id = ?)`
	cond := `((` + v + ` IS NULL AND ` + expr + ` IS NULL AND id > ?) OR (` + v + ` IS NOT NULL AND (` +
		expr + op + v + ` OR (` + expr + ` = ` + v + ` AND id > ?) OR ` + expr + ` IS NULL)))`
	return cond, []any{id, id, id, id, id, id}, nil
}

// seekable reports whether the page after a call in the order sort gives
// is read by seekPageSQL: every sort key is a column or an expression of
// the row (the number of legs too, kept in the row since it was counted by
// a subquery), so every known key is; an unknown one is left to afterSQL,
// which refuses it.
func seekable(sort string) bool {
	if sort == "" {
		sort = spanrec.SortStartDesc
	}
	_, ok := sortExprs[strings.TrimPrefix(sort, "-")]
	return ok
}

// notNullKeys are the sort keys whose expression is a NOT NULL column:
// the page after a call has no calls without a key to look for (SQLite
// would look for them in the primary key's index from its start, testing
// each call, as it drops a NOT NULL column's IS NULL from the index seek).
var notNullKeys = map[string]bool{"caller": true, "callee": true, "direction": true, "duration": true, "talk": true, "status": true, "legs": true}

// seekPageSQL returns the query (and its arguments) of the page of limit
// calls, after offset more, that come after call id in the order sort
// gives (keyset pagination, the same calls in the same order as
// afterSQL's condition), among the calls of table from (calls, with
// rangeHint's INDEXED BY) that the filter where (with its arguments args,
// from filterSQL) selects.
//
// afterSQL's condition (key after the call's, or equal with a greater ID,
// or no key) is an OR that no index can seek to: SQLite walks the sort's
// index from its start and tests every entry before the page, 100 000 of
// them for the 1000th page of 100. Here each branch of it is a query of
// its own, which seeks to where it starts in the key's index (calls_…
// (key, id), both ways: SEARCH … (key=? AND id>?), (key<?) or (key>?),
// and (key=NULL AND id>?)) and reads at most limit+offset entries: the
// calls whose key equals the call's with a greater ID, ordered by ID;
// those whose key comes after it, in the sort's order; those without a
// key (after the call if it has none), ordered by ID, unless the key is
// never NULL (notNullKeys). The call's key is
// read by a subquery (its own calls table hides the outer one, so an
// expression that names calls.x reads the call's row), which SQLite
// evaluates once. The at most 3·(limit+offset) row IDs are joined to
// their rows and sorted in the sort's order (CROSS JOIN: in that order,
// not an index walk of calls that tests each row against the page).
func seekPageSQL(from, where string, args []any, sort string, id spanrec.CallID, limit, offset int) (string, []any, error) {
	if sort == "" {
		sort = spanrec.SortStartDesc
	}
	key, desc := strings.CutPrefix(sort, "-")
	expr, ok := sortExprs[key]
	if !ok {
		return "", nil, spanrec.Errorf(spanrec.EINVALID, "unknown sort order %q", sort)
	}
	order, err := orderSQL(sort)
	if err != nil {
		return "", nil, err
	}
	op, dir := ` > `, ``
	if desc {
		op, dir = ` < `, ` DESC`
	}
	v := `(SELECT ` + expr + ` FROM calls WHERE id = ?)`
	and := " WHERE "
	if where != "" {
		and = where + " AND "
	}
	type branch struct {
		cond, order string
		args        []any
	}
	branches := []branch{
		{expr + ` = ` + v + ` AND id > ?`, `id`, []any{id, id}},
		{expr + op + v, expr + dir + `, id`, []any{id}},
	}
	if !notNullKeys[key] {
		branches = append(branches, branch{expr + ` IS NULL AND id > coalesce((SELECT CASE WHEN ` + expr +
			` IS NULL THEN id END FROM calls WHERE id = ?), '')`, `id`, []any{id}})
	}
	n := limit + offset
	var q strings.Builder
	var qargs []any
	for i, branch := range branches {
		if i > 0 {
			q.WriteString(` UNION ALL `)
		}
		q.WriteString(`SELECT r FROM (SELECT calls.rowid AS r FROM ` + from + and + branch.cond + ` ORDER BY ` + branch.order + ` LIMIT ?)`)
		qargs = append(append(append(qargs, args...), branch.args...), n)
	}
	return `SELECT ` + callColumns + ` FROM (` + q.String() + `) AS page CROSS JOIN calls ON calls.rowid = page.r` +
		order + ` LIMIT ? OFFSET ?`, append(qargs, limit, offset), nil
}

// CallsAfter returns up to limit calls (all if limit ≤ 0) in the order they
// were first indexed, starting after the position seq, and the position of
// the last one returned (seq itself if none). Position 0 is before the first
// call; LastSeq gives the current end. Replacing a call keeps its position,
// so a poller sees each call once. The API's live view polls this when no
// recorder runs in the same process.
func (db *DB) CallsAfter(ctx context.Context, seq int64, limit int) ([]*spanrec.Call, int64, error) {
	if limit <= 0 {
		limit = -1
	}
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, seq, fmt.Errorf("index: calls after %d: %w", seq, err)
	}
	defer tx.Rollback()
	var last sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT max(rowid) FROM (SELECT rowid FROM calls WHERE rowid > ? ORDER BY rowid LIMIT ?)`,
		seq, limit).Scan(&last); err != nil {
		return nil, seq, fmt.Errorf("index: calls after %d: %w", seq, err)
	}
	if !last.Valid {
		return []*spanrec.Call{}, seq, nil
	}
	calls, err := queryCalls(ctx, tx, `SELECT `+callColumns+` FROM calls WHERE rowid > ? AND rowid <= ? ORDER BY rowid`, seq, last.Int64)
	if err != nil {
		return nil, seq, fmt.Errorf("index: calls after %d: %w", seq, err)
	}
	return calls, last.Int64, nil
}

// LastSeq returns the position of the last call indexed, for CallsAfter.
func (db *DB) LastSeq(ctx context.Context) (int64, error) {
	var last sql.NullInt64
	if err := db.r.QueryRowContext(ctx, `SELECT max(rowid) FROM calls`).Scan(&last); err != nil {
		return 0, fmt.Errorf("index: last seq: %w", err)
	}
	return last.Int64, nil
}

// holdRow is how a spanrec.Hold is stored in the holds JSON column.
type holdRow struct {
	Side  spanrec.Side `json:"side"`
	Start *int64       `json:"start_ns"`
	End   *int64       `json:"end_ns"`
}

func holdRows(hs []spanrec.Hold) []holdRow {
	rows := make([]holdRow, 0, len(hs))
	for _, h := range hs {
		r := holdRow{Side: h.Side}
		if !h.Start.IsZero() {
			v := h.Start.UnixNano()
			r.Start = &v
		}
		if !h.End.IsZero() {
			v := h.End.UnixNano()
			r.End = &v
		}
		rows = append(rows, r)
	}
	return rows
}

func holdsOf(rows []holdRow) []spanrec.Hold {
	if len(rows) == 0 {
		return nil
	}
	hs := make([]spanrec.Hold, 0, len(rows))
	for _, r := range rows {
		h := spanrec.Hold{Side: r.Side}
		if r.Start != nil {
			h.Start = time.Unix(0, *r.Start).UTC()
		}
		if r.End != nil {
			h.End = time.Unix(0, *r.End).UTC()
		}
		hs = append(hs, h)
	}
	return hs
}
