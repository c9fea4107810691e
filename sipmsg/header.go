package sipmsg

import "strings"

// MaxHeaderValues bounds how many values Header returns.
const MaxHeaderValues = 16

// compact maps the compact forms of headers Parse does not read to their
// full names (RFC 3515 §7.1 Refer-To "r", RFC 3892 §3 Referred-By "b").
var compact = map[string]string{"r": "refer-to", "b": "referred-by"}

// Header returns the values of the header fields named name (case-insensitive; "r" and "b" stand for
// Refer-To and Referred-By too) in the message's header section, unfolded and trimmed, in order; at most
// MaxHeaderValues of them. A comma-separated list stays one value. It reads Raw, so it costs a scan of the header
// section: meant for the few messages that need a header Parse does not keep.
func (m *Message) Header(name string) []string {
	s := string(m.Raw)
	end := strings.Index(s, "\r\n\r\n")
	if e := strings.Index(s, "\n\n"); e >= 0 && (end < 0 || e < end) {
		end = e
	}
	if end >= 0 {
		s = s[:end]
	}
	var out []string
	_, i := nextLine(s, 0) // the start line
	for i < len(s) && len(out) < MaxHeaderValues {
		line, next := nextLine(s, i)
		// RFC 3261 §7.3.1: a line starting with white space continues the previous one.
		for next < len(s) && (s[next] == ' ' || s[next] == '\t') {
			cont, n := nextLine(s, next)
			line += " " + strings.TrimSpace(cont)
			next = n
		}
		i = next
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if full, ok := compact[k]; ok {
			k = full
		}
		if k == strings.ToLower(name) || compact[strings.ToLower(name)] == k {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}
