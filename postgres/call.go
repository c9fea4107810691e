package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spanrec/spanrec"
)

var callColumnList = []string{"id", "sip_call_id",
	"caller_number", "caller_name", "caller_addr",
	"callee_number", "callee_name", "callee_addr",
	"direction", "status", "status_code",
	"start_ns", "answer_ns", "end_ns", "duration_ns", "codecs",
	"audio_start_ns", "audio_ms", "audio", "audio_sha256", "pcap", "pcap_sha256",
	"capture_loss", "notes", "holds", "signalling",
	"status_reason", "hangup_by", "pdd_ns", "ring_ns", "mos", "sensor",
	"caller_ua", "callee_ua", "headers_cut", "caller_tag", "callee_tag"}

var callColumns = strings.Join(callColumnList, ", ")

// upsertCall inserts a calls row or replaces every column but its
// position (seq) and interaction, but never another sensor's call that
// has the same ID (see PutCall).
var upsertCall = func() string {
	var set []string
	for _, c := range callColumnList[1:] {
		set = append(set, c+" = EXCLUDED."+c)
	}
	return `INSERT INTO calls (` + callColumns + `) VALUES (` + placeholders(1, len(callColumnList)) +
		`) ON CONFLICT (id) DO UPDATE SET ` + strings.Join(set, ", ") +
		` WHERE calls.sensor = EXCLUDED.sensor OR calls.sensor = '' OR EXCLUDED.sensor = ''`
}()

const streamColumns = `call_id, seq, ssrc, src, dst, side, payload_type, codec, clock_rate, decoded,
	first_ns, last_ns, packets, lost, duplicates, out_of_order,
	jitter_ms, max_jitter_ms, max_delta_ms, mos, encryption, auth_failures, mean_jitter_ms, concealed_ms`

var insertStream = `INSERT INTO streams (` + streamColumns + `) VALUES (` + placeholders(1, 24) + `)`

const dtmfColumns = `call_id, seq, digit, at_ns, duration_ms, side, source`

var insertDTMF = `INSERT INTO dtmf (` + dtmfColumns + `) VALUES (` + placeholders(1, 7) + `)`

// placeholders returns "$from, …, $(from+n-1)".
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(from+i))
	}
	return b.String()
}

// PutCall stores c, replacing the call with the same ID and all its streams
// and DTMF rows, and links it with the other legs of its conversation, in
// one transaction. c is not retained. It returns an error of kind EINVALID
// if c is nil, has no ID, or has a time Unix nanoseconds cannot hold
// (before 1678 or after 2262), and of kind ECONFLICT (changing nothing) if
// the call with that ID was recorded by another sensor (both named): in
// the central index two sensors' copies of one call are two rows, never
// one overwriting the other (package ship then ships the second under
// spanrec.CallID.ForSensor). A call of an unnamed sensor may be replaced.
func (db *DB) PutCall(ctx context.Context, c *spanrec.Call) error {
	if c == nil || c.ID == "" {
		return spanrec.Errorf(spanrec.EINVALID, "call without an id")
	}
	args, err := callArgs(c)
	if err != nil {
		return err
	}
	id := text(string(c.ID))
	keys := linkKeys(c)
	err = db.beginRetry(ctx, "put call "+id, func(tx pgx.Tx) error {
		// The link keys' and interaction's locks before the row's (see
		// lockLegs), as every path takes them.
		if err := lockLegs(ctx, tx, id, keys); err != nil {
			return err
		}
		if err := putCall(ctx, tx, c, id, args); err != nil {
			return err
		}
		return linkCall(ctx, tx, c, id, keys)
	})
	if err != nil {
		return fmt.Errorf("index: put call %s: %w", id, err)
	}
	return nil
}

func putCall(ctx context.Context, tx pgx.Tx, c *spanrec.Call, id string, args []any) error {
	b := &pgx.Batch{}
	b.Queue(upsertCall, args...).Exec(func(ct pgconn.CommandTag) error {
		if ct.RowsAffected() == 0 {
			return spanrec.Errorf(spanrec.ECONFLICT, "the call with this ID was recorded by another sensor than %q: not replaced", text(c.Sensor))
		}
		return nil
	})
	b.Queue(`DELETE FROM streams WHERE call_id = $1`, id)
	b.Queue(`DELETE FROM dtmf WHERE call_id = $1`, id)
	for i := range c.Streams {
		s := &c.Streams[i]
		src, _ := s.Src.MarshalText() // never fails
		dst, _ := s.Dst.MarshalText()
		b.Queue(insertStream, id, i, int64(s.SSRC), string(src), string(dst), text(string(s.Side)),
			int32(s.PayloadType), text(s.Codec), s.ClockRate, s.Decoded,
			nsOf(s.First), nsOf(s.Last), s.Packets, s.Lost, s.Duplicates, s.OutOfOrder,
			realOf(s.JitterMS), realOf(s.MaxJitterMS), realOf(s.MaxDeltaMS), realOf(s.MOS),
			text(string(s.Encryption)), s.AuthFailures, realOf(s.MeanJitterMS), s.ConcealedMS)
	}
	putSearch(b, c, id)
	if err := queueQuality(b, c, id); err != nil {
		return err
	}
	for i := range c.DTMF {
		d := &c.DTMF[i]
		b.Queue(insertDTMF, id, i, text(d.Digit), nsOf(d.At), d.DurationMS, text(string(d.Side)), text(d.Source))
	}
	return tx.SendBatch(ctx, b).Close()
}

