package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spanrec/spanrec"
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
	b.open(t, "open the UI", f.srv.URL+"/")
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

// TestAgentLegsHidden: an agent is told neither the IDs of a
// conversation's legs that are not theirs nor an interaction ID naming
// one, on the list, the call and nowhere else (404 hides their existence).
func TestAgentLegsHidden(t *testing.T) {
	f := newFixture(t, false, nil)
	withB2BUA(t, f)
	ctx := context.Background()
	calls, err := f.db.Calls(ctx, spanrec.CallFilter{Number: "300"})
	if err != nil || len(calls) != 2 {
		t.Fatalf("B2BUA legs: %d calls, %v", len(calls), err)
	}
	a, b := calls[0], calls[1]
	if a.Start.After(b.Start) {
		a, b = b, a
	}
	// The PBX translated leg B's numbers: only leg A is 3001's call.
	b.Caller.Number, b.Callee.Number = "9001", "9002"
	if err := f.db.PutCall(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.db.Call(ctx, a.ID); len(got.Legs) != 1 || got.Interaction != a.ID {
		t.Fatalf("leg A after the change: legs %v, interaction %s; want leg B, %s", got.Legs, got.Interaction, a.ID)
	}

	ada := f.login(t, "ada")
	for name, ext := range map[string]string{"amy": "3001", "bob": "9001"} {
		res, body := ada.do("POST", "/api/users", map[string]any{"name": name, "role": "agent", "extensions": []string{ext}, "password": password})
		if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
			t.Fatalf("create agent %s: %d %s", name, res.StatusCode, body)
		}
	}
	type view struct {
		ID          string   `json:"id"`
		Interaction string   `json:"interaction"`
		Legs        []string `json:"legs"`
	}
	for name, own := range map[string]*spanrec.Call{"amy": a, "bob": b} {
		other := a
		if own == a {
			other = b
		}
		c := f.login(t, name)
		var one view
		c.getJSON("/api/calls/"+string(own.ID), http.StatusOK, &one)
		var list struct{ Calls []view }
		c.getJSON("/api/calls?limit=500", http.StatusOK, &list)
		if len(list.Calls) != 1 {
			t.Fatalf("%s sees %d calls, want 1", name, len(list.Calls))
		}
		for where, v := range map[string]view{"call": one, "list": list.Calls[0]} {
			if len(v.Legs) != 0 || v.Interaction != string(own.ID) {
				t.Errorf("%s, %s: legs %v, interaction %s; want none and %s", name, where, v.Legs, v.Interaction, own.ID)
			}
			if strings.Contains(fmt.Sprint(v), string(other.ID)) {
				t.Errorf("%s, %s: the other leg's ID %s leaks", name, where, other.ID)
			}
		}
		res, body := c.do("GET", "/api/calls/"+string(other.ID), nil)
		wantError(t, name+" opens the other leg", res, body, http.StatusNotFound)
	}
	// A supervisor still sees the conversation whole.
	var whole view
	f.login(t, "sue").getJSON("/api/calls/"+string(b.ID), http.StatusOK, &whole)
	if len(whole.Legs) != 1 || whole.Legs[0] != string(a.ID) || whole.Interaction != string(a.ID) {
		t.Errorf("supervisor: legs %v, interaction %s; want %s for both", whole.Legs, whole.Interaction, a.ID)
	}
}
