package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/spanrec/spanrec"
)

// SIPHeaders returns the INVITE header fields stored for the call (names
// in lower case, in their order; Call leaves them out), none for a call
// that does not exist: what moving the call to another index needs.
func (db *DB) SIPHeaders(ctx context.Context, id spanrec.CallID) ([]spanrec.SIPHeader, error) {
	cid := text(string(id))
	rows, err := db.pool.Query(ctx, `SELECT name, value FROM call_headers WHERE call_id = $1 ORDER BY seq`, cid)
	if err != nil {
		return nil, fmt.Errorf("index: headers of %s: %w", cid, err)
	}
	defer rows.Close()
	hs := []spanrec.SIPHeader{}
	for rows.Next() {
		var h spanrec.SIPHeader
		if err := rows.Scan(&h.Name, &h.Value); err != nil {
			return nil, fmt.Errorf("index: headers of %s: %w", cid, err)
		}
		hs = append(hs, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: headers of %s: %w", cid, err)
	}
	return hs, nil
}

// putSearch queues the replacement of the rows that searches by header
// and address read.
func putSearch(b *pgx.Batch, c *spanrec.Call, id string) {
	b.Queue(`DELETE FROM call_headers WHERE call_id = $1`, id)
	b.Queue(`DELETE FROM call_addrs WHERE call_id = $1`, id)
	for i, h := range c.SIPHeaders {
		if i >= spanrec.MaxSIPHeaders {
			break
		}
		b.Queue(`INSERT INTO call_headers (call_id, seq, name, value) VALUES ($1, $2, $3, $4)`,
			id, i, text(strings.ToLower(h.Name)), text(within(h.Value)))
	}
	for _, a := range c.Addrs() {
		b.Queue(`INSERT INTO call_addrs (call_id, addr) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, a.String())
	}
}

// searchConds appends the conditions of f's header, user agent (of the
// distinct values ua read, if not nil: uaCond), Call-ID and address
// filters (of a search bounded to the newest calls if bounded: perCall),
// as the sqlite index has them: an exact header value compares bytes, one
// with * (any text) and the user agent ignore ASCII case.
func searchConds(f spanrec.CallFilter, conds []string, a *args, bounded bool, ua *uaValues) []string {
	if f.HeaderName != "" {
		name := a.add(text(strings.ToLower(f.HeaderName)))
		if strings.Contains(f.HeaderValue, "*") {
			p := headerPattern(f.HeaderValue)
			conds = append(conds, `EXISTS (SELECT 1 FROM call_headers AS h WHERE h.call_id = calls.id AND h.name = `+name+
				` AND `+trigramColumn(`h.value`, f.HeaderValue)+` ILIKE `+a.add(p)+` ESCAPE E'\\'`+perCall(bounded)+`)`)
		} else {
			conds = append(conds, `id IN (SELECT h.call_id FROM call_headers AS h WHERE h.name = `+name+
				` AND h.value = `+a.add(text(f.HeaderValue))+`)`)
		}
	}
	if f.UserAgent != "" {
		conds = append(conds, uaCond(f.UserAgent, ua, a))
	}
	if f.SIPCallID != "" {
		conds = append(conds, `sip_call_id = `+a.add(text(f.SIPCallID)))
	}
	if f.Addr.IsValid() {
		conds = append(conds, `id IN (SELECT ad.call_id FROM call_addrs AS ad WHERE ad.addr = `+a.add(f.Addr.Unmap().String())+`)`)
	}
	return conds
}

// headerPattern is the ILIKE pattern of a header value with * (any
// text): its other wildcards escaped.
func headerPattern(v string) string {
	return strings.ReplaceAll(spanrec.EscapeLike(text(v)), "*", "%")
}

// containsPattern is the ILIKE pattern of a search for the text t
// anywhere in a column (a number, a user agent, a note): t's wildcards
// escaped, as PostgreSQL text holds it.
func containsPattern(t string) string {
	return "%" + spanrec.EscapeLike(text(t)) + "%"
}

// uaCond returns the condition of a search for the user agent t: where ua
// has read a side's distinct values (uaMatches), that side's user agent
// is one of those like t, an equality that calls_caller_ua or
// calls_callee_ua (migration 0021) serves and that costs a hash probe
// per call where a walk tests it; else that side's user agent is tested
// with the same ILIKE, which the trigram indexes (0016) may serve. A
// side of no value like t adds nothing; FALSE if neither side can match.
func uaCond(t string, ua *uaValues, a *args) string {
	var pattern string
	var sides []string
	for _, s := range []struct {
		col    string
		values []string
	}{{`caller_ua`, ua.callerValues()}, {`callee_ua`, ua.calleeValues()}} {
		switch {
		case s.values == nil:
			if pattern == "" {
				pattern = a.add(containsPattern(t))
			}
			sides = append(sides, trigramColumn(s.col, t)+` ILIKE `+pattern+` ESCAPE E'\\'`)
		case len(s.values) > 0:
			sides = append(sides, s.col+` = ANY (`+a.add(s.values)+`)`)
		}
	}
	if len(sides) == 0 {
		return `FALSE`
	}
	return `(` + strings.Join(sides, ` OR `) + `)`
}

// maxUAValues is up to how many distinct user agents of each side a
// search reads and tests (uaMatches) instead of testing every call's:
// each costs an index probe (a skip to the next value), about what a few
// calls' tests cost, and where a side has more (a user agent that embeds
// a serial number or a MAC address, one per phone) its calls are tested
// as before. A variable for the test that runs the conformance suite
// both ways.
var maxUAValues = 1_000

// uaValues holds the distinct user agents of each side like a search's
// text, read by uaMatches: nil for a side of more than maxUAValues
// distinct values, which its calls are tested for instead (uaCond).
type uaValues struct {
	caller, callee []string
}

func (u *uaValues) callerValues() []string {
	if u == nil {
		return nil
	}
	return u.caller
}

func (u *uaValues) calleeValues() []string {
	if u == nil {
		return nil
	}
	return u.callee
}

// uaDistinct is the statement of up to $2 distinct user agents of the
// column col (caller_ua or callee_ua), each with whether it is like the
// pattern $1: a skip from each value to the next in its B-tree index
// (migration 0021), a probe per value, since PostgreSQL's DISTINCT reads
// every row.
func uaDistinct(col string) string {
	return `WITH RECURSIVE u (v) AS (
		(SELECT ` + col + ` FROM calls ORDER BY ` + col + ` LIMIT 1)
		UNION ALL
		SELECT (SELECT c.` + col + ` FROM calls AS c WHERE c.` + col + ` > u.v ORDER BY c.` + col + ` LIMIT 1) FROM u WHERE u.v IS NOT NULL
	) SELECT v, v ILIKE $1 ESCAPE E'\\' FROM u WHERE v IS NOT NULL LIMIT $2`
}

// uaMatches reads the distinct user agents of each side of the calls
// that are like the text t (uaDistinct), nil for a side of more than
// maxUAValues of them.
func (db *DB) uaMatches(ctx context.Context, t string) (*uaValues, error) {
	var u uaValues
	for _, s := range []struct {
		col  string
		dest *[]string
	}{{`caller_ua`, &u.caller}, {`callee_ua`, &u.callee}} {
		rows, err := db.pool.Query(ctx, uaDistinct(s.col), containsPattern(t), maxUAValues+1)
		if err != nil {
			return nil, fmt.Errorf("index: calls: distinct user agents: %w", err)
		}
		n, like := 0, []string{}
		var v string
		var match bool
		_, err = pgx.ForEachRow(rows, []any{&v, &match}, func() error {
			if n++; match {
				like = append(like, v)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("index: calls: distinct user agents: %w", err)
		}
		if n <= maxUAValues {
			*s.dest = like
		}
	}
	return &u, nil
}

// perCall returns what ends an EXISTS subquery of a search so that it is
// tested call by call: " OFFSET 0" where the search is bounded to the
// newest calls (scanBound: a text no trigram index serves, ScanLimit), else
// nothing. OFFSET 0 keeps PostgreSQL from turning the EXISTS into a join
// with every row of the table searched (every header field of the name,
// every note), read whole before the first call: on 10 M calls a million
// header fields read for 10,000 calls took 280-480 ms against 20 ms,
// 100,000 notes 80 ms (docs/PERFORMANCE.md, "Thirteenth session"). A
// search without a bound (one served by an index, the CSV export) leaves
// the planner its choice.
func perCall(bounded bool) string {
	if bounded {
		return ` OFFSET 0`
	}
	return ""
}

// trigramColumn returns the column col as the ILIKE of a substring search
// for text reads it: col itself, which its trigram index (migrations 0008,
// 0016) may serve, when text has three ASCII letters or digits in a row;
// else an expression of it that no index matches. pg_trgm takes its
// trigrams from runs of letters and digits: a text without one of three
// has none, and the index would be read whole (every row a candidate,
// rechecked) where the planner expects a few rows — slower than reading
// the table. The expression's value is col's.
func trigramColumn(col, text string) string {
	run := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			if run++; run == 3 {
				return col
			}
		} else {
			run = 0
		}
	}
	return `(` + col + ` || '')`
}

// trigramServed says whether the trigram indexes serve a substring search
// for text (trigramColumn), and if not why: the reason a SearchStop
// gives.
func (db *DB) trigramServed(text string) (bool, string) {
	switch {
	case db.noTrigrams:
		return false, "the trigram indexes are missing (the extension pg_trgm could not be created)"
	case utf8.RuneCountInString(text) < 3:
		return false, "a text of fewer than 3 characters cannot use the index"
	case trigramColumn("c", text) != "c":
		return false, "a text without 3 letters or digits in a row cannot use the index"
	}
	return true, ""
}

// scanBound returns the condition that bounds f to the calls f.ScanLimit
// lets a search examine (CallFilter.ScanLimit), adding its parameter to
// a, and the SearchStop that says so; "" and nil where f is not bounded:
// no ScanLimit, an index serves it, or its time range (with its
// extensions) has no more calls than ScanLimit. It reads the first call
// past the bound in calls_start, newest first: ScanLimit index entries.
func (db *DB) scanBound(ctx context.Context, f spanrec.CallFilter, a *args) (string, *spanrec.SearchStop, error) {
	if f.ScanLimit <= 0 {
		return "", nil, nil
	}
	reason := f.UnindexedTerm(db.trigramServed)
	if reason == "" {
		return "", nil, nil
	}
	var ba args
	where, err := filterSQL(spanrec.CallFilter{Since: f.Since, Until: f.Until, Extensions: f.Extensions}, &ba, "", nil)
	if err != nil {
		return "", nil, err
	}
	var start *int64
	var id string
	err = db.pool.QueryRow(ctx, `SELECT start_ns, id FROM calls`+where+` ORDER BY start_ns DESC NULLS LAST, id LIMIT 1 OFFSET `+ba.add(f.ScanLimit),
		ba...).Scan(&start, &id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", nil, nil
	case err != nil:
		return "", nil, fmt.Errorf("index: calls: bound of the search: %w", err)
	}
	stop := &spanrec.SearchStop{Examined: f.ScanLimit, Reason: reason}
	// The calls before the first one past the bound, newest first (calls
	// without a start time last). Its start time is written into the
	// statement, not passed as a parameter: after five runs of a prepared
	// statement PostgreSQL may keep a generic plan, which guesses that
	// start_ns ≥ $n holds for a third of the calls and counts the total by
	// reading the whole table (1.5 s on a million calls where the range
	// takes 90 ms). The ID, which only breaks ties of that start time, is
	// a parameter: no quoting of its text to get right.
	idArg := a.add(text(id))
	if start == nil {
		return `(start_ns IS NOT NULL OR id < ` + idArg + `)`, stop, nil
	}
	s := strconv.FormatInt(*start, 10)
	return `start_ns >= ` + s + ` AND (start_ns > ` + s + ` OR id < ` + idArg + `)`, stop, nil
}

// where returns the WHERE clause of f (filterSQL), adding its parameters
// to a: with its bound (scanBound) and, for a user agent, the distinct
// values like it (uaMatches).
func (db *DB) where(ctx context.Context, f spanrec.CallFilter, a *args) (string, error) {
	bound, _, err := db.scanBound(ctx, f, a)
	if err != nil {
		return "", err
	}
	var ua *uaValues
	if f.UserAgent != "" {
		if ua, err = db.uaMatches(ctx, f.UserAgent); err != nil {
			return "", err
		}
	}
	return filterSQL(f, a, bound, ua)
}

// SearchStop returns what stops the search f short of every call in its
// time range (CallFilter.ScanLimit), nil if nothing does.
func (db *DB) SearchStop(ctx context.Context, f spanrec.CallFilter) (*spanrec.SearchStop, error) {
	var a args
	_, stop, err := db.scanBound(ctx, f, &a)
	return stop, err
}
