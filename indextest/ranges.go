package indextest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
)

// testRangePages: a page of calls with a PDD, ring time or talk time
// range or a tag — which a backend may read from the range's index and
// sort, or find by walking every call newest first and testing it
// (sqlite: by how many calls the range holds) — holds the same calls in
// the same order either way: ranges that match many calls, few, none
// (one whose bounds cross), a bound alone, calls without the measure,
// start times shared by two calls (ties by ID), offsets, the keyset pages
// after a call, the range's own column as the sort key, and a range with
// a tag, a time range or grouping by conversation. The wanted calls are
// those the filter's definition picks from the stored calls, sorted as
// spanrec.CallFilter.Sort says.
func (s *suite) testRangePages(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	var calls []*spanrec.Call
	tagged := map[spanrec.CallID]bool{}
	for i := range 24 {
		c := &spanrec.Call{
			ID:    spanrec.CallID(string(rune('a' + i))),
			Start: T0.Add(time.Duration(i/2) * time.Minute), // two calls a minute: ties by ID
			// PDD 0.5–2 s, but none for every fifth call.
			PDD:      time.Duration(i%4+1) * 500 * time.Millisecond,
			RingTime: time.Duration(i%3) * time.Second,
			Duration: time.Duration(i*7%24) * 10 * time.Second,
		}
		if i%5 == 0 {
			c.PDD = 0
		}
		calls = append(calls, c)
	}
	put(t, db, calls...)
	for i, c := range calls {
		if i%3 != 1 {
			continue
		}
		if _, err := db.AddTag(ctx, c.ID, "review", "alice", T0); err != nil {
			t.Fatal(err)
		}
		tagged[c.ID] = true
	}
	// in says whether call c is within [min, max] of measure v (0: no
	// bound; a call without the measure, 0, is in no range).
	in := func(v, min, max time.Duration) bool {
		return (min == 0 || v >= min) && (max == 0 || v <= max) && (v > 0 || min == 0 && max == 0)
	}
	match := func(f spanrec.CallFilter, c *spanrec.Call) bool {
		switch {
		case (f.MinPDD > 0 || f.MaxPDD > 0) && !in(c.PDD, f.MinPDD, f.MaxPDD),
			(f.MinRing > 0 || f.MaxRing > 0) && !in(c.RingTime, f.MinRing, f.MaxRing),
			f.MinDuration > 0 && c.Duration < f.MinDuration,
			f.MaxDuration > 0 && c.Duration > f.MaxDuration,
			f.Tag != "" && (f.Tag != "review" || !tagged[c.ID]),
			!f.Since.IsZero() && c.Start.Before(f.Since),
			!f.Until.IsZero() && !c.Start.Before(f.Until):
			return false
		}
		return true
	}
	// key is the sort key of call c for f.Sort: start time, PDD or talk
	// time (calls without a PDD last either way).
	key := func(f spanrec.CallFilter, c *spanrec.Call) (time.Duration, bool) {
		switch f.Sort {
		case "", spanrec.SortStartDesc, spanrec.SortStart:
			return c.Start.Sub(T0), true
		case "pdd", "-pdd":
			return c.PDD, c.PDD > 0
		case "talk", "-talk":
			return c.Duration, true
		}
		panic("no sort key " + f.Sort)
	}
	want := func(f spanrec.CallFilter) []*spanrec.Call {
		var w []*spanrec.Call
		for _, c := range calls {
			if match(f, c) {
				w = append(w, c)
			}
		}
		desc := f.Sort == "" || f.Sort[0] == '-'
		slices.SortFunc(w, func(a, b *spanrec.Call) int {
			ka, oka := key(f, a)
			kb, okb := key(f, b)
			switch {
			case oka != okb && oka:
				return -1
			case oka != okb:
				return 1
			case ka != kb && desc:
				return cmp.Compare(kb, ka)
			case ka != kb:
				return cmp.Compare(ka, kb)
			}
			return cmp.Compare(a.ID, b.ID)
		})
		if f.Offset > 0 {
			w = w[min(f.Offset, len(w)):]
		}
		if f.Limit > 0 {
			w = w[:min(f.Limit, len(w))]
		}
		return w
	}
	mid := T0.Add(4 * time.Minute)
	var tests []searchCase
	for _, tt := range []struct {
		name string
		f    spanrec.CallFilter
	}{
		{"pdd many", spanrec.CallFilter{MinPDD: time.Second, MaxPDD: 2 * time.Second}},
		{"pdd few", spanrec.CallFilter{MinPDD: 2 * time.Second}},
		{"pdd max alone leaves out the unmeasured", spanrec.CallFilter{MaxPDD: 1500 * time.Millisecond}},
		{"pdd none", spanrec.CallFilter{MinPDD: time.Minute}},
		{"pdd bounds crossed", spanrec.CallFilter{MinPDD: 2 * time.Second, MaxPDD: time.Second}},
		{"pdd page", spanrec.CallFilter{MinPDD: time.Second, Limit: 3, Offset: 2}},
		{"pdd past the last", spanrec.CallFilter{MinPDD: time.Second, Limit: 3, Offset: 100}},
		{"pdd oldest first", spanrec.CallFilter{MinPDD: time.Second, Sort: spanrec.SortStart}},
		{"pdd by pdd", spanrec.CallFilter{MinPDD: time.Second, Sort: "pdd"}},
		{"pdd by -pdd", spanrec.CallFilter{MaxPDD: time.Second, Sort: "-pdd"}},
		{"pdd by talk", spanrec.CallFilter{MinPDD: time.Second, Sort: "-talk"}},
		{"ring", spanrec.CallFilter{MinRing: time.Second}},
		{"ring and pdd", spanrec.CallFilter{MinRing: 2 * time.Second, MaxPDD: time.Second}},
		{"talk many", spanrec.CallFilter{MinDuration: 30 * time.Second}},
		{"talk few", spanrec.CallFilter{MinDuration: 220 * time.Second, MaxDuration: 230 * time.Second}},
		{"talk by talk", spanrec.CallFilter{MinDuration: 30 * time.Second, Sort: "talk", Limit: 5}},
		{"talk and time range", spanrec.CallFilter{MinDuration: 30 * time.Second, Since: mid, Until: mid.Add(4 * time.Minute)}},
		{"tag", spanrec.CallFilter{Tag: "review"}},
		{"tag page", spanrec.CallFilter{Tag: "review", Limit: 2, Offset: 1}},
		{"tag absent", spanrec.CallFilter{Tag: "fraud"}},
		{"tag and pdd", spanrec.CallFilter{Tag: "review", MinPDD: time.Second}},
	} {
		tests = append(tests, searchCase{name: tt.name, f: tt.f, want: ids(want(tt.f), false)})
		tt.f.GroupInteraction = true // each call is a conversation of its own
		tests = append(tests, searchCase{name: tt.name + " grouped", f: tt.f, want: ids(want(tt.f), false)})
	}
	checkSearch(t, db, false, tests)
	// The keyset pages after a call (CallFilter.After), two calls a page,
	// hold the calls of the whole search in order.
	for _, f := range []spanrec.CallFilter{
		{MinPDD: time.Second},
		{MinPDD: time.Second, Sort: spanrec.SortStart},
		{MinPDD: time.Second, Sort: "-pdd"},
		{MinDuration: 30 * time.Second, MaxPDD: 2 * time.Second},
		{Tag: "review"},
	} {
		t.Run(fmt.Sprintf("keyset %+v", f), func(t *testing.T) {
			var got []*spanrec.Call
			f.Limit = 2
			for range len(calls) {
				page, err := db.Calls(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				f.After = page[len(page)-1]
			}
			f.Limit, f.After = 0, nil
			if g, w := ids(got, false), ids(want(f), false); g != w {
				t.Errorf("pages = %q, want %q", g, w)
			}
		})
	}
}
