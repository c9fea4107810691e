package call

import (
	"strings"
	"unicode/utf8"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/sipmsg"
)

// withheld are the headers never kept for search: a digest response can be
// attacked offline for the password.
var withheld = map[string]bool{"authorization": true, "proxy-authorization": true}

// headerText returns v as valid UTF-8 cut to at most n bytes (at a
// character boundary) with its control characters made spaces, and
// whether it was cut.
func headerText(v string, n int) (string, bool) {
	v = strings.ToValidUTF8(v, "\uFFFD")
	cut := len(v) > n
	if cut {
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		v = v[:n]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, v), cut
}

// collectHeaders keeps what the call's messages say for search: the first
// INVITE's header fields, and each side's user agent, within the bounds
// of spanrec.MaxSIPHeaders and spanrec.MaxHeaderValue (what is cut is
// counted in c.headersCut).
func (c *state) collectHeaders(m *sipmsg.Message, first bool) {
	if first {
		for k, v := range m.Fields() {
			if withheld[k] {
				continue
			}
			if len(c.headers) >= spanrec.MaxSIPHeaders || len(k) > spanrec.MaxHeaderName {
				c.headersCut++
				continue
			}
			v, cut := headerText(v, spanrec.MaxHeaderValue)
			if cut {
				c.headersCut++
			}
			c.headers = append(c.headers, spanrec.SIPHeader{Name: k, Value: v})
		}
	}
	side := c.d.Sender(m)
	if c.ua[side] != "" {
		return
	}
	ua := m.Header("User-Agent")
	if len(ua) == 0 && !m.Request {
		ua = m.Header("Server")
	}
	if len(ua) == 0 || ua[0] == "" {
		return
	}
	v, cut := headerText(ua[0], spanrec.MaxHeaderValue)
	if cut {
		c.headersCut++
	}
	if c.ua == nil {
		c.ua = map[spanrec.Side]string{}
	}
	c.ua[side] = v
}
