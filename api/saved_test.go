package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/spanrec/spanrec"
)

type savedSearch struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Query string `json:"query"`
}

func TestSavedSearches(t *testing.T) {
	f := newFixture(t, false, nil)
	sue, agnes := f.login(t, "sue"), f.login(t, "agnes")
	list := func(c *client) []savedSearch {
		t.Helper()
		var out struct{ Searches []savedSearch }
		c.getJSON("/api/searches", http.StatusOK, &out)
		return out.Searches
	}
	save := func(c *client, name, query string, want int) savedSearch {
		t.Helper()
		res, body := c.do("POST", "/api/searches", map[string]string{"name": name, "query": query})
		var s savedSearch
		if res.StatusCode != want {
			t.Fatalf("save %q %q: %d %s, want %d", name, query, res.StatusCode, body, want)
		}
		if want == http.StatusOK {
			if err := json.Unmarshal(body, &s); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	if got := list(sue); len(got) != 0 {
		t.Fatalf("a new user has saved searches %v", got)
	}
	// The page (offset, limit) is not part of a search.
	a := save(sue, "Answered from 201", "?number=201&status=answered&offset=50&limit=25", http.StatusOK)
	if a.Query != "number=201&status=answered" || a.ID == 0 {
		t.Errorf("saved %+v", a)
	}
	b := save(sue, "Lossy", "has_loss=true&sort=-mos", http.StatusOK)
	// The same name replaces the search and keeps its ID.
	a2 := save(sue, "Answered from 201", "number=201&status=answered&direction=inbound", http.StatusOK)
	if a2.ID != a.ID || a2.Query != "direction=inbound&number=201&status=answered" {
		t.Errorf("replaced %+v, was %+v", a2, a)
	}
	if got := list(sue); len(got) != 2 || got[0].Name != "Answered from 201" || got[1].ID != b.ID {
		t.Errorf("list %+v", got)
	}
	// The saved query searches as the list does.
	want := 0
	for _, c := range f.calls {
		if (strings.Contains(c.Caller.Number, "201") || strings.Contains(c.Callee.Number, "201")) &&
			c.Status == spanrec.Answered && c.Direction == spanrec.Inbound {
			want++
		}
	}
	var page struct{ Total int }
	sue.getJSON("/api/calls?"+a2.Query, http.StatusOK, &page)
	if page.Total != want || want == 0 {
		t.Errorf("saved search lists %d calls, want %d", page.Total, want)
	}
	// Searches are per user: agnes sees none of sue's and cannot delete them.
	if got := list(agnes); len(got) != 0 {
		t.Errorf("agnes sees %v", got)
	}
	res, body := agnes.do("DELETE", fmt.Sprintf("/api/searches/%d", a.ID), nil)
	wantError(t, "another user's search", res, body, http.StatusNotFound)
	save(agnes, "Mine", "number=201", http.StatusOK)

	for _, bad := range []struct{ name, query string }{
		{"", "number=1"}, {"x", "status=ringing"}, {"x", "nope=1"}, {"x", "number=%zz"},
		{string(make([]byte, 65)), "number=1"}, {"tab\there", "number=1"},
	} {
		res, body := sue.do("POST", "/api/searches", map[string]string{"name": bad.name, "query": bad.query})
		wantError(t, fmt.Sprintf("save %q %q", bad.name, bad.query), res, body, http.StatusBadRequest)
	}
	// At most 50 per user.
	for i := len(list(sue)); i < 50; i++ {
		save(sue, fmt.Sprintf("s%02d", i), fmt.Sprintf("number=%d", i), http.StatusOK)
	}
	res, body = sue.do("POST", "/api/searches", map[string]string{"name": "one too many", "query": "number=1"})
	wantError(t, "51st search", res, body, http.StatusConflict)
	save(sue, "Lossy", "has_loss=false", http.StatusOK) // replacing is still allowed

	res, body = sue.do("DELETE", fmt.Sprintf("/api/searches/%d", b.ID), nil)
	if res.StatusCode != http.StatusNoContent {
		t.Errorf("delete: %d %s", res.StatusCode, body)
	}
	for _, s := range list(sue) {
		if s.ID == b.ID {
			t.Error("deleted search still listed")
		}
	}
	res, body = sue.do("DELETE", "/api/searches/x", nil)
	wantError(t, "bad ID", res, body, http.StatusBadRequest)
	sue.csrf = ""
	res, body = sue.do("DELETE", fmt.Sprintf("/api/searches/%d", a.ID), nil)
	wantError(t, "no CSRF token", res, body, http.StatusForbidden)
}
