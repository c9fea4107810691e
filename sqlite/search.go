package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spanrec/spanrec"
)

const (
	deleteHeaders = `DELETE FROM call_headers WHERE call_id = ?`
	deleteAddrs   = `DELETE FROM call_addrs WHERE call_id = ?`
)

var (
	insertHeaders = newMultiInsert(`INSERT INTO call_headers (call_id, seq, name, value)`, 4)
	insertAddrs   = newMultiInsert(`INSERT OR IGNORE INTO call_addrs (call_id, addr)`, 2)
)

// SIPHeaders returns the INVITE header fields stored for the call (names
// in lower case, in their order; Call leaves them out), none for a call
// that does not exist: what moving the call to another index needs.
func (db *DB) SIPHeaders(ctx context.Context, id spanrec.CallID) ([]spanrec.SIPHeader, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT name, value FROM call_headers WHERE call_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("index: headers of %s: %w", id, err)
	}
	defer rows.Close()
	hs := []spanrec.SIPHeader{}
	for rows.Next() {
		var h spanrec.SIPHeader
		if err := rows.Scan(&h.Name, &h.Value); err != nil {
			return nil, fmt.Errorf("index: headers of %s: %w", id, err)
		}
		hs = append(hs, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("index: headers of %s: %w", id, err)
	}
	return hs, nil
}

// putSearch replaces the rows that searches by header and address read;
// a new call (stored for the first time) has none to delete. id is c.ID
// as a statement's value.
func (db *DB) putSearch(ctx context.Context, tx *wtx, c *spanrec.Call, id any, isNew bool) error {
	if !isNew {
		if err := db.exec(ctx, tx, deleteHeaders, id); err != nil {
			return err
		}
		if err := db.exec(ctx, tx, deleteAddrs, id); err != nil {
			return err
		}
	}
	headers := c.SIPHeaders[:min(len(c.SIPHeaders), spanrec.MaxSIPHeaders)] // the recorder bounds them; so does the index
	rows := tx.rows()
	for i, h := range headers {
		rows = append(rows, id, int64(i), lowerName(h.Name), h.Value)
	}
	if err := insertHeaders.exec(ctx, db, tx, rows); err != nil {
		return fmt.Errorf("headers: %w", err)
	}
	rows = tx.rows()
	for _, a := range c.Addrs() {
		rows = append(rows, id, a.String())
	}
	if err := insertAddrs.exec(ctx, db, tx, rows); err != nil {
		return fmt.Errorf("addresses: %w", err)
	}
	return nil
}

// lowerName returns the header field name n in lower case, as stored:
// the name itself when it is, a constant for the fields every INVITE
// has, else a new string.
func lowerName(n string) string {
	if l, ok := commonNames[n]; ok {
		return l
	}
	return strings.ToLower(n)
}

// commonNames are the lower-case names of the header fields of most
// INVITEs, by their usual spelling (RFC 3261 §20).
var commonNames = map[string]string{}

func init() {
	for _, n := range []string{
		"Via", "Max-Forwards", "From", "To", "Call-ID", "CSeq", "Contact",
		"Allow", "Supported", "User-Agent", "Content-Type", "Content-Length",
		"Record-Route", "Route", "Session-Expires", "Min-SE", "Accept",
		"P-Asserted-Identity", "Privacy", "Allow-Events", "Expires",
	} {
		commonNames[n] = strings.ToLower(n)
	}
}