// callArgs returns the calls row of c in callColumnList order, after
// checking that every time of c fits the storage.
func callArgs(c *spanrec.Call) ([]any, error) {
	for _, t := range []struct {
		name string
		v    time.Time
	}{
		{"start", c.Start}, {"answer", c.Answer}, {"end", c.End}, {"audio start", c.AudioStart},
	} {
		if !fits(t.v) {
			return nil, spanrec.Errorf(spanrec.EINVALID, "call %s: %s time %v out of range", text(string(c.ID)), t.name, t.v)
		}
	}
	for i, s := range c.Streams {
		if !fits(s.First) || !fits(s.Last) {
			return nil, spanrec.Errorf(spanrec.EINVALID, "call %s: stream %d: time out of range", text(string(c.ID)), i)
		}
	}
	for i, d := range c.DTMF {
		if !fits(d.At) {
			return nil, spanrec.Errorf(spanrec.EINVALID, "call %s: dtmf %d: time out of range", text(string(c.ID)), i)
		}
	}
	for i, h := range c.Holds {
		if !fits(h.Start) || !fits(h.End) {
			return nil, spanrec.Errorf(spanrec.EINVALID, "call %s: hold %d: time out of range", text(string(c.ID)), i)
		}
	}
	var codecs any // NULL for none
	if c.Codecs != nil {
		b, err := json.Marshal(texts(c.Codecs))
		if err != nil {
			return nil, fmt.Errorf("index: call %s: codecs: %w", text(string(c.ID)), err)
		}
		codecs = string(b)
	}
	notes, err := json.Marshal(texts(c.Notes))
	if err != nil {
		return nil, fmt.Errorf("index: call %s: notes: %w", text(string(c.ID)), err)
	}
	holds, err := json.Marshal(holdRows(c.Holds))
	if err != nil {
		return nil, fmt.Errorf("index: call %s: holds: %w", text(string(c.ID)), err)
	}
	signalling := c.Signalling
	if signalling == "" {
		signalling = spanrec.SignallingSIP
	}
	callerAddr, _ := c.Caller.Addr.MarshalText() // never fails
	calleeAddr, _ := c.Callee.Addr.MarshalText()
	return []any{
		text(string(c.ID)), text(c.SIPCallID),
		text(c.Caller.Number), text(c.Caller.Name), string(callerAddr),
		text(c.Callee.Number), text(c.Callee.Name), string(calleeAddr),
		text(string(c.Direction)), text(string(c.Status)), c.StatusCode,
		nsOf(c.Start), nsOf(c.Answer), nsOf(c.End), int64(c.Duration), codecs,
		nsOf(c.AudioStart), c.AudioMS, text(c.Audio), text(c.AudioSHA256), text(c.PCAP), text(c.PCAPSHA256),
		c.CaptureLoss, string(notes), string(holds), text(signalling),
		text(c.StatusReason), text(string(c.HangupBy)), durationOf(c.PDD), durationOf(c.RingTime), worstMOS(c.Streams),
		text(c.Sensor),
		text(within(c.CallerUA)), text(within(c.CalleeUA)), c.HeadersCut + overBound(c), text(c.CallerTag), text(c.CalleeTag),
	}, nil
}

