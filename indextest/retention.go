package indextest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// retentionLeg returns a call that starts at T0+start, lasts a minute,
// carries the link keys keys and names two files.
func retentionLeg(id string, start time.Duration, keys ...string) *spanrec.Call {
	c := FullCall(time.UTC)
	c.ID, c.SIPCallID, c.Interaction = spanrec.CallID(id), id, spanrec.CallID(id)
	c.Start, c.End = T0.Add(start), T0.Add(start+time.Minute)
	c.LinkKeys = keys
	c.Audio, c.PCAP = "recordings/"+id+".wav", "recordings/"+id+".pcapng"
	return c
}

func interactions(t *testing.T, db Index, ids ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, id := range ids {
		c, err := db.Call(context.Background(), spanrec.CallID(id))
		if err != nil {
			t.Fatal(err)
		}
		out[id] = string(c.Interaction)
	}
	return out
}

// testDeleteRegroupsLegs deletes legs of a conversation of three (a-b
// share one key, b-c another): the others never name a deleted call as
// their interaction and stay linked only through what is left.
func (s *suite) testDeleteRegroupsLegs(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		del  string
		want map[string]string
	}{
		// The earliest leg, which named the interaction: b and c are
		// still linked by their key; b is now the earliest.
		{"a", map[string]string{"b": "b", "c": "b"}},
		// The bridge: a and c shared nothing else.
		{"b", map[string]string{"a": "a", "c": "c"}},
		{"c", map[string]string{"a": "a", "b": "a"}},
	} {
		t.Run("delete "+tc.del, func(t *testing.T) {
			db := s.fresh(t)
			put(t, db, retentionLeg("a", 0, "hdr:x"), retentionLeg("b", time.Second, "hdr:x", "hdr:y"),
				retentionLeg("c", 2*time.Second, "hdr:y"), retentionLeg("z", time.Hour, "hdr:z"))
			if got := interactions(t, db, "a", "b", "c"); got["a"] != "a" || got["b"] != "a" || got["c"] != "a" {
				t.Fatalf("before: %v, want all a", got)
			}
			if err := db.DeleteCall(ctx, spanrec.CallID(tc.del)); err != nil {
				t.Fatal(err)
			}
			var left []string
			for id := range tc.want {
				left = append(left, id)
			}
			slices.Sort(left)
			if got := interactions(t, db, left...); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("after deleting %s: %v, want %v", tc.del, got, tc.want)
			}
			for _, id := range left {
				c, _ := db.Call(ctx, spanrec.CallID(id))
				if slices.Contains(c.Legs, spanrec.CallID(tc.del)) {
					t.Errorf("%s still lists deleted leg %s: %v", id, tc.del, c.Legs)
				}
			}
			if got := interactions(t, db, "z"); got["z"] != "z" {
				t.Errorf("unrelated call's interaction changed: %v", got)
			}
			checkLegsSort(t, db, "after deleting "+tc.del)
		})
	}
}

// testLegalHoldDeletion: a held call keeps its hold through a re-index
// and refuses a deletion; a begun deletion refuses a hold, survives a
// reopen, and finishes with the row, the regrouped legs and one audit
// entry.
func (s *suite) testLegalHoldDeletion(t *testing.T) {
	ctx := context.Background()
	name := s.store()
	db := s.open(t, name)
	put(t, db, retentionLeg("a", 0, "hdr:x"), retentionLeg("b", time.Second, "hdr:x"))
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hold := &spanrec.LegalHold{By: "alice", At: at, Reason: "case 42"}
	if err := db.SetLegalHold(ctx, "nope", hold); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("hold of a missing call: %v, want ENOTFOUND", err)
	}
	if err := db.SetLegalHold(ctx, "a", hold); err != nil {
		t.Fatal(err)
	}
	c, err := db.Call(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if c.LegalHold == nil || *c.LegalHold != *hold {
		t.Errorf("LegalHold = %+v, want %+v", c.LegalHold, hold)
	}
	// Indexing the call again (a second import) keeps the hold.
	put(t, db, retentionLeg("a", 0, "hdr:x"))
	if c, _ := db.Call(ctx, "a"); c.LegalHold == nil {
		t.Error("PutCall dropped the legal hold")
	}
	cs, err := db.Calls(ctx, spanrec.CallFilter{Sort: spanrec.SortStart})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].LegalHold == nil || cs[1].LegalHold != nil {
		t.Errorf("Calls: holds not loaded as set: %+v", cs)
	}
	d := spanrec.Deletion{Call: "a", At: at, By: "retention", Reason: "rule x", Files: []string{"recordings/a.wav"}}
	if err := db.BeginDeletion(ctx, d); spanrec.ErrorKind(err) != spanrec.ECONFLICT {
		t.Errorf("BeginDeletion of a held call: %v, want ECONFLICT", err)
	}
	if ds, _ := db.PendingDeletions(ctx); len(ds) != 0 {
		t.Errorf("a refused deletion left an intent: %+v", ds)
	}
	if err := db.BeginDeletion(ctx, spanrec.Deletion{Call: "nope"}); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("BeginDeletion of a missing call: %v, want ENOTFOUND", err)
	}
	if err := db.SetLegalHold(ctx, "a", nil); err != nil {
		t.Fatal(err)
	}
	if err := db.BeginDeletion(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := db.SetLegalHold(ctx, "a", hold); spanrec.ErrorKind(err) != spanrec.ECONFLICT {
		t.Errorf("hold of a call being deleted: %v, want ECONFLICT", err)
	}
	// The intent outlives the process.
	db.Close()
	db = s.open(t, name)
	ds, err := db.PendingDeletions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Call != "a" || ds[0].By != "retention" || !ds[0].At.Equal(at) || !slices.Equal(ds[0].Files, d.Files) {
		t.Errorf("PendingDeletions = %+v, want %+v", ds, d)
	}
	if _, err := db.Call(ctx, "a"); err != nil {
		t.Errorf("the row must stay until FinishDeletion: %v", err)
	}
	if err := db.FinishDeletion(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Call(ctx, "a"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("Call after FinishDeletion: %v", err)
	}
	if got := interactions(t, db, "b"); got["b"] != "b" {
		t.Errorf("remaining leg's interaction %v, want its own", got)
	}
	checkLegsSort(t, db, "after FinishDeletion")
	if ds, _ := db.PendingDeletions(ctx); len(ds) != 0 {
		t.Errorf("intent left after FinishDeletion: %+v", ds)
	}
	if err := db.FinishDeletion(ctx, "a"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("second FinishDeletion: %v, want ENOTFOUND", err)
	}
	es, _, err := db.Events(ctx, auth.EventFilter{Action: auth.ActionDelete})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].User != "retention" || es[0].CallID != "a" || es[0].Detail != "rule x; files: recordings/a.wav" {
		t.Errorf("audit = %+v, want one delete by retention of a", es)
	}
}