// searchConds appends the conditions of f's header, user agent, Call-ID
// and address filters.
func searchConds(f spanrec.CallFilter, st starts, conds []string, args []any) ([]string, []any) {
	if f.HeaderName != "" {
		name := strings.ToLower(f.HeaderName)
		if strings.Contains(f.HeaderValue, "*") {
			if m, ok := trigramPhrases(strings.Split(f.HeaderValue, "*")); ok && st.header {
				// The calls with a header value that holds every text
				// between the *s of three characters or more (migration
				// 0024), tested with the LIKE.
				conds = append(conds, `calls.rowid IN (SELECT rowid / 64 FROM (`+headerMatches+`))`)
				args = append(args, m)
			}
			p := spanrec.EscapeLike(f.HeaderValue)
			p = strings.ReplaceAll(p, "*", "%")
			if st.headerName && !st.header {
				// The calls of the name's header fields whose value is
				// like the pattern, read from call_headers_name_value
				// (covering: it holds the call's ID): a count of a
				// pattern few calls match.
				conds = append(conds, `calls.id IN (SELECT h.call_id FROM call_headers AS h WHERE h.name = ? AND h.value LIKE ? ESCAPE '\')`)
			} else {
				// The unary + leaves the call's own fields (the primary
				// key) as the only way in: without ANALYZE's statistics
				// SQLite read every field of the name per call instead.
				conds = append(conds, `EXISTS (SELECT 1 FROM call_headers AS h WHERE h.call_id = calls.id AND +h.name = ? AND h.value LIKE ? ESCAPE '\')`)
			}
			args = append(args, name, p)
		} else {
			conds = append(conds, `id IN (SELECT h.call_id FROM call_headers AS h WHERE h.name = ? AND h.value = ?)`)
			args = append(args, name, f.HeaderValue)
		}
	}
	if f.UserAgent != "" {
		if m, ok := trigramPhrase(f.UserAgent); ok && st.ua {
			// The calls whose user agents hold every three-character
			// sequence of the text (migration 0024), tested with the LIKE.
			conds = append(conds, `calls.rowid IN (`+uaMatches+`)`)
			args = append(args, m)
		}
		switch {
		case st.uaRows:
			// A page of few calls: it starts from them, as from a
			// candidate set.
			cond, vs := uaValueCond("c", st.uaCaller, st.uaCallee)
			conds = append(conds, `calls.rowid IN (SELECT c.rowid FROM calls AS c WHERE `+cond+`)`)
			args = append(args, vs...)
		case st.uaValues:
			// The calls of the distinct user agents of either side that
			// are like the text (migration 0028; uaLikeValues tested each
			// distinct value with the same LIKE instead of each call).
			cond, vs := uaValueCond("calls", st.uaCaller, st.uaCallee)
			conds = append(conds, cond)
			args = append(args, vs...)
		default:
			p := "%" + spanrec.EscapeLike(f.UserAgent) + "%"
			conds = append(conds, `(caller_ua LIKE ? ESCAPE '\' OR callee_ua LIKE ? ESCAPE '\')`)
			args = append(args, p, p)
		}
	}
	if f.SIPCallID != "" {
		conds = append(conds, `sip_call_id = ?`)
		args = append(args, f.SIPCallID)
	}
	if f.Addr.IsValid() {
		conds = append(conds, `id IN (SELECT a.call_id FROM call_addrs AS a WHERE a.addr = ?)`)
		args = append(args, f.Addr.Unmap().String())
	}
	return conds, args
}

