package call

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/dialog"
	"github.com/spanrec/spanrec/sipmsg"
)

// TestCollectHeaders: the first INVITE's fields are kept within their
// bounds (what is cut is counted), credentials never, and each side's user
// agent comes from its own messages.
func TestCollectHeaders(t *testing.T) {
	var b strings.Builder
	b.WriteString("INVITE sip:201@10.0.1.21 SIP/2.0\r\nCall-ID: hdr@test\r\nFrom: <sip:205@x>;tag=a\r\nTo: <sip:201@x>\r\nCSeq: 1 INVITE\r\n")
	b.WriteString("User-Agent: Yealink SIP-T46S 66.86.0.15\r\nProxy-Authorization: Digest username=\"205\", response=\"6629fae49393a05397450978507c4ef1\"\r\n")
	b.WriteString("X-Long: " + strings.Repeat("é", 200) + "\r\ns: folded\r\n subject\r\n")
	for i := range spanrec.MaxSIPHeaders {
		fmt.Fprintf(&b, "X-N%d: %d\r\n", i, i)
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	inv, err := sipmsg.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	ok, err := sipmsg.Parse([]byte("SIP/2.0 200 OK\r\nCall-ID: hdr@test\r\nFrom: <sip:205@x>;tag=a\r\nTo: <sip:201@x>;tag=b\r\nCSeq: 1 INVITE\r\nServer: Asterisk PBX 18.20.0\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := &state{d: &dialog.Dialog{CallerTag: "a"}}
	c.collectHeaders(inv, true)
	c.collectHeaders(ok, false)
	if len(c.headers) != spanrec.MaxSIPHeaders {
		t.Errorf("%d headers kept, want %d", len(c.headers), spanrec.MaxSIPHeaders)
	}
	got := map[string]string{}
	for _, h := range c.headers {
		got[h.Name] = h.Value
	}
	if _, ok := got["proxy-authorization"]; ok {
		t.Error("credentials kept")
	}
	if v := got["x-long"]; len(v) > spanrec.MaxHeaderValue || !strings.HasPrefix(v, "éé") || strings.ContainsRune(v, '\uFFFD') {
		t.Errorf("x-long cut to %d bytes: %q", len(v), v)
	}
	if got["subject"] != "folded subject" || got["call-id"] != "hdr@test" {
		t.Errorf("subject %q, call-id %q", got["subject"], got["call-id"])
	}
	// 4 standard + user-agent + x-long + subject, 64 X-N, Content-Length:
	// 72 fields (credentials aside), 64 kept, 8 dropped; x-long cut once.
	if c.headersCut != 8+1 {
		t.Errorf("%d cut, want 9", c.headersCut)
	}
	if c.ua[spanrec.CallerSide] != "Yealink SIP-T46S 66.86.0.15" || c.ua[spanrec.CalleeSide] != "Asterisk PBX 18.20.0" {
		t.Errorf("user agents %q", c.ua)
	}
}
