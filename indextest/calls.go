package indextest

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
)

func (s *suite) testRoundTrip(t *testing.T) {
	ctx := context.Background()
	berlin := time.FixedZone("CET", 3600)
	unanswered := FullCall(time.UTC)
	unanswered.ID, unanswered.Interaction, unanswered.LinkKeys = "0000unanswered", "0000unanswered", nil
	unanswered.Status, unanswered.StatusCode = spanrec.NoAnswer, 480
	unanswered.Answer, unanswered.Duration, unanswered.AudioStart = time.Time{}, 0, time.Time{}
	unanswered.Audio, unanswered.AudioSHA256, unanswered.AudioMS = "", "", 0
	unanswered.Caller.Addr, unanswered.Callee.Name = netip.Addr{}, ""
	unanswered.Streams = []spanrec.Stream{{SSRC: 7}} // zero addresses and times
	unanswered.DTMF = []spanrec.DTMF{{Digit: "flash"}}
	unanswered.Codecs, unanswered.Notes = []string{}, nil
	unanswered.Holds, unanswered.Signalling = nil, spanrec.SignallingNone

	db := s.fresh(t)
	for _, tc := range []struct {
		name string
		c    *spanrec.Call
	}{
		{"full, UTC", FullCall(time.UTC)},
		{"full, other zone", FullCall(berlin)},
		{"unanswered", unanswered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			put(t, db, tc.c)
			got, err := db.Call(ctx, tc.c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := UTC(tc.c); !reflect.DeepEqual(got, want) {
				t.Errorf("Call:\ngot  %+v\nwant %+v", got, want)
			}
		})
	}
}

func (s *suite) testNoChildren(t *testing.T) {
	db := s.fresh(t)
	c := FullCall(time.UTC)
	c.Streams, c.DTMF = nil, nil
	put(t, db, c)
	got, err := db.Call(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Streams != nil || got.DTMF != nil {
		t.Errorf("streams %v, dtmf %v; want nil", got.Streams, got.DTMF)
	}
}

func (s *suite) testNaN(t *testing.T) {
	db := s.fresh(t)
	c := FullCall(time.UTC)
	c.Streams[0].MOS, c.Streams[0].JitterMS = math.NaN(), -0.5
	c.Streams[1].MaxJitterMS = math.Inf(-1)
	put(t, db, c)
	got, err := db.Call(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s := got.Streams[0]; !math.IsNaN(s.MOS) || s.JitterMS != -0.5 {
		t.Errorf("MOS %v, jitter %v; want NaN, -0.5", s.MOS, s.JitterMS)
	}
	if s := got.Streams[1]; !math.IsInf(s.MOS, 1) || !math.IsInf(s.MaxJitterMS, -1) {
		t.Errorf("MOS %v, max jitter %v; want +Inf, -Inf", s.MOS, s.MaxJitterMS)
	}
}

func (s *suite) testUpsert(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	c := FullCall(time.UTC)
	put(t, db, c)
	c2 := FullCall(time.UTC)
	c2.Status, c2.StatusCode = spanrec.Failed, 503
	c2.Streams = c2.Streams[1:]
	c2.DTMF = nil
	c2.Notes = []string{"re-imported"}
	put(t, db, c2)
	if n, err := db.Count(ctx, spanrec.CallFilter{}); err != nil || n != 1 {
		t.Fatalf("Count = %d, %v; want 1", n, err)
	}
	got, err := db.Call(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c2) {
		t.Errorf("after upsert:\ngot  %+v\nwant %+v", got, c2)
	}
}

// filterCalls returns the calls of the filter tests, newest first.
func filterCalls() []*spanrec.Call {
	mk := func(id string, min int, caller, callee string, dir spanrec.Direction, st spanrec.Status) *spanrec.Call {
		return &spanrec.Call{
			ID: spanrec.CallID(id), Start: T0.Add(time.Duration(min) * time.Minute),
			Caller: spanrec.Party{Number: caller}, Callee: spanrec.Party{Number: callee},
			Direction: dir, Status: st,
			Streams: []spanrec.Stream{{SSRC: uint32(min)}},
			DTMF:    []spanrec.DTMF{{Digit: id[:1]}},
		}
	}
	return []*spanrec.Call{
		mk("e-call", 40, "100%", "2001", spanrec.Outbound, spanrec.Busy),
		mk("d-call", 30, "1_3", "2002", spanrec.Internal, spanrec.Answered),
		mk("b-call", 20, "123", "ALICE", spanrec.Inbound, spanrec.Answered), // same start as c-call: ID order
		mk("c-call", 20, "555", "2001", spanrec.Inbound, spanrec.NoAnswer),
		mk("a-call", 10, `4\5`, "600", spanrec.Outbound, spanrec.Cancelled),
	}
}

// checkSearch runs the searches of tests on db: the calls each returns (as
// ids with first), and that Count agrees with the unpaged search.
func checkSearch(t *testing.T, db Index, first bool, tests []searchCase) {
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Calls(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if s := ids(got, first); s != tt.want {
				t.Errorf("Calls = %q, want %q", s, tt.want)
			}
			if tt.check != nil {
				for _, c := range got {
					tt.check(t, c)
				}
			}
			nf := tt.f
			nf.Limit, nf.Offset = 0, 0
			all, err := db.Calls(ctx, nf)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := db.Count(ctx, tt.f); err != nil || n != len(all) {
				t.Errorf("Count = %d, %v; want %d", n, err, len(all))
			}
			checkCountUpTo(t, db, tt.f, len(all))
		})
	}
}

// checkCountUpTo checks CountUpTo(f) against exact, the number of calls
// f matches, with max above, at and below it: exact when it is at most
// max; below it, max with more set, or the exact count without it (a
// backend may keep some totals exactly).
func checkCountUpTo(t *testing.T, db Index, f spanrec.CallFilter, exact int) {
	t.Helper()
	ctx := context.Background()
	for _, max := range []int{exact + 1, exact} {
		if n, more, err := db.CountUpTo(ctx, f, max); err != nil || n != exact || more {
			t.Errorf("CountUpTo(max %d) = %d, %v, %v; want %d, false", max, n, more, err, exact)
		}
	}
	for _, max := range []int{exact - 1, 1} {
		if max < 1 || max >= exact {
			continue
		}
		n, more, err := db.CountUpTo(ctx, f, max)
		if err != nil || !(n == max && more || n == exact && !more) {
			t.Errorf("CountUpTo(max %d) = %d, %v, %v; want %d, true (or %d, false)", max, n, more, err, max, exact)
		}
	}
}

