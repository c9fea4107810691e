package api_test

// Browser tests of the call list: its layout at four widths (no sideways
// scroll, the key columns on screen, no cell over another, checked on the
// page's boxes and on the screenshot itself), sorting by a header, the
// column chooser, the flags and the outcome columns, on the real captures
// of listFixture.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// layoutProbe measures the call list as laid out: the page's and the
// table's overflow, whether rows are cards, and for each row the boxes of
// the cells that must stay on screen, plus any two cells of a row that
// overlap.
const layoutProbe = `(() => {
  const vw = document.documentElement.clientWidth;
  const table = document.getElementById('calls');
  const scroll = table.parentElement;
  const rows = [...table.querySelectorAll('tbody tr[data-id]')];
  const key = ['col-talk', 'col-status', 'col-codec', 'col-quality'];
  const out = {
    viewport: vw, pageWidth: document.documentElement.scrollWidth,
    tableWidth: table.scrollWidth, scrollWidth: scroll.clientWidth,
    cards: table.classList.contains('cards'), rows: rows.length, problems: [], boxes: [],
  };
  // The columns' widths as a table, for the failure messages.
  const wasCards = table.classList.contains('cards');
  table.classList.remove('cards');
  out.natural = table.scrollWidth + ' px: ' + [...table.querySelectorAll('thead th')].map((th) => th.className + ' ' + Math.round(th.getBoundingClientRect().width)).join(', ');
  if (wasCards) table.classList.add('cards');
  rows.forEach((tr, i) => {
    const cells = [...tr.children].filter((td) => !td.hidden);
    for (const k of key) {
      const td = tr.querySelector('td.' + k);
      if (!td) { out.problems.push('row ' + i + ': no ' + k); continue; }
      const r = td.getBoundingClientRect();
      if (r.width <= 0 || r.height <= 0) out.problems.push('row ' + i + ' ' + k + ': empty box');
      if (r.left < -0.5 || r.right > vw + 0.5) out.problems.push('row ' + i + ' ' + k + ': box ' + r.left.toFixed(1) + '..' + r.right.toFixed(1) + ' outside 0..' + vw);
      if (td.scrollWidth > td.clientWidth + 1) out.problems.push('row ' + i + ' ' + k + ': content clipped (' + td.scrollWidth + ' > ' + td.clientWidth + ')');
      if (i === 0) out.boxes.push({ col: k, x: r.left, y: r.top + window.scrollY, w: r.width, h: r.height });
    }
    for (let a = 0; a < cells.length; a++) {
      const ra = cells[a].getBoundingClientRect();
      for (let b = a + 1; b < cells.length; b++) {
        const rb = cells[b].getBoundingClientRect();
        const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
        const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
        if (w > 0.5 && h > 0.5) out.problems.push('row ' + i + ': ' + cells[a].className + ' overlaps ' + cells[b].className);
      }
    }
  });
  return JSON.stringify(out);
})()`

type layout struct {
	Viewport    int      `json:"viewport"`
	PageWidth   int      `json:"pageWidth"`
	TableWidth  int      `json:"tableWidth"`
	ScrollWidth int      `json:"scrollWidth"`
	Cards       bool     `json:"cards"`
	Natural     string   `json:"natural"`
	Rows        int      `json:"rows"`
	Problems    []string `json:"problems"`
	Boxes       []struct {
		Col string  `json:"col"`
		X   float64 `json:"x"`
		Y   float64 `json:"y"`
		W   float64 `json:"w"`
		H   float64 `json:"h"`
	} `json:"boxes"`
}

