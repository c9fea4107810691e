package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// TestAnnotations tags and notes demo calls as an agent and a supervisor:
// tags and notes are stored, searchable (tag=, note=), audited with who
// did what, bounded, and an agent can touch only calls it may see.
func TestAnnotations(t *testing.T) {
	f := newFixture(t, false, nil)
	agnes := f.login(t, "agnes")
	sue := f.login(t, "sue")
	ada := f.login(t, "ada")
	mine := f.callWith(t, agnesCall)
	other := f.callWith(t, otherCall)

	// An agent tags her own call; the tag is canonical lower case.
	res, body := agnes.do("PUT", "/api/calls/"+string(mine.ID)+"/tags/Complaint", nil)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("agent tags her call: %d %s", res.StatusCode, body)
	}
	if res, _ := agnes.do("PUT", "/api/calls/"+string(mine.ID)+"/tags/complaint", nil); res.StatusCode != http.StatusOK {
		t.Errorf("tagging again: %d, want 200 (no change)", res.StatusCode)
	}
	sue.do("PUT", "/api/calls/"+string(mine.ID)+"/tags/billing", nil)
	// Another extension's call is not there for her, as for every route.
	res, body = agnes.do("PUT", "/api/calls/"+string(other.ID)+"/tags/complaint", nil)
	wantError(t, "agent tags another's call", res, body, http.StatusNotFound)
	res, body = agnes.do("POST", "/api/calls/"+string(other.ID)+"/notes", map[string]string{"text": "sneaky"})
	wantError(t, "agent notes another's call", res, body, http.StatusNotFound)
	for _, bad := range []string{"a%20b", "x%3Cscript%3E", strings.Repeat("t", 41)} {
		res, body = sue.do("PUT", "/api/calls/"+string(mine.ID)+"/tags/"+bad, nil)
		wantError(t, "bad tag "+bad, res, body, http.StatusBadRequest)
	}
	// Without the CSRF header a cookie session cannot change anything.
	noCSRF := *agnes
	noCSRF.csrf = ""
	res, body = noCSRF.do("PUT", "/api/calls/"+string(mine.ID)+"/tags/x", nil)
	wantError(t, "tag without CSRF token", res, body, http.StatusForbidden)

	var got struct {
		Tags []string `json:"tags"`
	}
	sue.getJSON("/api/calls/"+string(mine.ID), http.StatusOK, &got)
	if fmt.Sprint(got.Tags) != "[billing complaint]" {
		t.Errorf("call's tags %q, want [billing complaint]", got.Tags)
	}

	// Notes: written, listed oldest first with author and time.
	res, body = agnes.do("POST", "/api/calls/"+string(mine.ID)+"/notes", map[string]string{"text": "  Customer asked for a REFUND of the March invoice.  "})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("agent writes a note: %d %s", res.StatusCode, body)
	}
	var n1 spanrec.CallNote
	if err := json.Unmarshal(body, &n1); err != nil || n1.ID == 0 || n1.User != "agnes" || n1.Text != "Customer asked for a REFUND of the March invoice." || n1.At.IsZero() {
		t.Fatalf("new note %s (%v)", body, err)
	}
	res, body = sue.do("POST", "/api/calls/"+string(mine.ID)+"/notes", map[string]string{"text": "Called back, resolved."})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("supervisor writes a note: %d %s", res.StatusCode, body)
	}
	var n2 spanrec.CallNote
	json.Unmarshal(body, &n2)
	res, body = sue.do("POST", "/api/calls/"+string(mine.ID)+"/notes", map[string]string{"text": strings.Repeat("x", 2001)})
	wantError(t, "too long a note", res, body, http.StatusBadRequest)
	res, body = sue.do("POST", "/api/calls/"+string(mine.ID)+"/notes", map[string]string{"text": "   "})
	wantError(t, "empty note", res, body, http.StatusBadRequest)
	var list struct{ Notes []spanrec.CallNote }
	agnes.getJSON("/api/calls/"+string(mine.ID)+"/notes", http.StatusOK, &list)
	if len(list.Notes) != 2 || list.Notes[0].ID != n1.ID || list.Notes[1].User != "sue" {
		t.Errorf("notes %+v", list.Notes)
	}

	// Search by tag and by text in notes, ignoring case; an agent's search
	// stays within her calls.
	search := func(cl *client, q string) []string {
		t.Helper()
		var page struct {
			Calls []struct {
				ID string `json:"id"`
			} `json:"calls"`
			Total int `json:"total"`
		}
		cl.getJSON("/api/calls?"+q, http.StatusOK, &page)
		var ids []string
		for _, c := range page.Calls {
			ids = append(ids, c.ID)
		}
		if page.Total != len(ids) {
			t.Errorf("%s: total %d, %d calls", q, page.Total, len(ids))
		}
		return ids
	}
	sue.do("PUT", "/api/calls/"+string(other.ID)+"/tags/billing", nil)
	if ids := search(sue, "tag=BILLING"); len(ids) != 2 {
		t.Errorf("tag=billing finds %v, want the 2 tagged calls", ids)
	}
	if ids := search(agnes, "tag=billing"); len(ids) != 1 || ids[0] != string(mine.ID) {
		t.Errorf("agent's tag=billing finds %v, want only her call %s", ids, mine.ID)
	}
	if ids := search(sue, "note="+url.QueryEscape("refund of")); len(ids) != 1 || ids[0] != string(mine.ID) {
		t.Errorf("note=refund of finds %v, want %s", ids, mine.ID)
	}
	if ids := search(sue, "note=100%25"); len(ids) != 0 {
		t.Errorf("note=100%% finds %v: the LIKE wildcard is not escaped", ids)
	}
	if ids := search(sue, "tag=complaint&note=resolved"); len(ids) != 1 {
		t.Errorf("tag and note together find %v", ids)
	}

	// Deleting: an agent not her own note (403), the author or an admin yes.
	res, body = agnes.do("DELETE", fmt.Sprintf("/api/calls/%s/notes/%d", mine.ID, n2.ID), nil)
	wantError(t, "agent deletes sue's note", res, body, http.StatusForbidden)
	if res, body := agnes.do("DELETE", fmt.Sprintf("/api/calls/%s/notes/%d", mine.ID, n1.ID), nil); res.StatusCode != http.StatusNoContent {
		t.Errorf("author deletes her note: %d %s", res.StatusCode, body)
	}
	if res, body := ada.do("DELETE", fmt.Sprintf("/api/calls/%s/notes/%d", mine.ID, n2.ID), nil); res.StatusCode != http.StatusNoContent {
		t.Errorf("admin deletes a note: %d %s", res.StatusCode, body)
	}
	res, body = ada.do("DELETE", fmt.Sprintf("/api/calls/%s/notes/%d", mine.ID, n2.ID), nil)
	wantError(t, "delete a deleted note", res, body, http.StatusNotFound)
	if res, _ := agnes.do("DELETE", "/api/calls/"+string(mine.ID)+"/tags/complaint", nil); res.StatusCode != http.StatusNoContent {
		t.Errorf("remove tag: %d", res.StatusCode)
	}
	res, body = agnes.do("DELETE", "/api/calls/"+string(mine.ID)+"/tags/complaint", nil)
	wantError(t, "remove a removed tag", res, body, http.StatusNotFound)

	// The audit trail says who added and removed what.
	evs, _, err := f.db.Events(context.Background(), auth.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range evs {
		switch e.Action {
		case auth.ActionTagAdd, auth.ActionTagRemove, auth.ActionNoteAdd, auth.ActionNoteDelete:
			if e.CallID != string(mine.ID) {
				continue
			}
			trail = append(trail, e.User+" "+e.Action+" "+e.Detail)
		}
	}
	want := []string{
		"agnes tag_add complaint",
		"sue tag_add billing",
		fmt.Sprintf("agnes note_add note %d: Customer asked for a REFUND of the March invoice.", n1.ID),
		fmt.Sprintf("sue note_add note %d: Called back, resolved.", n2.ID),
		fmt.Sprintf("agnes note_delete note %d by agnes: Customer asked for a REFUND of the March invoice.", n1.ID),
		fmt.Sprintf("ada note_delete note %d by sue: Called back, resolved.", n2.ID),
		"agnes tag_remove complaint",
	}
	// Events come newest first.
	for i, j := 0, len(trail)-1; i < j; i, j = i+1, j-1 {
		trail[i], trail[j] = trail[j], trail[i]
	}
	if strings.Join(trail, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit trail:\n%s\nwant:\n%s", strings.Join(trail, "\n"), strings.Join(want, "\n"))
	}

	// Re-importing the call (PutCall of the same ID) keeps its tags.
	if err := f.db.PutCall(context.Background(), mine); err != nil {
		t.Fatal(err)
	}
	sue.getJSON("/api/calls/"+string(mine.ID), http.StatusOK, &got)
	if fmt.Sprint(got.Tags) != "[billing]" {
		t.Errorf("tags after the call is indexed again: %q, want [billing]", got.Tags)
	}

	// At most 20 tags; the 21st is refused and counted.
	for i := range 19 {
		sue.do("PUT", fmt.Sprintf("/api/calls/%s/tags/t%d", mine.ID, i), nil)
	}
	res, body = sue.do("PUT", "/api/calls/"+string(mine.ID)+"/tags/one-too-many", nil)
	wantError(t, "21st tag", res, body, http.StatusConflict)
}
