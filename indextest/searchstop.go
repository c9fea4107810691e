package indextest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
)

// testSearchStop: a substring search that no index serves (one or two
// characters) with CallFilter.ScanLimit examines only the newest
// ScanLimit calls of its time range (and of its extensions), newest first
// by start time then ID, and SearchStop says so with the number examined;
// its calls and counts are those of the calls examined. Where the range
// has no more calls than the bound the search is complete (no stop), and
// a search an index serves (three characters, or another term an index
// answers) is never bounded.
func (s *suite) testSearchStop(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	at := func(min int) time.Time { return T0.Add(time.Duration(min) * time.Minute) }
	var calls []*spanrec.Call
	for i := range 12 {
		c := &spanrec.Call{
			ID: spanrec.CallID(fmt.Sprintf("c%02d", i)), SIPCallID: fmt.Sprintf("sip-%d", i), Start: at(i),
			Caller: spanrec.Party{Number: "1000"}, Callee: spanrec.Party{Number: "2000"},
			CallerUA: "Softphone", CalleeUA: "PBX",
		}
		switch i {
		case 1, 9, 10:
			c.CallerUA = "Lab phone"
		case 5, 6:
			c.CalleeUA = "xy PBX"
		}
		if i == 0 || i == 8 {
			c.Callee.Number = "2077"
		}
		if i == 3 || i == 10 {
			c.SIPHeaders = []spanrec.SIPHeader{{Name: "x-t", Value: "ab7"}}
		}
		calls = append(calls, c)
	}
	calls[6].Start = calls[5].Start // a tie, broken by ID: c05 comes before c06
	put(t, db, calls...)
	for _, id := range []spanrec.CallID{"c02", "c11"} {
		if _, err := db.AddNote(ctx, spanrec.CallNote{CallID: id, User: "alice", At: T0, Text: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	short := "fewer than 3 characters"
	for _, tt := range []struct {
		name     string
		f        spanrec.CallFilter
		want     string // IDs without their "c", newest first
		examined int    // 0: not stopped
	}{
		{name: "short user agent stops", f: spanrec.CallFilter{UserAgent: "ab", ScanLimit: 5}, want: "10 09", examined: 5},
		{name: "unbounded", f: spanrec.CallFilter{UserAgent: "ab"}, want: "10 09 01"},
		{name: "bound above the calls", f: spanrec.CallFilter{UserAgent: "ab", ScanLimit: 20}, want: "10 09 01"},
		{name: "bound equal to the calls", f: spanrec.CallFilter{UserAgent: "ab", ScanLimit: 12}, want: "10 09 01"},
		{name: "bound one below the calls", f: spanrec.CallFilter{UserAgent: "ab", ScanLimit: 11}, want: "10 09 01", examined: 11},
		{name: "range within the bound", f: spanrec.CallFilter{UserAgent: "ab", Since: at(0), Until: at(3), ScanLimit: 5}, want: "01"},
		{name: "range beyond the bound", f: spanrec.CallFilter{UserAgent: "ab", Until: at(11), ScanLimit: 3}, want: "10 09", examined: 3},
		{name: "range beyond the bound, older", f: spanrec.CallFilter{UserAgent: "ab", Until: at(9), ScanLimit: 3}, want: "", examined: 3},
		{name: "three characters use the index", f: spanrec.CallFilter{UserAgent: "Lab", ScanLimit: 5}, want: "10 09 01"},
		{name: "another term an index serves", f: spanrec.CallFilter{UserAgent: "ab", SIPCallID: "sip-1", ScanLimit: 5}, want: "01"},
		{name: "an indexed number beside", f: spanrec.CallFilter{UserAgent: "ab", Number: "1000", ScanLimit: 5}, want: "10 09 01"},
		{name: "short number", f: spanrec.CallFilter{Number: "77", ScanLimit: 5}, want: "08", examined: 5},
		{name: "short note", f: spanrec.CallFilter{NoteText: "ok", ScanLimit: 5}, want: "11", examined: 5},
		{name: "short header pattern", f: spanrec.CallFilter{HeaderName: "x-t", HeaderValue: "*b7*", ScanLimit: 5}, want: "10", examined: 5},
		{name: "exact header value", f: spanrec.CallFilter{HeaderName: "x-t", HeaderValue: "ab7", ScanLimit: 5}, want: "10 03"},
		{name: "header pattern with an indexed part", f: spanrec.CallFilter{HeaderName: "x-t", HeaderValue: "ab7*", ScanLimit: 5}, want: "10 03"},
		{name: "tie at the bound, first", f: spanrec.CallFilter{UserAgent: "xy", ScanLimit: 6}, want: "05", examined: 6},
		{name: "tie at the bound, both", f: spanrec.CallFilter{UserAgent: "xy", ScanLimit: 7}, want: "05 06", examined: 7},
		{name: "the extensions' newest calls", f: spanrec.CallFilter{Number: "77", Extensions: []string{"2077"}, ScanLimit: 1}, want: "08", examined: 1},
		{name: "the extensions' calls within the bound", f: spanrec.CallFilter{Number: "77", Extensions: []string{"2077"}, ScanLimit: 2}, want: "08 00"},
		{name: "sorted otherwise", f: spanrec.CallFilter{UserAgent: "ab", Sort: "start", ScanLimit: 5}, want: "09 10", examined: 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Calls(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var idl []string
			for _, c := range got {
				idl = append(idl, strings.TrimPrefix(string(c.ID), "c"))
			}
			if g := strings.Join(idl, " "); g != tt.want {
				t.Errorf("Calls = %q, want %q", g, tt.want)
			}
			n := len(idl)
			if c, err := db.Count(ctx, tt.f); err != nil || c != n {
				t.Errorf("Count = %d, %v; want %d", c, err, n)
			}
			if c, more, err := db.CountUpTo(ctx, tt.f, 10); err != nil || c != n || more {
				t.Errorf("CountUpTo(10) = %d, %v, %v; want %d, false", c, more, err, n)
			}
			if n > 1 {
				if c, more, err := db.CountUpTo(ctx, tt.f, 1); err != nil || c != 1 || !more {
					t.Errorf("CountUpTo(1) = %d, %v, %v; want 1, true", c, more, err)
				}
			}
			stop, err := db.SearchStop(ctx, tt.f)
			switch {
			case err != nil:
				t.Fatal(err)
			case tt.examined == 0 && stop != nil:
				t.Errorf("SearchStop = %+v, want none", stop)
			case tt.examined != 0 && (stop == nil || stop.Examined != tt.examined || !strings.Contains(stop.Reason, short)):
				t.Errorf("SearchStop = %+v, want %d examined, %q", stop, tt.examined, short)
			}
		})
	}
	// Paging through a stopped search stays within its bound.
	f := spanrec.CallFilter{UserAgent: "ab", ScanLimit: 5, Limit: 1}
	page, err := db.Calls(ctx, f)
	if err != nil || ids(page, false) != "c10" {
		t.Fatalf("first page = %q, %v", ids(page, false), err)
	}
	f.After = page[0]
	if page, err = db.Calls(ctx, f); err != nil || ids(page, false) != "c09" {
		t.Fatalf("second page = %q, %v", ids(page, false), err)
	}
	f.After = page[0]
	if page, err = db.Calls(ctx, f); err != nil || len(page) != 0 {
		t.Fatalf("third page = %q, %v; want none (c01 is past the bound)", ids(page, false), err)
	}
	f.After, f.Offset = nil, 1
	if page, err = db.Calls(ctx, f); err != nil || ids(page, false) != "c09" {
		t.Fatalf("page at offset 1 = %q, %v", ids(page, false), err)
	}
}

// testSearchStopGrouped: a bounded search grouped by conversation gives
// each conversation's first matching leg among the calls it examines: a
// leg whose conversation has an earlier matching leg just past the bound
// is found (the bound is one of the conditions the earlier legs are
// tested with), and counted. And a call ID with a backslash and a quote
// at the bound (where it breaks a tie of start times) bounds the search
// as any other.
func (s *suite) testSearchStopGrouped(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	const media = "media:10.0.0.5:20000|10.0.2.11:30000"
	leg1, leg2 := legCall("leg1", 0, 60, media), legCall("leg2", 5, 65, media)
	tieA, tieB := legCall(`t\'a`, 200, 210), legCall(`t\'b`, 200, 210)
	leg1.CallerUA, leg2.CallerUA = "ab phone", "ab phone"
	tieA.CallerUA, tieB.CallerUA = "xy phone", "xy phone"
	put(t, db, leg1, leg2, legCall("n1", 100, 110), tieA, tieB, legCall("n3", 300, 310))
	if c, err := db.Call(ctx, "leg2"); err != nil || c.Interaction != "leg1" {
		t.Fatalf("leg2 = %+v, %v; want a leg of leg1's conversation", c, err)
	}
	// Newest first: n3, t\'a, t\'b, n1, leg2, leg1.
	for _, tt := range []struct {
		name string
		f    spanrec.CallFilter
		want string
	}{
		{name: "ungrouped", f: spanrec.CallFilter{UserAgent: "ab", ScanLimit: 5}, want: "leg2"},
		{name: "grouped, earlier leg past the bound", f: spanrec.CallFilter{UserAgent: "ab", ScanLimit: 5, GroupInteraction: true}, want: "leg2"},
		{name: "grouped, both legs examined", f: spanrec.CallFilter{UserAgent: "ab", ScanLimit: 6, GroupInteraction: true}, want: "leg1"},
		{name: "grouped, unbounded", f: spanrec.CallFilter{UserAgent: "ab", GroupInteraction: true}, want: "leg1"},
		{name: "grouped, page", f: spanrec.CallFilter{UserAgent: "ab", ScanLimit: 5, GroupInteraction: true, Limit: 1}, want: "leg2"},
		{name: "grouped, oldest first", f: spanrec.CallFilter{UserAgent: "ab", ScanLimit: 5, GroupInteraction: true, Sort: spanrec.SortStart}, want: "leg2"},
		{name: "quote and backslash at the bound", f: spanrec.CallFilter{UserAgent: "xy", ScanLimit: 2}, want: `t\'a`},
		{name: "quote and backslash within the bound", f: spanrec.CallFilter{UserAgent: "xy", ScanLimit: 3}, want: `t\'a t\'b`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Calls(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if g := idList(got); g != tt.want {
				t.Errorf("Calls = %q, want %q", g, tt.want)
			}
			n := len(strings.Fields(tt.want))
			if c, err := db.Count(ctx, tt.f); err != nil || c != n {
				t.Errorf("Count = %d, %v; want %d", c, err, n)
			}
			if c, more, err := db.CountUpTo(ctx, tt.f, 10); err != nil || c != n || more {
				t.Errorf("CountUpTo(10) = %d, %v, %v; want %d, false", c, more, err, n)
			}
		})
	}
}