// trigramPhrase returns the full-text query that finds, in a trigram
// table (calls_number of migration 0019, those of 0024), the rows whose
// text contains s: s as one quoted string, the phrase of its trigrams. It
// returns false where that table cannot answer and the search reads every
// row: s has fewer than three characters (it has no trigram), is not
// valid UTF-8 or holds a NUL (LIKE reads a text up to its NUL, the
// tokenizer past it).
func trigramPhrase(s string) (string, bool) {
	if utf8.RuneCountInString(s) < 3 || !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return "", false
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`, true
}

// trigramPhrases returns the full-text query that finds the rows whose
// text contains each of parts (the texts between the *s of a pattern):
// the phrases of those of three characters or more, all of them. It
// returns false where none has three characters, or the pattern is not
// valid UTF-8 or holds a NUL: the search then reads every row.
func trigramPhrases(parts []string) (string, bool) {
	var q []string
	for _, p := range parts {
		if !utf8.ValidString(p) || strings.IndexByte(p, 0) >= 0 {
			return "", false
		}
		if m, ok := trigramPhrase(p); ok {
			q = append(q, m)
		}
	}
	if len(q) == 0 {
		return "", false
	}
	return strings.Join(q, " AND "), true
}

// Candidate sets of the filters that indexes serve: the rowids of the
// trigram tables' rows that hold a text (of calls, of notes, of header
// values as 64 × the call's rowid + the header's position), and the calls
// of the codec lists that hold a codec. Each takes one argument.
const (
	numberMatches = `SELECT rowid FROM calls_number WHERE calls_number MATCH ?`
	uaMatches     = `SELECT rowid FROM calls_ua WHERE calls_ua MATCH ?`
	noteMatches   = `SELECT rowid FROM call_notes_text WHERE call_notes_text MATCH ?`
	headerMatches = `SELECT rowid FROM call_headers_value WHERE call_headers_value MATCH ?`
	// codecLists are the distinct codec lists that hold the codec, each
	// read with one step of calls_codecs_start (a list of lists a few
	// entries long, however many calls there are).
	codecLists = `WITH RECURSIVE lists (codecs) AS (
			SELECT min(codecs) FROM calls
			UNION ALL SELECT (SELECT min(codecs) FROM calls AS c WHERE c.codecs > lists.codecs) FROM lists WHERE lists.codecs IS NOT NULL)
		SELECT codecs FROM lists WHERE codecs IS NOT NULL
			AND EXISTS (SELECT 1 FROM json_each(lists.codecs) WHERE json_each.value = ? COLLATE NOCASE)`
	codecMatches = `SELECT c.rowid FROM calls AS c WHERE c.codecs IN (` + codecLists + `)`
)

// uaDistinct returns the statement of the distinct user agents of one
// side, col (caller_ua or callee_ua), in order: each read with one step
// of its index (calls_caller_ua, calls_callee_ua of migration 0028), a
// seek whatever number of calls have it.
func uaDistinct(col string) string {
	return `WITH RECURSIVE v (ua) AS (
			SELECT min(` + col + `) FROM calls
			UNION ALL SELECT (SELECT min(c.` + col + `) FROM calls AS c WHERE c.` + col + ` > v.ua) FROM v WHERE v.ua IS NOT NULL)
		SELECT ua FROM v WHERE ua IS NOT NULL`
}

// uaValueCond returns the condition that a call (the row of calls named
// table) has a user agent of either side among the values given (those
// like a search's text, uaLikeValues), with its arguments: FALSE where
// none are. The values are in the statement, one argument each, so that
// the planner sees how many there are: with ANALYZE's statistics of the
// million generated calls (50,000 calls a callee's user agent) a
// subquery of them, of unknown length, made it read the whole table
// (1.7 s for a user agent no call has) where each value is a seek into
// calls_caller_ua or calls_callee_ua (docs/PERFORMANCE.md, "Fourteenth
// session").
func uaValueCond(table string, caller, callee []string) (string, []any) {
	var sides []string
	var args []any
	for _, s := range []struct {
		col    string
		values []string
	}{{"caller_ua", caller}, {"callee_ua", callee}} {
		if len(s.values) == 0 {
			continue
		}
		sides = append(sides, table+`.`+s.col+` IN (?`+strings.Repeat(`, ?`, len(s.values)-1)+`)`)
		for _, v := range s.values {
			args = append(args, v)
		}
	}
	if len(sides) == 0 {
		return `0`, nil
	}
	return `(` + strings.Join(sides, ` OR `) + `)`, args
}

// uaValues is up to how many distinct user agents of each side a search
// of a user agent reads and tests (starts.uaValues), instead of starting
// from calls_ua's candidates or walking the calls and testing each: a
// step of the enumeration, a seek, costs a few walked calls, and calls
// with many distinct user agents (some embed a serial number or a MAC
// address: one per phone) are searched as before. A variable for the
// tests that run the conformance suite under each plan.
var uaValues = 1_000

// uaRowStarts is up to how many calls of the distinct user agents like
// the text a page starts from (rareUA), reading and sorting each; from it
// on the page walks the calls in its order testing the LIKE, reading
// about 50 × calls / matches of them where the matches are spread over
// time. Both cost the same where m calls match of n when 10 × m = 50 × n
// / m (m ≈ 2,200 for a million calls, as for rangeStarts), but matches
// that are all old (a retired phone model) or that another filter
// excludes make the walk read every call: 5,000, where the page started
// from calls_ua's candidates before migration 0028 (pageStarts), keeps
// such a page a sort of at most 5,000 calls (about 50 ms) instead of a
// walk of the table.
const uaRowStarts = pageStarts

// uaLikeValues reads each side's distinct user agents, up to one more
// than uaValues, and returns those like the text t (the search's LIKE
// on each value), with few false where a side has more than uaValues.
func (db *DB) uaLikeValues(ctx context.Context, t string) (caller, callee []string, few bool, err error) {
	p := "%" + spanrec.EscapeLike(t) + "%"
	for _, s := range []struct {
		col  string
		dest *[]string
	}{{"caller_ua", &caller}, {"callee_ua", &callee}} {
		rows, err := db.r.QueryContext(ctx, `SELECT ua, ua LIKE ? ESCAPE '\' FROM (`+uaDistinct(s.col)+`) LIMIT ?`, p, uaValues+1)
		if err != nil {
			return nil, nil, false, fmt.Errorf("index: calls: distinct user agents: %w", err)
		}
		n := 0
		for rows.Next() {
			var v string
			var like bool
			if err := rows.Scan(&v, &like); err != nil {
				rows.Close()
				return nil, nil, false, fmt.Errorf("index: calls: distinct user agents: %w", err)
			}
			if n++; like {
				*s.dest = append(*s.dest, v)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, nil, false, fmt.Errorf("index: calls: distinct user agents: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, nil, false, fmt.Errorf("index: calls: distinct user agents: %w", err)
		}
		if n > uaValues {
			return nil, nil, false, nil
		}
	}
	return caller, callee, true, nil
}

// rareUA says whether a page of a user agent of few distinct values
// (st.uaValues) should start from the calls of those like it
// (st.uaCaller, st.uaCallee): whether they are fewer than uaRowStarts. A rare version of a common user agent
// otherwise walks 50 × calls / matches calls: the whole table, a second
// on a million, for one no call has.
func (db *DB) rareUA(ctx context.Context, st starts) (bool, error) {
	cond, args := uaValueCond("c", st.uaCaller, st.uaCallee)
	if len(args) == 0 {
		return true, nil
	}
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT c.rowid FROM calls AS c WHERE `+cond+` LIMIT ?)`,
		append(args, uaRowStarts)...).Scan(&n); err != nil {
		return false, fmt.Errorf("index: calls: calls of the user agents: %w", err)
	}
	return n < uaRowStarts, nil
}

// starts says which candidate sets of a filter's terms a statement starts
// from: it reads the set, then tests each call in it (and sorts them for
// a page). A term whose set is left out tests the calls the statement
// walks instead (in the page's order, stopping at the page's end): SQLite
// cannot tell a set of ten calls from one of a million (its statistics
// give the average number of rows per value), and either plan costs
// seconds on a million calls where the other would take milliseconds.
// walk, for a page, says that a set left out is left to the walk in the
// page's order even where an index could read it.
type starts struct {
	number, ua, note, header, codec, walk bool
	// headerName says that a wildcard header value's calls are read from
	// the header name's fields (see headerProbe), not tested on each call.
	headerName bool
	// uaValues says that a user agent's calls are those of the distinct
	// user agents like the text (uaLikeValues), not each call's tested: what a
	// count reads, where the search is not bounded. uaRows, for a page,
	// says that it starts from those calls (rareUA); a page of a user
	// agent of many calls walks them testing the LIKE.
	uaValues, uaRows bool
	// uaCaller and uaCallee are, with uaValues, the distinct user agents
	// of each side like the text (uaLikeValues).
	uaCaller, uaCallee []string
	// many says which filters' own indexes hold too many calls for a
	// page to start from: the page walks the calls in its order (the
	// planner's index of the sort, calls_start newest first by default)
	// and tests them, stopping at the page's end.
	many many
	// bound (with its arguments boundArgs) is the condition that bounds
	// the search to the calls it examines (scanBound): one of the
	// filter's conditions, so that grouping by conversation tests the
	// earlier legs of a call against it too (firstLegCond).
	bound     string
	boundArgs []any
}

// many names the filters whose index a page may read (a range of PDD,
// ring time or talk time, a tag) but not start from because it holds
// at least rangeStarts calls: SQLite's statistics give the planner the
// average share of a range, not this one's, so it reads a range of
// 130,000 calls from calls_pdd and sorts them all for 50 (0.3 s on a
// million calls, docs/PERFORMANCE.md "Twelfth session"), where the walk
// reads about 50 × calls / matches of them.
type many struct{ pdd, ring, duration, tag bool }

// startAll starts from every trigram table: what an exact count reads
// least with.
var startAll = starts{number: true, ua: true, note: true, header: true}

// Up to how many candidates a page, and a capped count, starts from a
// set: a page reads and sorts each candidate, where walking the calls
// newest first reads about 50 × calls / candidates of them; a count
// stops at its cap plus one match either way, and reads 10,001 × calls /
// candidates calls walking. Reading a trigram table's set costs in
// proportion to the rows that share its text's trigrams, not to the set:
// numbers, user agents and header values repeat across calls (a rare
// version of a common user agent has a few rows of its own and a million
// that share most of its trigrams), so a count starts from their sets
// only where a page would; notes are few.
const (
	pageStarts  = 5_000
	countStarts = 100_000
)

// uaStarts is up to how many candidates of calls_ua a page, and a
// capped count, starts from (pageStarts) where the user agents have too
// many distinct values (uaValues): a variable for the tests that run the
// conformance suite with every user agent's set taken for too large, so
// that pages and counts walk the calls.
var uaStarts = pageStarts

// rangeStarts is up to how many calls a page starts from a filter of
// many: the range's (or tag's) index, and a sort of its calls; from it on
// the page walks the calls in its order. A sort costs about ten times a
// walk's step per call (a row of every column read and kept for the
// sort, against an index entry and a test), so the two plans cost the
// same where m calls match of n when 10 × m = 50 × n / m: m ≈ 2,200 for
// a million calls. The range's calls are counted up to the bound from its
// index: 2,000 entries, a millisecond. A variable for the tests that run
// the conformance suite under either plan.
var rangeStarts = 2_000

// startsFor returns the candidate sets of f's terms that are small enough
// to start from, for a page, or for a capped count (count), counting each
// up to its bound.
func (db *DB) startsFor(ctx context.Context, f spanrec.CallFilter, count bool) (starts, error) {
	var st starts
	few := func(set string, limit int, args ...any) (bool, error) {
		var n int
		if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM (`+set+` LIMIT ?)`, append(args, limit)...).Scan(&n); err != nil {
			return false, fmt.Errorf("index: calls: candidates: %w", err)
		}
		return n < limit, nil
	}
	noteLimit := pageStarts
	if count {
		noteLimit = countStarts
	}
	var err error
	if m, ok := trigramPhrase(f.Number); ok {
		if st.number, err = few(numberMatches, pageStarts, m); err != nil {
			return st, err
		}
	}
	if f.UserAgent != "" && (f.ScanLimit <= 0 || f.UnindexedTerm(trigramServed) == "") {
		// A user agent's calls from its distinct values where they are
		// few: what calls_ua's candidates would be tested for, exactly,
		// and without reading the rows that share its trigrams (a rare
		// version of a common user agent: every row). Not for a search
		// that may be bounded (scanBound), which walks its bound.
		if st.uaCaller, st.uaCallee, st.uaValues, err = db.uaLikeValues(ctx, f.UserAgent); err != nil {
			return st, err
		}
	}
	if m, ok := trigramPhrase(f.UserAgent); ok && !st.uaValues {
		if st.ua, err = few(uaMatches, uaStarts, m); err != nil {
			return st, err
		}
	}
	if m, ok := trigramPhrase(f.NoteText); ok {
		if st.note, err = few(noteMatches, noteLimit, m); err != nil {
			return st, err
		}
	}
	if f.HeaderName != "" && strings.Contains(f.HeaderValue, "*") {
		if m, ok := trigramPhrases(strings.Split(f.HeaderValue, "*")); ok {
			if st.header, err = few(headerMatches, pageStarts, m); err != nil {
				return st, err
			}
		}
	}
	if f.Codec != "" && !count { // a count reads codecs IN (…) from calls_codecs_start alone
		if st.codec, err = few(codecMatches, pageStarts, f.Codec); err != nil {
			return st, err
		}
	}
	if !count {
		if st.many, err = manyFor(f, few); err != nil {
			return st, err
		}
	}
	return st, nil
}

