package sipmsg_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/spanrec/spanrec/sipmsg"
)

// crlf turns a readable message with LF line ends into one with CRLF line ends.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

const inviteSDP = `v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 49170 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
`

func invite(sdp string) string {
	body := crlf(sdp)
	return crlf(`INVITE sip:+4930123456@pbx.example.com;user=phone SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: "Bob" <sip:+4930123456@pbx.example.com;user=phone>
From: "Alice Smith" <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@192.0.2.10>
Content-Type: application/sdp
Content-Length: `) + itoa(len(body)) + "\r\n\r\n" + body
}

// setContentLength replaces the Content-Length header of msg with value, or removes it when value is "".
func setContentLength(msg, value string) string {
	i := strings.Index(msg, "Content-Length: ")
	j := i + strings.Index(msg[i:], "\r\n") + 2
	if value == "" {
		return msg[:i] + msg[j:]
	}
	return msg[:i] + "Content-Length: " + value + "\r\n" + msg[j:]
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		msg   string
		check func(t *testing.T, m *sipmsg.Message)
	}{
		{"invite with SDP", invite(inviteSDP), func(t *testing.T, m *sipmsg.Message) {
			want(t, "Request", m.Request, true)
			want(t, "Method", m.Method, "INVITE")
			want(t, "RequestURI", m.RequestURI, "sip:+4930123456@pbx.example.com;user=phone")
			want(t, "CallID", m.CallID, "a84b4c76e66710@pc33.example.com")
			want(t, "Branch", m.Branch, "z9hG4bK776asdhds")
			want(t, "From", m.From, sipmsg.Addr{Display: "Alice Smith", URI: "sip:alice@example.com", User: "alice", Host: "example.com"})
			want(t, "To", m.To, sipmsg.Addr{Display: "Bob", URI: "sip:+4930123456@pbx.example.com;user=phone", User: "+4930123456", Host: "pbx.example.com"})
			want(t, "FromTag", m.FromTag, "1928301774")
			want(t, "ToTag", m.ToTag, "")
			want(t, "CSeq", m.CSeq, uint32(314159))
			want(t, "CSeqMethod", m.CSeqMethod, "INVITE")
			want(t, "Body", string(m.Body), crlf(inviteSDP))
			want(t, "Raw", string(m.Raw), invite(inviteSDP))
			if m.SDP == nil || len(m.SDP.Media) != 1 || m.SDP.Media[0].Addr.String() != "192.0.2.10:49170" {
				t.Errorf("SDP = %+v", m.SDP)
			}
		}},
		{"compact forms", crlf(`BYE sip:bob@192.0.2.4 SIP/2.0
v: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKnashds8
f: <sip:alice@example.com>;tag=88sja8x
t: Bob <sip:bob@example.com>;tag=a6c85cf
i: compact@pc33
m: <sip:alice@192.0.2.10>
k: timer
s: subject
e: identity
o: dialog
CSeq: 231 BYE
c: application/sdp
l: 0

`), func(t *testing.T, m *sipmsg.Message) {
			want(t, "CallID", m.CallID, "compact@pc33")
			want(t, "Branch", m.Branch, "z9hG4bKnashds8")
			want(t, "FromTag", m.FromTag, "88sja8x")
			want(t, "ToTag", m.ToTag, "a6c85cf")
			want(t, "To.Display", m.To.Display, "Bob")
			want(t, "ContentType", m.ContentType, "application/sdp")
			want(t, "len(Body)", len(m.Body), 0)
		}},
		{"LF only, folded, odd case", "sip/2.0 180 Ringing\n" +
			"VIA: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKx\n" +
			"FROM:\n \"Alice\"\n\t<sip:alice@example.com>\n ;tag=1\n" +
			"to: <sip:bob@example.com>;TAG=2\n" +
			"CALL-ID: lf@host\n" +
			"cSeq: 7 INVITE\n\n", func(t *testing.T, m *sipmsg.Message) {
			want(t, "StatusCode", m.StatusCode, 180)
			want(t, "Reason", m.Reason, "Ringing")
			want(t, "Method", m.Method, "INVITE")
			want(t, "From", m.From, sipmsg.Addr{Display: "Alice", URI: "sip:alice@example.com", User: "alice", Host: "example.com"})
			want(t, "FromTag", m.FromTag, "1")
			want(t, "ToTag", m.ToTag, "2")
			want(t, "CallID", m.CallID, "lf@host")
		}},
		{"no Content-Length: body is the rest", setContentLength(invite(inviteSDP), ""),
			func(t *testing.T, m *sipmsg.Message) {
				want(t, "Body", string(m.Body), crlf(inviteSDP))
				want(t, "Truncated", m.Truncated, false)
			}},
		{"Content-Length too large: truncated", setContentLength(invite(inviteSDP), "900"),
			func(t *testing.T, m *sipmsg.Message) {
				want(t, "Truncated", m.Truncated, true)
				want(t, "Body", string(m.Body), crlf(inviteSDP))
				if m.SDP == nil {
					t.Error("no SDP from the short body")
				}
			}},
		{"Content-Length smaller: rest discarded", setContentLength(invite(inviteSDP), "5"),
			func(t *testing.T, m *sipmsg.Message) {
				want(t, "Body", string(m.Body), "v=0\r\n")
			}},
		{"header section cut", crlf("INVITE sip:bob@example.com SIP/2.0\nCall-ID: cut@host\nFrom: <sip:a@b>;ta"),
			func(t *testing.T, m *sipmsg.Message) {
				want(t, "Truncated", m.Truncated, true)
				want(t, "CallID", m.CallID, "cut@host")
				want(t, "FromTag", m.FromTag, "")
			}},
		{"comma lists", crlf(`INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKfirst, SIP/2.0/UDP p2.example.com;branch=z9hG4bKsecond
Via: SIP/2.0/UDP p3.example.com;branch=z9hG4bKthird
P-Asserted-Identity: "Smith, John" <sip:+4989123@example.com;user=phone>, <tel:+4989123>
From: <sip:anonymous@anonymous.invalid>;tag=x
To: <sip:bob@example.com>
Call-ID: comma@host
CSeq: 1 INVITE
Content-Length: 0

`), func(t *testing.T, m *sipmsg.Message) {
			want(t, "Branch", m.Branch, "z9hG4bKfirst")
			want(t, "PAI", m.PAI, sipmsg.Addr{Display: "Smith, John", URI: "sip:+4989123@example.com;user=phone", User: "+4989123", Host: "example.com"})
			want(t, "From.User", m.From.User, "anonymous")
		}},
		{"tel URI, escapes, user parameters", crlf(`OPTIONS sip:x@example.com SIP/2.0
P-Asserted-Identity: <tel:+1-201-555-0123;phone-context=example.com>
From: <sip:%2B4930%20123;npdi@example.com>;tag=9
To: <sips:bob:secret@example.com>
Call-ID: tel@host
CSeq: 2 OPTIONS

`), func(t *testing.T, m *sipmsg.Message) {
			want(t, "PAI.User", m.PAI.User, "+1-201-555-0123")
			want(t, "From.User", m.From.User, "+4930 123")
			want(t, "From.URI", m.From.URI, "sip:%2B4930%20123;npdi@example.com")
			want(t, "FromTag", m.FromTag, "9")
			want(t, "To.User", m.To.User, "bob")
		}},
		{"multipart/mixed with SDP", crlf(`INVITE sip:bob@example.com SIP/2.0
Call-ID: mp@host
CSeq: 1 INVITE
Content-Type: multipart/mixed; boundary="unique-boundary-1"
MIME-Version: 1.0

--unique-boundary-1
Content-Type: application/isup; version=itu-t92+
Content-Disposition: signal; handling=optional

binary ISUP
--unique-boundary-1
Content-Type: application/SDP

v=0
o=- 1 1 IN IP4 198.51.100.7
s=-
c=IN IP4 198.51.100.7
t=0 0
m=audio 4000 RTP/AVP 8
--unique-boundary-1--
`), func(t *testing.T, m *sipmsg.Message) {
			if m.SDP == nil || len(m.SDP.Media) != 1 {
				t.Fatalf("SDP = %+v", m.SDP)
			}
			want(t, "Addr", m.SDP.Media[0].Addr.String(), "198.51.100.7:4000")
			want(t, "Payloads", len(m.SDP.Media[0].Payloads), 1)
		}},
		{"INFO dtmf-relay", crlf(`INFO sip:bob@192.0.2.4 SIP/2.0
Call-ID: info@host
CSeq: 5 INFO
Content-Type: application/dtmf-relay
Content-Length: 26

Signal= 5
Duration= 160
`), func(t *testing.T, m *sipmsg.Message) {
			want(t, "DTMF", m.DTMF, "5")
			want(t, "DTMFDuration", m.DTMFDuration, 160)
		}},
		{"INFO dtmf-relay event code", crlf("INFO sip:b@h SIP/2.0\nCall-ID: i2@h\nCSeq: 6 INFO\nContent-Type: application/dtmf-relay\n\nSignal=11\nDuration=250\n"),
			func(t *testing.T, m *sipmsg.Message) {
				want(t, "DTMF", m.DTMF, "#")
				want(t, "DTMFDuration", m.DTMFDuration, 250)
			}},
		{"INFO application/dtmf", crlf("INFO sip:b@h SIP/2.0\nCall-ID: i3@h\nCSeq: 7 INFO\nc: application/dtmf\n\n*"),
			func(t *testing.T, m *sipmsg.Message) { want(t, "DTMF", m.DTMF, "*") }},
		{"INFO other body", crlf("INFO sip:b@h SIP/2.0\nCall-ID: i4@h\nCSeq: 8 INFO\nContent-Type: text/plain\n\nSignal=5\n"),
			func(t *testing.T, m *sipmsg.Message) { want(t, "DTMF", m.DTMF, "") }},
		{"SDP body that is not SDP", crlf("INVITE sip:b@h SIP/2.0\nCall-ID: bad@h\nCSeq: 1 INVITE\nContent-Type: application/sdp\n\nhello\n"),
			func(t *testing.T, m *sipmsg.Message) {
				if m.SDP != nil {
					t.Errorf("SDP = %+v, want nil", m.SDP)
				}
			}},
		{"leading CRLF", "\r\n" + crlf("ACK sip:b@h SIP/2.0\nCall-ID: ack@h\nCSeq: 1 ACK\n\n"),
			func(t *testing.T, m *sipmsg.Message) {
				want(t, "Method", m.Method, "ACK")
				want(t, "Raw starts with the start line", strings.HasPrefix(string(m.Raw), "ACK "), true)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := sipmsg.Parse([]byte(tt.msg))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, m)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want error
	}{
		{"empty", "", sipmsg.ErrNotSIP},
		{"keep-alive", "\r\n\r\n", sipmsg.ErrNotSIP},
		{"HTTP", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", sipmsg.ErrNotSIP},
		{"HTTP request", "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", sipmsg.ErrNotSIP},
		{"no Call-ID", crlf("BYE sip:b@h SIP/2.0\nCSeq: 1 BYE\n\n"), sipmsg.ErrNoCallID},
		{"empty Call-ID", crlf("BYE sip:b@h SIP/2.0\nCall-ID: \nCSeq: 1 BYE\n\n"), sipmsg.ErrNoCallID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := sipmsg.Parse([]byte(tt.msg))
			if !errors.Is(err, tt.want) || m != nil {
				t.Errorf("Parse = %v, %v; want nil, %v", m, err, tt.want)
			}
		})
	}
}

// TestParseOwnsMemory checks that a Message does not change when the caller reuses its input buffer.
func TestParseOwnsMemory(t *testing.T) {
	buf := []byte(invite(inviteSDP))
	m, err := sipmsg.Parse(buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'X'
	}
	want(t, "CallID", m.CallID, "a84b4c76e66710@pc33.example.com")
	want(t, "Raw", string(m.Raw), invite(inviteSDP))
	want(t, "Body", string(m.Body), crlf(inviteSDP))
	want(t, "Origin", m.SDP.Origin, "alice 2890844526 2890844526 IN IP4 192.0.2.10")
}
