package sipmsg_test

import (
	"testing"

	"github.com/spanrec/spanrec/sipmsg"
)

// TestAddrHost checks the host part of From/To URIs, which names a party
// whose URI has no user part.
func TestAddrHost(t *testing.T) {
	tests := []struct {
		from, user, host string
	}{
		{"<sip:example.com>", "", "example.com"},
		{"\"Gateway\" <sip:gw.example.com:5080;transport=tcp>", "", "gw.example.com"},
		{"sip:10.0.0.7;lr", "", "10.0.0.7"},
		{"<sips:[2001:db8::1]:5061>", "", "2001:db8::1"},
		{"<sip:alice:secret@example.com?subject=x>", "alice", "example.com"},
		{"<sip:1001@10.0.0.1>", "1001", "10.0.0.1"},
		{"<tel:+4930123>", "+4930123", ""},
		{"<urn:service:sos>", "", ""},
		{"<sip:[2001:db8::1>", "", ""}, // unclosed IPv6 reference
	}
	for _, tc := range tests {
		raw := "INVITE sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nFrom: " + tc.from +
			";tag=a\r\nTo: <sip:x@y>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
		m, err := sipmsg.Parse([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", tc.from, err)
		}
		if m.From.User != tc.user || m.From.Host != tc.host {
			t.Errorf("From %s: user %q host %q, want %q %q", tc.from, m.From.User, m.From.Host, tc.user, tc.host)
		}
	}
}
