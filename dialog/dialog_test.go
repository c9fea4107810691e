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

// sdpMsg builds an INVITE (request) or its 200 (response) carrying an SDP
// with the given connection address, port and extra attribute lines.
func sdpMsg(t *testing.T, request bool, cseq int, conn string, port int, attrs string) *sipmsg.Message {
	body := fmt.Sprintf("v=0\r\no=x 1 %d IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n%s", cseq, conn, conn, port, attrs)
	start := "INVITE sip:b@10.0.0.2 SIP/2.0"
	if !request {
		start = "SIP/2.0 200 OK"
	}
	return parse(t, "%s\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK%d\r\nFrom: <sip:a@10.0.0.1>;tag=A\r\nTo: <sip:b@10.0.0.2>%s\r\n"+
		"Call-ID: h\r\nCSeq: %d INVITE\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		start, cseq, map[bool]string{true: "", false: ";tag=B"}[request && cseq == 1], cseq, len(body), body)
}

// TestHolds follows the SDP direction of both sides through an offer and
// answer and re-INVITEs: sendonly/recvonly hold, a=inactive at session
// level, the old c=0.0.0.0 hold, and a stream rejected with port 0.
func TestHolds(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	inv := sdpMsg(t, true, 1, "10.0.0.1", 4000, "")
	d := dialog.New(inv, t0, a, b)
	steps := []struct {
		m      *sipmsg.Message
		src    netip.AddrPort
		caller bool // MaySend after the step
		callee bool
	}{
		{inv, a, true, true},
		{sdpMsg(t, false, 1, "10.0.0.2", 5000, "a=sendrecv\r\n"), b, true, true},
		{sdpMsg(t, true, 2, "10.0.0.1", 4000, "a=sendonly\r\n"), a, true, false},  // 2: hold
		{sdpMsg(t, false, 2, "10.0.0.2", 5000, "a=recvonly\r\n"), b, true, false}, // 3
		{sdpMsg(t, true, 3, "10.0.0.1", 4000, ""), a, true, false},                // 4: resume offer
		{sdpMsg(t, false, 3, "10.0.0.2", 5000, ""), b, true, true},                // 5: answered
		{sdpMsg(t, true, 4, "0.0.0.0", 4000, ""), a, true, false},                 // 6: RFC 2543 hold
		{sdpMsg(t, true, 5, "10.0.0.1", 4000, ""), a, true, true},                 // 7
		{sdpMsg(t, true, 6, "10.0.0.1", 4000, "a=inactive\r\n"), a, false, false}, // 8
		{sdpMsg(t, true, 7, "10.0.0.1", 0, ""), a, false, false},                  // 9: rejected
		{sdpMsg(t, true, 8, "10.0.0.1", 4000, ""), a, true, true},                 // 10
	}
	for i, s := range steps {
		d.Apply(s.m, at(i), s.src)
		if d.MaySend(spanrec.CallerSide) != s.caller || d.MaySend(spanrec.CalleeSide) != s.callee {
			t.Errorf("step %d: caller may send %v, callee %v; want %v, %v", i, d.MaySend(spanrec.CallerSide), d.MaySend(spanrec.CalleeSide), s.caller, s.callee)
		}
	}
	want := []spanrec.Hold{
		{Side: spanrec.CalleeSide, Start: at(2), End: at(5)},
		{Side: spanrec.CalleeSide, Start: at(6), End: at(7)},
		{Side: spanrec.CallerSide, Start: at(8), End: at(10)},
		{Side: spanrec.CalleeSide, Start: at(8), End: at(10)},
	}
	got := d.HoldsWithin(at(1), at(20))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("holds %+v, want %+v", got, want)
	}
	// Clipped to the talk time.
	if got := d.HoldsWithin(at(3), at(9)); len(got) != 4 || !got[0].Start.Equal(at(3)) || !got[3].End.Equal(at(9)) {
		t.Errorf("clipped holds %+v", got)
	}
	if dialog.Expected(want, spanrec.CalleeSide, at(2), at(5)) || !dialog.Expected(want, spanrec.CalleeSide, at(1), at(20)) {
		t.Error("Expected: callee held the whole span yet expected, or never expected over a long call")
	}
}
