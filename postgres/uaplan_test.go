package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/pgtest"
)

// TestUAValues: a user agent search reads each side's distinct values
// like the text, through their indexes (migration 0021), and tests the
// calls by equality with them; a side of more distinct values than
// maxUAValues is tested with ILIKE instead.
func TestUAValues(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	callers := []string{"Yealink SIP-T46S 66.86.0.1", "yealink SIP-T46S 66.86.0.2", "Linphone/3.6.1"}
	callees := []string{"Asterisk PBX 18.7.0", "FreeSWITCH"}
	for i := range 30 {
		c := &spanrec.Call{ID: spanrec.CallID(fmt.Sprintf("c%02d", i)), Start: t0.Add(time.Duration(i) * time.Second),
			CallerUA: callers[i%3], CalleeUA: callees[i%2]}
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		text           string
		caller, callee []string
		calls          int
	}{
		{"YEALINK", callers[:2], []string{}, 20},
		{"pbx 18.7", []string{}, callees[:1], 15},
		{"s", callers[:2], callees, 30},
		{"PH", callers[2:], []string{}, 10},
		{"50%", []string{}, []string{}, 0},
	} {
		ua, err := db.uaMatches(ctx, tc.text)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ua.caller)
		slices.Sort(ua.callee)
		want := uaValues{caller: slices.Sorted(slices.Values(tc.caller)), callee: slices.Sorted(slices.Values(tc.callee))}
		if !slices.Equal(ua.caller, want.caller) || !slices.Equal(ua.callee, want.callee) || ua.caller == nil || ua.callee == nil {
			t.Errorf("%q: values %q / %q, want %q / %q", tc.text, ua.caller, ua.callee, want.caller, want.callee)
		}
		var a args
		where, err := db.where(ctx, spanrec.CallFilter{UserAgent: tc.text}, &a)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(where, "ILIKE") {
			t.Errorf("%q: the calls are tested with ILIKE: %s", tc.text, where)
		}
		if n, err := db.Count(ctx, spanrec.CallFilter{UserAgent: tc.text}); err != nil || n != tc.calls {
			t.Errorf("%q: %d calls, %v; want %d", tc.text, n, err, tc.calls)
		}
	}

	// The distinct values are read by skips through the index, not by
	// reading the table.
	if text := strings.Join(explain(ctx, t, db.pool, uaDistinct("callee_ua"), "%x%", 10), "\n"); strings.Contains(text, "Seq Scan") || !strings.Contains(text, "calls_callee_ua") {
		t.Errorf("the distinct callee user agents are not read from calls_callee_ua:\n%s", text)
	}

	// Three distinct callers are more than 2: that side is tested call by
	// call, the callee side still by its values.
	defer func(n int) { maxUAValues = n }(maxUAValues)
	maxUAValues = 2
	ua, err := db.uaMatches(ctx, "YEALINK")
	if err != nil || ua.caller != nil || ua.callee == nil {
		t.Fatalf("3 distinct callers, at most 2 read: %+v, %v; want the caller side nil", ua, err)
	}
	var a args
	where, err := db.where(ctx, spanrec.CallFilter{UserAgent: "YEALINK"}, &a)
	if err != nil || !strings.Contains(where, "caller_ua ILIKE") || strings.Contains(where, "callee_ua") {
		t.Errorf("caller side walked, no callee like it: %s, %v", where, err)
	}
	if n, err := db.Count(ctx, spanrec.CallFilter{UserAgent: "YEALINK"}); err != nil || n != 20 {
		t.Errorf("YEALINK walked: %d calls, %v; want 20", n, err)
	}
}

// TestLongValuesKept: a user agent or header value longer than capture
// keeps (spanrec.MaxHeaderValue), and than a B-tree entry holds, is cut
// to that bound at a character boundary instead of failing PutCall on
// calls_caller_ua or call_headers_name_value.
func TestLongValuesKept(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.NewSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// 8 kB that do not compress (a B-tree entry of it would be too large),
	// a two-byte character across the bound.
	var b strings.Builder
	for i := 0; b.Len() < 8000; i++ {
		fmt.Fprintf(&b, "%08x", uint32(i)*2654435761)
	}
	long := strings.Repeat("a", spanrec.MaxHeaderValue-1) + "é" + b.String()
	c := &spanrec.Call{ID: "long", Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), CallerUA: long, CalleeUA: long,
		SIPHeaders: []spanrec.SIPHeader{{Name: "X-Long", Value: long}}}
	if err := db.PutCall(ctx, c); err != nil {
		t.Fatalf("PutCall with 8 kB values: %v", err)
	}
	got, err := db.Call(ctx, "long")
	if err != nil {
		t.Fatal(err)
	}
	want := long[:spanrec.MaxHeaderValue-1]
	if got.HeadersCut != 3 {
		t.Errorf("HeadersCut = %d, want the 3 values cut", got.HeadersCut)
	}
	if got.CallerUA != want || got.CalleeUA != want {
		t.Errorf("user agents of %d and %d bytes, want the first %d", len(got.CallerUA), len(got.CalleeUA), len(want))
	}
	hs, err := db.SIPHeaders(ctx, "long")
	if err != nil || len(hs) != 1 || hs[0].Value != want {
		t.Errorf("header = %d fields, %v; want its value cut to %d bytes", len(hs), err, len(want))
	}
	if n, err := db.Count(ctx, spanrec.CallFilter{UserAgent: "aé"}); err != nil || n != 0 {
		t.Errorf("the cut character is gone: %d calls, %v", n, err)
	}
	if n, err := db.Count(ctx, spanrec.CallFilter{UserAgent: "aaa"}); err != nil || n != 1 {
		t.Errorf("the kept part is searched: %d calls, %v", n, err)
	}
}
