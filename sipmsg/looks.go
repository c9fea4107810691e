package sipmsg

import "bytes"

// Looks reports cheaply whether b starts like a SIP message: a status line "SIP/2.0 NNN ..." or a request line
// "METHOD Request-URI SIP/2.0" (RFC 3261 §7.1, §7.2) whose method is a token (§25.1) and whose Request-URI has a
// scheme. It looks at the first line only, so it serves to detect SIP by content on any port; RTP, RTCP, STUN and
// HTTP payloads do not look like SIP. It does not allocate.
func Looks(b []byte) bool {
	if len(b) == 0 || !isToken(b[0]) { // RTP, RTCP, STUN, DTLS and TLS all fail here
		return false
	}
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line = b[:i]
	}
	for len(line) > 0 && (line[len(line)-1] == '\r' || line[len(line)-1] == ' ' || line[len(line)-1] == '\t') {
		line = line[:len(line)-1]
	}
	if hasPrefixFold(line, "SIP/2.0 ") {
		// RFC 3261 §7.2: Status-Code is 3DIGIT, then SP Reason-Phrase (which may be empty).
		rest := line[len("SIP/2.0 "):]
		if len(rest) < 3 || !isDigit(rest[0]) || !isDigit(rest[1]) || !isDigit(rest[2]) || rest[0] == '0' {
			return false
		}
		return len(rest) == 3 || rest[3] == ' ' || rest[3] == '\t'
	}
	i := 0
	for i < len(line) && isToken(line[i]) {
		i++
	}
	if i == 0 || i == len(line) || line[i] != ' ' {
		return false
	}
	rest := line[i+1:]
	for len(rest) > 0 && rest[0] == ' ' { // RFC 4475 §3.1.2.9: extra SP, tolerated
		rest = rest[1:]
	}
	const version = " SIP/2.0"
	if len(rest) <= len(version) || !hasPrefixFold(rest[len(rest)-len(version):], version) {
		return false
	}
	uri := rest[:len(rest)-len(version)]
	for len(uri) > 0 && uri[len(uri)-1] == ' ' {
		uri = uri[:len(uri)-1]
	}
	// RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":".
	if len(uri) < 2 || !isAlpha(uri[0]) {
		return false
	}
	for j := 1; j < len(uri); j++ {
		c := uri[j]
		switch {
		case c == ':':
			return true
		case isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.':
		default:
			return false
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// isToken reports whether c may appear in a token (RFC 3261 §25.1).
func isToken(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	switch c {
	case '-', '.', '!', '%', '*', '_', '+', '`', '\'', '~':
		return true
	}
	return false
}

// hasPrefixFold reports whether b starts with the ASCII string prefix, ignoring case.
func hasPrefixFold(b []byte, prefix string) bool {
	if len(b) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if lower(b[i]) != lower(prefix[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
