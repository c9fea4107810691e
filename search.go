package spanrec

import (
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
