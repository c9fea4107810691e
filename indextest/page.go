package indextest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
)

// pageAll reads every call f matches in pages of n with CallFilter.After.
func pageAll(t *testing.T, db Index, f spanrec.CallFilter, n int) []spanrec.CallID {
	t.Helper()
	f.Limit = n
	var ids []spanrec.CallID
	for {
		page, err := db.Calls(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			ids = append(ids, c.ID)
		}
		if len(page) < n {
			return ids
		}
		f.After, f.Offset = page[len(page)-1], 0
	}
}

// testPaged pages through calls with ties in every sort key, zero
// start times (stored as NULL) and groups of legs: After gives the same
// calls in the same order as one query, for every sort and page size.
func (s *suite) testPaged(t *testing.T) {
	ctx := context.Background()
	var calls []*spanrec.Call
	for i := range 40 {
		c := &spanrec.Call{
			ID:       spanrec.CallID(fmt.Sprintf("%02x%02x", (i*37)%256, i)),
			Start:    T0.Add(time.Duration(i/3) * time.Minute), // three calls share each start
			Duration: time.Duration(i%4) * time.Second,         // ten share each duration
			Caller:   spanrec.Party{Number: fmt.Sprint(200 + i%5)},
		}
		if i%11 == 0 {
			c.Start = time.Time{} // NULL start
		}
		if i%3 != 0 {
			// Streams give a worst MOS (ties, and none for a third).
			c.Streams = []spanrec.Stream{{SSRC: uint32(i), MOS: 3 + float64(i%2), Packets: 10}}
			c.Codecs = []string{[]string{"PCMU", "PCMA"}[i%2]}
			c.Status, c.StatusCode = spanrec.Answered, 200
		}
		if i%5 == 0 {
			c.Status, c.StatusCode = spanrec.Busy, 486
		}
		if i%2 == 1 {
			// Pairs of legs: the odd call is the later leg of the even one.
			c.LinkKeys = []string{fmt.Sprintf("cid:pair%d", i/2)}
			calls[i-1].LinkKeys = c.LinkKeys
		}
		calls = append(calls, c)
	}
	{
		db := s.fresh(t)
		put(t, db, calls...)
		sorts := []string{""}
		for _, k := range spanrec.SortKeys {
			sorts = append(sorts, k, "-"+k)
		}
		for _, sort := range sorts {
			for _, f := range []spanrec.CallFilter{
				{Sort: sort},
				{Sort: sort, Number: "20", Offset: 3},
				{Sort: sort, GroupInteraction: true},
				{Sort: sort, Extensions: []string{"201", "203"}},
			} {
				all, err := db.Calls(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				var want []spanrec.CallID
				for _, c := range all {
					want = append(want, c.ID)
				}
				for _, n := range []int{1, 7} {
					if got := pageAll(t, db, f, n); !slices.Equal(got, want) {
						t.Errorf("sort %q group %v offset %d, pages of %d:\n got %v\nwant %v", sort, f.GroupInteraction, f.Offset, n, got, want)
					}
				}
			}
		}
		if _, err := db.Calls(ctx, spanrec.CallFilter{Sort: "nope", After: calls[0]}); spanrec.ErrorKind(err) != spanrec.EINVALID {
			t.Errorf("unknown sort with After: %v", err)
		}
		if _, err := db.Calls(ctx, spanrec.CallFilter{After: &spanrec.Call{ID: "gone"}}); spanrec.ErrorKind(err) != spanrec.ECONFLICT {
			t.Errorf("After a call that is not there: %v", err)
		}
	}
}
