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

// legsOf returns the number of legs the call list sorts c by: the calls
// of its interaction, c included (its other legs, Call.Legs, and itself),
// or 0 for a call without an interaction.
func legsOf(c *spanrec.Call) int {
	if c.Interaction == "" {
		return 0
	}
	return len(c.Legs) + 1
}

// checkLegsSort checks the sort by number of legs, both ways, against
// the legs of every call of db (Call.Interaction and Call.Legs, which the
// index reads from the calls of each interaction): the first page of all
// calls, and keyset pages of two calls (CallFilter.After), in the order
// of the count (calls without an interaction count 0), ties by ID. A
// count the index keeps for the sort (a column, an index) that an
// interaction's change left stale shows as a call out of its place.
func checkLegsSort(t *testing.T, db Index, what string) {
	t.Helper()
	ctx := context.Background()
	all, err := db.Calls(ctx, spanrec.CallFilter{Sort: spanrec.SortStart})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	legs := map[spanrec.CallID]int{}
	for _, c := range all {
		legs[c.ID] = legsOf(c)
	}
	for _, desc := range []bool{false, true} {
		sort := "legs"
		if desc {
			sort = "-legs"
		}
		want := slices.Clone(all)
		slices.SortFunc(want, func(x, y *spanrec.Call) int {
			c := cmp.Compare(legs[x.ID], legs[y.ID])
			if desc {
				c = -c
			}
			return cmp.Or(c, cmp.Compare(x.ID, y.ID))
		})
		wantIDs := legIDs(want, legs)
		got, err := db.Calls(ctx, spanrec.CallFilter{Sort: sort})
		if err != nil {
			t.Fatalf("%s: sort %s: %v", what, sort, err)
		}
		if g := legIDs(got, legs); g != wantIDs {
			t.Errorf("%s: sort %s:\n got %s\nwant %s", what, sort, g, wantIDs)
		}
		var paged []*spanrec.Call
		f := spanrec.CallFilter{Sort: sort, Limit: 2}
		for range len(all) + 1 {
			page, err := db.Calls(ctx, f)
			if err != nil {
				t.Fatalf("%s: sort %s, after %v: %v", what, sort, f.After, err)
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			f.After = page[len(page)-1]
		}
		if g := legIDs(paged, legs); g != wantIDs {
			t.Errorf("%s: sort %s, keyset pages of 2:\n got %s\nwant %s", what, sort, g, wantIDs)
		}
	}
}

// legIDs returns the IDs of calls, each with its number of legs.
func legIDs(calls []*spanrec.Call, legs map[spanrec.CallID]int) string {
	s := ""
	for _, c := range calls {
		s += fmt.Sprintf(" %s:%d", c.ID, legs[c.ID])
	}
	return s
}

// testLegsCount: the sort by number of legs follows every change of an
// interaction's calls: legs linked in any order (a conversation of three
// whose middle leg, the only link between the others, comes last or
// first), a leg put again with other keys (it leaves the conversation,
// then joins it again), a leg deleted (the others regrouped), a leg
// deleted by retention (BeginDeletion, FinishDeletion), and calls of
// conversations of one leg.
func (s *suite) testLegsCount(t *testing.T) {
	ctx := context.Background()
	db := s.fresh(t)
	// a-b share one key, b-c another: every order of putting them.
	orders := [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	leg := func(order, i int) *spanrec.Call {
		keys := [][]string{{"hdr:x"}, {"hdr:x", "hdr:y"}, {"hdr:y"}}[i]
		for j := range keys {
			keys[j] = fmt.Sprintf("%s%d", keys[j], order)
		}
		start := order*3600 + i
		return legCall(fmt.Sprintf("o%d-%c", order, 'a'+i), start, start+60, keys...)
	}
	for o, order := range orders {
		for _, i := range order {
			put(t, db, leg(o, i))
			checkLegsSort(t, db, fmt.Sprintf("order %v, after leg %c", order, 'a'+i))
		}
	}
	put(t, db, legCall("single-1", 30000, 30060, "hdr:s1"), legCall("single-2", 30000, 30060))
	for o := range orders {
		for _, id := range []string{"a", "b", "c"} {
			c, err := db.Call(ctx, spanrec.CallID(fmt.Sprintf("o%d-%s", o, id)))
			if err != nil {
				t.Fatal(err)
			}
			if c.Interaction != spanrec.CallID(fmt.Sprintf("o%d-a", o)) || legsOf(c) != 3 {
				t.Errorf("%s: interaction %s, %d legs; want o%d-a, 3", c.ID, c.Interaction, legsOf(c), o)
			}
		}
	}
	checkLegsSort(t, db, "all linked")

	// The bridge put again without its keys leaves the conversation (the
	// others keep the interaction they had), and joins it again.
	b := leg(0, 1)
	b.LinkKeys = nil
	put(t, db, b)
	if c, _ := db.Call(ctx, "o0-b"); c == nil || c.Interaction != "o0-b" || legsOf(c) != 1 {
		t.Errorf("bridge put again alone: %+v", c)
	}
	checkLegsSort(t, db, "bridge put again alone")
	put(t, db, leg(0, 1))
	checkLegsSort(t, db, "bridge put again with its keys")
	// The same call put again as it was changes nothing.
	put(t, db, leg(1, 2))
	checkLegsSort(t, db, "leg put again")

	// Deleting the earliest leg, which named the interaction; then the
	// bridge of another conversation, which splits it in two.
	for _, id := range []spanrec.CallID{"o0-a", "o1-b"} {
		if err := db.DeleteCall(ctx, id); err != nil {
			t.Fatal(err)
		}
		checkLegsSort(t, db, "deleted "+string(id))
	}
	if c, _ := db.Call(ctx, "o1-c"); c == nil || legsOf(c) != 1 {
		t.Errorf("o1-c after its bridge was deleted: %+v", c)
	}
	// Retention: a deletion begun, then finished.
	d := spanrec.Deletion{Call: "o2-c", At: T0, By: "retention", Reason: "rule"}
	if err := db.BeginDeletion(ctx, d); err != nil {
		t.Fatal(err)
	}
	checkLegsSort(t, db, "deletion of o2-c begun")
	if err := db.FinishDeletion(ctx, d.Call); err != nil {
		t.Fatal(err)
	}
	checkLegsSort(t, db, "deletion of o2-c finished")
	if c, _ := db.Call(ctx, "o2-a"); c == nil || legsOf(c) != 2 {
		t.Errorf("o2-a after retention deleted o2-c: %+v", c)
	}

	// A later leg joins a conversation whose legs were put long before.
	put(t, db, legCall("o3-late", 3*3600+30, 3*3600+90, "hdr:y3"))
	checkLegsSort(t, db, "a fourth leg")
	if c, _ := db.Call(ctx, "o3-a"); c == nil || legsOf(c) != 4 {
		t.Errorf("o3-a after a fourth leg: %+v", c)
	}
	// Put in one batch, as a recorder stores calls that end together.
	late := []*spanrec.Call{
		legCall("p-2", 50000, 50060, "hdr:p"), legCall("p-1", 50001, 50060, "hdr:p"),
		{ID: "p-alone", Start: T0.Add(50000 * time.Second)},
	}
	put(t, db, late...)
	checkLegsSort(t, db, "a batch")
}