// TestBrowserCallListLayout opens the call list at 1920, 1280 and 800 px
// and on a 390×844 phone: the page never scrolls sideways, talk time,
// status, codec and quality are inside the viewport on every row, no cell
// covers another, and the full-page screenshot is exactly the viewport
// wide with the first row's status pill drawn where the page says it is.
func TestBrowserCallListLayout(t *testing.T) {
	f := listFixture(t)
	b := newBrowser(t)
	b.open(t, "open the UI", f.srv.URL+"/")
	b.login(t, "sue", password)
	b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
	eval[chromedp.Void](t, b, `localStorage.removeItem('spanrec.calls.columns')`)

	for _, vp := range []struct {
		name          string
		width, height int64
		mobile        bool
		cards         bool // rows folded into cards
	}{
		{"1920", 1920, 1080, false, false},
		{"1280", 1280, 800, false, false},
		{"800", 800, 900, false, true},
		{"phone-390x844", 390, 844, true, true},
	} {
		t.Run(vp.name, func(t *testing.T) {
			opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
			if vp.mobile {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
			}
			b.do(t, "resize", chromedp.EmulateViewport(vp.width, vp.height, opts...))
			b.do(t, "load the list", chromedp.Navigate(f.srv.URL+"/#/calls?limit=100"), chromedp.Reload())
			b.waitFor(t, "the rows", fmt.Sprintf(`document.querySelectorAll('#calls tbody tr[data-id]').length === %d`, min(len(f.calls), 100)))
			var l layout
			if err := json.Unmarshal([]byte(eval[string](t, b, layoutProbe)), &l); err != nil {
				t.Fatal(err)
			}
			if l.Viewport != int(vp.width) {
				t.Fatalf("viewport %d px, want %d", l.Viewport, vp.width)
			}
			if l.PageWidth > l.Viewport {
				t.Errorf("page is %d px wide in a %d px viewport: it scrolls sideways", l.PageWidth, l.Viewport)
			}
			if l.TableWidth > l.ScrollWidth+1 {
				t.Errorf("table is %d px wide in its %d px box: columns hidden behind a scroll", l.TableWidth, l.ScrollWidth)
			}
			if l.Cards != vp.cards {
				t.Errorf("rows as cards: %v, want %v (as a table: %s in %d px)", l.Cards, vp.cards, l.Natural, l.ScrollWidth)
			}
			for _, p := range l.Problems {
				t.Error(p)
			}
			name := "calls-" + vp.name + ".png"
			b.screenshot(t, name)
			checkScreenshot(t, filepath.Join(artifactsDir(t), name), int(vp.width), l)
			b.check(t)
		})
	}
	b.do(t, "reset the viewport", chromedp.EmulateViewport(1366, 768))
}

// checkScreenshot decodes the PNG at path and compares it with the layout
// the page reported: as wide as the viewport (nothing beyond it), and the
// first row's key cells drawn (not one flat colour) inside the image.
func checkScreenshot(t *testing.T, path string, width int, l layout) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if got := img.Bounds().Dx(); got != width {
		t.Errorf("%s is %d px wide, want the viewport's %d", path, got, width)
	}
	if len(l.Boxes) == 0 {
		t.Fatalf("%s: no boxes to compare", path)
	}
	for _, box := range l.Boxes {
		r := image.Rect(int(box.X), int(box.Y), int(box.X+box.W), int(box.Y+box.H))
		if !r.In(img.Bounds()) {
			t.Errorf("%s: %s's box %v is not inside the screenshot %v", path, box.Col, r, img.Bounds())
			continue
		}
		colours := map[[3]uint32]bool{}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				cr, cg, cb, _ := img.At(x, y).RGBA()
				colours[[3]uint32{cr >> 8, cg >> 8, cb >> 8}] = true
			}
		}
		if len(colours) < 2 {
			t.Errorf("%s: %s's box %v is one flat colour: nothing drawn there", path, box.Col, r)
		}
	}
}