// headerProbe is of how many of the newest calls a count of a wildcard
// header value tests the pattern (rareHeader).
const headerProbe = 1_000

// headerWalk is up to how many calls a count of a wildcard header value
// would walk testing it (rareHeader): a call's step reads its row and
// looks up its header field, a microsecond or two, where a header field
// of the name costs a fifth of that (an entry of call_headers_name_value).
// A variable for the tests that run the conformance suite under either
// plan.
var headerWalk int64 = 100_000

// rareHeader says whether a capped count of f's wildcard header value,
// (up to max) whose trigrams are in too many header values to start from, should read
// the header name's fields rather than walk the calls: whether, by the
// share of the newest headerProbe calls that match, walking would test
// more than headerWalk calls before it has counted up to the cap (or
// every call). A wildcard value of 1 % of a million calls (x-account:
// acct-1*) walked 900,000 calls for a count of 10,001 (0.9 s,
// docs/PERFORMANCE.md "Eleventh session"); the name's fields, one per call
// that has it, are read whatever the pattern.
func (db *DB) rareHeader(ctx context.Context, f spanrec.CallFilter, max int) (bool, error) {
	p := strings.ReplaceAll(spanrec.EscapeLike(f.HeaderValue), "*", "%")
	var m int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT id FROM calls ORDER BY start_ns DESC LIMIT ?) AS c
		WHERE EXISTS (SELECT 1 FROM call_headers AS h WHERE h.call_id = c.id AND +h.name = ? AND h.value LIKE ? ESCAPE '\')`,
		headerProbe, strings.ToLower(f.HeaderName), p).Scan(&m); err != nil {
		return false, fmt.Errorf("index: calls: header probe: %w", err)
	}
	// The walk tests about countCap × headerProbe / m calls.
	return m == 0 || int64(max)*headerProbe/int64(m) > headerWalk, nil
}