// testCountUpTo checks the bounded count of GET /api/calls: a filtered
// count stops at max+1 rows and says there are more; the count of all
// calls is exact whatever max is (both backends keep it cheap); paging
// and sorting do not change it.
func (s *suite) testCountUpTo(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	cs := filterCalls()
	put(t, db, cs...)
	for _, tt := range []struct {
		name  string
		f     spanrec.CallFilter
		max   int
		n     int
		more  bool
		exact int
	}{
		{"all, exact although above max", spanrec.CallFilter{}, 2, 5, false, 5},
		{"all sorted and paged, exact", spanrec.CallFilter{Sort: "-duration", Limit: 1, Offset: 3}, 1, 5, false, 5},
		{"outbound capped", spanrec.CallFilter{Direction: spanrec.Outbound}, 1, 1, true, 2},
		{"answered at max", spanrec.CallFilter{Status: spanrec.Answered}, 2, 2, false, 2},
		{"answered under max", spanrec.CallFilter{Status: spanrec.Answered}, 10_000, 2, false, 2},
		{"number capped", spanrec.CallFilter{Number: "200", Limit: 1}, 1, 1, true, 3},
		{"per conversation capped", spanrec.CallFilter{GroupInteraction: true}, 3, 3, true, 5},
		{"none", spanrec.CallFilter{Direction: spanrec.Internal, Status: spanrec.Busy}, 10, 0, false, 0},
		{"max 0 counts exactly", spanrec.CallFilter{Number: "200"}, 0, 3, false, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n, more, err := db.CountUpTo(ctx, tt.f, tt.max)
			if err != nil || n != tt.n || more != tt.more {
				t.Errorf("CountUpTo(max %d) = %d, %v, %v; want %d, %v", tt.max, n, more, err, tt.n, tt.more)
			}
			if c, err := db.Count(ctx, tt.f); err != nil || c != tt.exact {
				t.Errorf("Count = %d, %v; want %d", c, err, tt.exact)
			}
		})
	}
	if _, _, err := db.CountUpTo(ctx, spanrec.CallFilter{MinDuration: -1}, 10); spanrec.ErrorKind(err) != spanrec.EINVALID {
		t.Errorf("CountUpTo(negative bound): %v, want EINVALID", err)
	}
}

