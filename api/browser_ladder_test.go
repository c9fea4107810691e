package api_test

// Browser test of the SIP ladder's column headers on a phone.

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// ladderHeads is a script that returns the ladder's column headers: each
// one's endpoint (data-endpoint), its full text (the <title>), the text of
// its lines as shown, and the box of every line; and the boxes of the
// time column's header and of the scrolling box the ladder sits in.
const ladderHeads = `(() => {
	const box = (el) => { const r = el.getBoundingClientRect(); return { l: r.left, r: r.right, t: r.top, b: r.bottom }; };
	const svg = document.querySelector('.ladder-svg');
	return {
		heads: [...svg.querySelectorAll('.heads .col-head')].map((g) => ({
			endpoint: g.dataset.endpoint,
			title: (g.querySelector(':scope > title') || {}).textContent || '',
			lines: [...g.querySelectorAll('text')].map((t) => t.textContent),
			roles: [...g.querySelectorAll('text')].map((t) => t.classList.contains('col-role')),
			boxes: [...g.querySelectorAll('text')].map(box),
		})),
		time: box(svg.querySelector('.col-time')),
		svg: box(svg),
		ladder: box(document.querySelector('.ladder')),
		pageScrolls: document.documentElement.scrollWidth > window.innerWidth + 1,
	};
})()`

type ladderBox struct{ L, R, T, B float64 }

func (a ladderBox) overlaps(b ladderBox) bool {
	const eps = 0.5 // sub-pixel rounding of adjacent boxes
	return a.L < b.R-eps && b.L < a.R-eps && a.T < b.B-eps && b.T < a.B-eps
}

type ladderHead struct {
	Endpoint string
	Title    string
	Lines    []string
	Roles    []bool // the line names a party, not the address
	Boxes    []ladderBox
}

// TestBrowserLadderHeadersPhone opens every call of the list fixture (IPv4
// and IPv6 endpoints, a proxy between caller and callee, B2BUA legs) at
// 390×844 and checks the SIP ladder's column headers against what the
// ladder API says: one header per endpoint, its address shown whole (on
// two lines, host and port, when it does not fit one; cut with an
// ellipsis only when the host alone is wider than a column, the whole
// address then in its title), the caller's and callee's roles named, and
// no two header lines overlapping (nor the time column's header); the
// page itself never scrolls sideways.
func TestBrowserLadderHeadersPhone(t *testing.T) {
	f := listFixture(t)
	b := newBrowser(t)
	b.do(t, "phone", chromedp.EmulateViewport(390, 844))
	b.open(t, "open the UI", f.srv.URL+"/")
	b.login(t, "sue", password)
	b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
	c := f.login(t, "sue")
	checked := 0
	for _, call := range f.calls {
		var msgs []struct{ Src, Dst string }
		c.getJSON("/api/calls/"+string(call.ID)+"/ladder", 200, &msgs)
		if len(msgs) == 0 {
			continue
		}
		var endpoints []string
		for _, m := range msgs {
			for _, e := range []string{m.Src, m.Dst} {
				if e != "" && !strings.Contains(strings.Join(endpoints, " ")+" ", e+" ") {
					endpoints = append(endpoints, e)
				}
			}
		}
		b.open(t, "open call "+string(call.ID), f.srv.URL+"/#/calls/"+string(call.ID))
		b.waitFor(t, "its ladder", fmt.Sprintf(`location.hash.endsWith(%q) && document.querySelectorAll('.ladder-svg .heads .col-head').length === %d && document.querySelectorAll('.ladder-svg .msg').length === %d`,
			string(call.ID), len(endpoints), len(msgs)))
		got := eval[struct {
			Heads       []ladderHead
			Time        ladderBox
			SVG         ladderBox
			Ladder      ladderBox
			PageScrolls bool
		}](t, b, ladderHeads)
		name := fmt.Sprintf("call %s (%s)", call.ID, call.SIPCallID)
		if got.PageScrolls {
			t.Errorf("%s: the page scrolls sideways", name)
		}
		// Every line's box, with what it is, for the overlap check.
		type line struct {
			what string
			box  ladderBox
		}
		all := []line{{"the time column's header", got.Time}}
		for _, h := range got.Heads {
			if !strings.Contains(strings.Join(endpoints, " ")+" ", h.Endpoint+" ") || h.Endpoint == "" {
				t.Errorf("%s: header for %q, not an endpoint of the ladder %v", name, h.Endpoint, endpoints)
				continue
			}
			if !strings.HasPrefix(h.Title, h.Endpoint) {
				t.Errorf("%s: header %s has title %q, want the whole address first", name, h.Endpoint, h.Title)
			}
			host, port, err := net.SplitHostPort(h.Endpoint)
			if err != nil {
				t.Fatalf("%s: endpoint %q: %v", name, h.Endpoint, err)
			}
			// The address lines: the address whole, or host and port, or
			// the host cut with an ellipsis and the port.
			var addr, roles []string
			for i, l := range h.Lines {
				if h.Roles[i] {
					roles = append(roles, l)
				} else {
					addr = append(addr, l)
				}
			}
			if r := strings.Join(roles, " "); r != "" && !strings.HasPrefix(r, "Caller") && !strings.HasPrefix(r, "Callee") {
				t.Errorf("%s: header %s role lines %q", name, h.Endpoint, roles)
			}
			whole := len(addr) == 1 && addr[0] == h.Endpoint ||
				len(addr) == 2 && addr[0] == strings.TrimSuffix(h.Endpoint, ":"+port) && addr[1] == ":"+port
			cut := len(addr) == 2 && strings.HasSuffix(addr[0], "…") &&
				strings.HasPrefix(strings.TrimSuffix(h.Endpoint, ":"+port), strings.TrimSuffix(addr[0], "…")) && addr[1] == ":"+port
			if !whole && !cut {
				t.Errorf("%s: header %s shows address lines %q", name, h.Endpoint, addr)
			}
			if cut && !strings.Contains(host, ":") {
				t.Errorf("%s: IPv4 header %s cut to %q: a 390 px ladder has room for it", name, h.Endpoint, addr)
			}
			for i, bx := range h.Boxes {
				all = append(all, line{fmt.Sprintf("header %s line %q", h.Endpoint, h.Lines[i]), bx})
				if bx.L < got.SVG.L-0.5 || bx.R > got.SVG.R+0.5 {
					t.Errorf("%s: header %s line %q (%.0f..%.0f) leaves the ladder (%.0f..%.0f)", name, h.Endpoint, h.Lines[i], bx.L, bx.R, got.SVG.L, got.SVG.R)
				}
			}
		}
		for i := range all {
			for j := i + 1; j < len(all); j++ {
				if all[i].box.overlaps(all[j].box) {
					t.Errorf("%s: %s %+v overlaps %s %+v", name, all[i].what, all[i].box, all[j].what, all[j].box)
				}
			}
		}
		// The caller's and callee's columns say who they are.
		roles := ""
		for _, h := range got.Heads {
			roles += strings.Join(h.Lines, " ") + " | "
		}
		if call.Caller.Addr.IsValid() && !strings.Contains(roles, "Caller") {
			t.Errorf("%s: no Caller header in %s", name, roles)
		}
		checked++
		if call.SIPCallID == "1RLuVzzBClYCf2" || len(got.Heads) > 2 {
			b.screenshot(t, fmt.Sprintf("ladder-390-%s.png", call.ID))
		}
	}
	if checked < 5 {
		t.Fatalf("%d calls with a ladder checked, want the fixture's", checked)
	}
	b.check(t)
}
