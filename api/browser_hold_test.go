package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/spanrec/spanrec"
)

// TestBrowserLegalHold: an admin puts a call under legal hold from its
// page, with a reason, and releases it; the badge shows the hold; a
// supervisor sees the badge but no button.
func TestBrowserLegalHold(t *testing.T) {
	needChromium(t)
	f := newFixture(t, false, nil)
	call := f.callWith(t, func(c *spanrec.Call) bool { return c.Audio != "" })
	b := newBrowser(t)
	b.open(t, "open the UI", f.srv.URL+"/")
	b.login(t, "ada", password)
	b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
	b.open(t, "open the call", fmt.Sprintf("%s/#/calls/%s", f.srv.URL, call.ID))
	b.waitFor(t, "the hold button", `document.getElementById('hold-toggle')?.textContent === 'Legal hold…'`)
	if eval[bool](t, b, `!!document.getElementById('hold-badge')`) {
		t.Error("a hold badge on a call that is not held")
	}
	b.do(t, "hold the call", chromedp.Click(chromedp.ID("hold-toggle")))
	b.waitFor(t, "the dialog", `!!document.querySelector('dialog[open] #hold-reason')`)
	b.do(t, "give a reason and confirm",
		chromedp.SendKeys(chromedp.ID("hold-reason"), "case 42"),
		chromedp.Click(chromedp.ID("hold-ok")))
	b.waitFor(t, "the badge", `(document.getElementById('hold-badge')?.textContent || '').includes('case 42')`)
	if c, err := f.db.Call(context.Background(), call.ID); err != nil || c.LegalHold == nil || c.LegalHold.By != "ada" || c.LegalHold.Reason != "case 42" {
		t.Fatalf("index after the click: %+v, %v", c, err)
	}
	if got := eval[string](t, b, `document.getElementById('hold-toggle').textContent`); got != "Release hold…" {
		t.Errorf("button after holding: %q", got)
	}
	b.screenshot(t, "legal-hold.png")
	b.check(t)

	// A supervisor sees that it is held, and cannot change it.
	s := newBrowser(t)
	s.open(t, "open the UI", f.srv.URL+"/")
	s.login(t, "sue", password)
	s.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
	s.open(t, "open the call", fmt.Sprintf("%s/#/calls/%s", f.srv.URL, call.ID))
	s.waitFor(t, "the badge", `!!document.getElementById('hold-badge')`)
	if eval[bool](t, s, `!!document.getElementById('hold-toggle')`) {
		t.Error("a supervisor has the hold button")
	}
	s.check(t)

	b.do(t, "release", chromedp.Click(chromedp.ID("hold-toggle")))
	b.waitFor(t, "the dialog", `!!document.querySelector('dialog[open] #hold-ok')`)
	b.do(t, "confirm", chromedp.Click(chromedp.ID("hold-ok")))
	b.waitFor(t, "the badge gone", `!document.getElementById('hold-badge') && document.getElementById('hold-toggle').textContent === 'Legal hold…'`)
	if c, err := f.db.Call(context.Background(), call.ID); err != nil || c.LegalHold != nil {
		t.Errorf("index after release: %+v, %v", c.LegalHold, err)
	}
	if page := eval[string](t, b, `document.body.innerText`); !strings.Contains(page, "released") {
		t.Logf("no toast text found (it may have gone): %.200s", page)
	}
	b.check(t)
}