// TestBrowserCallListColumns sorts by clicking headers, chooses columns
// (kept across a reload), and reads the flags and outcome columns.
func TestBrowserCallListColumns(t *testing.T) {
	f := listFixture(t)
	b := newBrowser(t)
	b.do(t, "wide window", chromedp.EmulateViewport(1920, 1080))
	b.open(t, "open the UI", f.srv.URL+"/")
	b.login(t, "sue", password)
	b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
	eval[chromedp.Void](t, b, `localStorage.removeItem('spanrec.calls.columns')`)
	b.do(t, "all calls", chromedp.Navigate(f.srv.URL+"/#/calls?limit=100"), chromedp.Reload())
	b.waitFor(t, "the rows", fmt.Sprintf(`document.querySelectorAll('#calls tbody tr[data-id]').length === %d`, len(f.calls)))

	rowIDs := `[...document.querySelectorAll('#calls tbody tr[data-id]')].map((tr) => tr.dataset.id).join(' ')`
	apiIDs := func(sort string) string {
		return eval[string](t, b, fmt.Sprintf(`fetch('/api/calls?limit=100&sort=%s').then((r) => r.json()).then((p) => p.calls.map((c) => c.id).join(' '))`, sort))
	}
	ariaSort := func(col string) string {
		return eval[string](t, b, fmt.Sprintf(`document.querySelector('th.col-%s').getAttribute('aria-sort') || ''`, col))
	}
	if got := ariaSort("time"); got != "descending" {
		t.Errorf("Time header aria-sort %q by default, want descending", got)
	}
	for _, c := range []struct{ col, key string }{{"caller", "caller"}, {"quality", "mos"}, {"pdd", "pdd"}, {"codec", "codec"}} {
		b.do(t, "click the "+c.col+" header", chromedp.Click(chromedp.CSS(`th.col-`+c.col+` button.sort`)))
		b.waitFor(t, "sort="+c.key, fmt.Sprintf(`location.hash.includes('sort=%s') && document.querySelector('th.col-%s').getAttribute('aria-sort') === 'ascending'`, c.key, c.col))
		b.waitFor(t, "the rows", fmt.Sprintf(`document.querySelectorAll('#calls tbody tr[data-id]').length === %d`, len(f.calls)))
		if got, want := eval[string](t, b, rowIDs), apiIDs(c.key); got != want {
			t.Errorf("after clicking %s: rows %s, want the API's sort=%s order %s", c.col, got, c.key, want)
		}
		if got := ariaSort("time"); got != "" {
			t.Errorf("Time header still has aria-sort %q", got)
		}
		b.do(t, "click it again", chromedp.Click(chromedp.CSS(`th.col-`+c.col+` button.sort`)))
		b.waitFor(t, "sort=-"+c.key, fmt.Sprintf(`location.hash.includes('sort=-%s') && document.querySelector('th.col-%s').getAttribute('aria-sort') === 'descending'`, c.key, c.col))
		b.waitFor(t, "the rows", fmt.Sprintf(`document.querySelectorAll('#calls tbody tr[data-id]').length === %d`, len(f.calls)))
		if got, want := eval[string](t, b, rowIDs), apiIDs("-"+c.key); got != want {
			t.Errorf("after clicking %s twice: rows %s, want the API's sort=-%s order %s", c.col, got, c.key, want)
		}
	}
	// Every header is a sort button but Flags' (several flags a call: no
	// one order), whose header says so and offers no sort affordance.
	if got := eval[string](t, b, `[...document.querySelectorAll('#calls thead th[class*="col-"]')].filter(th => !th.querySelector('button.sort')).map(th => [...th.classList].find(c => c.startsWith('col-'))).sort().join(' ')`); got != "col-flags" {
		t.Errorf("headers without a sort button: %q, want the Flags column only", got)
	}
	if got := eval[string](t, b, `document.querySelector('th.col-flags').title`); !strings.Contains(got, "not sorted") {
		t.Errorf("Flags header title %q: does not say the list is not sorted by it", got)
	}
	if n := eval[int](t, b, `document.querySelectorAll('th.col-flags .sort-mark, th.col-flags button').length`); n != 0 {
		t.Errorf("Flags header has %d sort affordances", n)
	}
	// Each header's sort key is one the API takes, both ways.
	for _, key := range eval[[]string](t, b, `[...document.querySelectorAll('#calls thead button.sort')].map((btn) => btn.dataset.sort)`) {
		for _, sort := range []string{key, "-" + key} {
			if code := eval[int](t, b, fmt.Sprintf(`fetch('/api/calls?limit=1&sort=%s').then((r) => r.status)`, sort)); code != 200 {
				t.Errorf("header sort key %q: GET /api/calls?sort=%s answers %d", key, sort, code)
			}
		}
	}
	// The Sensor column (hidden by default): shown, its header sorts by
	// the recorder's name, calls without one last.
	b.do(t, "open the column chooser", chromedp.Click(chromedp.CSS(`#columns > summary`)))
	b.do(t, "show Sensor", chromedp.Click(chromedp.ID("col-sensor")))
	b.do(t, "close the column chooser", chromedp.Click(chromedp.CSS(`#columns > summary`)))
	b.waitFor(t, "the Sensor column", `!!document.querySelector('#calls th.col-sensor:not([hidden]) button.sort')`)
	b.do(t, "click the sensor header", chromedp.Click(chromedp.CSS(`th.col-sensor button.sort`)))
	b.waitFor(t, "sort=sensor", `location.hash.includes('sort=sensor') && document.querySelector('th.col-sensor').getAttribute('aria-sort') === 'ascending'`)
	b.waitFor(t, "the rows", fmt.Sprintf(`document.querySelectorAll('#calls tbody tr[data-id]').length === %d`, len(f.calls)))
	if got, want := eval[string](t, b, rowIDs), apiIDs("sensor"); got != want {
		t.Errorf("after clicking Sensor: rows %s, want the API's sort=sensor order %s", got, want)
	}
	sensors := eval[string](t, b, `[...document.querySelectorAll('#calls tbody td.col-sensor')].map((td) => td.textContent).join(' ')`)
	if first := strings.Fields(sensors); len(first) == 0 || first[0] != "sensor-a" || first[len(first)-1] != "–" || !strings.Contains(sensors, "sensor-a sensor-b") {
		t.Errorf("sensor cells in sort=sensor order: %s", sensors)
	}
	b.do(t, "click it again", chromedp.Click(chromedp.CSS(`th.col-sensor button.sort`)))
	b.waitFor(t, "sort=-sensor", `location.hash.includes('sort=-sensor') && document.querySelector('th.col-sensor').getAttribute('aria-sort') === 'descending'`)
	b.waitFor(t, "the rows", fmt.Sprintf(`document.querySelectorAll('#calls tbody tr[data-id]').length === %d`, len(f.calls)))
	if got, want := eval[string](t, b, rowIDs), apiIDs("-sensor"); got != want {
		t.Errorf("after clicking Sensor twice: rows %s, want the API's sort=-sensor order %s", got, want)
	}
	if got := eval[string](t, b, `document.querySelector('#calls tbody td.col-sensor').textContent`); got != "sensor-b" {
		t.Errorf("first sensor cell in sort=-sensor order %q, want sensor-b", got)
	}
	eval[chromedp.Void](t, b, `localStorage.removeItem('spanrec.calls.columns')`)

	// Outcome columns and flags, by Call-ID (the row's call).
	rowOf := func(callID string) string {
		for _, c := range f.calls {
			if c.SIPCallID == callID {
				return fmt.Sprintf(`document.querySelector('#calls tr[data-id="%s"]')`, c.ID)
			}
		}
		t.Fatalf("no call %s", callID)
		return ""
	}
	// A tag put on the nb6 call shows as a flag too.
	var nb6ID string
	for _, c := range f.calls {
		if c.SIPCallID == "1135D8701739D86@10.251.23.139" {
			nb6ID = string(c.ID)
		}
	}
	if res, body := f.login(t, "sue").do("PUT", "/api/calls/"+nb6ID+"/tags/escalated", nil); res.StatusCode/100 != 2 {
		t.Fatalf("tag the call: %d %s", res.StatusCode, body)
	}
	b.open(t, "back to the default order", f.srv.URL+"/#/calls?limit=100")
	b.waitFor(t, "the rows", fmt.Sprintf(`document.querySelectorAll('#calls tbody tr[data-id]').length === %d && !location.hash.includes('sort')`, len(f.calls)))
	nb6 := rowOf("1135D8701739D86@10.251.23.139")
	if got := eval[string](t, b, nb6+`.querySelector('td.col-pdd').textContent`); got != "0.35 s" {
		t.Errorf("nb6-telephone PDD cell %q, want 0.35 s (348 ms)", got)
	}
	if got := eval[string](t, b, nb6+`.querySelector('td.col-hangup').textContent`); got != "Caller" {
		t.Errorf("nb6-telephone hung up by %q, want Caller", got)
	}
	if got := eval[string](t, b, nb6+`.querySelector('[data-flag="tags"]').getAttribute('aria-label')`); got != "Tags: escalated" {
		t.Errorf("nb6-telephone's tags flag %q", got)
	}
	decline := rowOf("5514@192.168.105.110")
	if got := eval[string](t, b, decline+`.querySelector('td.col-hangup').textContent`); got != "Callee" {
		t.Errorf("603 Decline hung up by %q, want Callee", got)
	}
	if got := eval[string](t, b, decline+`.querySelector('td.col-status .pill').title`); got != "SIP 603 Decline" {
		t.Errorf("603 status tooltip %q", got)
	}
	dtmf := rowOf("25672@192.168.105.110")
	if got := eval[string](t, b, dtmf+`.querySelector('[data-flag="dtmf"]').getAttribute('aria-label')`); !strings.HasPrefix(got, "DTMF: ") {
		t.Errorf("SIP_DTMF2 call's DTMF flag %q", got)
	}
	// Each flag has its text: a role=img with the same aria-label and title.
	flags := eval[[]string](t, b, `[...document.querySelectorAll('#calls [data-flag]')].map((e) => e.getAttribute('role') + '|' + e.getAttribute('aria-label') + '|' + e.title + '|' + e.dataset.flag)`)
	kinds := map[string]int{}
	for _, fl := range flags {
		p := strings.Split(fl, "|")
		if len(p) != 4 || p[0] != "img" || p[1] == "" || p[1] != p[2] {
			t.Errorf("flag %q lacks its text alternative", fl)
		}
		kinds[p[3]]++
	}
	for _, k := range []string{"audio", "dtmf", "loss", "notes", "tags"} {
		if kinds[k] == 0 {
			t.Errorf("no %s flag in the list (flags %v)", k, kinds)
		}
	}
	if n := eval[int](t, b, `[...document.querySelectorAll('#calls tbody td')].filter((td) => td.textContent.trim() === '!').length`); n != 0 {
		t.Errorf("%d cells show a lone \"!\"", n)
	}

	// The column chooser: hide Codec, show Ring time; kept after a reload.
	b.do(t, "open the column chooser", chromedp.Click(chromedp.CSS(`#columns > summary`)))
	b.do(t, "hide Codec", chromedp.Click(chromedp.ID("col-codec")))
	b.do(t, "show Ring time", chromedp.Click(chromedp.ID("col-ring")))
	b.waitFor(t, "the columns", `!document.querySelector('#calls th.col-codec:not([hidden])') && !!document.querySelector('#calls th.col-ring:not([hidden])')`)
	if n := eval[int](t, b, `[...document.querySelectorAll('#calls td.col-codec')].filter((td) => td.getBoundingClientRect().width > 0).length`); n != 0 {
		t.Errorf("%d codec cells still take room", n)
	}
	b.screenshot(t, "calls-columns.png")
	if got := eval[string](t, b, `localStorage.getItem('spanrec.calls.columns')`); !strings.Contains(got, `"ring"`) || strings.Contains(got, `"codec"`) {
		t.Errorf("stored columns %s", got)
	}
	b.do(t, "reload", chromedp.Reload())
	b.waitFor(t, "the rows", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
	if got := eval[string](t, b, `document.getElementById('calls').dataset.columns`); strings.Contains(got, "codec") || !strings.Contains(got, "ring") {
		t.Errorf("after a reload the columns are %q", got)
	}
	if got := eval[string](t, b, nb6+`.querySelector('td.col-ring').textContent`); got != "0.04 s" {
		t.Errorf("nb6-telephone ring time cell %q, want 0.04 s (43 ms)", got)
	}
	b.do(t, "open the column chooser", chromedp.Click(chromedp.CSS(`#columns > summary`)))
	b.do(t, "default columns", chromedp.Click(chromedp.CSS(`#columns .col-menu button`)))
	b.waitFor(t, "the default columns", `!!document.querySelector('#calls th.col-codec:not([hidden])') && !document.querySelector('#calls th.col-ring:not([hidden])')`)
	b.check(t)
}
