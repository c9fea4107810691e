package sipmsg_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spanrec/spanrec/sipmsg"
)

func readTorture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "torture", name+".sip"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTortureValid checks the RFC 4475 §3.1.1 valid messages.
func TestTortureValid(t *testing.T) {
	tests := []struct {
		name  string
		check func(t *testing.T, m *sipmsg.Message)
	}{
		{"wsinv", func(t *testing.T, m *sipmsg.Message) {
			want(t, "Method", m.Method, "INVITE")
			want(t, "RequestURI", m.RequestURI, "sip:vivekg@chair-dnrc.example.com;unknownparam")
			want(t, "CallID", m.CallID, "wsinv.ndaksdj@192.0.2.1")
			want(t, "ToTag", m.ToTag, "1918181833n")
			want(t, "To.User", m.To.User, "vivekg")
			want(t, "FromTag", m.FromTag, "98asjd8")
			want(t, "From.Display", m.From.Display, `J Rosenberg \"`)
			want(t, "From.URI", m.From.URI, "sip:jdrosen@example.com")
			want(t, "CSeq", m.CSeq, uint32(9))
			want(t, "CSeqMethod", m.CSeqMethod, "INVITE")
			want(t, "Branch", m.Branch, "390skdjuw")
			want(t, "len(Body)", len(m.Body), 150)
			if m.SDP == nil || len(m.SDP.Media) != 2 {
				t.Fatalf("SDP = %+v, want 2 media", m.SDP)
			}
			want(t, "audio", m.SDP.Media[0].Addr.String(), "192.0.2.4:49217")
			want(t, "video rtpmap", m.SDP.Media[1].RTPMap[31].Name, "LPC")
		}},
		{"intmeth", func(t *testing.T, m *sipmsg.Message) {
			want(t, "Method", m.Method, "!interesting-Method0123456789_*+`.%indeed'~")
			want(t, "CSeqMethod", m.CSeqMethod, m.Method)
			want(t, "CSeq", m.CSeq, uint32(139122385))
			want(t, "CallID", m.CallID, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
			want(t, "FromTag", m.FromTag, "_token~1'+`*%!-.")
			want(t, "From.Display", m.From.Display, "token1~` token2'+_ token3*%!.-")
			want(t, "To.Display", m.To.Display, "BEL:\x07 NUL:\x00 DEL:\x7f")
		}},
		{"esc01", func(t *testing.T, m *sipmsg.Message) {
			want(t, "RequestURI", m.RequestURI, "sip:sips%3Auser%40example.com@example.net")
			want(t, "To.User", m.To.User, "user")
			want(t, "From.User", m.From.User, "I have spaces")
			want(t, "CallID (compact i)", m.CallID, "esc01.239409asdfakjkn23onasd0-3234")
			want(t, "ContentType (compact C)", m.ContentType, "application/sdp")
			if m.SDP == nil {
				t.Fatal("no SDP")
			}
		}},
		{"escnull", func(t *testing.T, m *sipmsg.Message) {
			want(t, "To.User", m.To.User, "null-\x00-null")
			want(t, "len(Body)", len(m.Body), 0)
		}},
		{"lwsdisp", func(t *testing.T, m *sipmsg.Message) {
			want(t, "From.Display", m.From.Display, "caller")
			want(t, "From.URI", m.From.URI, "sip:caller@example.com")
			want(t, "FromTag", m.FromTag, "323")
		}},
		{"longreq", func(t *testing.T, m *sipmsg.Message) {
			want(t, "CallID", m.CallID, "longreq.one"+strings.Repeat("really", 20)+"longcallid")
			want(t, "FromTag", m.FromTag, "12"+strings.Repeat("982", 50)+"424")
			want(t, "From.User", m.From.User, strings.Repeat("amazinglylongcallername", 5))
			want(t, "To.Display", m.To.Display, "I have a user name of "+strings.Repeat("extreme", 10)+" proportion")
			want(t, "Branch", m.Branch, "")
			if m.SDP == nil || len(m.SDP.Media) != 2 {
				t.Fatalf("SDP = %+v", m.SDP)
			}
		}},
		{"dblreq", func(t *testing.T, m *sipmsg.Message) {
			want(t, "Method", m.Method, "REGISTER")
			want(t, "CallID", m.CallID, "dblreq.0ha0isndaksdj99sdfafnl3lk233412")
			want(t, "len(Body)", len(m.Body), 0)
			want(t, "Raw ends at the REGISTER", strings.Contains(string(m.Raw), "INVITE"), false)
		}},
		{"semiuri", func(t *testing.T, m *sipmsg.Message) {
			want(t, "RequestURI", m.RequestURI, "sip:user;par=u%40example.net@example.com")
			want(t, "From.User", m.From.User, "caller")
			want(t, "FromTag", m.FromTag, "33242")
		}},
		{"transports", func(t *testing.T, m *sipmsg.Message) {
			want(t, "CallID", m.CallID, "transports.kijh4akdnaqjkwendsasfdj")
			want(t, "Branch (topmost Via)", m.Branch, "z9hG4bKkdjuw")
		}},
		{"mpart01", func(t *testing.T, m *sipmsg.Message) {
			want(t, "Method", m.Method, "MESSAGE")
			want(t, "Truncated", m.Truncated, false)
			if m.SDP != nil {
				t.Errorf("SDP = %+v, want none (text and binary parts only)", m.SDP)
			}
			if !strings.HasSuffix(string(m.Body), "--7a9cbec02ceef655--\r\n") {
				t.Errorf("body does not end with the close delimiter: %q", m.Body)
			}
		}},
		{"unreason", func(t *testing.T, m *sipmsg.Message) {
			want(t, "Request", m.Request, false)
			want(t, "StatusCode", m.StatusCode, 200)
			want(t, "Reason", m.Reason, "= 2**3 * 5**2 но сто девяносто девять - простое")
			want(t, "Method (from CSeq)", m.Method, "INVITE")
			want(t, "ToTag", m.ToTag, "2229")
			if m.SDP == nil || m.SDP.Media[0].Addr.String() != "192.0.2.198:49217" {
				t.Errorf("SDP = %+v", m.SDP)
			}
		}},
		{"noreason", func(t *testing.T, m *sipmsg.Message) {
			want(t, "StatusCode", m.StatusCode, 100)
			want(t, "Reason", m.Reason, "")
			want(t, "ToTag", m.ToTag, "902jndnke3")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := readTorture(t, tt.name)
			if !sipmsg.Looks(b) {
				t.Error("Looks = false")
			}
			m, err := sipmsg.Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, m)
		})
	}
}

