package sqlite

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
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

// callAddrs returns every address call c used: its parties' signalling
// addresses and its streams' sources and destinations, each once.
func callAddrs(c *spanrec.Call) []netip.Addr {
	var out []netip.Addr
	add := func(a netip.Addr) {
		if !a.IsValid() {
			return
		}
		a = a.Unmap()
		for _, o := range out {
			if o == a {
				return
			}
		}
		out = append(out, a)
	}
	add(c.Caller.Addr)
	add(c.Callee.Addr)
	for _, s := range c.Streams {
		add(s.Src.Addr())
		add(s.Dst.Addr())
	}
	return out
}

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
	for _, a := range callAddrs(c) {
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
func searchConds(f spanrec.CallFilter, conds []string, args []any) ([]string, []any) {
	if f.HeaderName != "" {
		name := strings.ToLower(f.HeaderName)
		if strings.Contains(f.HeaderValue, "*") {
			if m, ok := trigramPhrases(strings.Split(f.HeaderValue, "*")); ok {
				// The calls with a header value that holds every text
				// between the *s of three characters or more (migration
				// 0022), tested with the LIKE.
				conds = append(conds, `calls.rowid IN (SELECT rowid / 64 FROM call_headers_value WHERE call_headers_value MATCH ?)`)
				args = append(args, m)
			}
			p := escapeLike(f.HeaderValue)
			p = strings.ReplaceAll(p, "*", "%")
			conds = append(conds, `EXISTS (SELECT 1 FROM call_headers AS h WHERE h.call_id = calls.id AND h.name = ? AND h.value LIKE ? ESCAPE '\')`)
			args = append(args, name, p)
		} else {
			conds = append(conds, `id IN (SELECT h.call_id FROM call_headers AS h WHERE h.name = ? AND h.value = ?)`)
			args = append(args, name, f.HeaderValue)
		}
	}
	if f.UserAgent != "" {
		if m, ok := trigramPhrase(f.UserAgent); ok {
			// The calls whose user agents hold every three-character
			// sequence of the text (migration 0022), tested with the LIKE.
			conds = append(conds, `calls.rowid IN (SELECT rowid FROM calls_ua WHERE calls_ua MATCH ?)`)
			args = append(args, m)
		}
		p := "%" + escapeLike(f.UserAgent) + "%"
		conds = append(conds, `(caller_ua LIKE ? ESCAPE '\' OR callee_ua LIKE ? ESCAPE '\')`)
		args = append(args, p, p)
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
// table (calls_number of migration 0019, those of 0022), the rows whose
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
