package sipmsg_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/spanrec/spanrec/sipmsg"
)

func TestLooks(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"INVITE sip:bob@example.com SIP/2.0\r\n", true},
		{"ACK sips:bob@example.com SIP/2.0\n", true},
		{"OPTIONS tel:+4930123 SIP/2.0", true},
		{"SIP/2.0 200 OK\r\n", true},
		{"SIP/2.0 100\r\n", true},
		{"SIP/2.0 183 Session Progress", true},
		{"sip/2.0 180 Ringing\r\n", true},
		{"NEWMETHOD sip:x@y SIP/2.0\r\n", true},
		{"INVITE  sip:bob@example.com  SIP/2.0\r\n", true},
		{"", false},
		{"\r\n\r\n", false},
		{"SIP/2.0 20 OK\r\n", false},
		{"SIP/2.0 2000 OK\r\n", false},
		{"SIP/2.0 099 X\r\n", false},
		{"SIP/2.0/UDP host\r\n", false},
		{"GET / HTTP/1.1\r\n", false},
		{"HTTP/1.1 200 OK\r\n", false},
		{"POST /sip:x SIP/2.0\r\n", false},
		{"INVITE <sip:bob@example.com> SIP/2.0\r\n", false},
		{"INVITE sip:bob@example.com SIP/3.0\r\n", false},
		{"INVITE sip:bob@example.com\r\nSIP/2.0\r\n", false},
		{"\x80\x08\x12\x34\x00\x00\x00\xa0\xde\xad\xbe\xef" + strings.Repeat("\xd5", 160), false}, // RTP PCMA
		{"\x00\x01\x00\x00\x21\x12\xa4\x42abcdefghijkl", false},                                   // STUN binding request
		{"\x81\xc8\x00\x06", false}, // RTCP SR
	}
	for _, tt := range tests {
		if got := sipmsg.Looks([]byte(tt.in)); got != tt.want {
			t.Errorf("Looks(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLooksDoesNotAllocate(t *testing.T) {
	msg := []byte(invite(inviteSDP))
	rtp := []byte("\x80\x08\x12\x34\x00\x00\x00\xa0\xde\xad\xbe\xef" + strings.Repeat("\xd5", 160))
	if n := testing.AllocsPerRun(100, func() { sipmsg.Looks(msg); sipmsg.Looks(rtp) }); n != 0 {
		t.Errorf("Looks allocates %v times", n)
	}
}

// TestLooksHTTPOnSIPPort checks that HTTP sent to port 5060 is not taken for SIP.
func TestLooksHTTPOnSIPPort(t *testing.T) {
	var onPort int
	for _, d := range readDatagrams(t, filepath.Join(capturesDir(t), "ndpi", "http_on_sip_port.pcap")) {
		if strings.HasSuffix(d.flow, "->5060") || strings.Contains(d.flow, "/5060->") {
			onPort++
		}
		if sipmsg.Looks(d.payload) {
			t.Errorf("frame %d Looks like SIP: %q", d.frame, d.payload[:min(len(d.payload), 60)])
		}
	}
	if onPort == 0 {
		t.Error("no payload on port 5060: the test does not test what it should")
	}
}