// within returns s cut to spanrec.MaxHeaderValue bytes (at a character
// boundary of valid UTF-8), the bound capture keeps user agents and
// header values within: a value past it (a call put by other code)
// would not fit a B-tree entry of calls_caller_ua or
// call_headers_name_value (about 2.7 kB) and its PutCall would fail
// every time, holding a sensor's outbox behind it.
func within(s string) string {
	if len(s) <= spanrec.MaxHeaderValue {
		return s
	}
	n := spanrec.MaxHeaderValue
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// overBound counts the user agents and header values of c that within
// cuts, for HeadersCut: a cut is counted where it is made.
func overBound(c *spanrec.Call) int {
	n := 0
	for _, v := range []string{c.CallerUA, c.CalleeUA} {
		if len(v) > spanrec.MaxHeaderValue {
			n++
		}
	}
	for i, h := range c.SIPHeaders {
		if i < spanrec.MaxSIPHeaders && len(h.Value) > spanrec.MaxHeaderValue {
			n++
		}
	}
	return n
}

// durationOf returns the column value of a measured duration: its
// nanoseconds, or NULL for 0 (not measured).
func durationOf(d time.Duration) *int64 {
	if d <= 0 {
		return nil
	}
	v := int64(d)
	return &v
}

// worstMOS returns the lowest MOS of the streams that have one, or NULL:
// the call list's quality column, stored so that it sorts.
func worstMOS(streams []spanrec.Stream) *float64 {
	worst := 0.0
	for _, s := range streams {
		if s.MOS > 0 && (worst == 0 || s.MOS < worst) {
			worst = s.MOS
		}
	}
	if worst == 0 {
		return nil
	}
	return &worst
}

// Call returns the call with the given ID, with its streams and DTMF. id may
// also be a prefix of at least spanrec.MinIDPrefix characters of exactly one
// call's ID. It returns an error of kind ENOTFOUND if no call matches (its
// message names the shortest prefix when id is shorter), and of kind
// EINVALID if the prefix matches several calls (spanrec.IDPrefixAmbiguous lists the first few).
func (db *DB) Call(ctx context.Context, id spanrec.CallID) (*spanrec.Call, error) {
	var c *spanrec.Call
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		full, err := resolveID(ctx, tx, spanrec.CallID(text(string(id))))
		if err != nil {
			return err
		}
		calls, err := queryCalls(ctx, tx, `SELECT `+callColumns+` FROM calls WHERE id = $1`, full)
		if err != nil {
			return fmt.Errorf("index: call %s: %w", full, err)
		}
		if len(calls) == 0 { // deleted since resolveID: cannot happen in one snapshot
			return spanrec.Errorf(spanrec.ENOTFOUND, "no call %s", full)
		}
		c = calls[0]
		return nil
	})
	return c, err
}

