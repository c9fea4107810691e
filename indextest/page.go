package indextest

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
				// Pages of 4 and 7 end inside ties of three and between
				// them (testPagedDeep pages of 1 after every tie's ends).
				for _, n := range []int{4, 7} {
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

// testPagedDeep pages from calls deep into every sort, both ways, where
// a key's ties span many pages and a fifth or more of the calls have no
// key: the page after any call (the first and last of a tie, the last
// with a key, one without, the last call of all) is the calls that follow
// it in the one query's order, for pages of several sizes, with an offset
// and with a filter (an index's, and a time range alone, which SQLite
// reads by calls_start).
func (s *suite) testPagedDeep(t *testing.T) {
	ctx := context.Background()
	dirs := []spanrec.Direction{spanrec.Inbound, spanrec.Outbound, spanrec.Internal}
	hangups := []spanrec.Hangup{"", spanrec.HangupCaller, spanrec.HangupCallee}
	var calls []*spanrec.Call
	for i := range 240 {
		// IDs out of the order of insertion, so that ties by ID are not
		// ties by position.
		c := &spanrec.Call{
			ID:        spanrec.CallID(fmt.Sprintf("%03d-%03d", (i*97)%240, i)),
			Start:     T0.Add(time.Duration(i%6) * time.Minute), // 40 calls each
			Duration:  time.Duration(i%3) * time.Second,
			Caller:    spanrec.Party{Number: fmt.Sprint(300 + i%4)},
			Callee:    spanrec.Party{Number: fmt.Sprint(400 + i%5)},
			Direction: dirs[i%3],
			Status:    spanrec.NoAnswer,
			HangupBy:  hangups[i%3],
			Sensor:    []string{"", "s1", "s2", "s3"}[i%4],
		}
		if i%5 == 0 {
			c.Start = time.Time{} // NULL start
		}
		if i%4 != 0 {
			c.Status, c.StatusCode = spanrec.Answered, 200
			c.Codecs = []string{[]string{"PCMU", "PCMA"}[i%2]}
			c.Streams = []spanrec.Stream{{SSRC: uint32(i), MOS: 3 + float64(i%3)/2, Packets: 10}}
			c.PDD = time.Duration(1+i%2) * time.Second
			c.RingTime = time.Duration(1+i%3) * time.Second
		} else if i%8 == 0 {
			c.Status, c.StatusCode = spanrec.Busy, 486
		}
		calls = append(calls, c)
	}
	db := s.fresh(t)
	put(t, db, calls...)
	sorts := []string{""}
	for _, k := range spanrec.SortKeys {
		sorts = append(sorts, k, "-"+k)
	}
	for _, sort := range sorts {
		for _, f := range []spanrec.CallFilter{
			{Sort: sort},
			{Sort: sort, Status: spanrec.Answered},
			{Sort: sort, Since: T0.Add(time.Minute), Until: T0.Add(5 * time.Minute)},
		} {
			all, err := db.Calls(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]spanrec.CallID, len(all))
			for i, c := range all {
				want[i] = c.ID
			}
			// The calls to page after: the first, the last, and the
			// first and last of each run of equal keys (where the key
			// changes, or a run of NULLs begins).
			var at []int
			for i := range all {
				if i == 0 || i+1 == len(all) || i > 0 && sortKey(all[i], sort) != sortKey(all[i-1], sort) ||
					i+1 < len(all) && sortKey(all[i], sort) != sortKey(all[i+1], sort) {
					at = append(at, i)
				}
			}
			for _, i := range at {
				for _, p := range []struct{ limit, offset int }{{1, 0}, {13, 0}, {7, 5}} {
					g := f
					g.After, g.Limit, g.Offset = all[i], p.limit, p.offset
					page, err := db.Calls(ctx, g)
					if err != nil {
						t.Fatal(err)
					}
					var got []spanrec.CallID
					for _, c := range page {
						got = append(got, c.ID)
					}
					w := want[min(len(want), i+1+p.offset):min(len(want), i+1+p.offset+p.limit)]
					if !slices.Equal(got, w) {
						t.Errorf("sort %q status %q since %v, page of %d (offset %d) after call %d (%s):\n got %v\nwant %v",
							sort, f.Status, f.Since, p.limit, p.offset, i, all[i].ID, got, w)
					}
				}
			}
		}
	}
}

// sortKey returns a text of the value sort orders c by, which only
// tells equal keys from different ones (for testPagedDeep's choice of
// calls at the ends of ties).
func sortKey(c *spanrec.Call, sort string) string {
	mos := 0.0
	for _, st := range c.Streams {
		if mos == 0 || st.MOS < mos {
			mos = st.MOS
		}
	}
	codec := ""
	if len(c.Codecs) > 0 {
		codec = c.Codecs[0]
	}
	switch strings.TrimPrefix(sort, "-") {
	case "", "start":
		return fmt.Sprint(c.Start.UnixNano(), c.Start.IsZero())
	case "caller":
		return c.Caller.Number
	case "callee":
		return c.Callee.Number
	case "direction":
		return string(c.Direction)
	case "duration", "talk":
		return fmt.Sprint(c.Duration)
	case "status":
		return string(c.Status)
	case "status_code":
		return fmt.Sprint(c.StatusCode)
	case "codec":
		return codec
	case "mos", "quality":
		return fmt.Sprint(mos)
	case "pdd":
		return fmt.Sprint(c.PDD)
	case "ring":
		return fmt.Sprint(c.RingTime)
	case "hangup_by":
		return string(c.HangupBy)
	case "sensor":
		return c.Sensor
	}
	return fmt.Sprint(len(c.Legs))
}
