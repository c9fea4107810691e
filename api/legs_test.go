package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spanrec/spanrec/pcaptest"
)

// withB2BUA imports a B2BUA conversation (two legs, direct media, phones
// 3001 and 3002) into the fixture's data directory.
func withB2BUA(t *testing.T, f *fixture) {
	t.Helper()
	b := pcaptest.B2BUA{
		Caller: pcaptest.Endpoint{Number: "3001", SIP: netip.MustParseAddr("10.9.1.1")},
		Callee: pcaptest.Endpoint{Number: "3002", SIP: netip.MustParseAddr("10.9.2.1")},
		PBX:    netip.MustParseAddr("10.9.0.5"), DirectMedia: true,
	}
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, pcaptest.Options{Seed: 3, Start: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), Calls: b.Legs(0)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "b2bua.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	importInto(t, f.db, f.dir, path)
}

// TestCallsByInteraction: a B2BUA conversation (two legs, direct media)
// beside the demo's calls is one row with group=interaction, and
// interaction=ID lists its legs.
func TestCallsByInteraction(t *testing.T) {
	f := newFixture(t, false, nil)
	withB2BUA(t, f)
	c := f.login(t, "sue")

	type page struct {
		Calls []struct {
			ID          string   `json:"id"`
			Caller      string   `json:"caller"`
			Interaction string   `json:"interaction"`
			Legs        []string `json:"legs"`
		} `json:"calls"`
		Total int `json:"total"`
	}
	var all, grouped, legs page
	c.getJSON("/api/calls?limit=500", http.StatusOK, &all)
	c.getJSON("/api/calls?limit=500&group=interaction", http.StatusOK, &grouped)
	if grouped.Total != all.Total-1 || len(grouped.Calls) != all.Total-1 {
		t.Errorf("group=interaction: total %d, %d calls; want %d (the two legs as one)", grouped.Total, len(grouped.Calls), all.Total-1)
	}
	var first string
	for _, x := range all.Calls {
		if x.Caller == "3001" {
			first = x.ID
			if len(x.Legs) != 1 {
				t.Errorf("leg A %s: legs %v, want leg B", x.ID, x.Legs)
			}
		}
	}
	if first == "" {
		t.Fatal("leg A not indexed")
	}
	c.getJSON("/api/calls?interaction="+first, http.StatusOK, &legs)
	if legs.Total != 2 || len(legs.Calls) != 2 {
		t.Errorf("interaction=%s: %d calls, want 2", first, legs.Total)
	}
	for _, x := range legs.Calls {
		if x.Interaction != first {
			t.Errorf("call %s: interaction %q, want %s", x.ID, x.Interaction, first)
		}
	}
	for _, q := range []string{"group=caller", "interaction=", "group=interaction&group=interaction"} {
		res, body := c.do("GET", "/api/calls?"+q, nil)
		wantError(t, q, res, body, http.StatusBadRequest)
	}
}

// TestBrowserLegs: in a real Chromium, the call list shows "2 legs" on
// each leg of the B2BUA conversation, the grouped view one row for it, and
// the link lists both legs.
func TestBrowserLegs(t *testing.T) {
	needChromium(t)
	f := newFixture(t, false, nil)
	withB2BUA(t, f)
	b := newBrowser(t)
	b.do(t, "open the UI", chromedp.Navigate(f.srv.URL+"/"))
	b.waitFor(t, "the login page", `!!document.getElementById('login-user')`)
	b.login(t, "sue", password)
	rows := `document.querySelectorAll('#calls tbody tr[data-id]').length`
	b.waitFor(t, "the call list", rows+` > 0`)
	n := eval[int](t, b, rows)
	if got := eval[int](t, b, `[...document.querySelectorAll('#calls td.legs a')].filter((a) => a.textContent === '2 legs').length`); got != 2 {
		t.Errorf("%d rows show '2 legs', want the two legs", got)
	}
	b.do(t, "one row per conversation",
		chromedp.SetValue(chromedp.ID("group"), "interaction"),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)))
	b.waitFor(t, "the grouped list", fmt.Sprintf(`location.hash.includes('group=interaction') && %s === %d`, rows, n-1))
	b.screenshot(t, "calls-grouped.png")
	b.do(t, "open the legs", chromedp.Click(chromedp.CSS(`#calls td.legs a`)))
	b.waitFor(t, "the legs of the conversation", `location.hash.includes('interaction=') && `+rows+` === 2`)
	b.check(t)
}
