package sipmsg

import (
	"iter"
	"strings"

	"github.com/spanrec/spanrec"
)

// HeaderName returns the canonical form of a header name: lower case, a
// compact form (RFC 3261 §7.3.3) spelled out (spanrec.HeaderName).
func HeaderName(name string) string { return spanrec.HeaderName(name) }

// Fields yields the header fields of the message's header section in
// order: each one's name (as HeaderName gives it) and value (unfolded,
// trimmed; a comma-separated list stays one value). Lines without a colon
// or with an empty name are skipped. It reads Raw without copying; the
// strings it yields share its memory.
func (m *Message) Fields() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		s := m.raw
		if len(s) != len(m.Raw) {
			s = string(m.Raw)
		}
		end := strings.Index(s, "\r\n\r\n")
		if e := strings.Index(s, "\n\n"); e >= 0 && (end < 0 || e < end) {
			end = e
		}
		if end >= 0 {
			s = s[:end]
		}
		_, i := nextLine(s, 0) // the start line
		for i < len(s) {
			line, next := nextLine(s, i)
			i = next
			k, v, ok := strings.Cut(line, ":")
			k = HeaderName(k)
			if !ok || k == "" || line[0] == ' ' || line[0] == '\t' {
				continue
			}
			v = strings.TrimSpace(v)
			// RFC 3261 §7.3.1: a line starting with white space continues the previous one.
			for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
				cont, n := nextLine(s, i)
				v += " " + strings.TrimSpace(cont)
				i = n
			}
			if !yield(k, v) {
				return
			}
		}
	}
}