// testCountPerCall: the bounded count of a search of the notes' text, of
// a header field with a * pattern or of a tag counts calls, not the
// notes or header fields that match: a call with two matching notes (or
// two matching fields of the name, or a tag added twice) counts once,
// with max below, at and above the number of calls; alone (the UI's
// search by that field) or beside another condition, served by a trigram
// index or not.
func (s *suite) testCountPerCall(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	var cs []*spanrec.Call
	for i, id := range []string{"a", "b", "c", "d", "e"} {
		c := &spanrec.Call{ID: spanrec.CallID(id), SIPCallID: "sip-" + id, Start: T0.Add(time.Duration(i) * time.Minute)}
		if id == "e" {
			c.Direction = spanrec.Outbound
		}
		cs = append(cs, c)
	}
	hs := map[string][]string{
		"a": {"x-acct", "acct-17", "x-acct", "ACCT-12", "x-other", "acct-1"},
		"b": {"x-acct", "acct-1"},
		"c": {"x-acct", "acct-2", "x-acct", "acct-21"},
		"d": {"x-other", "acct-13"},
		"e": {"x-acct", "acct-100"},
	}
	for _, c := range cs {
		h := hs[string(c.ID)]
		for i := 0; i+1 < len(h); i += 2 {
			c.SIPHeaders = append(c.SIPHeaders, spanrec.SIPHeader{Name: h[i], Value: h[i+1]})
		}
	}
	put(t, db, cs...)
	for _, n := range []struct{ id, text string }{
		{"a", "Customer asked for a CALLBACK"}, {"a", "callback done"},
		{"b", "no callback wanted"}, {"b", "billing"},
		{"c", "billing"},
		{"d", "Callback at 5"},
		{"e", "callback"},
	} {
		if _, err := db.AddNote(ctx, spanrec.CallNote{CallID: spanrec.CallID(n.id), User: "alice", At: T0, Text: n.text}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tg := range []struct{ id, tag string }{{"a", "vip"}, {"a", "vip"}, {"a", "late"}, {"c", "vip"}, {"d", "late"}, {"e", "vip"}} {
		if _, err := db.AddTag(ctx, spanrec.CallID(tg.id), tg.tag, "alice", T0); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		f    spanrec.CallFilter
		want string // IDs, newest first
	}{
		{"note", spanrec.CallFilter{NoteText: "callback"}, "e d b a"},
		{"note without a trigram", spanrec.CallFilter{NoteText: "ba"}, "e d b a"},
		{"note beside a direction", spanrec.CallFilter{NoteText: "CALLBACK", Direction: spanrec.Outbound}, "e"},
		{"header pattern", spanrec.CallFilter{HeaderName: "X-Acct", HeaderValue: "acct-1*"}, "e b a"},
		{"header pattern, one call", spanrec.CallFilter{HeaderName: "x-acct", HeaderValue: "*-2*"}, "c"},
		{"header pattern without a trigram", spanrec.CallFilter{HeaderName: "x-acct", HeaderValue: "*1*"}, "e c b a"},
		{"header pattern beside a range", spanrec.CallFilter{HeaderName: "x-acct", HeaderValue: "acct-1*", Until: T0.Add(4 * time.Minute)}, "b a"},
		{"note and header pattern", spanrec.CallFilter{NoteText: "callback", HeaderName: "x-acct", HeaderValue: "acct-1*"}, "e b a"},
		{"tag", spanrec.CallFilter{Tag: "vip"}, "e c a"},
		{"tag and note", spanrec.CallFilter{Tag: "vip", NoteText: "callback"}, "e a"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Calls(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if g := idList(got); g != tt.want {
				t.Fatalf("Calls = %q, want %q", g, tt.want)
			}
			for max := 1; max <= len(got)+1; max++ {
				want := min(max, len(got))
				if n, more, err := db.CountUpTo(ctx, tt.f, max); err != nil || n != want || more != (len(got) > max) {
					t.Errorf("CountUpTo(max %d) = %d, %v, %v; want %d, %v", max, n, more, err, want, len(got) > max)
				}
			}
		})
	}
}

type searchCase struct {
	name  string
	f     spanrec.CallFilter
	want  string
	check func(t *testing.T, c *spanrec.Call)
}

func (s *suite) testFilter(t *testing.T) {
	at := func(min int) time.Time { return T0.Add(time.Duration(min) * time.Minute) }
	tests := []searchCase{
		{name: "all newest first", f: spanrec.CallFilter{}, want: "edbca"},
		{name: "number in caller", f: spanrec.CallFilter{Number: "55"}, want: "c"},
		{name: "number in callee", f: spanrec.CallFilter{Number: "600"}, want: "a"},
		{name: "number either side", f: spanrec.CallFilter{Number: "2001"}, want: "ec"},
		{name: "number substring", f: spanrec.CallFilter{Number: "2"}, want: "edbc"},
		{name: "number is case-insensitive", f: spanrec.CallFilter{Number: "lic"}, want: "b"},
		{name: "percent is literal", f: spanrec.CallFilter{Number: "0%"}, want: "e"},
		{name: "underscore is literal", f: spanrec.CallFilter{Number: "1_"}, want: "d"},
		{name: "backslash is literal", f: spanrec.CallFilter{Number: `\`}, want: "a"},
		{name: "no number match", f: spanrec.CallFilter{Number: "999"}, want: ""},
		{name: "since inclusive", f: spanrec.CallFilter{Since: at(20)}, want: "edbc"},
		{name: "until exclusive", f: spanrec.CallFilter{Until: at(30)}, want: "bca"},
		{name: "since and until", f: spanrec.CallFilter{Since: at(15), Until: at(35)}, want: "dbc"},
		{name: "since in another zone", f: spanrec.CallFilter{Since: at(30).In(time.FixedZone("X", -5*3600))}, want: "ed"},
		{name: "since far past", f: spanrec.CallFilter{Since: time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)}, want: "edbca"},
		{name: "until far future", f: spanrec.CallFilter{Until: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}, want: "edbca"},
		{name: "direction", f: spanrec.CallFilter{Direction: spanrec.Outbound}, want: "ea"},
		{name: "status", f: spanrec.CallFilter{Status: spanrec.Answered}, want: "db"},
		{name: "direction and status", f: spanrec.CallFilter{Direction: spanrec.Inbound, Status: spanrec.Answered}, want: "b"},
		{name: "limit", f: spanrec.CallFilter{Limit: 2}, want: "ed"},
		{name: "limit offset", f: spanrec.CallFilter{Limit: 2, Offset: 2}, want: "bc"},
		{name: "offset only", f: spanrec.CallFilter{Offset: 3}, want: "ca"},
		{name: "offset past end", f: spanrec.CallFilter{Offset: 9}, want: ""},
		{name: "filter and limit", f: spanrec.CallFilter{Number: "2", Limit: 1, Offset: 1}, want: "d"},
	}
	// Every call comes back with its own streams and key presses.
	children := func(t *testing.T, c *spanrec.Call) {
		if len(c.Streams) != 1 || c.Streams[0].SSRC != uint32(c.Start.Sub(T0)/time.Minute) {
			t.Errorf("call %s: streams %+v", c.ID, c.Streams)
		}
		if len(c.DTMF) != 1 || c.DTMF[0].Digit != string(c.ID[:1]) {
			t.Errorf("call %s: dtmf %+v", c.ID, c.DTMF)
		}
	}
	for i := range tests {
		tests[i].check = children
	}
	db := s.fresh(t)
	put(t, db, filterCalls()...)
	checkSearch(t, db, true, tests)
}

func (s *suite) testSearch(t *testing.T) {
	mk := func(id string, min int, caller, callee string, dur time.Duration, loss bool, codecs ...string) *spanrec.Call {
		return &spanrec.Call{
			ID: spanrec.CallID(id), Start: T0.Add(time.Duration(min) * time.Minute),
			Caller: spanrec.Party{Number: caller}, Callee: spanrec.Party{Number: callee},
			Duration: dur, CaptureLoss: loss, Codecs: codecs,
		}
	}
	calls := []*spanrec.Call{
		mk("a", 10, "201", "+4930111", 30*time.Second, false, "PCMU", "telephone-event"),
		mk("b", 20, "+4930222", "202", 90*time.Second, true, "G722"),
		mk("c", 30, "2010", "201", 0, false),
		mk("d", 40, "203", "204", 5*time.Second, true, "PCMA"),
	}
	calls[3].Signalling = spanrec.SignallingNone                         // found as RTP alone
	calls[0].Signalling = spanrec.SignallingSIP                          // "" (b, c) reads as sip
	calls[0].Sensor, calls[1].Sensor, calls[3].Sensor = "s1", "S1", "s1" // c: no sensor
	// Outcome and quality: c has no PDD, ring time or MOS.
	calls[0].HangupBy, calls[0].PDD, calls[0].RingTime, calls[0].StatusCode = spanrec.HangupCaller, 300*time.Millisecond, 4*time.Second, 200
	calls[1].HangupBy, calls[1].PDD, calls[1].RingTime, calls[1].StatusCode = spanrec.HangupCallee, 2*time.Second, 0, 200
	calls[3].HangupBy, calls[3].PDD, calls[3].RingTime, calls[3].StatusCode = spanrec.HangupSystem, 50*time.Millisecond, 9*time.Second, 480
	calls[0].Streams = []spanrec.Stream{{MOS: 4.1}, {MOS: 3.2}}
	calls[1].Streams = []spanrec.Stream{{MOS: 4.4}}
	calls[3].Streams = []spanrec.Stream{{MOS: 0}, {MOS: 3.9}} // 0: no MOS
	yes, no := true, false
	tests := []searchCase{
		{name: "min duration inclusive", f: spanrec.CallFilter{MinDuration: 30 * time.Second}, want: "ba"},
		{name: "max duration inclusive", f: spanrec.CallFilter{MaxDuration: 30 * time.Second}, want: "dca"},
		{name: "duration range", f: spanrec.CallFilter{MinDuration: time.Second, MaxDuration: time.Minute}, want: "da"},
		{name: "codec", f: spanrec.CallFilter{Codec: "PCMU"}, want: "a"},
		{name: "codec ignores case", f: spanrec.CallFilter{Codec: "g722"}, want: "b"},
		{name: "codec is exact", f: spanrec.CallFilter{Codec: "PCM"}, want: ""},
		{name: "codec of a call without codecs", f: spanrec.CallFilter{Codec: "null"}, want: ""},
		{name: "has loss", f: spanrec.CallFilter{HasLoss: &yes}, want: "db"},
		{name: "has no loss", f: spanrec.CallFilter{HasLoss: &no}, want: "ca"},
		{name: "extensions exact, either side", f: spanrec.CallFilter{Extensions: []string{"201"}}, want: "ca"},
		{name: "extensions several", f: spanrec.CallFilter{Extensions: []string{"202", "204"}}, want: "db"},
		{name: "extensions none match", f: spanrec.CallFilter{Extensions: []string{"20"}}, want: ""},
		{name: "extensions and number", f: spanrec.CallFilter{Extensions: []string{"201", "202"}, Number: "4930"}, want: "ba"},
		{name: "sensor", f: spanrec.CallFilter{Sensor: "s1"}, want: "da"},
		{name: "sensor is exact", f: spanrec.CallFilter{Sensor: "s"}, want: ""},
		{name: "signalling none", f: spanrec.CallFilter{Signalling: spanrec.SignallingNone}, want: "d"},
		{name: "signalling sip", f: spanrec.CallFilter{Signalling: spanrec.SignallingSIP}, want: "cba"},
		{name: "sort start", f: spanrec.CallFilter{Sort: spanrec.SortStart}, want: "abcd"},
		{name: "sort -start", f: spanrec.CallFilter{Sort: spanrec.SortStartDesc}, want: "dcba"},
		{name: "sort duration", f: spanrec.CallFilter{Sort: spanrec.SortDuration}, want: "cdab"},
		{name: "sort -duration", f: spanrec.CallFilter{Sort: spanrec.SortDurationDesc}, want: "badc"},
		{name: "sort with limit", f: spanrec.CallFilter{Sort: spanrec.SortDurationDesc, Limit: 2, Offset: 1}, want: "ad"},
		{name: "sort caller (text)", f: spanrec.CallFilter{Sort: "caller"}, want: "bacd"},
		{name: "sort -callee", f: spanrec.CallFilter{Sort: "-callee"}, want: "dbca"},
		{name: "sort codec: first codec, none last", f: spanrec.CallFilter{Sort: "codec"}, want: "bdac"},
		{name: "sort -mos: worst stream's, none last", f: spanrec.CallFilter{Sort: "-mos"}, want: "bdac"},
		{name: "sort quality", f: spanrec.CallFilter{Sort: "quality"}, want: "adbc"},
		{name: "sort pdd, none last", f: spanrec.CallFilter{Sort: "pdd"}, want: "dabc"},
		{name: "sort -pdd, none last", f: spanrec.CallFilter{Sort: "-pdd"}, want: "badc"},
		{name: "sort ring", f: spanrec.CallFilter{Sort: "ring"}, want: "adbc"},
		{name: "sort talk", f: spanrec.CallFilter{Sort: "talk"}, want: "cdab"},
		{name: "sort -status_code, ties by id", f: spanrec.CallFilter{Sort: "-status_code"}, want: "dabc"},
		{name: "sort hangup_by", f: spanrec.CallFilter{Sort: "hangup_by"}, want: "badc"},
		{name: "sort sensor: bytewise, none last", f: spanrec.CallFilter{Sort: "sensor"}, want: "badc"},
		{name: "sort -sensor: ties by id, none last", f: spanrec.CallFilter{Sort: "-sensor"}, want: "adbc"},
		{name: "hangup by callee", f: spanrec.CallFilter{HangupBy: "callee"}, want: "b"},
		{name: "hangup unknown", f: spanrec.CallFilter{HangupBy: "unknown"}, want: "c"},
		{name: "status code", f: spanrec.CallFilter{StatusCode: 200}, want: "ba"},
		{name: "min pdd inclusive", f: spanrec.CallFilter{MinPDD: 300 * time.Millisecond}, want: "ba"},
		{name: "max pdd leaves out the unmeasured", f: spanrec.CallFilter{MaxPDD: time.Second}, want: "da"},
		{name: "ring range", f: spanrec.CallFilter{MinRing: time.Second, MaxRing: 5 * time.Second}, want: "a"},
	}
	db := s.fresh(t)
	put(t, db, calls...)
	checkSearch(t, db, false, tests)
}

func (s *suite) testSearchInvalid(t *testing.T) {
	db := s.fresh(t)
	for name, f := range map[string]spanrec.CallFilter{
		"sort":          {Sort: "nope"},
		"sort injected": {Sort: "caller; DROP TABLE calls"},
		"sort twice -":  {Sort: "--start"},
		"hangup by":     {HangupBy: "both"},
		"min pdd":       {MinPDD: -time.Second},
		"min duration":  {MinDuration: -time.Second},
		"max duration":  {MaxDuration: -time.Second},
		"limit":         {Limit: -1},
		"offset":        {Offset: -1},
	} {
		if _, err := db.Calls(context.Background(), f); spanrec.ErrorKind(err) != spanrec.EINVALID {
			t.Errorf("%s: Calls error %v, want kind invalid", name, err)
		}
		if f.Sort == "" { // Count ignores the order
			if _, err := db.Count(context.Background(), f); spanrec.ErrorKind(err) != spanrec.EINVALID {
				t.Errorf("%s: Count error %v, want kind invalid", name, err)
			}
		}
	}
}

func (s *suite) testEmpty(t *testing.T) {
	db := s.fresh(t)
	got, err := db.Calls(context.Background(), spanrec.CallFilter{})
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("Calls = %v, %v; want empty non-nil slice", got, err)
	}
	if n, err := db.Count(context.Background(), spanrec.CallFilter{}); err != nil || n != 0 {
		t.Errorf("Count = %d, %v; want 0", n, err)
	}
}

func (s *suite) testByPrefix(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	for _, id := range []string{"abcdef0123", "abcdef4567", "abcde~", "1234567890", "123456", "ab%def", "ab_def", "ab_deg"} {
		put(t, db, &spanrec.Call{ID: spanrec.CallID(id), Start: T0})
	}
	tests := []struct {
		id   string
		want string // "" for an error
		kind string
	}{
		{"abcdef0123", "abcdef0123", ""},
		{"abcdef0", "abcdef0123", ""},
		{"abcdef4", "abcdef4567", ""},
		{"abcdef", "", spanrec.EINVALID},
		{"abcde~", "abcde~", ""},
		{"123456", "123456", ""}, // exact match wins over the prefix of 1234567890
		{"1234567", "1234567890", ""},
		{"abcde", "", spanrec.ENOTFOUND}, // too short to be a prefix
		{"abcdef9", "", spanrec.ENOTFOUND},
		{"ABCDEF0", "", spanrec.ENOTFOUND}, // IDs are case-sensitive
		{"zzzzzzzz", "", spanrec.ENOTFOUND},
		{"ab%de", "", spanrec.ENOTFOUND}, // too short (and not a pattern)
		{"ab_def", "ab_def", ""},
		{"ab_de", "", spanrec.ENOTFOUND},
		{"ab_de_", "", spanrec.ENOTFOUND}, // a prefix is not a pattern: _ matches only _
		{"ab%d", "", spanrec.ENOTFOUND},
		{"", "", spanrec.EINVALID},
	}
	// The messages are for users (the CLI and the API show them): they
	// name the calls of an ambiguous prefix and the shortest prefix, and
	// no Go package.
	for i := range 12 {
		put(t, db, &spanrec.Call{ID: spanrec.CallID(fmt.Sprintf("fedcba%02d", i)), Start: T0})
	}
	for id, want := range map[string][]string{
		"abcdef": {"names 2 calls (abcdef0123, abcdef4567): give more of the ID"},
		"fedcba": {"names more than 10 calls (fedcba00, fedcba01,", "fedcba09)"},
		"abcde":  {"at least 6"},
		"zzzzzz": {"no call zzzzzz"},
	} {
		_, err := db.Call(ctx, spanrec.CallID(id))
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) || strings.Contains(err.Error(), "sqlite") || strings.Contains(err.Error(), "postgres") {
				t.Errorf("Call(%s) = %v, want a message with %q and without a package name", id, err, w)
			}
		}
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.id), func(t *testing.T) {
			got, err := db.Call(ctx, spanrec.CallID(tt.id))
			if tt.kind != "" {
				if k := spanrec.ErrorKind(err); k != tt.kind {
					t.Fatalf("Call = %v, %v; want error of kind %s", got, err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got.ID) != tt.want {
				t.Errorf("Call.ID = %q, want %q", got.ID, tt.want)
			}
		})
	}
}

func (s *suite) testDeleteCall(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	c := FullCall(time.UTC)
	other := FullCall(time.UTC)
	other.ID, other.Interaction, other.LinkKeys = "other", "other", nil
	put(t, db, c, other)
	if err := db.DeleteCall(ctx, c.ID[:8]); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("DeleteCall(prefix) = %v, want ENOTFOUND", err)
	}
	if err := db.DeleteCall(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Call(ctx, c.ID); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("Call after delete: %v, want ENOTFOUND", err)
	}
	if err := db.DeleteCall(ctx, c.ID); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("second DeleteCall = %v, want ENOTFOUND", err)
	}
	got, err := db.Call(ctx, "other")
	if err != nil || !reflect.DeepEqual(got, other) {
		t.Errorf("other call after delete: %+v, %v", got, err)
	}
	// Nothing of the deleted call is left over to come back with it.
	c2 := FullCall(time.UTC)
	c2.Streams, c2.DTMF, c2.LinkKeys = nil, nil, nil
	put(t, db, c2)
	if got, err := db.Call(ctx, c2.ID); err != nil || got.Streams != nil || got.DTMF != nil || got.LinkKeys != nil {
		t.Errorf("call stored again after delete: %+v, %v; want no streams, DTMF or link keys", got, err)
	}
}

func (s *suite) testInvalid(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	tooLate := FullCall(time.UTC)
	tooLate.End = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	tooEarlyDTMF := FullCall(time.UTC)
	tooEarlyDTMF.DTMF[0].At = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)
	tooLateHold := FullCall(time.UTC)
	tooLateHold.Holds[1].End = time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, c := range map[string]*spanrec.Call{
		"nil": nil, "no id": {}, "end after 2262": tooLate, "dtmf before 1678": tooEarlyDTMF, "hold after 2262": tooLateHold,
	} {
		if err := db.PutCall(ctx, c); spanrec.ErrorKind(err) != spanrec.EINVALID {
			t.Errorf("PutCall(%s) = %v, want EINVALID", name, err)
		}
	}
	if n, _ := db.Count(ctx, spanrec.CallFilter{}); n != 0 {
		t.Errorf("%d calls stored after invalid puts", n)
	}
}

// testHostileStrings: what the wire carries — bytes that are not UTF-8, NUL
// bytes, quotes, SQL — is stored and found again by the call's ID and by
// number, whatever the backend's text type accepts.
func (s *suite) testHostileStrings(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	c := FullCall(time.UTC)
	c.SIPCallID = "x\x00y\xff\xfe'; DROP TABLE calls; --"
	c.Caller.Number, c.Caller.Name = "555\x00123", "\xc3\x28 O'Brien"
	c.Callee.Number = "2001\xff"
	c.Codecs = []string{"PCMU\x00", "\xff"}
	c.Notes = []string{"\x00", "a\xffb"}
	c.DTMF[0].Digit = "\xff"
	c.Streams[0].Codec = "G729\x00\xff"
	c.LinkKeys = []string{"cid:\x00\xff", "media:\xff"}
	put(t, db, c)
	got, err := db.Call(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Streams) != 2 || len(got.DTMF) != 2 || len(got.Codecs) != 2 || len(got.Notes) != 2 {
		t.Errorf("hostile call came back as %+v", got)
	}
	if !strings.HasPrefix(got.Caller.Number, "555") || !strings.HasPrefix(got.Callee.Number, "2001") {
		t.Errorf("numbers %q, %q", got.Caller.Number, got.Callee.Number)
	}
	for _, f := range []spanrec.CallFilter{{Number: "555"}, {Number: "2001"}} {
		calls, err := db.Calls(ctx, f)
		if err != nil || len(calls) != 1 || calls[0].ID != c.ID {
			t.Errorf("Calls(%+v) = %v, %v; want the hostile call", f, calls, err)
		}
	}
	if _, err := db.Calls(ctx, spanrec.CallFilter{Number: "\xff\x00'"}); err != nil {
		t.Errorf("search for hostile bytes: %v", err)
	}
	if _, err := db.Call(ctx, "\xff\x00'xxxxx"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("Call(hostile id) = %v, want ENOTFOUND", err)
	}
}

func (s *suite) testTwoHandles(t *testing.T) {
	ctx := context.Background()
	name := s.store()
	w, r := s.open(t, name), s.open(t, name)
	c := FullCall(time.UTC)
	put(t, w, c)
	got, err := r.Call(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("reader got %+v, want %+v", got, c)
	}
	c.Status = spanrec.Failed
	put(t, w, c)
	calls, err := r.Calls(ctx, spanrec.CallFilter{Status: spanrec.Failed})
	if err != nil || len(calls) != 1 {
		t.Fatalf("reader Calls = %v, %v; want the updated call", calls, err)
	}
	// The reader's handle can write too, and the first one sees it.
	other := FullCall(time.UTC)
	other.ID, other.Interaction, other.LinkKeys = "from-the-other", "from-the-other", nil
	put(t, r, other)
	if n, err := w.Count(ctx, spanrec.CallFilter{}); err != nil || n != 2 {
		t.Errorf("Count = %d, %v; want 2", n, err)
	}
}

func (s *suite) testReopen(t *testing.T) {
	ctx := context.Background()
	name := s.store()
	c := FullCall(time.UTC)
	for i := range 3 {
		db, err := s.b.Open(t, name)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if i == 0 {
			put(t, db, c)
		}
		got, err := db.Call(ctx, c.ID)
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("open %d: Call = %+v, %v", i, got, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func (s *suite) testCallsAfter(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	if seq, err := db.LastSeq(ctx); err != nil || seq != 0 {
		t.Fatalf("LastSeq of an empty index = %d, %v", seq, err)
	}
	// Indexing order, not start order: the poller sees calls as they come.
	put(t, db, &spanrec.Call{ID: "late", Start: T0.Add(time.Hour)}, &spanrec.Call{ID: "early", Start: T0})
	calls, seq, err := db.CallsAfter(ctx, 0, 0)
	if err != nil || len(calls) != 2 || calls[0].ID != "late" || calls[1].ID != "early" {
		t.Fatalf("CallsAfter(0) = %v, %d, %v", calls, seq, err)
	}
	if last, _ := db.LastSeq(ctx); last != seq {
		t.Errorf("LastSeq %d, CallsAfter's seq %d", last, seq)
	}
	// A replaced call keeps its place; a new one comes after.
	put(t, db, &spanrec.Call{ID: "late", Start: T0.Add(time.Hour), Status: spanrec.Answered}, &spanrec.Call{ID: "new", Start: T0})
	calls, seq2, err := db.CallsAfter(ctx, seq, 0)
	if err != nil || len(calls) != 1 || calls[0].ID != "new" || seq2 <= seq {
		t.Fatalf("CallsAfter(%d) = %v, %d, %v", seq, calls, seq2, err)
	}
	calls, seq3, err := db.CallsAfter(ctx, seq2, 0)
	if err != nil || len(calls) != 0 || seq3 != seq2 {
		t.Errorf("CallsAfter(end) = %v, %d, %v", calls, seq3, err)
	}
	calls, seq4, err := db.CallsAfter(ctx, 0, 1)
	if err != nil || len(calls) != 1 || calls[0].ID != "late" || seq4 >= seq2 {
		t.Errorf("CallsAfter(0, limit 1) = %v, %d, %v", calls, seq4, err)
	}
	// The newest call deleted, the next one still comes after every
	// position a poller has seen: it does not take the deleted one's.
	if err := db.DeleteCall(ctx, "new"); err != nil {
		t.Fatal(err)
	}
	put(t, db, &spanrec.Call{ID: "newer", Start: T0})
	calls, seq5, err := db.CallsAfter(ctx, seq2, 0)
	if err != nil || len(calls) != 1 || calls[0].ID != "newer" || seq5 <= seq2 {
		t.Errorf("CallsAfter(%d) after the newest call was deleted and another put = %v, %d, %v", seq2, calls, seq5, err)
	}
	if last, _ := db.LastSeq(ctx); last != seq5 {
		t.Errorf("LastSeq %d, CallsAfter's seq %d", last, seq5)
	}
	// Twice, and after deleting every call.
	for _, id := range []spanrec.CallID{"late", "early", "newer"} {
		if err := db.DeleteCall(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	put(t, db, &spanrec.Call{ID: "newest", Start: T0})
	calls, seq6, err := db.CallsAfter(ctx, seq5, 0)
	if err != nil || len(calls) != 1 || calls[0].ID != "newest" || seq6 <= seq5 {
		t.Errorf("CallsAfter(%d) after every call was deleted and another put = %v, %d, %v", seq5, calls, seq6, err)
	}
}

// legCall returns a call of the legs tests: start and end in seconds after
// T0, and its link keys.
func legCall(id string, start, end int, keys ...string) *spanrec.Call {
	return &spanrec.Call{
		ID: spanrec.CallID(id), Start: T0.Add(time.Duration(start) * time.Second),
		End: T0.Add(time.Duration(end) * time.Second), LinkKeys: keys,
	}
}

func (s *suite) testLegs(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	const media = "media:10.0.0.5:20000|10.0.2.11:30000"
	put(t, db,
		// Two legs of a B2BUA with direct media, the second put first.
		legCall("b-leg", 1, 60, "cid:b", media),
		legCall("a-leg", 0, 61, "cid:a", media),
		// The next call on the same port pair, starting as a-leg ends:
		// media keys link only calls that overlap.
		legCall("c-next", 61, 90, "cid:c", media),
		// A transfer: a header key links calls within a few seconds.
		legCall("d-xfer", 95, 120, "cid:d", "xfer:c>300"),
		legCall("e-xfer", 0, 0, "cid:e"),
		// Far apart in time: the same header key does not link.
		legCall("f-far", 3600, 3700, "xfer:c>300"),
	)
	// e-xfer is stored again with its real times and keys: it names
	// c-next's Call-ID (which ended 5 s before it started) and shares
	// d-xfer's transfer key, so the three are one conversation; f-far,
	// with the same transfer key an hour later, stays apart.
	put(t, db, legCall("e-xfer", 95, 130, "cid:e", "cid:c", "xfer:c>300"))
	want := map[spanrec.CallID]struct {
		inter spanrec.CallID
		legs  []spanrec.CallID
	}{
		"a-leg":  {"a-leg", []spanrec.CallID{"b-leg"}},
		"b-leg":  {"a-leg", []spanrec.CallID{"a-leg"}},
		"c-next": {"c-next", []spanrec.CallID{"d-xfer", "e-xfer"}},
		"d-xfer": {"c-next", []spanrec.CallID{"c-next", "e-xfer"}},
		"e-xfer": {"c-next", []spanrec.CallID{"c-next", "d-xfer"}},
		"f-far":  {"f-far", nil},
	}
	for id, w := range want {
		c, err := db.Call(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if c.Interaction != w.inter || !slices.Equal(c.Legs, w.legs) {
			t.Errorf("%s: interaction %s, legs %v; want %s, %v", id, c.Interaction, c.Legs, w.inter, w.legs)
		}
	}
	calls, err := db.Calls(ctx, spanrec.CallFilter{Interaction: "c-next", Sort: spanrec.SortStart})
	if err != nil || ids(calls, false) != "c-nextd-xfere-xfer" {
		t.Errorf("Calls(interaction c-next) = %q, %v", ids(calls, false), err)
	}
	if c, _ := db.Call(ctx, "e-xfer"); c == nil || !slices.Equal(c.LinkKeys, []string{"cid:c", "cid:e", "xfer:c>300"}) {
		t.Errorf("e-xfer link keys: %+v", c)
	}
	checkLegsSort(t, db, "legs")
}

func (s *suite) testGroupInteraction(t *testing.T) {
	db := s.fresh(t)
	const media = "media:10.0.0.5:20000|10.0.2.11:30000"
	a, b := legCall("a-leg", 0, 60, media), legCall("b-leg", 1, 61, media)
	a.Caller.Number, b.Caller.Number = "100", "200"
	b.Duration = time.Minute
	put(t, db, a, b, legCall("c-alone", 30, 40))
	checkSearch(t, db, false, []searchCase{
		{name: "earliest leg of each", f: spanrec.CallFilter{GroupInteraction: true}, want: "c-alonea-leg"},
		{name: "earliest leg that matches", f: spanrec.CallFilter{GroupInteraction: true, Number: "200"}, want: "b-leg"},
		{name: "with sort and limit", f: spanrec.CallFilter{GroupInteraction: true, Sort: spanrec.SortStart, Limit: 1}, want: "a-leg"},
		{name: "by duration", f: spanrec.CallFilter{GroupInteraction: true, MinDuration: time.Second}, want: "b-leg"},
	})
}

// testGroupNoStart: a leg with no start time (stored as NULL) comes after
// the legs with one when a conversation is grouped, as calls without a
// value come last in every sort, in both backends. The leg gets there by
// being stored again without its start: it keeps the interaction named
// after it, which the other leg still carries.
func (s *suite) testGroupNoStart(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	const media = "media:10.0.0.5:20000|10.0.2.11:30000"
	a, b := legCall("a-leg", 0, 60, media), legCall("b-leg", 1, 61, media)
	a.Caller.Number = "100"
	put(t, db, a, b, legCall("c-alone", 30, 40))
	a.Start = time.Time{}
	put(t, db, a)
	legs, err := db.Calls(ctx, spanrec.CallFilter{Interaction: "a-leg", Sort: spanrec.SortStart})
	if err != nil {
		t.Fatal(err)
	}
	if len(legs) != 2 || legs[0].ID != "b-leg" || legs[1].ID != "a-leg" || !legs[1].Start.IsZero() {
		t.Fatalf("the conversation's legs by start: %v, want b-leg then a-leg (no start)", ids(legs, false))
	}
	checkSearch(t, db, false, []searchCase{
		{name: "the leg with a start", f: spanrec.CallFilter{GroupInteraction: true, Sort: spanrec.SortStart}, want: "b-legc-alone"},
		{name: "newest first", f: spanrec.CallFilter{GroupInteraction: true}, want: "c-aloneb-leg"},
		{name: "the leg without a start when only it matches", f: spanrec.CallFilter{GroupInteraction: true, Number: "100"}, want: "a-leg"},
	})
}

// testGroupInteractionPages: the first leg of a conversation is the
// earliest that matches, ties by ID; pages of grouped calls (offset or
// keyset) cut the grouped list, not the legs.
func (s *suite) testGroupInteractionPages(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	const media = "media:10.0.0.5:20000|10.0.2.11:30000"
	// y-leg and x-leg start together: x-leg is first by its ID.
	y, x := legCall("y-leg", 0, 60, media), legCall("x-leg", 0, 61, media)
	x.Caller.Number, y.Caller.Number = "100", "200"
	put(t, db, y, x, legCall("c-alone", 30, 40), legCall("d-alone", 50, 55), legCall("e-alone", 70, 75))
	checkSearch(t, db, false, []searchCase{
		{name: "tie by ID", f: spanrec.CallFilter{GroupInteraction: true, Sort: spanrec.SortStart}, want: "x-legc-aloned-alonee-alone"},
		{name: "earliest that matches", f: spanrec.CallFilter{GroupInteraction: true, Number: "200", Sort: spanrec.SortStart}, want: "y-leg"},
		{name: "offset", f: spanrec.CallFilter{GroupInteraction: true, Sort: spanrec.SortStart, Limit: 2, Offset: 1}, want: "c-aloned-alone"},
		{name: "newest first", f: spanrec.CallFilter{GroupInteraction: true, Limit: 3}, want: "e-aloned-alonec-alone"},
		{name: "with a time range", f: spanrec.CallFilter{GroupInteraction: true, Until: T0.Add(40 * time.Second)}, want: "c-alonex-leg"},
	})
	var got []spanrec.CallID
	f := spanrec.CallFilter{GroupInteraction: true, Sort: spanrec.SortStart, Limit: 2}
	for range 4 {
		calls, err := db.Calls(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) == 0 {
			break
		}
		for _, c := range calls {
			got = append(got, c.ID)
		}
		f.After = calls[len(calls)-1]
	}
	if want := []spanrec.CallID{"x-leg", "c-alone", "d-alone", "e-alone"}; !slices.Equal(got, want) {
		t.Errorf("keyset pages of grouped calls: %v, want %v", got, want)
	}
}

func (s *suite) testCanceledContext(t *testing.T) {
	db := s.fresh(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.PutCall(ctx, FullCall(time.UTC)); err == nil {
		t.Error("PutCall with a canceled context succeeded")
	}
	if _, err := db.Calls(ctx, spanrec.CallFilter{}); err == nil {
		t.Error("Calls with a canceled context succeeded")
	}
	if n, err := db.Count(context.Background(), spanrec.CallFilter{}); err != nil || n != 0 {
		t.Errorf("Count = %d, %v; want 0", n, err)
	}
}

func (s *suite) testAnnotations(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	a, b := FullCall(time.UTC), FullCall(time.UTC)
	b.ID, b.Interaction, b.LinkKeys = "other-call", "other-call", nil
	b.Start = b.Start.Add(time.Hour)
	put(t, db, a, b)
	for _, tag := range []string{"fraud", "Escalated", "fraud"} {
		if _, err := db.AddTag(ctx, a.ID, tag, "alice", T0); err != nil {
			t.Fatal(err)
		}
	}
	if added, err := db.AddTag(ctx, a.ID, "fraud", "bob", T0); err != nil || added {
		t.Errorf("AddTag again = %v, %v; want false", added, err)
	}
	if _, err := db.AddTag(ctx, "no-such-call", "x", "alice", T0); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("AddTag(no call): %v, want not found", err)
	}
	if n, err := db.TagCount(ctx, a.ID); err != nil || n != 2 {
		t.Errorf("TagCount = %d, %v; want 2", n, err)
	}
	// Who put each tag and when, as a migration to another index moves
	// them (the first to put a tag keeps it).
	if _, err := db.AddTag(ctx, b.ID, "callback", "bob", T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantTags := []spanrec.CallTag{{Tag: "Escalated", User: "alice", At: T0}, {Tag: "fraud", User: "alice", At: T0}}
	if tags, err := db.CallTags(ctx, a.ID); err != nil || !slices.EqualFunc(tags, wantTags, sameTag) {
		t.Errorf("CallTags(a) = %+v, %v; want %+v", tags, err, wantTags)
	}
	if tags, err := db.CallTags(ctx, b.ID); err != nil || len(tags) != 1 || !sameTag(tags[0], spanrec.CallTag{Tag: "callback", User: "bob", At: T0.Add(time.Minute)}) {
		t.Errorf("CallTags(b) = %+v, %v", tags, err)
	}
	if tags, err := db.CallTags(ctx, "no-such-call"); err != nil || len(tags) != 0 {
		t.Errorf("CallTags(no call) = %+v, %v; want none", tags, err)
	}
	note, err := db.AddNote(ctx, spanrec.CallNote{CallID: a.ID, User: "alice", At: T0, Text: "Customer asked for a REFUND"})
	if err != nil || note.ID <= 0 {
		t.Fatalf("AddNote = %+v, %v", note, err)
	}
	if _, err := db.AddNote(ctx, spanrec.CallNote{CallID: b.ID, User: "bob", At: T0.Add(time.Minute), Text: "50% off_"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddNote(ctx, spanrec.CallNote{CallID: "no-such-call", Text: "x"}); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("AddNote(no call): %v, want not found", err)
	}
	// Storing the call again (a re-import) keeps what people added.
	put(t, db, a)
	got, err := db.Call(ctx, a.ID)
	if err != nil || !slices.Equal(got.Tags, []string{"Escalated", "fraud"}) {
		t.Errorf("tags of a = %+v, %v; want Escalated, fraud", got.Tags, err)
	}
	notes, err := db.Notes(ctx, a.ID)
	if err != nil || len(notes) != 1 || notes[0] != note {
		t.Errorf("Notes = %+v, %v; want %+v", notes, err, note)
	}
	checkSearch(t, db, false, []searchCase{
		{name: "tag", f: spanrec.CallFilter{Tag: "fraud"}, want: string(a.ID)},
		{name: "tag is exact", f: spanrec.CallFilter{Tag: "escalated"}, want: ""},
		{name: "note text ignores case", f: spanrec.CallFilter{NoteText: "refund"}, want: string(a.ID)},
		{name: "note wildcards are literal", f: spanrec.CallFilter{NoteText: "% off_"}, want: "other-call"},
		{name: "note wildcards do not match", f: spanrec.CallFilter{NoteText: "50_"}, want: ""},
	})
	if removed, err := db.RemoveTag(ctx, a.ID, "fraud"); err != nil || !removed {
		t.Errorf("RemoveTag = %v, %v", removed, err)
	}
	if removed, err := db.RemoveTag(ctx, a.ID, "fraud"); err != nil || removed {
		t.Errorf("RemoveTag again = %v, %v; want false", removed, err)
	}
	if _, err := db.DeleteNote(ctx, b.ID, note.ID); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("DeleteNote of another call's note: %v, want not found", err)
	}
	if n, err := db.DeleteNote(ctx, a.ID, note.ID); err != nil || n != note {
		t.Errorf("DeleteNote = %+v, %v", n, err)
	}
	if err := db.DeleteCall(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if notes, err := db.Notes(ctx, b.ID); err != nil || len(notes) != 0 {
		t.Errorf("notes of a deleted call: %+v, %v", notes, err)
	}
}

func (s *suite) testStreamQuality(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	a := FullCall(time.UTC)
	mos := 4.1
	jit := 2.5
	q := &spanrec.StreamQuality{
		IntervalMS: 5000,
		Intervals: []spanrec.QualityInterval{
			{Start: T0, Packets: 250, Expected: 250, MeanJitterMS: 1.5, MaxJitterMS: 3, JitterSamples: 240, MOS: 4.39},
			{Start: T0.Add(5 * time.Second), Packets: 240, Expected: 250, Lost: 10, MOS: 3.9},
		},
		RTCP: []spanrec.RTCPReport{
			{At: T0.Add(5 * time.Second), Kind: "rr", Reporter: 7, Block: &spanrec.ReportBlock{FractionLost: 0.04, CumulativeLost: 10, HighestSeq: 70000, Jitter: 20, JitterMS: &jit}},
			{At: T0.Add(6 * time.Second), Kind: "xr-voip", Reporter: 7, VoIP: &spanrec.VoIPMetrics{LossRate: 0.04, MOSLQ: &mos, JitterBufferMS: 40}},
		},
	}
	a.Streams[1].Quality = q
	put(t, db, a)
	got, err := db.StreamQuality(ctx, a.ID)
	if err != nil || len(got) != 2 || got[0] != nil || got[1] == nil {
		t.Fatalf("StreamQuality = %+v, %v; want stream 1's only", got, err)
	}
	if !reflect.DeepEqual(got[1], q) {
		t.Errorf("stream 1 quality:\n%+v\nwant\n%+v", got[1], q)
	}
	// A call stored again without quality (read back from the index) keeps it.
	back, err := db.Call(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	put(t, db, back)
	if got, err := db.StreamQuality(ctx, a.ID); err != nil || len(got) != 2 || !reflect.DeepEqual(got[1], q) {
		t.Errorf("after storing the call again: %+v, %v", got, err)
	}
	if _, err := db.StreamQuality(ctx, "no-such-call"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("StreamQuality(no call): %v, want not found", err)
	}
	if err := db.DeleteCall(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StreamQuality(ctx, a.ID); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("StreamQuality of a deleted call: %v, want not found", err)
	}
}

func sameTag(a, b spanrec.CallTag) bool {
	return a.Tag == b.Tag && a.User == b.User && a.At.Equal(b.At)
}
