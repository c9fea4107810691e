package sipmsg

import (
	"strconv"
	"strings"
)

// Message is one SIP request or response, reduced to what a passive recorder needs. Its strings and Body refer
// to memory the Message owns: it stays valid after the input of Parse is reused.
type Message struct {
	Request bool
	// Method is the request method (INVITE, ACK, BYE, CANCEL, UPDATE, INFO, PRACK, OPTIONS, REGISTER, ...);
	// for a response, the method of its CSeq.
	Method     string
	StatusCode int    // responses: 100-699
	Reason     string // responses: the reason phrase, possibly empty
	RequestURI string // requests
	CallID     string
	// Branch is the branch parameter of the topmost Via (RFC 3261 §8.1.1.7), "" if absent.
	Branch         string
	FromTag, ToTag string
	// From, To and PAI (the first P-Asserted-Identity, RFC 3325 §9.1) are the parsed name-addr values.
	From, To, PAI Addr
	CSeq          uint32
	CSeqMethod    string
	ContentType   string // the Content-Type value as sent, parameters included
	Body          []byte // the message body: Content-Length bytes, or the rest of the datagram
	// Truncated is true when the message ends before its header section does, or before Content-Length bytes
	// of body: a datagram cut by the capture snap length or by IP fragment loss.
	Truncated bool
	// SDP is the session description when Content-Type is application/sdp, or multipart/* with an
	// application/sdp part, and the body parses as SDP; nil otherwise.
	SDP *SDP
	// DTMF is the key pressed, for an INFO with an application/dtmf-relay ("Signal=5") or application/dtmf
	// ("5") body: 0-9, *, #, A-D or "flash"; "" otherwise.
	DTMF string
	// DTMFDuration is the Duration of an application/dtmf-relay body in milliseconds, 0 if absent.
	DTMFDuration int
	// Raw is the whole message, start line to the end of the body (trailing datagram bytes beyond
	// Content-Length are not part of it). It is the Message's own copy.
	Raw []byte
	// raw is Raw as Parse read it: the string every other field is cut
	// from, which Header scans without copying Raw again.
	raw string
}

// Addr is a parsed name-addr or addr-spec (RFC 3261 §25.1) of a From, To or P-Asserted-Identity header.
type Addr struct {
	Display string // display name, unquoted and unescaped; "" if none
	URI     string // the URI as sent, without angle brackets
	// User is the user part of a sip, sips or tel URI, percent-decoded and without user parameters
	// (";phone-context=..." and the like): usually the phone number. "" for other schemes.
	User string
	// Host is the host part of a sip or sips URI (a domain name or an address, without port, parameters or
	// the brackets of an IPv6 reference): what names a party whose URI has no user part (sip:example.com).
	// "" for other schemes.
	Host string
}

// Parse parses one complete SIP message, from a UDP datagram or from Framer. It never panics and copies what it
// keeps, so b may be reused after it returns.
//
// Parse is tolerant, as a passive recorder has to be: header names are case-insensitive and may take their compact
// forms (RFC 3261 §7.3.3), folded header lines are unfolded (§7.3.1), lines may end in LF alone, a header may carry
// a comma list (§7.3.1; the first element is used), unknown headers are skipped, and a malformed header is ignored
// rather than failing the message. The body is Content-Length bytes; with Content-Length missing, unparsable or
// larger than the data, it is the rest of the datagram (§18.3), and a short body sets Truncated.
//
// It returns an error wrapping ErrNotSIP when b does not start with a SIP start line (leading CRLFs are skipped),
// and ErrNoCallID when the message has no Call-ID. A body that does not parse as SDP leaves SDP nil without an
// error.
func Parse(b []byte) (*Message, error) {
	start := 0
	for start < len(b) && (b[start] == '\r' || b[start] == '\n') {
		start++
	}
	if !Looks(b[start:]) {
		return nil, ErrNotSIP
	}
	s := string(b[start:])
	m := &Message{}
	line, i := nextLine(s, 0)
	parseStartLine(m, line)

	var (
		contentLength = -1
		haveCallID    bool
		haveCSeq      bool
		haveFrom      bool
		haveTo        bool
		havePAI       bool
		haveVia       bool
		haveCT        bool
		bodyStart     = -1
	)
	for i < len(s) {
		line, next := nextLine(s, i)
		if line == "" {
			bodyStart = next
			break
		}
		// RFC 3261 §7.3.1: a line starting with whitespace continues the previous header line.
		hdrStart, end, folded := i, next, false
		for end < len(s) && (s[end] == ' ' || s[end] == '\t') {
			_, end = nextLine(s, end)
			folded = true
		}
		i = end
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		var value string
		if folded {
			value = unfold(s[hdrStart+colon+1 : end])
		} else {
			value = strings.TrimSpace(line[colon+1:])
		}
		switch headerID(strings.TrimRight(line[:colon], " \t")) {
		case hCallID:
			if !haveCallID {
				m.CallID = firstWord(value)
				haveCallID = m.CallID != ""
			}
		case hFrom:
			if !haveFrom {
				m.From, m.FromTag = parseAddr(value)
				haveFrom = true
			}
		case hTo:
			if !haveTo {
				m.To, m.ToTag = parseAddr(value)
				haveTo = true
			}
		case hPAI:
			if !havePAI {
				m.PAI, _ = parseAddr(firstElement(value))
				havePAI = true
			}
		case hVia:
			if !haveVia {
				m.Branch = param(viaParams(firstElement(value)), "branch")
				haveVia = true
			}
		case hCSeq:
			if !haveCSeq {
				m.CSeq, m.CSeqMethod = parseCSeq(value)
				haveCSeq = true
			}
		case hContentType:
			if !haveCT {
				m.ContentType = value
				haveCT = true
			}
		case hContentLength:
			if contentLength < 0 {
				if n, err := strconv.Atoi(value); err == nil && n >= 0 {
					contentLength = n
				}
			}
		}
	}
	bodyEnd := len(s)
	if bodyStart < 0 {
		// RFC 3261 §7: the empty line ending the header section MUST be present.
		bodyStart = len(s)
		m.Truncated = true
	} else if contentLength >= 0 {
		// RFC 3261 §18.3: octets beyond Content-Length in a datagram are discarded; a shorter body is truncated.
		if bodyStart+contentLength <= len(s) {
			bodyEnd = bodyStart + contentLength
		} else {
			m.Truncated = true
		}
	}
	if !m.Request {
		m.Method = m.CSeqMethod
	}
	m.raw = s[:bodyEnd]
	m.Raw = []byte(m.raw)
	m.Body = m.Raw[bodyStart:bodyEnd:bodyEnd]
	if !haveCallID {
		return nil, ErrNoCallID
	}
	if bodyEnd > bodyStart && m.ContentType != "" {
		parseBody(m, m.ContentType, s[bodyStart:bodyEnd], 0)
	}
	return m, nil
}

