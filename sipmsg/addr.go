package sipmsg

import "strings"

// parseAddr parses a From, To or P-Asserted-Identity value: name-addr or addr-spec followed by header parameters
// (RFC 3261 §20.10, §20.20), returning the address and its tag parameter. It does its best with malformed values:
// an unclosed '<' takes the rest of the value as the URI.
func parseAddr(v string) (Addr, string) {
	var a Addr
	var params string
	lt := indexUnquoted(v, '<')
	if lt < 0 && strings.Count(v, `"`)%2 == 1 {
		lt = strings.IndexByte(v, '<') // RFC 4475 §3.1.2.6: unbalanced quote; the '<' still marks the URI
	}
	if lt >= 0 {
		a.Display = displayName(v[:lt])
		rest := v[lt+1:]
		if gt := strings.IndexByte(rest, '>'); gt >= 0 {
			a.URI, params = strings.TrimSpace(rest[:gt]), rest[gt+1:]
		} else {
			a.URI = strings.TrimSpace(rest)
		}
	} else {
		// RFC 3261 §20.10: without angle brackets, every parameter after the URI is a header parameter.
		uri := v
		if semi := strings.IndexByte(v, ';'); semi >= 0 {
			uri, params = v[:semi], v[semi:]
		}
		a.URI = strings.TrimSpace(uri)
	}
	a.User = uriUser(a.URI)
	a.Host = uriHost(a.URI)
	return a, param(params, "tag")
}

// ParseAddr parses a name-addr or addr-spec header value (From, To, Refer-To, Referred-By; RFC 3261 §25.1) as
// Parse does its From and To: display name, URI without angle brackets, user and host of a sip, sips or tel URI.
func ParseAddr(v string) Addr {
	a, _ := parseAddr(v)
	return a
}

// displayName returns a display name (RFC 3261 §25.1 display-name), unquoted and with quoted-pairs resolved.
func displayName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '"' {
		return s
	}
	s = s[1:]
	if end := closingQuote(s); end >= 0 {
		s = s[:end]
	}
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// closingQuote returns the index in s of the '"' closing a quoted-string whose opening quote precedes s, or -1.
func closingQuote(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// indexUnquoted returns the index of the first c in s outside quoted-strings, or -1.
func indexUnquoted(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case c:
			return i
		case '"':
			end := closingQuote(s[i+1:])
			if end < 0 {
				return -1
			}
			i += end + 1
		}
	}
	return -1
}

// firstElement returns the first element of a comma-separated header value (RFC 3261 §7.3.1), not splitting inside
// quoted-strings or angle brackets.
func firstElement(v string) string {
	inAngle := false
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			end := closingQuote(v[i+1:])
			if end < 0 {
				return strings.TrimSpace(v)
			}
			i += end + 1
		case '<':
			inAngle = true
		case '>':
			inAngle = false
		case ',':
			if !inAngle {
				return strings.TrimSpace(v[:i])
			}
		}
	}
	return strings.TrimSpace(v)
}

// viaParams returns the parameters of one via-parm (RFC 3261 §20.42): what follows the sent-by.
func viaParams(v string) string {
	if semi := strings.IndexByte(v, ';'); semi >= 0 {
		return v[semi:]
	}
	return ""
}

// param returns the value of the parameter name (case-insensitive) in params, a ";name=value;flag" list as
// generic-param (RFC 3261 §25.1) allows, with whitespace around ';' and '='. A quoted value is unquoted. It returns
// "" when the parameter is absent or has no value.
func param(params, name string) string {
	for params != "" {
		semi := strings.IndexByte(params, ';')
		if semi < 0 {
			return ""
		}
		params = params[semi+1:]
		p := params
		if next := strings.IndexByte(p, ';'); next >= 0 {
			p = p[:next]
		}
		k, v, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), name) {
			continue
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' {
			if end := closingQuote(v[1:]); end >= 0 {
				return v[1 : end+1]
			}
		}
		if i := strings.IndexAny(v, " \t,"); i >= 0 {
			v = v[:i]
		}
		return v
	}
	return ""
}

// uriUser returns the user part of a sip, sips (RFC 3261 §19.1.1) or tel (RFC 3966 §3) URI, without user
// parameters and percent-decoded; "" for other schemes or a URI without user part.
func uriUser(uri string) string {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok {
		return ""
	}
	var user string
	switch {
	case strings.EqualFold(scheme, "sip"), strings.EqualFold(scheme, "sips"):
		at := strings.IndexByte(rest, '@')
		if at < 0 {
			return ""
		}
		user = rest[:at]
		if c := strings.IndexByte(user, ':'); c >= 0 { // user ":" password
			user = user[:c]
		}
	case strings.EqualFold(scheme, "tel"):
		user = rest
	default:
		return ""
	}
	if semi := strings.IndexByte(user, ';'); semi >= 0 {
		user = user[:semi]
	}
	return unescape(user)
}

// uriHost returns the host of a sip or sips URI (RFC 3261 §19.1.1 hostport, without the port and the brackets
// of an IPv6 reference); "" for other schemes. It returns a substring of uri.
func uriHost(uri string) string {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok || !strings.EqualFold(scheme, "sip") && !strings.EqualFold(scheme, "sips") {
		return ""
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	if i := strings.IndexAny(rest, ";?"); i >= 0 {
		rest = rest[:i]
	}
	if strings.HasPrefix(rest, "[") {
		if end := strings.IndexByte(rest, ']'); end >= 0 {
			return rest[1:end]
		}
		return ""
	}
	if c := strings.IndexByte(rest, ':'); c >= 0 {
		rest = rest[:c]
	}
	return strings.TrimSpace(rest)
}

// unescape decodes the %HH escapes of s (RFC 3261 §25.1 escaped); a '%' not followed by two hex digits stays as
// it is.
func unescape(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			sb.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

func isHex(c byte) bool { return isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'f') }

func unhex(c byte) byte {
	if isDigit(c) {
		return c - '0'
	}
	return (c | 0x20) - 'a' + 10
}
