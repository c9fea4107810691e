package dialog_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/dialog"
	"github.com/spanrec/spanrec/sipmsg"
)

func parse(t *testing.T, format string, args ...any) *sipmsg.Message {
	t.Helper()
	m, err := sipmsg.Parse([]byte(fmt.Sprintf(format, args...)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func info(t *testing.T, fromTag, toTag string, cseq int, digit string) *sipmsg.Message {
	body := "Signal=" + digit + "\r\nDuration=160\r\n"
	return parse(t, "INFO sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK%d\r\n"+
		"From: <sip:a@10.0.0.1>;tag=%s\r\nTo: <sip:b@10.0.0.2>;tag=%s\r\nCall-ID: x\r\nCSeq: %d INFO\r\n"+
		"Content-Type: application/dtmf-relay\r\nContent-Length: %d\r\n\r\n%s", cseq, fromTag, toTag, cseq, len(body), body)
}

// TestInfoRetransmission checks that a SIP INFO sent again with the same
// CSeq (RFC 3261 §17.1.2.2) counts as one key press, while a new INFO with
// the same digit, or one from the other side with the same number, counts.
func TestInfoRetransmission(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	inv := parse(t, "INVITE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"+
		"From: <sip:a@10.0.0.1>;tag=A\r\nTo: <sip:b@10.0.0.2>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
	d := dialog.New(inv, t0, a, b)
	d.Apply(inv, t0, a)
	steps := []struct {
		m   *sipmsg.Message
		src netip.AddrPort
	}{
		{info(t, "A", "B", 2, "5"), a},
		{info(t, "A", "B", 2, "5"), a}, // retransmission
		{info(t, "A", "B", 3, "5"), a}, // the same key again
		{info(t, "B", "A", 2, "9"), b}, // the callee's own CSeq 2
		{info(t, "B", "A", 2, "9"), b}, // retransmission
	}
	for i, s := range steps {
		d.Apply(s.m, t0.Add(time.Duration(i+1)*500*time.Millisecond), s.src)
	}
	want := []spanrec.DTMF{
		{Digit: "5", At: t0.Add(500 * time.Millisecond), DurationMS: 160, Side: spanrec.CallerSide, Source: "sip-info"},
		{Digit: "5", At: t0.Add(1500 * time.Millisecond), DurationMS: 160, Side: spanrec.CallerSide, Source: "sip-info"},
		{Digit: "9", At: t0.Add(2000 * time.Millisecond), DurationMS: 160, Side: spanrec.CalleeSide, Source: "sip-info"},
	}
	if len(d.DTMF) != len(want) {
		t.Fatalf("DTMF %+v, want %+v", d.DTMF, want)
	}
	for i := range want {
		if d.DTMF[i] != want[i] {
			t.Errorf("DTMF %d = %+v, want %+v", i, d.DTMF[i], want[i])
		}
	}
}

// TestPartyWithoutUser checks that a From or To without a user part
// (sip:example.com) names the party by its host, not by the raw URI.
func TestPartyWithoutUser(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	inv := parse(t, "INVITE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"+
		"From: \"Trunk\" <sip:pbx.example.com;transport=udp>;tag=A\r\nTo: <sip:[2001:db8::2]:5060>\r\n"+
		"Call-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
	d := dialog.New(inv, t0, a, b)
	if d.Caller.Number != "pbx.example.com" || d.Caller.Name != "Trunk" {
		t.Errorf("caller %q (%q), want pbx.example.com (Trunk)", d.Caller.Number, d.Caller.Name)
	}
	if d.Callee.Number != "2001:db8::2" {
		t.Errorf("callee %q, want 2001:db8::2", d.Callee.Number)
	}
}
