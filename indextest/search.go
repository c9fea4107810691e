package indextest

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
)

// testSearchSIP: searches by a header of the INVITE, user agent, SIP
// Call-ID and address (signalling or media), on what PutCall stored; the
// headers are kept within their bounds.
func (s *suite) testSearchSIP(t *testing.T) {
	db := s.fresh(t)
	ap := netip.MustParseAddrPort
	mk := func(id string, min int, sipID, callerUA, calleeUA string, hs ...string) *spanrec.Call {
		c := &spanrec.Call{
			ID: spanrec.CallID(id), SIPCallID: sipID, Start: T0.Add(time.Duration(min) * time.Minute),
			CallerUA: callerUA, CalleeUA: calleeUA,
		}
		for i := 0; i+1 < len(hs); i += 2 {
			c.SIPHeaders = append(c.SIPHeaders, spanrec.SIPHeader{Name: hs[i], Value: hs[i+1]})
		}
		return c
	}
	a := mk("a", 1, "abc@10.0.0.1", "Linphone/3.6.1 (belle-sip/1.3.0)", "Asterisk PBX 11.7.0",
		"x-ticket", "T-100", "subject", "Sales call", "user-agent", "Linphone/3.6.1 (belle-sip/1.3.0)")
	a.Caller.Addr, a.Callee.Addr = netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	a.Streams = []spanrec.Stream{{Src: ap("10.0.0.1:4000"), Dst: ap("192.0.2.7:5000")}}
	b := mk("b", 2, "def@[2001:db8::1]", "", "FreeSWITCH-mod_sofia/1.10", "x-ticket", "T-1000")
	b.Caller.Addr, b.Callee.Addr = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("10.0.0.2")
	b.Streams = []spanrec.Stream{{Src: ap("[2001:db8::1]:4000"), Dst: ap("[2001:db8::9]:5000")}}
	c := mk("c", 3, "ghi", "", "")
	for i := range spanrec.MaxSIPHeaders + 10 {
		c.SIPHeaders = append(c.SIPHeaders, spanrec.SIPHeader{Name: "x-h", Value: strings.Repeat("v", i)})
	}
	put(t, db, a, b, c)
	// The headers stored, as moving a call to another index reads them:
	// names in lower case, in order, at most MaxSIPHeaders.
	ctx := context.Background()
	if hs, err := db.SIPHeaders(ctx, "a"); err != nil || !slices.Equal(hs, []spanrec.SIPHeader{
		{Name: "x-ticket", Value: "T-100"}, {Name: "subject", Value: "Sales call"}, {Name: "user-agent", Value: "Linphone/3.6.1 (belle-sip/1.3.0)"}}) {
		t.Errorf("SIPHeaders(a) = %+v, %v", hs, err)
	}
	if hs, err := db.SIPHeaders(ctx, "c"); err != nil || len(hs) != spanrec.MaxSIPHeaders || hs[1].Value != "v" {
		t.Errorf("SIPHeaders(c): %d headers, %v; want %d", len(hs), err, spanrec.MaxSIPHeaders)
	}
	if hs, err := db.SIPHeaders(ctx, "no-such-call"); err != nil || len(hs) != 0 {
		t.Errorf("SIPHeaders(no call) = %+v, %v; want none", hs, err)
	}
	checkSearch(t, db, false, []searchCase{
		{name: "header exact", f: spanrec.CallFilter{HeaderName: "x-ticket", HeaderValue: "T-100"}, want: "a"},
		{name: "header name any case", f: spanrec.CallFilter{HeaderName: "X-Ticket", HeaderValue: "T-1000"}, want: "b"},
		{name: "header wildcard", f: spanrec.CallFilter{HeaderName: "x-ticket", HeaderValue: "T-1*"}, want: "ba"},
		{name: "header wildcard inside", f: spanrec.CallFilter{HeaderName: "subject", HeaderValue: "*les ca*"}, want: "a"},
		{name: "header value is not a pattern", f: spanrec.CallFilter{HeaderName: "x-ticket", HeaderValue: "T-_00"}, want: ""},
		{name: "header other name", f: spanrec.CallFilter{HeaderName: "subject", HeaderValue: "T-100"}, want: ""},
		{name: "headers past the bound are not kept", f: spanrec.CallFilter{HeaderName: "x-h", HeaderValue: strings.Repeat("v", spanrec.MaxSIPHeaders)}, want: ""},
		{name: "headers within the bound are", f: spanrec.CallFilter{HeaderName: "x-h", HeaderValue: strings.Repeat("v", spanrec.MaxSIPHeaders-1)}, want: "c"},
		{name: "user agent either side", f: spanrec.CallFilter{UserAgent: "asterisk"}, want: "a"},
		{name: "user agent callee", f: spanrec.CallFilter{UserAgent: "sofia/1.10"}, want: "b"},
		{name: "user agent caller", f: spanrec.CallFilter{UserAgent: "belle-sip"}, want: "a"},
		{name: "user agent wildcard is text", f: spanrec.CallFilter{UserAgent: "%"}, want: ""},
		{name: "call id", f: spanrec.CallFilter{SIPCallID: "def@[2001:db8::1]"}, want: "b"},
		{name: "call id exact", f: spanrec.CallFilter{SIPCallID: "abc"}, want: ""},
		{name: "signalling address", f: spanrec.CallFilter{Addr: netip.MustParseAddr("10.0.0.2")}, want: "ba"},
		{name: "media address", f: spanrec.CallFilter{Addr: netip.MustParseAddr("192.0.2.7")}, want: "a"},
		{name: "IPv6 media address", f: spanrec.CallFilter{Addr: netip.MustParseAddr("2001:db8::9")}, want: "b"},
		{name: "IPv4-mapped address", f: spanrec.CallFilter{Addr: netip.MustParseAddr("::ffff:192.0.2.7")}, want: "a"},
		{name: "address and user agent", f: spanrec.CallFilter{Addr: netip.MustParseAddr("10.0.0.2"), UserAgent: "FreeSWITCH"}, want: "b"},
	})
	// A re-import replaces the rows: a's ticket changes.
	a.SIPHeaders = []spanrec.SIPHeader{{Name: "x-ticket", Value: "T-200"}}
	a.Streams = nil
	put(t, db, a)
	checkSearch(t, db, false, []searchCase{
		{name: "replaced header gone", f: spanrec.CallFilter{HeaderName: "x-ticket", HeaderValue: "T-100"}, want: ""},
		{name: "replaced header", f: spanrec.CallFilter{HeaderName: "x-ticket", HeaderValue: "T-200"}, want: "a"},
		{name: "replaced media address gone", f: spanrec.CallFilter{Addr: netip.MustParseAddr("192.0.2.7")}, want: ""},
	})
	got, err := db.Call(t.Context(), "a")
	if err != nil || got.CallerUA != a.CallerUA || got.CalleeUA != a.CalleeUA {
		t.Errorf("user agents read back %+v, %v", got, err)
	}
}
