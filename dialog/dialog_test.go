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

func invite(t *testing.T, cseq int) *sipmsg.Message {
	return parse(t, "INVITE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK%d\r\n"+
		"From: <sip:a@10.0.0.1>;tag=A\r\nTo: <sip:b@10.0.0.2>\r\nCall-ID: x\r\nCSeq: %d INVITE\r\nContent-Length: 0\r\n\r\n", cseq, cseq)
}

func answer(t *testing.T, cseq, code int, reason string) *sipmsg.Message {
	return parse(t, "SIP/2.0 %d %s\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK%d\r\n"+
		"From: <sip:a@10.0.0.1>;tag=A\r\nTo: <sip:b@10.0.0.2>;tag=B\r\nCall-ID: x\r\nCSeq: %d INVITE\r\nContent-Length: 0\r\n\r\n", code, reason, cseq, cseq)
}

func request(t *testing.T, method, from, to string, cseq int) *sipmsg.Message {
	toTag := ""
	if to != "" {
		toTag = ";tag=" + to
	}
	return parse(t, "%s sip:x@10.0.0.9 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKr%d\r\n"+
		"From: <sip:a@10.0.0.1>;tag=%s\r\nTo: <sip:b@10.0.0.2>%s\r\nCall-ID: x\r\nCSeq: %d %s\r\nContent-Length: 0\r\n\r\n",
		method, cseq, from, toTag, cseq, method)
}

