package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/api"
)

// testCap is where GET /api/calls stops counting in the tests that use
// withManyCalls (api.SetTotalCap; 10,000 otherwise), and manyCalls how many
// copies of a demo call withManyCalls adds: more than testCap, and a last
// page of 20 at 50 a page.
const (
	testCap   = 1_000
	manyCalls = testCap + 20
)

var (
	manyOnce sync.Once
	manyFix  *fixture
)

// withManyCalls returns a read-only fixture whose index holds, besides
// the demo's calls, manyCalls copies of its first call (new IDs, one a
// second, inbound, sensor "many"), shared by the tests that read it.
func withManyCalls(t *testing.T) *fixture {
	t.Helper()
	manyOnce.Do(func() {
		f := newFixture(sharedTB{t}, false, nil)
		src := f.calls[0]
		// By the batch, as a recorder stores them: a commit a call cost
		// most of this fixture's time under -race.
		var batch []*spanrec.Call
		for i := range manyCalls {
			c := *src
			c.Start = src.Start.Add(time.Duration(i+1) * time.Second)
			c.ID = spanrec.NewCallID(fmt.Sprintf("many-%d@%s", i, src.SIPCallID), c.Start)
			c.Interaction, c.LinkKeys = "", nil
			// A Call-ID of its own: copies of one call would all be one
			// another's legs (TestExportCSVLarge).
			c.SIPCallID = fmt.Sprintf("many-%d@example.com", i)
			c.Direction, c.Sensor = spanrec.Inbound, "many"
			batch = append(batch, &c)
			if len(batch) == 500 || i == manyCalls-1 {
				if err := f.db.PutCalls(t.Context(), batch); err != nil {
					t.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		manyFix = f
	})
	if manyFix == nil {
		t.Fatal("fixture with many calls failed")
	}
	return manyFix
}

// TestCallsTotalCapped: the total of GET /api/calls is exact up to its cap
// of matching calls and "more than" the cap past that, except the total of
// all calls, which stays exact.
func TestCallsTotalCapped(t *testing.T) {
	api.SetTotalCap(t, testCap)
	f := withManyCalls(t)
	all, err := f.db.Count(t.Context(), spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if all != len(f.calls)+manyCalls {
		t.Fatalf("index holds %d calls, want %d", all, len(f.calls)+manyCalls)
	}
	c := f.login(t, "sue")
	type page struct {
		Calls     []struct{ ID string }
		Total     int
		TotalMore *bool `json:"total_more"`
		Offset    int
	}
	src := f.calls[0]
	window := fmt.Sprintf("?sensor=many&from=%s&to=%s", src.Start.Add(time.Second).Format(time.RFC3339Nano), src.Start.Add(101*time.Second).Format(time.RFC3339Nano))
	for _, tt := range []struct {
		query string
		total int
		more  bool
		calls int
	}{
		{"", all, false, 50},                 // all: exact although above the cap
		{"?sort=-direction", all, false, 50}, // sorted: still all
		{"?sensor=many", testCap, true, 50},  // counted up to the cap
		{fmt.Sprintf("?sensor=many&sort=-pdd&offset=%d", testCap), testCap, true, 20},
		{window, 100, false, 50},
		{"?sensor=many&direction=outbound", 0, false, 0},
	} {
		var p page
		c.getJSON("/api/calls"+tt.query, http.StatusOK, &p)
		if p.TotalMore == nil || p.Total != tt.total || *p.TotalMore != tt.more || len(p.Calls) != tt.calls {
			more := "absent"
			if p.TotalMore != nil {
				more = fmt.Sprint(*p.TotalMore)
			}
			t.Errorf("GET /api/calls%s: total %d, total_more %s, %d calls; want %d, %v, %d", tt.query, p.Total, more, len(p.Calls), tt.total, tt.more, tt.calls)
		}
	}
}

// TestBrowserCallListCapped: with more matching calls than the cap (here
// 1,000) the call list says "more than 1,000", its pager does not claim a
// last page and "next" walks on past the 20th page until a page comes back
// short; with an exact total it shows the count and the number of pages.
func TestBrowserCallListCapped(t *testing.T) {
	api.SetTotalCap(t, testCap)
	f := withManyCalls(t)
	b := newBrowser(t)
	b.open(t, "open the UI", f.srv.URL+"/")
	b.login(t, "sue", password)
	b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)

	status := `document.querySelector('.table-head').innerText`
	pageNo := `document.querySelector('.page-no').textContent`
	nextOn := `document.querySelector('a[rel=next]').hasAttribute('href')`
	b.open(t, "the sensor's calls", f.srv.URL+"/#/calls?sensor=many")
	b.waitFor(t, "the capped count", status+`.includes('1–50 of more than 1,000 calls')`)
	if got := eval[string](t, b, pageNo); got != "Page 1 of more than 20" {
		t.Errorf("pager says %q, want Page 1 of more than 20", got)
	}
	if !eval[bool](t, b, nextOn) {
		t.Error("next is disabled on the first of more than 20 pages")
	}
	b.open(t, "page 20", f.srv.URL+"/#/calls?sensor=many&offset=950")
	b.waitFor(t, "page 20", status+`.includes('951–1000 of more than 1,000 calls')`)
	b.do(t, "click next", chromedp.Click(chromedp.CSS(`a[rel=next]`)))
	b.waitFor(t, "page 21", status+`.includes('1001–1020 of more than 1,000 calls')`)
	if got := eval[string](t, b, pageNo); got != "Page 21" {
		t.Errorf("pager says %q past the cap, want Page 21", got)
	}
	if eval[bool](t, b, nextOn) {
		t.Error("next is enabled on a short page")
	}
	if !eval[bool](t, b, `document.querySelector('a[rel=prev]').hasAttribute('href')`) {
		t.Error("previous is disabled on page 21")
	}

	b.open(t, "all calls", f.srv.URL+"/#/calls")
	all := len(f.calls) + manyCalls
	b.waitFor(t, "the exact count of all", fmt.Sprintf(`%s.includes('1–50 of %d calls')`, status, all))
	if got, want := eval[string](t, b, pageNo), fmt.Sprintf("Page 1 of %d", (all+49)/50); got != want {
		t.Errorf("pager says %q, want %q", got, want)
	}
	b.check(t)
}