// TestTortureInvalid checks that the RFC 4475 §3.1.2 invalid messages give an error or a best-effort parse.
func TestTortureInvalid(t *testing.T) {
	tests := []struct {
		name    string
		wantErr error
		check   func(t *testing.T, m *sipmsg.Message)
	}{
		{"badinv01", nil, func(t *testing.T, m *sipmsg.Message) {
			want(t, "Branch", m.Branch, "")
			if m.SDP == nil {
				t.Error("no SDP")
			}
		}},
		{"clerr", nil, func(t *testing.T, m *sipmsg.Message) {
			want(t, "Truncated", m.Truncated, true)
			if m.SDP == nil || len(m.SDP.Media) != 2 {
				t.Errorf("SDP = %+v, want the 2 media of the short body", m.SDP)
			}
		}},
		{"ncl", nil, func(t *testing.T, m *sipmsg.Message) {
			want(t, "Truncated", m.Truncated, false)
			if m.SDP == nil {
				t.Error("no SDP: a negative Content-Length should leave the rest of the datagram as body")
			}
		}},
		{"scalar02", nil, func(t *testing.T, m *sipmsg.Message) { want(t, "CSeq", m.CSeq, uint32(0)) }},
		{"scalarlg", nil, func(t *testing.T, m *sipmsg.Message) {
			want(t, "StatusCode", m.StatusCode, 503)
			want(t, "CSeq", m.CSeq, uint32(0))
			want(t, "Method", m.Method, "INVITE")
		}},
		{"quotbal", nil, func(t *testing.T, m *sipmsg.Message) { want(t, "To.URI", m.To.URI, "sip:j.user@example.com") }},
		{"ltgtruri", sipmsg.ErrNotSIP, nil},
		{"lwsruri", nil, func(t *testing.T, m *sipmsg.Message) { want(t, "RequestURI", m.RequestURI, "sip:user@example.com; lr") }},
		{"lwsstart", nil, func(t *testing.T, m *sipmsg.Message) { want(t, "RequestURI", m.RequestURI, "sip:user@example.com") }},
		{"trws", nil, func(t *testing.T, m *sipmsg.Message) {
			want(t, "RequestURI", m.RequestURI, "sip:remote-target@example.com")
		}},
		{"escruri", nil, func(t *testing.T, m *sipmsg.Message) { want(t, "Method", m.Method, "INVITE") }},
		{"regbadct", nil, func(t *testing.T, m *sipmsg.Message) { want(t, "Method", m.Method, "REGISTER") }},
		{"badaspec", nil, func(t *testing.T, m *sipmsg.Message) {
			want(t, "To.Display", m.To.Display, "Watson, Thomas")
			want(t, "To.URI", m.To.URI, "sip:t.watson@example.org")
		}},
		{"baddn", nil, func(t *testing.T, m *sipmsg.Message) {
			want(t, "From.Display", m.From.Display, "Bell, Alexander")
			want(t, "FromTag", m.FromTag, "43")
		}},
		{"badvers", sipmsg.ErrNotSIP, nil},
		{"mismatch01", nil, func(t *testing.T, m *sipmsg.Message) {
			want(t, "Method (start line wins)", m.Method, "OPTIONS")
			want(t, "CSeqMethod", m.CSeqMethod, "INVITE")
		}},
		{"mismatch02", nil, func(t *testing.T, m *sipmsg.Message) { want(t, "Method", m.Method, "NEWMETHOD") }},
		{"bigcode", sipmsg.ErrNotSIP, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := sipmsg.Parse(readTorture(t, "invalid-"+tt.name))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Parse error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, m)
		})
	}
}

func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}