// manyFor returns which of f's ranges and tag hold at least rangeStarts
// calls (few counts a set up to a bound), for a page: a capped count
// reads their indexes whatever they hold (it stops at its cap). A range
// of the column the page is sorted by is not one: its index is the walk.
func manyFor(f spanrec.CallFilter, few func(set string, limit int, args ...any) (bool, error)) (many, error) {
	var m many
	key := strings.TrimPrefix(f.Sort, "-")
	for _, r := range []struct {
		col      string
		min, max time.Duration
		sorted   bool
		many     *bool
	}{
		{"pdd_ns", f.MinPDD, f.MaxPDD, key == "pdd", &m.pdd},
		{"ring_ns", f.MinRing, f.MaxRing, key == "ring", &m.ring},
		{"duration_ns", f.MinDuration, f.MaxDuration, key == "duration" || key == "talk", &m.duration},
	} {
		if r.sorted || (r.min <= 0 && r.max <= 0) {
			continue
		}
		// The bounds as filterSQL writes them.
		var conds []string
		var args []any
		if r.min > 0 {
			conds, args = append(conds, r.col+` >= ?`), append(args, int64(r.min))
		}
		if r.max > 0 {
			conds, args = append(conds, r.col+` <= ?`), append(args, int64(r.max))
		}
		ok, err := few(`SELECT 1 FROM calls WHERE `+strings.Join(conds, " AND "), rangeStarts, args...)
		if err != nil {
			return m, err
		}
		*r.many = !ok
	}
	if f.Tag != "" {
		ok, err := few(`SELECT 1 FROM call_tags WHERE tag = ?`, rangeStarts, f.Tag)
		if err != nil {
			return m, err
		}
		m.tag = !ok
	}
	return m, nil
}

