package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/api"
)

// stoppedPage is GET /api/calls as the search-stop tests read it.
type stoppedPage struct {
	Calls []struct {
		ID     string
		Caller string
		Callee string
	}
	Total         int
	TotalMore     bool  `json:"total_more"`
	TotalExact    *bool `json:"total_exact"`
	SearchStopped *struct {
		Examined int
		Reason   string
	} `json:"search_stopped"`
}

// TestCallsSearchStopped: a search of the call list that no index serves
// (a number of one character) examines only the newest calls (here 3 of
// the demo's 7; an agent's newest 2 of their own), lists and counts the
// matching calls among them, and says so (search_stopped, total_exact
// false); within the bound, and for a search an index serves, the answer
// is complete and exact as before. /metrics counts the stops.
func TestCallsSearchStopped(t *testing.T) {
	f := newFixture(t, false, func(c *api.Config) { c.SearchScan = 3 })
	all, err := f.db.Calls(t.Context(), spanrec.CallFilter{}) // newest first
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 7 {
		t.Fatalf("demo: %d calls, want 7", len(all))
	}
	// matching returns the IDs of calls (newest first), up to the first n
	// examined, whose numbers contain s.
	matching := func(calls []*spanrec.Call, n int, s string) []string {
		var out []string
		for _, c := range calls[:min(n, len(calls))] {
			if strings.Contains(c.Caller.Number+" "+c.Callee.Number, s) {
				out = append(out, string(c.ID))
			}
		}
		return out
	}
	from := url.QueryEscape(all[1].Start.Format("2006-01-02T15:04:05.999999999Z07:00"))
	newest3 := matching(all, 3, "5")
	if len(newest3) == 0 || len(newest3) == len(matching(all, 7, "5")) {
		t.Fatalf("demo: calls with a 5 among the newest 3: %v; want some, and more beyond", newest3)
	}
	sue := f.login(t, "sue")
	for _, tt := range []struct {
		query    string
		want     []string
		total    int
		examined int // 0: not stopped
	}{
		{"?number=5", newest3, len(newest3), 3},
		{"?number=5&limit=1&offset=1", newest3[1:2], len(newest3), 3},
		{"?number=5&sort=start", reversed(newest3), len(newest3), 3},
		{"?number=555", matching(all, 7, "555"), len(matching(all, 7, "555")), 0},        // an index serves it
		{"?number=5&from=" + from, matching(all, 2, "5"), len(matching(all, 2, "5")), 0}, // 2 calls in the range: complete
	} {
		checkStopped(t, sue, tt.query, tt.want, tt.total, tt.examined)
	}
	// An agent's search examines the agent's newest calls: agnes has 3
	// (extension 201), a bound of 2 stops before the oldest.
	f2 := newFixture(t, false, func(c *api.Config) { c.SearchScan = 2 })
	var agnes []*spanrec.Call
	for _, c := range all {
		if c.Caller.Number == "201" || c.Callee.Number == "201" {
			agnes = append(agnes, c)
		}
	}
	if len(agnes) != 3 {
		t.Fatalf("demo: agnes has %d calls, want 3", len(agnes))
	}
	mine := matching(agnes, 2, "5")
	checkStopped(t, f2.login(t, "agnes"), "?number=5", mine, len(mine), 2)

	var metrics string
	ada := f.login(t, "ada")
	if _, body, err := ada.get("/metrics"); err != nil {
		t.Fatal(err)
	} else {
		metrics = string(body)
	}
	if !strings.Contains(metrics, "\nspanrec_search_stopped_total 3\n") {
		t.Errorf("/metrics: no spanrec_search_stopped_total 3 in\n%s", metrics)
	}
}

func checkStopped(t *testing.T, c *client, query string, want []string, total, examined int) {
	t.Helper()
	var p stoppedPage
	c.getJSON("/api/calls"+query, http.StatusOK, &p)
	var got []string
	for _, x := range p.Calls {
		got = append(got, x.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("GET /api/calls%s: %v, want %v", query, got, want)
	}
	stopped := 0
	if p.SearchStopped != nil {
		stopped = p.SearchStopped.Examined
		if !strings.Contains(p.SearchStopped.Reason, "fewer than 3 characters") {
			t.Errorf("GET /api/calls%s: reason %q", query, p.SearchStopped.Reason)
		}
	}
	if stopped != examined || p.TotalExact == nil || *p.TotalExact != (examined == 0) || p.TotalMore || p.Total != total {
		t.Errorf("GET /api/calls%s: search_stopped %+v, total %d, total_exact %v, total_more %v; want %d examined, total %d",
			query, p.SearchStopped, p.Total, p.TotalExact, p.TotalMore, examined, total)
	}
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

// TestBrowserSearchStopped: the call list says plainly that a search no
// index serves stopped (how many calls it searched, why, what to do), and
// its count says "among the newest"; a search an index serves shows no
// such line.
func TestBrowserSearchStopped(t *testing.T) {
	f := newFixture(t, false, func(c *api.Config) { c.SearchScan = 3 })
	b := newBrowser(t)
	b.open(t, "open the UI", f.srv.URL+"/")
	b.login(t, "sue", password)
	b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)

	line := `document.querySelector('#search-stopped')`
	b.open(t, "a one-character number", f.srv.URL+"/#/calls?number=5")
	b.waitFor(t, "the stop said", line+` && !`+line+`.hidden && `+line+`.innerText.includes('Searched only the newest 3 calls: the number "5": a text of fewer than 3 characters cannot use the index — type more or narrow the time range.')`)
	b.waitFor(t, "the count among the newest", `document.querySelector('#result-count').innerText.includes('among the newest 3')`)
	if !eval[bool](t, b, `(() => { const r = document.querySelector('#search-stopped').getBoundingClientRect(); return r.width > 0 && r.height > 0; })()`) {
		t.Error("the line is not visible")
	}

	b.open(t, "a number an index serves", f.srv.URL+"/#/calls?number=555")
	b.waitFor(t, "the exact count", `document.querySelector('#result-count').innerText.includes(' of 4 calls')`)
	if eval[bool](t, b, line+` && !`+line+`.hidden`) {
		t.Error("a search an index serves says it stopped")
	}
	b.check(t)
}