// parseStartLine fills the start-line fields of m from line, which Looks accepted (RFC 3261 §7.1, §7.2).
func parseStartLine(m *Message, line string) {
	line = strings.TrimRight(line, " \t\r") // as Looks does
	if len(line) >= 8 && strings.EqualFold(line[:8], "SIP/2.0 ") {
		m.StatusCode, _ = strconv.Atoi(line[8:11])
		m.Reason = strings.TrimSpace(line[11:])
		return
	}
	m.Request = true
	sp := strings.IndexByte(line, ' ')
	m.Method = line[:sp]
	m.RequestURI = strings.TrimSpace(line[sp+1 : len(line)-len(" SIP/2.0")])
}

// nextLine returns the line of s that starts at i, without its LF or CRLF terminator, and the index just past it.
func nextLine(s string, i int) (line string, next int) {
	j := strings.IndexByte(s[i:], '\n')
	if j < 0 {
		line, next = s[i:], len(s)
	} else {
		line, next = s[i:i+j], i+j+1
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, next
}

// unfold joins a folded header value (RFC 3261 §7.3.1): each line break with the whitespace around it becomes one
// space.
func unfold(v string) string {
	var sb strings.Builder
	sb.Grow(len(v))
	for i := 0; i < len(v); {
		line, next := nextLine(v, i)
		line = strings.TrimSpace(line)
		if line != "" {
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(line)
		}
		i = next
	}
	return sb.String()
}

// Header identities of the headers Parse reads.
const (
	hOther = iota
	hCallID
	hFrom
	hTo
	hPAI
	hVia
	hCSeq
	hContentType
	hContentLength
)

// headerID identifies a header by its name, case-insensitively, compact forms included (RFC 3261 §7.3.3, §20).
func headerID(name string) int {
	switch len(name) {
	case 1:
		switch lower(name[0]) {
		case 'i':
			return hCallID
		case 'f':
			return hFrom
		case 't':
			return hTo
		case 'v':
			return hVia
		case 'c':
			return hContentType
		case 'l':
			return hContentLength
		}
	case 2:
		if strings.EqualFold(name, "to") {
			return hTo
		}
	case 3:
		if strings.EqualFold(name, "via") {
			return hVia
		}
	case 4:
		if strings.EqualFold(name, "from") {
			return hFrom
		}
		if strings.EqualFold(name, "cseq") {
			return hCSeq
		}
	case 7:
		if strings.EqualFold(name, "call-id") {
			return hCallID
		}
	case 12:
		if strings.EqualFold(name, "content-type") {
			return hContentType
		}
	case 14:
		if strings.EqualFold(name, "content-length") {
			return hContentLength
		}
	case 19:
		if strings.EqualFold(name, "p-asserted-identity") {
			return hPAI
		}
	}
	return hOther
}

// parseCSeq parses "CSeq: 4711 INVITE" (RFC 3261 §20.16). A malformed number gives 0.
func parseCSeq(v string) (uint32, string) {
	num, method := cutSpace(v)
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		n = 0
	}
	method, _ = cutSpace(method)
	return uint32(n), method
}

// cutSpace splits s at its first run of whitespace, after trimming leading whitespace.
func cutSpace(s string) (before, after string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

// firstWord returns s up to its first whitespace.
func firstWord(s string) string {
	w, _ := cutSpace(s)
	return w
}