// TestOutcome follows who hung up, the post-dial delay and the ring time
// through the cases the third-party captures lack (api's
// TestCallOutcomeCaptures checks those they have).
func TestOutcome(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		ms  int
		m   *sipmsg.Message
		src netip.AddrPort
	}
	tests := []struct {
		name      string
		steps     []step
		closeAt   int // ms; 0: not closed
		status    spanrec.Status
		code      int
		reason    string
		hangup    spanrec.Hangup
		pdd, ring time.Duration
	}{
		{"callee hangs up after ringing", []step{
			{0, invite(t, 1), a}, {120, answer(t, 1, 180, "Ringing"), b}, {150, answer(t, 1, 183, "Session Progress"), b},
			{2120, answer(t, 1, 200, "OK"), b}, {9000, request(t, "BYE", "B", "A", 1), b},
		}, 0, spanrec.Answered, 200, "OK", spanrec.HangupCallee, 120 * time.Millisecond, 2 * time.Second},
		{"cancel while ringing", []step{
			{0, invite(t, 1), a}, {300, answer(t, 1, 180, "Ringing"), b},
			{5300, request(t, "CANCEL", "A", "", 1), a}, {5310, answer(t, 1, 487, "Request Terminated"), b},
		}, 0, spanrec.Cancelled, 487, "Request Terminated", spanrec.HangupCaller, 300 * time.Millisecond, 5 * time.Second},
		{"487 with its CANCEL lost", []step{
			{0, invite(t, 1), a}, {300, answer(t, 1, 180, "Ringing"), b}, {4300, answer(t, 1, 487, "Request Terminated"), b},
		}, 0, spanrec.Cancelled, 487, "Request Terminated", spanrec.HangupCaller, 300 * time.Millisecond, 4 * time.Second},
		{"a CANCEL that crossed the 200, then the callee's BYE", []step{
			{0, invite(t, 1), a}, {100, answer(t, 1, 180, "Ringing"), b}, {1100, request(t, "CANCEL", "A", "", 1), a},
			{1100, answer(t, 1, 200, "OK"), b}, {3000, request(t, "BYE", "B", "A", 1), b},
		}, 0, spanrec.Answered, 200, "OK", spanrec.HangupCallee, 100 * time.Millisecond, time.Second},
		{"busy", []step{
			{0, invite(t, 1), a}, {40, answer(t, 1, 486, "Busy Here"), b},
		}, 0, spanrec.Busy, 486, "Busy Here", spanrec.HangupCallee, 0, 0},
		{"no answer until the end of the capture", []step{
			{0, invite(t, 1), a}, {200, answer(t, 1, 180, "Ringing"), b},
		}, 10200, spanrec.NoAnswer, 0, "", spanrec.HangupUnknown, 200 * time.Millisecond, 10 * time.Second},
		{"challenged: the delay counts from the INVITE with credentials", []step{
			{0, invite(t, 1), a}, {10, answer(t, 1, 407, "Proxy Authentication Required"), b},
			{7000, invite(t, 2), a}, {7250, answer(t, 2, 180, "Ringing"), b}, {8250, answer(t, 2, 200, "OK"), b},
			{9000, request(t, "BYE", "A", "B", 3), a},
		}, 0, spanrec.Answered, 200, "OK", spanrec.HangupCaller, 250 * time.Millisecond, time.Second},
		{"200 lost: answered by the BYE, no ring time", []step{
			{0, invite(t, 1), a}, {100, answer(t, 1, 180, "Ringing"), b}, {5000, request(t, "BYE", "A", "B", 2), a},
		}, 0, spanrec.Answered, 0, "", spanrec.HangupCaller, 100 * time.Millisecond, 0},
		{"not found", []step{
			{0, invite(t, 1), a}, {30, answer(t, 1, 404, "Not Found"), b},
		}, 0, spanrec.Failed, 404, "Not Found", spanrec.HangupSystem, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := dialog.New(tt.steps[0].m, at(tt.steps[0].ms), a, b)
			for _, s := range tt.steps {
				d.Apply(s.m, at(s.ms), s.src)
			}
			if tt.closeAt > 0 {
				d.Close(at(tt.closeAt))
			}
			got := fmt.Sprintf("%s %d %q hangup=%q pdd=%v ring=%v", d.Status, d.Code, d.Reason, d.HangupBy, d.PDD(), d.RingTime())
			want := fmt.Sprintf("%s %d %q hangup=%q pdd=%v ring=%v", tt.status, tt.code, tt.reason, tt.hangup, tt.pdd, tt.ring)
			if got != want {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestCalleeTag: the callee's tag comes from the final answer to the
// INVITE, or, when the answers were not seen (a mirror with one
// direction), from the caller's ACK or BYE, or from the callee's own
// request; never from a provisional answer (a forked INVITE's branches
// each send their own).
func TestCalleeTag(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	resp := func(code int, tag string) *sipmsg.Message {
		return parse(t, "SIP/2.0 %d X\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"+
			"From: <sip:a@10.0.0.1>;tag=A\r\nTo: <sip:b@10.0.0.2>;tag=%s\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", code, tag)
	}
	for _, tt := range []struct {
		name  string
		steps []*sipmsg.Message
		want  string
	}{
		{"the 2xx, not the 180 of another branch", []*sipmsg.Message{invite(t, 1), resp(180, "fork-1"), resp(200, "B"), request(t, "ACK", "A", "B", 1)}, "B"},
		{"answers not seen: the ACK", []*sipmsg.Message{invite(t, 1), request(t, "ACK", "A", "B", 1), request(t, "BYE", "A", "B", 2)}, "B"},
		{"answers not seen: the callee's BYE", []*sipmsg.Message{invite(t, 1), request(t, "BYE", "B", "A", 1)}, "B"},
		{"a final failure", []*sipmsg.Message{invite(t, 1), request(t, "CANCEL", "A", "", 1), resp(487, "F")}, "F"},
		{"ringing only", []*sipmsg.Message{invite(t, 1), resp(180, "R")}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := dialog.New(tt.steps[0], t0, a, b)
			for i, m := range tt.steps {
				src := a
				if !m.Request || m.FromTag != "A" {
					src = b
				}
				d.Apply(m, t0.Add(time.Duration(i)*time.Second), src)
			}
			if d.CallerTag != "A" || d.CalleeTag != tt.want {
				t.Errorf("tags %q, %q; want A, %q", d.CallerTag, d.CalleeTag, tt.want)
			}
		})
	}
}
