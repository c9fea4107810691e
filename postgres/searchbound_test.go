package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/indextest"
	"github.com/spanrec/spanrec/pgtest"
)

// TestSearchBoundQuotedID: the call ID at the bound of a search no index
// serves (CallFilter.ScanLimit), which breaks a tie of start times, is
// passed as a parameter, not written into the statement: with
// standard_conforming_strings off, where a backslash in a string literal
// escapes the quote after it, an ID with a backslash and a quote still
// bounds the search and breaks nothing.
func TestSearchBoundQuotedID(t *testing.T) {
	ctx := context.Background()
	db := open(t, pgtest.NewSchema(t)+"&standard_conforming_strings=off")
	at := indextest.T0.Add(time.Minute)
	for _, c := range []*spanrec.Call{
		{ID: `t\'a`, Start: at, CallerUA: "xy phone"},
		{ID: `t\'b`, Start: at, CallerUA: "xy phone"},
		{ID: "newer", Start: at.Add(time.Minute), CallerUA: "PBX"},
	} {
		if err := db.PutCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	// Newest first: newer, t\'a, then t\'b, the first call past the bound.
	f := spanrec.CallFilter{UserAgent: "xy", ScanLimit: 2}
	calls, err := db.Calls(ctx, f)
	if err != nil || len(calls) != 1 || calls[0].ID != `t\'a` {
		t.Fatalf("Calls = %v, %v; want t\\'a alone", calls, err)
	}
	if n, err := db.Count(ctx, f); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want 1", n, err)
	}
	if n, more, err := db.CountUpTo(ctx, f, 10); err != nil || n != 1 || more {
		t.Errorf("CountUpTo = %d, %v, %v; want 1, false", n, more, err)
	}
	if stop, err := db.SearchStop(ctx, f); err != nil || stop == nil || stop.Examined != 2 {
		t.Errorf("SearchStop = %+v, %v; want 2 examined", stop, err)
	}
}
