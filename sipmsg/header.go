package sipmsg

import "strings"

// MaxHeaderValues bounds how many values Header returns.
const MaxHeaderValues = 16

// compact returns the full name of the compact form of a header Parse
// does not read (RFC 3515 §7.1 Refer-To "r", RFC 3892 §3 Referred-By "b"),
// or name itself.
func compact(name string) string {
	switch {
	case strings.EqualFold(name, "r"):
		return "Refer-To"
	case strings.EqualFold(name, "b"):
		return "Referred-By"
	}
	return name
}

// Header returns the values of the header fields named name (case-insensitive; "r" and "b" stand for
// Refer-To and Referred-By too) in the message's header section, unfolded and trimmed, in order; at most
// MaxHeaderValues of them. A comma-separated list stays one value. It reads Raw, so it costs a scan of the header
// section (without allocating unless the header is there): meant for the few headers Parse does not keep.
func (m *Message) Header(name string) []string {
	s := m.raw
	if len(s) != len(m.Raw) {
		s = string(m.Raw) // not from Parse, or Raw was replaced
	}
	end := strings.Index(s, "\r\n\r\n")
	if e := strings.Index(s, "\n\n"); e >= 0 && (end < 0 || e < end) {
		end = e
	}
	if end >= 0 {
		s = s[:end]
	}
	name = compact(name)
	var out []string
	_, i := nextLine(s, 0) // the start line
	for i < len(s) && len(out) < MaxHeaderValues {
		line, next := nextLine(s, i)
		i = next
		k, v, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(compact(strings.TrimSpace(k)), name) {
			continue
		}
		v = strings.TrimSpace(v)
		// RFC 3261 §7.3.1: a line starting with white space continues the previous one.
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			cont, n := nextLine(s, i)
			v += " " + strings.TrimSpace(cont)
			i = n
		}
		out = append(out, v)
	}
	return out
}