// trigramServed says whether a trigram table serves a substring search
// for text (trigramPhrase), and if not why: the reason a SearchStop gives.
func trigramServed(text string) (bool, string) {
	switch {
	case !utf8.ValidString(text) || strings.IndexByte(text, 0) >= 0:
		return false, "a text with a NUL or invalid UTF-8 cannot use the index"
	case utf8.RuneCountInString(text) < 3:
		return false, "a text of fewer than 3 characters cannot use the index"
	}
	return true, ""
}

// scanBound returns the condition that bounds f to the calls f.ScanLimit
// lets a search examine (CallFilter.ScanLimit), with its arguments, and
// the SearchStop that says so; "" and nil where f is not bounded: no
// ScanLimit, an index serves it, or its time range (with its extensions)
// has no more calls than ScanLimit. It reads the first call past the
// bound in calls_start, newest first: ScanLimit index entries.
func (db *DB) scanBound(ctx context.Context, q querier, f spanrec.CallFilter) (string, []any, *spanrec.SearchStop, error) {
	if f.ScanLimit <= 0 {
		return "", nil, nil, nil
	}
	reason := f.UnindexedTerm(trigramServed)
	if reason == "" {
		return "", nil, nil, nil
	}
	where, args, err := filterSQL(spanrec.CallFilter{Since: f.Since, Until: f.Until, Extensions: f.Extensions}, starts{})
	if err != nil {
		return "", nil, nil, err
	}
	var start sql.NullInt64
	var id string
	err = q.QueryRowContext(ctx, `SELECT start_ns, id FROM calls`+where+` ORDER BY start_ns DESC NULLS LAST, id LIMIT 1 OFFSET ?`,
		append(args, f.ScanLimit)...).Scan(&start, &id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil, nil, nil
	case err != nil:
		return "", nil, nil, fmt.Errorf("index: calls: bound of the search: %w", err)
	}
	stop := &spanrec.SearchStop{Examined: f.ScanLimit, Reason: reason}
	// The calls before the first one past the bound, newest first (calls
	// without a start time last).
	if !start.Valid {
		return `(start_ns IS NOT NULL OR id < ?)`, []any{id}, stop, nil
	}
	return `start_ns >= ? AND (start_ns > ? OR id < ?)`, []any{start.Int64, start.Int64, id}, stop, nil
}

// SearchStop returns what stops the search f short of every call in its
// time range (CallFilter.ScanLimit), nil if nothing does.
func (db *DB) SearchStop(ctx context.Context, f spanrec.CallFilter) (*spanrec.SearchStop, error) {
	_, _, stop, err := db.scanBound(ctx, db.r, f)
	return stop, err
}

// withBound returns st with the bound of the search f (scanBound) among
// its conditions.
func (db *DB) withBound(ctx context.Context, f spanrec.CallFilter, st starts) (starts, error) {
	bound, bargs, _, err := db.scanBound(ctx, db.r, f)
	st.bound, st.boundArgs = bound, bargs
	return st, err
}
