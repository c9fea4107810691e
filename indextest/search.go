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

// testSearchTexts: the substring searches (user agent, note, header value
// with *) and the filters that indexes serve (codec, status code, tag)
// give the same calls whatever the text: ASCII case ignored and no other,
// LIKE's wildcards and escape as plain text, one or two characters (which
// no trigram index answers), a NUL or invalid UTF-8 in the text or in the
// stored value; rows replaced or deleted are no longer found.
func (s *suite) testSearchTexts(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	mk := func(id string, min int, callerUA, calleeUA string, hs ...string) *spanrec.Call {
		c := &spanrec.Call{ID: spanrec.CallID(id), Start: T0.Add(time.Duration(min) * time.Minute), CallerUA: callerUA, CalleeUA: calleeUA}
		for i := 0; i+1 < len(hs); i += 2 {
			c.SIPHeaders = append(c.SIPHeaders, spanrec.SIPHeader{Name: hs[i], Value: hs[i+1]})
		}
		return c
	}
	a := mk("a", 1, "Linphone/3.6.1", "Téléphone PBX", "x-account", "acct-100", "subject", "Sales call")
	a.Codecs, a.StatusCode = []string{"PCMA", "telephone-event"}, 200
	b := mk("b", 2, `Soft_Phone 100% \beta`, "", "x-account", "acct-1000", "x-pct", `50%_off\now`)
	b.Codecs, b.StatusCode = []string{"G722"}, 486
	c := mk("c", 3, "Grandstream\xff\xfeGXP2170", "", "x-account", "ACCT-7\xffz")
	put(t, db, a, b, c)
	for _, n := range []struct {
		id   spanrec.CallID
		text string
	}{{"a", "Customer asked for a REFUND"}, {"b", `50% off_ \o/`}, {"c", "ok"}} {
		if _, err := db.AddNote(ctx, spanrec.CallNote{CallID: n.id, User: "alice", At: T0, Text: n.text}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.AddTag(ctx, "b", "review", "alice", T0); err != nil {
		t.Fatal(err)
	}
	checkSearch(t, db, false, []searchCase{
		{name: "ua ignores ASCII case", f: spanrec.CallFilter{UserAgent: "LINPHONE"}, want: "a"},
		{name: "ua callee", f: spanrec.CallFilter{UserAgent: "phone pbx"}, want: "a"},
		{name: "ua folds no other case", f: spanrec.CallFilter{UserAgent: "TÉLÉ"}, want: ""},
		{name: "ua two characters", f: spanrec.CallFilter{UserAgent: "Ph"}, want: "ba"},
		{name: "ua one character", f: spanrec.CallFilter{UserAgent: "%"}, want: "b"},
		{name: "ua underscore is literal", f: spanrec.CallFilter{UserAgent: "t_p"}, want: "b"},
		{name: "ua underscore matches no other", f: spanrec.CallFilter{UserAgent: "ftxp"}, want: ""},
		{name: "ua percent is literal", f: spanrec.CallFilter{UserAgent: "00% "}, want: "b"},
		{name: "ua backslash is literal", f: spanrec.CallFilter{UserAgent: `\be`}, want: "b"},
		{name: "ua after invalid UTF-8", f: spanrec.CallFilter{UserAgent: "GXP2170"}, want: "c"},
		{name: "ua before invalid UTF-8", f: spanrec.CallFilter{UserAgent: "grandstream"}, want: "c"},
		{name: "ua text with NUL", f: spanrec.CallFilter{UserAgent: "zzz\x00"}, want: ""},
		{name: "ua text with invalid UTF-8", f: spanrec.CallFilter{UserAgent: "\xffLin"}, want: ""},
		{name: "ua absent", f: spanrec.CallFilter{UserAgent: "Zoiper"}, want: ""},
		{name: "note ignores ASCII case", f: spanrec.CallFilter{NoteText: "refund"}, want: "a"},
		{name: "note two characters", f: spanrec.CallFilter{NoteText: "OK"}, want: "c"},
		{name: "note percent and underscore literal", f: spanrec.CallFilter{NoteText: "% off_"}, want: "b"},
		{name: "note backslash literal", f: spanrec.CallFilter{NoteText: `\o/`}, want: "b"},
		{name: "note wildcard matches no other", f: spanrec.CallFilter{NoteText: "50_"}, want: ""},
		{name: "note text with NUL", f: spanrec.CallFilter{NoteText: "zzz\x00"}, want: ""},
		{name: "note absent", f: spanrec.CallFilter{NoteText: "escalated"}, want: ""},
		{name: "header * ignores ASCII case", f: spanrec.CallFilter{HeaderName: "subject", HeaderValue: "*LES CA*"}, want: "a"},
		{name: "header * two characters", f: spanrec.CallFilter{HeaderName: "subject", HeaderValue: "*al*"}, want: "a"},
		{name: "header * prefix", f: spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "acct-1*"}, want: "ba"},
		{name: "header * suffix", f: spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "*-100"}, want: "a"},
		{name: "header * in the middle", f: spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "acct*000"}, want: "b"},
		{name: "header * several parts", f: spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "*cct*100*"}, want: "ba"},
		{name: "header * percent, underscore, backslash literal", f: spanrec.CallFilter{HeaderName: "x-pct", HeaderValue: `*%_off\n*`}, want: "b"},
		{name: "header * underscore matches no other", f: spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "acct_1*"}, want: ""},
		{name: "header * after invalid UTF-8", f: spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "acct-7*"}, want: "c"},
		{name: "header * of another name", f: spanrec.CallFilter{HeaderName: "subject", HeaderValue: "acct*"}, want: ""},
		{name: "header * with NUL", f: spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "zzz\x00*"}, want: ""},
		{name: "header * absent", f: spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "*none*"}, want: ""},
		{name: "codec ignores ASCII case", f: spanrec.CallFilter{Codec: "pcma"}, want: "a"},
		{name: "codec of a list", f: spanrec.CallFilter{Codec: "TELEPHONE-EVENT"}, want: "a"},
		{name: "codec absent", f: spanrec.CallFilter{Codec: "G729"}, want: ""},
		{name: "codec is no pattern", f: spanrec.CallFilter{Codec: "G72_"}, want: ""},
		{name: "codec of calls without", f: spanrec.CallFilter{Codec: "null"}, want: ""},
		{name: "status code", f: spanrec.CallFilter{StatusCode: 486}, want: "b"},
		{name: "status code absent", f: spanrec.CallFilter{StatusCode: 503}, want: ""},
		{name: "tag", f: spanrec.CallFilter{Tag: "review"}, want: "b"},
		{name: "tag absent", f: spanrec.CallFilter{Tag: "fraud"}, want: ""},
		{name: "tag and note", f: spanrec.CallFilter{Tag: "review", NoteText: "off"}, want: "b"},
	})
	for _, f := range []spanrec.CallFilter{
		{UserAgent: "\xff\x00'"}, {NoteText: "\xff\x00'%"}, {HeaderName: "x-account", HeaderValue: "*\xff\x00*'"}, {Codec: "\xff\x00"},
	} {
		if _, err := db.Calls(ctx, f); err != nil {
			t.Errorf("search for hostile bytes %+v: %v", f, err)
		}
	}
	// Replaced and deleted rows are not found; what replaces them is.
	a.CallerUA, a.Codecs = "Zoiper 5", []string{"G729"}
	a.SIPHeaders = []spanrec.SIPHeader{{Name: "x-account", Value: "acct-200"}}
	put(t, db, a)
	notes, err := db.Notes(ctx, "a")
	if err != nil || len(notes) != 1 {
		t.Fatalf("notes of a: %+v, %v", notes, err)
	}
	if _, err := db.DeleteNote(ctx, "a", notes[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCall(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddNote(ctx, spanrec.CallNote{CallID: "c", User: "bob", At: T0, Text: "refund done"}); err != nil {
		t.Fatal(err)
	}
	put(t, db, mk("d", 4, "Soft_Phone 2", "", "x-account", "acct-1001"))
	checkSearch(t, db, false, []searchCase{
		{name: "replaced ua gone", f: spanrec.CallFilter{UserAgent: "linphone"}, want: ""},
		{name: "replacing ua", f: spanrec.CallFilter{UserAgent: "zoiper"}, want: "a"},
		{name: "callee ua kept", f: spanrec.CallFilter{UserAgent: "PBX"}, want: "a"},
		{name: "deleted call's ua gone", f: spanrec.CallFilter{UserAgent: "soft_phone"}, want: "d"},
		{name: "deleted note gone, new one found", f: spanrec.CallFilter{NoteText: "refund"}, want: "c"},
		{name: "deleted call's note gone", f: spanrec.CallFilter{NoteText: "off_"}, want: ""},
		{name: "replaced header gone", f: spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "*-100"}, want: ""},
		{name: "replacing header", f: spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "*-200"}, want: "a"},
		{name: "deleted call's header gone", f: spanrec.CallFilter{HeaderName: "x-account", HeaderValue: "acct-100*"}, want: "d"},
		{name: "replaced codec gone", f: spanrec.CallFilter{Codec: "pcma"}, want: ""},
		{name: "replacing codec", f: spanrec.CallFilter{Codec: "g729"}, want: "a"},
		{name: "deleted call's codec gone", f: spanrec.CallFilter{Codec: "G722"}, want: ""},
		{name: "deleted call's tag gone", f: spanrec.CallFilter{Tag: "review"}, want: ""},
	})
}
