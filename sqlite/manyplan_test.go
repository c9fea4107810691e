package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
)

// TestConformancePlans runs the conformance suite with the plans of
// searches chosen by what the calls hold turned the other way: every range
// and tag taken for one of many calls (rangeStarts 0), so that a page of
// one walks the calls in its order and tests them, and every count of a
// wildcard header value reading the name's header fields (headerWalk 0),
// where TestConformance, whose few calls hold fewer than rangeStarts,
// starts pages from the ranges' indexes and counts by walking the calls;
// and the distinct user agents taken for too many to read (uaValues 0),
// so that pages and counts start from calls_ua's candidates (as few as
// the suite's calls), where TestConformance reads the calls of the
// distinct user agents like the text (TestConformanceUAWalk has the
// walk). Both plans must give the same calls. It runs the suite's
// searches by a range, tag, header or user agent only: the others (Paged
// and PagedDeep among them, the slowest of the suite under -race) plan
// the same either way.
func TestConformancePlans(t *testing.T) {
	defer func(n, u int, w int64) { rangeStarts, uaValues, headerWalk = n, u, w }(rangeStarts, uaValues, headerWalk)
	rangeStarts, uaValues, headerWalk = 0, 0, 0
	dir := t.TempDir()
	indextest.Run(t, indextest.Backend{
		Open: func(t *testing.T, name string) (indextest.Index, error) {
			return Open(context.Background(), filepath.Join(dir, name+".db"))
		},
		Only: []string{"Filter", "Search", "SearchSIP", "SearchTexts", "SearchInvalid", "CountUpTo",
			"RangePages", "GroupInteraction", "GroupInteractionPages", "GroupNoStart", "HostileStrings", "Annotations"},
	})
}

// TestManyPagePlan: a page of a range or a tag of many calls (starts.many)
// walks calls_start newest first, testing it, instead of reading the
// range's index and sorting every call in it, under the statistics of
// BenchmarkUISearch's million calls (where a PDD range of 13 % of them
// took 0.3 s so: docs/PERFORMANCE.md, "Twelfth session"); one of few calls
// starts from its index.
func TestManyPagePlan(t *testing.T) {
	db := benchStatsDB(t)
	for _, tt := range []struct {
		f     spanrec.CallFilter
		index string // the range's index, which a page of few calls reads
	}{
		{spanrec.CallFilter{MinPDD: time.Second, MaxPDD: 2 * time.Second}, "calls_pdd"},
		{spanrec.CallFilter{MinRing: time.Second}, "calls_ring"},
		{spanrec.CallFilter{MinDuration: time.Minute, MaxDuration: 2 * time.Minute}, "calls_duration"},
		{spanrec.CallFilter{MaxDuration: time.Minute}, "calls_duration"},
		{spanrec.CallFilter{Tag: "review"}, "call_tags_tag"},
	} {
		few := pagePlan(t, db, tt.f, starts{walk: true}, "")
		if !strings.Contains(few, tt.index) {
			t.Errorf("%+v of few calls: plan %q, want a read of %s", tt.f, few, tt.index)
		}
		st := starts{walk: true, many: many{pdd: true, ring: true, duration: true, tag: true}}
		p := pagePlan(t, db, tt.f, st, "")
		if !strings.Contains(p, "SCAN calls USING INDEX calls_start") || strings.Contains(p, "TEMP B-TREE FOR ORDER BY") ||
			strings.Contains(p, tt.index) {
			t.Errorf("%+v of many calls: plan %q, want a walk of calls_start (ties sorted at most)", tt.f, p)
		}
	}
}

