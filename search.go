package spanrec

import (
	"fmt"
	"net/netip"
	"strings"
)

// maxFilterCallID bounds a searched SIP Call-ID.
const maxFilterCallID = 256

// compactNames are the full names of the compact header forms (RFC 3261
// §7.3.3 and the RFCs that define the others).
var compactNames = map[byte]string{
	'a': "accept-contact", 'b': "referred-by", 'c': "content-type", 'd': "request-disposition",
	'e': "content-encoding", 'f': "from", 'i': "call-id", 'j': "reject-contact", 'k': "supported",
	'l': "content-length", 'm': "contact", 'n': "identity-info", 'o': "event", 'r': "refer-to",
	's': "subject", 't': "to", 'u': "allow-events", 'v': "via", 'x': "session-expires", 'y': "identity",
}

// HeaderName returns the canonical form of a SIP header name, as calls
// keep them (Call.SIPHeaders): lower case, a compact form (RFC 3261
// §7.3.3) spelled out.
func HeaderName(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if len(name) == 1 {
		if full, ok := compactNames[name[0]]; ok {
			return full
		}
	}
	return name
}

// ParseHeaderMatch parses a search by SIP header, "Name:value": the name
// is an RFC 3261 token of at most MaxHeaderName characters (returned in
// lower case), the value at most MaxHeaderValue bytes, trimmed, where *
// stands for any text (see CallFilter.HeaderValue). It returns an error of
// kind EINVALID for anything else.
func ParseHeaderMatch(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
	switch {
	case !ok || name == "" || value == "":
		return "", "", Errorf(EINVALID, "header %q: want Name:value, e.g. X-Ticket:4711 or User-Agent:*Yealink*", truncate(s, 80))
	case len(name) > MaxHeaderName:
		return "", "", Errorf(EINVALID, "header name longer than %d characters", MaxHeaderName)
	case len(value) > MaxHeaderValue:
		return "", "", Errorf(EINVALID, "header value longer than %d bytes (values are kept up to that)", MaxHeaderValue)
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0) {
			return "", "", Errorf(EINVALID, "header name %q: only letters, digits and - . ! %% * _ + ` ' ~", truncate(name, 80))
		}
	}
	return name, value, nil
}

// likeEscaper escapes the LIKE wildcards for ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// EscapeLike returns s with the wildcards of a LIKE pattern (% and _) and
// the escape character itself escaped, for a pattern written with
// ESCAPE '\': how both indexes search a text anywhere in a column.
func EscapeLike(s string) string {
	return likeEscaper.Replace(s)
}

// Addrs returns every address the call used, each once, unmapped: its
// parties' signalling addresses and its streams' sources and
// destinations (what CallFilter.Addr finds it by).
func (c *Call) Addrs() []netip.Addr {
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

// MaxUnindexedScan bounds a search that no index can serve (a substring
// term of one or two characters and no other term an index answers, see
// UnindexedTerm): the web UI's call list and spanrec calls examine only
// the newest MaxUnindexedScan calls (by start time, within the time range
// searched) and say that they stopped (SearchStop), where the search
// would otherwise test every call when few match — 51 s on ten million
// calls in PostgreSQL (docs/PERFORMANCE.md, "Eleventh session"), about
// 2.5 µs a call. Testing this many, the newest by start time read from
// an index, costs some 25 ms on an idle machine: an estimate from that
// rate, not a measurement (docs/PERFORMANCE.md, "Twelfth session:
// searches no index serves"). It matches the call list's count cap
// (10,000).
const MaxUnindexedScan = 10_000

// SearchStop says that a search stopped before it had examined every call
// in its time range: it examined the newest Examined of them, because of
// Reason (which term no index serves, and why). Its calls and total are
// those of the calls examined, the total not exact for the whole range.
type SearchStop struct {
	Examined int    `json:"examined"`
	Reason   string `json:"reason"`
}

// TrigramServed says whether a backend's trigram index serves a substring
// search for text and, if not, why (a phrase such as "fewer than 3
// characters").
type TrigramServed func(text string) (ok bool, why string)

// UnindexedTerm returns the reason why no index serves the search f, ""
// where one does: f has a substring term (number, user agent, note, a
// header value with *) whose text served says no index takes, and no
// term that an index answers by value (a substring term that served
// takes, a Call-ID, an address, a conversation, a tag, an exact header
// value). A search of the first kind may have to test every call to fill
// a page; CallFilter.ScanLimit bounds it.
func (f *CallFilter) UnindexedTerm(served TrigramServed) string {
	if f.SIPCallID != "" || f.Addr.IsValid() || f.Interaction != "" || f.Tag != "" ||
		(f.HeaderName != "" && !strings.Contains(f.HeaderValue, "*")) {
		return ""
	}
	reason := ""
	term := func(name, text string) bool {
		if text == "" {
			return false
		}
		ok, why := served(text)
		if !ok && reason == "" {
			reason = fmt.Sprintf("the %s %q: %s", name, truncate(text, 40), why)
		}
		return ok
	}
	if term("number", f.Number) || term("user agent", f.UserAgent) || term("note text", f.NoteText) {
		return ""
	}
	if f.HeaderName != "" {
		// A pattern is served when one of its texts between *s is.
		whyAll := ""
		for _, p := range strings.Split(f.HeaderValue, "*") {
			if p == "" {
				continue
			}
			ok, why := served(p)
			if ok {
				return ""
			}
			if whyAll == "" {
				whyAll = why
			}
		}
		if reason == "" {
			if whyAll == "" {
				whyAll = "no text between the *s"
			}
			reason = fmt.Sprintf("the %s header pattern %q: %s", f.HeaderName, truncate(f.HeaderValue, 40), whyAll)
		}
	}
	return reason
}
