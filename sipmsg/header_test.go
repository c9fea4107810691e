package sipmsg_test

import (
	"slices"
	"testing"

	"github.com/spanrec/spanrec/sipmsg"
)

// TestHeader reads headers Parse does not keep: any case, compact forms of
// Refer-To and Referred-By, folded lines, several fields, none in the body.
func TestHeader(t *testing.T) {
	raw := "REFER sip:b@10.0.0.2 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n" +
		"From: <sip:a@10.0.0.1>;tag=A\r\nTo: <sip:b@10.0.0.2>;tag=B\r\nCall-ID: x\r\nCSeq: 2 REFER\r\n" +
		"r: <sip:c@10.0.0.3?Replaces=y%4010.0.0.1%3Bto-tag%3D1%3Bfrom-tag%3D2>\r\n" +
		"b: <sip:a@10.0.0.1>\r\n" +
		"x-call-id: first\r\n" +
		"X-Call-ID:second,\r\n third\r\n" +
		"Content-Type: text/plain\r\nContent-Length: 17\r\n\r\nX-Call-ID: body\r\n"
	m, err := sipmsg.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		want []string
	}{
		{"Refer-To", []string{"<sip:c@10.0.0.3?Replaces=y%4010.0.0.1%3Bto-tag%3D1%3Bfrom-tag%3D2>"}},
		{"referred-by", []string{"<sip:a@10.0.0.1>"}},
		{"b", []string{"<sip:a@10.0.0.1>"}},
		{"X-Call-ID", []string{"first", "second, third"}},
		{"Session-ID", nil},
	} {
		if got := m.Header(tt.name); !slices.Equal(got, tt.want) {
			t.Errorf("Header(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if a := sipmsg.ParseAddr(m.Header("Refer-To")[0]); a.User != "c" || a.Host != "10.0.0.3" {
		t.Errorf("Refer-To address: user %q host %q", a.User, a.Host)
	}
}