// TestManyFor: a range or a tag holds many calls from rangeStarts calls
// on, counted from the stored calls; a range of the column the page is
// sorted by never does (its index is the page's order).
func TestManyFor(t *testing.T) {
	defer func(n int) { rangeStarts = n }(rangeStarts)
	rangeStarts = 3
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 4 {
		c := &spanrec.Call{ID: spanrec.CallID(fmt.Sprint("c", i)), Start: indextest.T0.Add(time.Duration(i) * time.Minute),
			PDD: time.Duration(i+1) * time.Second, RingTime: time.Duration(i) * time.Second, Duration: time.Duration(i) * time.Minute}
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
		if i < 3 {
			if _, err := db.AddTag(ctx, c.ID, "three", "alice", indextest.T0); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tt := range []struct {
		f    spanrec.CallFilter
		want many
	}{
		{spanrec.CallFilter{MinPDD: time.Second}, many{pdd: true}},                              // 4 calls
		{spanrec.CallFilter{MinPDD: 2 * time.Second, MaxPDD: 4 * time.Second}, many{pdd: true}}, // 3
		{spanrec.CallFilter{MinPDD: 3 * time.Second}, many{}},                                   // 2
		{spanrec.CallFilter{MaxPDD: 3 * time.Second, Sort: "-pdd"}, many{}},                     // sorted by it
		{spanrec.CallFilter{MinRing: time.Second, MaxRing: time.Hour}, many{ring: true}},        // 3: no ring time is none
		{spanrec.CallFilter{MaxRing: time.Second}, many{}},                                      // 1
		{spanrec.CallFilter{MaxDuration: 2 * time.Minute}, many{duration: true}},                // 3, talk time 0 too
		{spanrec.CallFilter{MaxDuration: 2 * time.Minute, Sort: "talk"}, many{}},
		{spanrec.CallFilter{MinDuration: time.Minute, MinPDD: time.Second, Tag: "three"}, many{pdd: true, duration: true, tag: true}},
		{spanrec.CallFilter{Tag: "none"}, many{}},
	} {
		st, err := db.startsFor(ctx, tt.f, false)
		if err != nil || st.many != tt.want {
			t.Errorf("%+v: many %+v, %v; want %+v", tt.f, st.many, err, tt.want)
		}
		if st, err := db.startsFor(ctx, tt.f, true); err != nil || st.many != (many{}) {
			t.Errorf("%+v, count: many %+v, %v; want none (a count reads the indexes)", tt.f, st.many, err)
		}
	}
}

// TestRareHeaderCount: a capped count of a wildcard header value that few
// of the newest calls match reads the header name's fields from
// call_headers_name_value; one that many match walks the calls and tests
// each (rareHeader): the calls of the name's fields, each looked up by
// ID, against a test of each call walked (a look-up of its own fields,
// even without ANALYZE's statistics, as in this test).
func TestRareHeaderCount(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 100 {
		c := &spanrec.Call{ID: spanrec.CallID(fmt.Sprint("c", i)), Start: indextest.T0.Add(time.Duration(i) * time.Minute),
			SIPHeaders: []spanrec.SIPHeader{{Name: "X-Account", Value: fmt.Sprint("acct-", i)}}}
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		value string
		max   int
		rare  bool
	}{
		{"acct-*", 10_000, false},         // every call: 10,000 calls walked
		{"acct-1*", 10_000, true},         // 11 of 100: 91,000 calls
		{"*-99", 10_000, true},            // 1 of 100: a million
		{"*-99", 50, false},               // 1 of 100, up to 50: 5,000
		{"*-none*", 10, true},             // none
		{"ACCT-*", 100_000 / 1000, false}, // LIKE ignores ASCII case
	} {
		f := spanrec.CallFilter{HeaderName: "x-account", HeaderValue: tt.value}
		rare, err := db.rareHeader(ctx, f, tt.max)
		if err != nil || rare != tt.rare {
			t.Errorf("%s up to %d: rare %v, %v; want %v", tt.value, tt.max, rare, err, tt.rare)
		}
		where, args, err := filterSQL(f, starts{headerName: rare})
		if err != nil {
			t.Fatal(err)
		}
		p := queryPlan(t, db, `SELECT count(*) FROM (SELECT 1 FROM calls`+where+` LIMIT 10001)`, args...)
		if strings.Contains(p, "LIST SUBQUERY") != rare || !rare && !strings.Contains(p, "EXISTS USING PRIMARY KEY") {
			t.Errorf("%s up to %d: plan %q", tt.value, tt.max, p)
		}
	}
}

// TestStatsSpanPlan: the dashboard's first and last start times are two
// seeks into calls_start, not a read of every entry of an index (which
// SQLite does for min() and max() in one query).
func TestStatsSpanPlan(t *testing.T) {
	db := benchStatsDB(t)
	p := queryPlan(t, db, statsSpan)
	if strings.Count(p, "SEARCH calls USING COVERING INDEX calls_start") != 2 || strings.Contains(p, "SCAN calls") {
		t.Errorf("plan of %s:\n%s", statsSpan, p)
	}
}