// readTx runs fn in a read-only transaction that sees one snapshot of the
// database (REPEATABLE READ), so calls and their child rows agree even
// while another process replaces them.
func (db *DB) readTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// resolveID returns the full ID of the call whose ID is id or, failing
// that, starts with id.
func resolveID(ctx context.Context, tx pgx.Tx, id spanrec.CallID) (spanrec.CallID, error) {
	if id == "" {
		return "", spanrec.Errorf(spanrec.EINVALID, "empty call id")
	}
	var full spanrec.CallID
	err := tx.QueryRow(ctx, `SELECT id FROM calls WHERE id = $1`, id).Scan(&full)
	switch {
	case err == nil:
		return full, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return "", fmt.Errorf("index: call %s: %w", id, err)
	case len(id) < spanrec.MinIDPrefix:
		return "", spanrec.IDPrefixTooShort(id)
	}
	// LIKE with a literal prefix on a "C" column is an index range scan.
	rows, err := tx.Query(ctx, `SELECT id FROM calls WHERE id LIKE $1 ESCAPE E'\\' ORDER BY id LIMIT $2`, spanrec.EscapeLike(string(id))+"%", spanrec.MaxIDCandidates+1)
	if err != nil {
		return "", fmt.Errorf("index: call %s: %w", id, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[spanrec.CallID])
	if err != nil {
		return "", fmt.Errorf("index: call %s: %w", id, err)
	}
	switch len(ids) {
	case 0:
		return "", spanrec.Errorf(spanrec.ENOTFOUND, "no call %s", id)
	case 1:
		return ids[0], nil
	default:
		return "", spanrec.IDPrefixAmbiguous(id, ids)
	}
}

// Calls returns the calls that match f, newest first (by start time, then
// by ID) unless f.Sort says otherwise, with their streams and DTMF. It
// returns an error of kind EINVALID if f.Limit or f.Offset is negative, a
// duration bound is negative or f.Sort is unknown.
func (db *DB) Calls(ctx context.Context, f spanrec.CallFilter) ([]*spanrec.Call, error) {
	var a args
	where, err := db.where(ctx, f, &a)
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
		q, err = seekPageSQL(where, f.Sort, f.After.ID, f.Limit, f.Offset, &a)
		if err != nil {
			return nil, err
		}
	} else {
		if f.After != nil {
			cond, err := afterSQL(f.Sort, f.After.ID, &a)
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
		}
		q = `SELECT ` + callColumns + ` FROM calls` + where + order
		if f.Limit > 0 {
			q += ` LIMIT ` + a.add(f.Limit)
		}
		if f.Offset > 0 {
			q += ` OFFSET ` + a.add(f.Offset)
		}
	}
	var calls []*spanrec.Call
	err = db.readTx(ctx, func(tx pgx.Tx) error {
		if f.After != nil {
			// A page cannot follow a call that is gone: its key is unknown.
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM calls WHERE id = $1`, text(string(f.After.ID))).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return spanrec.Errorf(spanrec.ECONFLICT, "call %s, after which the page starts, is gone", text(string(f.After.ID)))
			}
		}
		calls, err = queryCalls(ctx, tx, q, a...)
		return err
	})
	var e *spanrec.Error
	if errors.As(err, &e) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("index: calls: %w", err)
	}
	return calls, nil
}

// Count returns the number of calls that match f, ignoring f.Limit and
// f.Offset.
func (db *DB) Count(ctx context.Context, f spanrec.CallFilter) (int, error) {
	var a args
	where, err := db.where(ctx, f, &a)
	if err != nil {
		return 0, err
	}
	q := `SELECT count(*) FROM calls` + where
	if db.countsKept(f) {
		// All calls, or one sensor's: the counts the triggers of
		// migration 0009 keep, exact as count(*) is.
		q, a = `SELECT coalesce(sum(calls), 0) FROM call_counts`, nil
		if f.Sensor != "" {
			q += ` WHERE sensor = ` + a.add(text(f.Sensor))
		}
	}
	var n int
	if err := db.pool.QueryRow(ctx, q, a...).Scan(&n); err != nil {
		return 0, fmt.Errorf("index: count calls: %w", err)
	}
	return n, nil
}

// CountUpTo returns the number of calls that match f (ignoring f.Limit,
// f.Offset and f.After) when it is at most max, with more false; when
// more than max calls match it returns max and more true, having counted
// no more than max+1 of them (a count of every matching row costs seconds
// on millions of calls). Where the exact count is kept (call_counts: no
// filter, or the sensor alone) it is returned whatever max is, with more
// false. max ≤ 0 counts exactly, as Count does.
func (db *DB) CountUpTo(ctx context.Context, f spanrec.CallFilter, max int) (n int, more bool, err error) {
	if max <= 0 || db.countsKept(f) {
		n, err = db.Count(ctx, f)
		return n, false, err
	}
	// A search bounded to the newest calls (scanBound: a text no index
	// serves, with ScanLimit) examines ScanLimit calls at most: it is
	// counted on calls, within its bound.
	bounded := f.ScanLimit > 0 && f.UnindexedTerm(db.trigramServed) != ""
	if q, a, ok := childCountSQL(f, max); ok && !bounded {
		err = db.pool.QueryRow(ctx, q, a...).Scan(&n)
	} else {
		var a args
		where, werr := db.where(ctx, f, &a)
		if werr != nil {
			return 0, false, werr
		}
		q := `SELECT count(*) FROM (SELECT 1 FROM calls` + where + ` LIMIT ` + a.add(max+1) + `) AS matching`
		err = db.pool.QueryRow(ctx, q, a...).Scan(&n)
	}
	if err != nil {
		return 0, false, fmt.Errorf("index: count calls: %w", err)
	}
	if n > max {
		return max, true, nil
	}
	return n, false, nil
}

// childCountSQL returns the statement (and its parameters) that counts
// up to max+1 of the calls f matches from the rows of the table searched
// when f is a search of the notes' text, of a header field with a *
// pattern or of a tag and nothing else (no other condition: the UI's
// search by that field alone); ok false otherwise, where CountUpTo keeps
// the statement on calls (as it does for a search bounded to the newest
// calls). A note or header field is counted unless an earlier row of the
// same call (a lower note ID, an earlier field) matches too, so each call
// counts once; every row belongs to a call (a foreign key), so calls is
// not read. The earlier row is looked up per row (a SubPlan, kept so by
// OFFSET 0): the count streams and stops at max+1 rows. On calls, the planner makes the
// EXISTS a join that hashes every matching row first: 100,000 notes or
// 110,000 header fields of 10 M calls, 190-390 ms for a total the UI
// caps at 10,000 (docs/PERFORMANCE.md, "Fourteenth session"). A pattern
// the trigram index serves is still read through it: a bitmap of every
// matching field, the rest of the cost of a common pattern, a few rows
// for a rare one.
func childCountSQL(f spanrec.CallFilter, max int) (q string, a args, ok bool) {
	if f.GroupInteraction {
		return "", nil, false
	}
	rest := f
	rest.NoteText, rest.HeaderName, rest.HeaderValue, rest.Tag = "", "", "", ""
	var ra args
	if w, err := filterSQL(rest, &ra, "", nil); err != nil || w != "" {
		return "", nil, false
	}
	switch {
	case f.Tag != "" && f.NoteText == "" && f.HeaderName == "":
		// A call has a tag once (the primary key): nothing to look up.
		q = `SELECT count(*) FROM (SELECT 1 FROM call_tags WHERE tag = ` + a.add(text(f.Tag))
	case f.NoteText != "" && f.HeaderName == "" && f.Tag == "":
		p := a.add(containsPattern(f.NoteText))
		q = `SELECT count(*) FROM (SELECT 1 FROM call_notes AS n WHERE ` + trigramColumn(`n.text`, f.NoteText) + ` ILIKE ` + p + ` ESCAPE E'\\'
			AND NOT EXISTS (SELECT 1 FROM call_notes AS e WHERE e.call_id = n.call_id AND e.id < n.id AND e.text ILIKE ` + p + ` ESCAPE E'\\' OFFSET 0)`
	case f.NoteText == "" && f.HeaderName != "" && strings.Contains(f.HeaderValue, "*") && f.Tag == "":
		name := a.add(text(strings.ToLower(f.HeaderName)))
		p := a.add(headerPattern(f.HeaderValue))
		q = `SELECT count(*) FROM (SELECT 1 FROM call_headers AS h WHERE h.name = ` + name + ` AND ` + trigramColumn(`h.value`, f.HeaderValue) + ` ILIKE ` + p + ` ESCAPE E'\\'
			AND NOT EXISTS (SELECT 1 FROM call_headers AS e WHERE e.call_id = h.call_id AND e.seq < h.seq AND e.name = ` + name + ` AND e.value ILIKE ` + p + ` ESCAPE E'\\' OFFSET 0)`
	default:
		return "", nil, false
	}
	return q + ` LIMIT ` + a.add(max+1) + `) AS matching`, a, true
}

// countsKept reports whether Count reads f's total from call_counts: f
// is empty but for its sensor, its sort and its paging.
func (db *DB) countsKept(f spanrec.CallFilter) bool {
	if f.GroupInteraction {
		return false
	}
	f.Sensor = ""
	var a args
	rest, err := filterSQL(f, &a, "", nil)
	return err == nil && rest == ""
}

// DeleteCall deletes the call with exactly the given ID, with its streams,
// DTMF and link keys. It returns an error of kind ENOTFOUND if there is no
// such call.
// The other legs of its interaction are regrouped without it. The call's
// files are the caller's: BeginDeletion and FinishDeletion delete a call
// with its files.
func (db *DB) DeleteCall(ctx context.Context, id spanrec.CallID) error {
	cid := text(string(id))
	return db.inRetryTx(ctx, "delete call "+cid, func(tx pgx.Tx) error {
		ok, err := deleteLinked(ctx, tx, cid)
		if err != nil {
			return err
		}
		if !ok {
			return spanrec.Errorf(spanrec.ENOTFOUND, "no call %s", cid)
		}
		return nil
	})
}

// args collects the parameters of a statement.
type args []any

// add appends v and returns its placeholder.
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// filterSQL returns the WHERE clause (with its leading space, or "") that
// selects the calls f matches, adding its parameters to a. Since is
// inclusive and Until exclusive. bound, if not "", is the condition that
// bounds the search to the calls it examines (scanBound): one of the
// filter's conditions, so that grouping by conversation tests a call's
// earlier legs against it too (firstLegCond). ua, if not nil, holds the
// distinct user agents like f.UserAgent (uaMatches).
func filterSQL(f spanrec.CallFilter, a *args, bound string, ua *uaValues) (string, error) {
	if f.Limit < 0 || f.Offset < 0 {
		return "", spanrec.Errorf(spanrec.EINVALID, "negative limit or offset")
	}
	if f.MinDuration < 0 || f.MaxDuration < 0 || f.MinPDD < 0 || f.MaxPDD < 0 || f.MinRing < 0 || f.MaxRing < 0 {
		return "", spanrec.Errorf(spanrec.EINVALID, "negative duration bound")
	}
	var conds []string
	if f.Number != "" {
		// ILIKE under COLLATE "C" folds ASCII letters only, as SQLite's
		// LIKE does.
		p := a.add(containsPattern(f.Number))
		c1, c2 := trigramColumn(`caller_number`, f.Number), trigramColumn(`callee_number`, f.Number)
		conds = append(conds, `(`+c1+` ILIKE `+p+` ESCAPE E'\\' OR `+c2+` ILIKE `+p+` ESCAPE E'\\')`)
	}
	if !f.Since.IsZero() {
		conds = append(conds, `start_ns >= `+a.add(clampedNS(f.Since)))
	}
	if !f.Until.IsZero() {
		conds = append(conds, `start_ns < `+a.add(clampedNS(f.Until)))
	}
	if f.Direction != "" {
		conds = append(conds, `direction = `+a.add(text(string(f.Direction))))
	}
	if f.Status != "" {
		conds = append(conds, `status = `+a.add(text(string(f.Status))))
	}
	if f.MinDuration > 0 {
		conds = append(conds, `duration_ns >= `+a.add(int64(f.MinDuration)))
	}
	if f.MaxDuration > 0 {
		conds = append(conds, `duration_ns <= `+a.add(int64(f.MaxDuration)))
	}
	for _, b := range []struct {
		cond string
		v    time.Duration
	}{
		{`pdd_ns >= `, f.MinPDD}, {`pdd_ns <= `, f.MaxPDD},
		{`ring_ns >= `, f.MinRing}, {`ring_ns <= `, f.MaxRing},
	} {
		if b.v > 0 {
			conds = append(conds, b.cond+a.add(int64(b.v)))
		}
	}
	switch f.HangupBy {
	case "":
	case "unknown":
		conds = append(conds, `hangup_by = ''`)
	case string(spanrec.HangupCaller), string(spanrec.HangupCallee), string(spanrec.HangupSystem):
		conds = append(conds, `hangup_by = `+a.add(f.HangupBy))
	default:
		return "", spanrec.Errorf(spanrec.EINVALID, "unknown hangup_by %q", text(f.HangupBy))
	}
	if f.StatusCode != 0 {
		conds = append(conds, `status_code = `+a.add(f.StatusCode))
	}
	if f.Codec != "" {
		// The containment is what calls_codecs_lower (migration 0016)
		// answers; the element test keeps the answer exactly what it was.
		p := a.add(text(f.Codec))
		conds = append(conds, `lower(calls.codecs::text COLLATE "C")::jsonb @> jsonb_build_array(lower(`+p+` COLLATE "C"))`,
			`EXISTS (SELECT 1 FROM jsonb_array_elements_text(calls.codecs) AS e (v)
			WHERE lower(e.v COLLATE "C") = lower(`+p+` COLLATE "C"))`)
	}
	if f.Interaction != "" {
		conds = append(conds, `interaction = `+a.add(text(string(f.Interaction))))
	}
	switch {
	case f.HasLoss == nil:
	case *f.HasLoss:
		// Literal, not a parameter: the partial index calls_loss_start
		// serves it only if the planner sees the condition.
		conds = append(conds, `capture_loss`)
	default:
		conds = append(conds, `NOT capture_loss`)
	}
	if f.Signalling != "" {
		conds = append(conds, `signalling = `+a.add(text(f.Signalling)))
	}
	if f.Sensor != "" {
		conds = append(conds, `sensor = `+a.add(text(f.Sensor)))
	}
	if f.Tag != "" {
		conds = append(conds, `EXISTS (SELECT 1 FROM call_tags WHERE call_tags.call_id = calls.id AND call_tags.tag = `+a.add(text(f.Tag))+perCall(bound != "")+`)`)
	}
	if f.NoteText != "" {
		conds = append(conds, `EXISTS (SELECT 1 FROM call_notes WHERE call_notes.call_id = calls.id AND `+trigramColumn(`call_notes.text`, f.NoteText)+` ILIKE `+
			a.add(containsPattern(f.NoteText))+` ESCAPE E'\\'`+perCall(bound != "")+`)`)
	}
	conds = searchConds(f, conds, a, bound != "", ua)
	if len(f.Extensions) > 0 {
		p := a.add(texts(f.Extensions))
		conds = append(conds, `(caller_number = ANY (`+p+`) OR callee_number = ANY (`+p+`))`)
	}
	if bound != "" {
		conds = append(conds, bound)
	}
	if f.GroupInteraction {
		conds = firstLegCond(conds)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), nil
}

// firstLegCond appends to the conditions conds of a filter the condition
// that a call is the earliest of the calls that match them in its
// conversation (CallFilter.GroupInteraction): no leg of the same
// conversation (the same interaction, or the call whose ID the
// interaction is) that matches conds comes before it (by start time,
// calls without one last, as the sorts put calls without a value, then
// by ID). Each
// call is tested by looking up its own legs (calls_interaction, the
// primary key), so a page of grouped calls reads as many rows as a page
// of calls, not every matching call as ranking them all would. The
// conditions' parameters are the same placeholders again.
func firstLegCond(conds []string) []string {
	// The legs' filter: in the subquery, the calls table (and unqualified
	// columns) is the leg's row, which hides the outer one.
	match := ""
	if len(conds) > 0 {
		match = ` AND EXISTS (SELECT 1 FROM calls WHERE calls.id = leg.id AND ` + strings.Join(conds, " AND ") + `)`
	}
	const key = `CASE calls.interaction WHEN '' THEN calls.id ELSE calls.interaction END`
	const before = ` AND (leg.start_ns < calls.start_ns OR (leg.start_ns IS NOT NULL AND calls.start_ns IS NULL)
		OR (leg.start_ns IS NOT DISTINCT FROM calls.start_ns AND leg.id < calls.id))`
	return append(conds,
		`NOT EXISTS (SELECT 1 FROM calls AS leg WHERE leg.interaction = `+key+before+match+`)`,
		`NOT EXISTS (SELECT 1 FROM calls AS leg WHERE leg.interaction = '' AND leg.id = `+key+before+match+`)`)
}

// sortExprs maps each of spanrec.SortKeys to the SQL expression it
// orders by, as sqlite's do. Only these constant texts enter a statement:
// the key itself never does.
var sortExprs = map[string]string{
	"start":       `start_ns`,
	"caller":      `caller_number`,
	"callee":      `callee_number`,
	"direction":   `direction`,
	"duration":    `duration_ns`,
	"talk":        `duration_ns`,
	"status":      `status`,
	"status_code": `NULLIF(status_code, 0)`,
	"codec":       `((codecs ->> 0) COLLATE "C")`,
	"legs":        `legs`, // kept by PutCall and the deletions (legs.go, migration 0019)
	"mos":         `mos`,
	"quality":     `mos`,
	"pdd":         `pdd_ns`,
	"ring":        `ring_ns`,
	"hangup_by":   `NULLIF(hangup_by, '')`,
	"sensor":      `NULLIF(sensor, '')`,
}

// orderSQL returns the ORDER BY clause of a CallFilter.Sort value: calls
// without a value last, ties by ID.
func orderSQL(sort string) (string, error) {
	if sort == "" {
		sort = spanrec.SortStartDesc
	}
	key, desc := strings.CutPrefix(sort, "-")
	expr, ok := sortExprs[key]
	if !ok {
		return "", spanrec.Errorf(spanrec.EINVALID, "unknown sort order %q", text(sort))
	}
	switch {
	case notNullSorts[key] && desc:
		// The same order as DESC NULLS LAST, which a backward scan of
		// the key's ascending index gives (ties by ID then sorted in
		// small groups) and which an index must otherwise be made for.
		return ` ORDER BY ` + expr + ` DESC, id`, nil
	case desc:
		return ` ORDER BY ` + expr + ` DESC NULLS LAST, id`, nil
	}
	return ` ORDER BY ` + expr + ` NULLS LAST, id`, nil
}

// notNullSorts are the sort keys whose expression is a NOT NULL column
// with an ascending index of many distinct values, for which NULLS LAST
// changes nothing.
var notNullSorts = map[string]bool{"caller": true, "callee": true}

// afterSQL returns the condition that selects the rows after call id in
// the order sort gives (keyset pagination), adding its parameter to a:
// rows whose sort key comes after that call's, or equals it with a greater
// ID; calls without a value come last in either direction. The call's key
// is read from the index by a subquery, so any sort expression pages
// alike. It serves the pages seekPageSQL does not: of no given size
// (every call after the call; and of a key no index holds, of which there
// is none).
func afterSQL(sort string, id spanrec.CallID, a *args) (string, error) {
	if sort == "" {
		sort = spanrec.SortStartDesc
	}
	key, desc := strings.CutPrefix(sort, "-")
	expr, ok := sortExprs[key]
	if !ok {
		return "", spanrec.Errorf(spanrec.EINVALID, "unknown sort order %q", text(sort))
	}
	op := ` > `
	if desc {
		op = ` < `
	}
	p := a.add(text(string(id)))
	// The subquery's own calls table hides the outer one, so an expression
	// that names calls.x reads the after call's row.
	v := `(SELECT ` + expr + ` FROM calls WHERE id = ` + p + `)`
	return `((` + v + ` IS NULL AND ` + expr + ` IS NULL AND id > ` + p + `) OR (` + v + ` IS NOT NULL AND (` +
		expr + op + v + ` OR (` + expr + ` = ` + v + ` AND id > ` + p + `) OR ` + expr + ` IS NULL)))`, nil
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
// the page after a call has no calls without a key to look for.
var notNullKeys = map[string]bool{"caller": true, "callee": true, "direction": true, "duration": true, "talk": true, "status": true, "legs": true}

// seekPageSQL returns the query of the page of limit calls, after offset
// more, that come after call id in the order sort gives (keyset
// pagination, the same calls in the same order as afterSQL's condition),
// among the calls that the filter where (from filterSQL, whose parameters
// are in a) selects, adding its parameters to a.
//
// afterSQL's condition (key after the call's, or equal with a greater ID,
// or no key) is an OR that no index scan can start at: PostgreSQL scans
// the sort's index from its start and filters every entry before the
// page, 100 000 of them for the 1000th page of 100. Here each branch of it
// is a query of its own, whose Index Cond on the key's index (calls_…
// (key, id), both ways) starts where the branch starts and which reads at
// most limit+offset entries: the calls whose key equals the call's with a
// greater ID (key = … AND id > …), ordered by ID; those whose key comes
// after it (key < … or key > …), in the sort's order; those without a key
// (key IS NULL AND id > …: after the call if it has none, else from the
// first), ordered by ID, unless the key is never NULL (notNullKeys). The
// call's key is read by a subquery (its own calls table hides the outer
// one, so an expression that names calls.x reads the call's row), an
// InitPlan run once. The at most 3·(limit+offset) calls are sorted in the
// sort's order.
func seekPageSQL(where, sort string, id spanrec.CallID, limit, offset int, a *args) (string, error) {
	if sort == "" {
		sort = spanrec.SortStartDesc
	}
	key, desc := strings.CutPrefix(sort, "-")
	expr, ok := sortExprs[key]
	if !ok {
		return "", spanrec.Errorf(spanrec.EINVALID, "unknown sort order %q", text(sort))
	}
	order, err := orderSQL(sort)
	if err != nil {
		return "", err
	}
	op := ` > `
	if desc {
		op = ` < `
	}
	p := a.add(text(string(id)))
	v := `(SELECT ` + expr + ` FROM calls WHERE id = ` + p + `)`
	and := " WHERE "
	if where != "" {
		and = where + " AND "
	}
	n := a.add(limit + offset)
	branches := [][2]string{
		{expr + ` = ` + v + ` AND id > ` + p, ` ORDER BY id`},
		{expr + op + v, order},
	}
	if !notNullKeys[key] {
		branches = append(branches, [2]string{expr + ` IS NULL AND id > coalesce((SELECT CASE WHEN ` + expr +
			` IS NULL THEN id END FROM calls WHERE id = ` + p + `), '')`, ` ORDER BY id`})
	}
	var q strings.Builder
	for i, b := range branches {
		if i > 0 {
			q.WriteString(` UNION ALL `)
		}
		q.WriteString(`(SELECT * FROM calls` + and + b[0] + b[1] + ` LIMIT ` + n + `)`)
	}
	// The page, of every column, is named calls, so that the sort's
	// expression reads its columns.
	return `SELECT ` + callColumns + ` FROM (` + q.String() + `) AS calls` + order +
		` LIMIT ` + a.add(limit) + ` OFFSET ` + a.add(offset), nil
}

// CallsAfter returns up to limit calls (all if limit ≤ 0) in the order they
// were first indexed, starting after the position seq, and the position of
// the last one returned (seq itself if none). Position 0 is before the first
// call; LastSeq gives the current end. Replacing a call keeps its position.
//
// Positions come from a sequence taken when a call is first inserted: a
// call whose transaction commits after one that took a later position
// (two recorders writing at the same instant) can be passed over by a
// poller that read in between.
func (db *DB) CallsAfter(ctx context.Context, seq int64, limit int) ([]*spanrec.Call, int64, error) {
	var lim any // NULL: no limit
	if limit > 0 {
		lim = limit
	}
	var (
		calls []*spanrec.Call
		last  *int64
	)
	err := db.readTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT max(seq) FROM (SELECT seq FROM calls WHERE seq > $1 ORDER BY seq LIMIT $2) AS page`,
			seq, lim).Scan(&last); err != nil {
			return err
		}
		if last == nil {
			calls = []*spanrec.Call{}
			return nil
		}
		var err error
		calls, err = queryCalls(ctx, tx, `SELECT `+callColumns+` FROM calls WHERE seq > $1 AND seq <= $2 ORDER BY seq`, seq, *last)
		return err
	})
	if err != nil {
		return nil, seq, fmt.Errorf("index: calls after %d: %w", seq, err)
	}
	if last == nil {
		return calls, seq, nil
	}
	return calls, *last, nil
}

// LastSeq returns the position of the last call indexed, for CallsAfter.
func (db *DB) LastSeq(ctx context.Context) (int64, error) {
	var last *int64
	if err := db.pool.QueryRow(ctx, `SELECT max(seq) FROM calls`).Scan(&last); err != nil {
		return 0, fmt.Errorf("index: last seq: %w", err)
	}
	if last == nil {
		return 0, nil
	}
	return *last, nil
}

// holdRow is how a spanrec.Hold is stored in the holds JSON column, as in
// sqlite.
type holdRow struct {
	Side  spanrec.Side `json:"side"`
	Start *int64       `json:"start_ns"`
	End   *int64       `json:"end_ns"`
}

func holdRows(hs []spanrec.Hold) []holdRow {
	rows := make([]holdRow, 0, len(hs))
	for _, h := range hs {
		r := holdRow{Side: spanrec.Side(text(string(h.Side)))}
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

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// fits reports whether t is zero or has a Unix nanosecond count.
func fits(t time.Time) bool {
	return t.IsZero() || !t.Before(minTime) && !t.After(maxTime)
}

// clampedNS returns t's Unix nanoseconds, clamped to the int64 range.
func clampedNS(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// nsOf returns the column value of t: its Unix nanoseconds, or NULL if zero.
// t must fit.
func nsOf(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixNano()
	return &v
}

// timeOf is the inverse of nsOf; the time is in UTC.
func timeOf(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return time.Unix(0, *v).UTC()
}

// realOf returns the column value of f: NULL for NaN, as sqlite stores it.
func realOf(f float64) *float64 {
	if math.IsNaN(f) {
		return nil
	}
	return &f
}

// floatOf is the inverse of realOf.
func floatOf(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}
