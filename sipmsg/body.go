package sipmsg

import "strings"

// maxMultipartDepth bounds the nesting of multipart bodies Parse looks into for SDP.
const maxMultipartDepth = 3

// parseBody fills m.SDP or m.DTMF from a body of Content-Type ct.
func parseBody(m *Message, ct, body string, depth int) {
	typ, params, _ := strings.Cut(ct, ";")
	typ = strings.TrimSpace(typ)
	switch {
	case strings.EqualFold(typ, "application/sdp"):
		if sdp, err := parseSDP(body); err == nil {
			m.SDP = sdp
		}
	case len(typ) > 10 && strings.EqualFold(typ[:10], "multipart/"):
		if depth < maxMultipartDepth {
			if boundary := param(";"+params, "boundary"); boundary != "" {
				eachPart(body, boundary, func(ct, part string) bool {
					parseBody(m, ct, part, depth+1)
					return m.SDP == nil
				})
			}
		}
	case m.Method == "INFO" && strings.EqualFold(typ, "application/dtmf-relay"),
		m.Method == "INFO" && strings.EqualFold(typ, "application/dtmf"):
		m.DTMF, m.DTMFDuration = parseDTMF(body)
	}
}

// eachPart calls f with the Content-Type and content of each body part of a multipart body (RFC 2046 §5.1.1),
// until f returns false. A part without Content-Type is text/plain.
func eachPart(body, boundary string, f func(ct, part string) bool) {
	delim := "--" + boundary
	i := strings.Index(body, delim)
	for i >= 0 {
		i += len(delim)
		if strings.HasPrefix(body[i:], "--") {
			return // close-delimiter
		}
		nl := strings.IndexByte(body[i:], '\n')
		if nl < 0 {
			return
		}
		start := i + nl + 1
		end := len(body)
		next := strings.Index(body[start:], delim)
		if next >= 0 {
			end = start + next
		}
		// RFC 2046 §5.1.1: the CRLF preceding the delimiter belongs to the delimiter.
		part := strings.TrimSuffix(strings.TrimSuffix(body[start:end], "\n"), "\r")
		ct := "text/plain"
		j := 0
		for j < len(part) {
			line, nextLn := nextLine(part, j)
			j = nextLn
			if line == "" {
				break
			}
			if name, v, ok := strings.Cut(line, ":"); ok && headerID(strings.TrimSpace(name)) == hContentType {
				ct = strings.TrimSpace(v)
			}
		}
		if !f(ct, part[j:]) || next < 0 {
			return
		}
		i = end
	}
}

// parseDTMF returns the key and duration (ms) of an application/dtmf-relay body ("Signal=5\r\nDuration=160") or
// an application/dtmf body ("5"). The key is 0-9, *, #, A-D or "flash"; numeric event codes 10-16 (RFC 4733
// §3.2) are mapped to them.
func parseDTMF(body string) (digit string, durationMS int) {
	if strings.IndexByte(body, '=') < 0 {
		return dtmfKey(strings.TrimSpace(body)), 0
	}
	for i := 0; i < len(body); {
		line, next := nextLine(body, i)
		i = next
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case strings.EqualFold(k, "Signal"):
			digit = dtmfKey(v)
		case strings.EqualFold(k, "Duration"):
			durationMS = atoi(v)
		}
	}
	return digit, durationMS
}

// dtmfKey normalises a DTMF signal to 0-9, *, #, A-D or "flash"; "" if it is none of them.
func dtmfKey(s string) string {
	if len(s) == 1 {
		c := s[0]
		switch {
		case isDigit(c), c == '*', c == '#':
			return s
		case 'A' <= c && c <= 'D':
			return s
		case 'a' <= c && c <= 'd':
			return string(c - 'a' + 'A')
		case c == '!':
			return "flash"
		}
		return ""
	}
	switch s {
	case "10":
		return "*"
	case "11":
		return "#"
	case "12", "13", "14", "15":
		return string('A' + s[1] - '2')
	case "16":
		return "flash"
	}
	if strings.EqualFold(s, "flash") {
		return "flash"
	}
	return ""
}

// atoi parses a non-negative decimal number of at most 9 digits; anything else gives 0.
func atoi(s string) int {
	if len(s) == 0 || len(s) > 9 {
		return 0
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}
