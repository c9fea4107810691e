package api_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/spanrec/spanrec"
)

// downloads lets the browser save downloads into a new directory.
func (b *browser) downloads(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
	}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitFile waits for a finished (not empty) download whose name ends
// with suffix in dir and returns its name and contents.
func waitFile(t *testing.T, dir, suffix string) (string, []byte) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir(dir)
		busy := false // Chromium writes NAME.crdownload, beside an empty NAME
		for _, e := range ents {
			busy = busy || strings.HasSuffix(e.Name(), ".crdownload")
		}
		for _, e := range ents {
			if info, err := e.Info(); !busy && err == nil && info.Size() > 0 && strings.HasSuffix(e.Name(), suffix) {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				os.Remove(filepath.Join(dir, e.Name()))
				return e.Name(), b
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s download in %s", suffix, dir)
	return "", nil
}

// TestBrowserExport: in the call list, "Export CSV" saves the current
// search, and checking rows then "Download selected" saves their
// recordings in a ZIP.
func TestBrowserExport(t *testing.T) {
	needChromium(t)
	f := newFixture(t, false, nil)
	b := newBrowser(t)
	dir := b.downloads(t)
	step := func(name string, fn func(t *testing.T)) {
		if !t.Run(name, fn) {
			t.FailNow()
		}
	}
	step("login and search", func(t *testing.T) {
		b.open(t, "open the UI", f.srv.URL+"/#/calls?status=answered")
		b.login(t, "sue", password)
		b.waitFor(t, "the answered calls", `location.hash.includes('status=answered') && document.querySelectorAll('#calls tbody tr[data-id]').length > 0 && !!document.getElementById('export-csv')`)
	})
	var answered []*spanrec.Call
	for _, c := range f.calls {
		if c.Status == spanrec.Answered {
			answered = append(answered, c)
		}
	}

	step("export CSV", func(t *testing.T) {
		b.do(t, "click Export CSV", chromedp.Click(chromedp.ID("export-csv")))
		name, body := waitFile(t, dir, ".csv")
		if !strings.HasPrefix(name, "calls_") {
			t.Errorf("CSV saved as %q", name)
		}
		rows := readCSV(t, body)
		var got, want []string
		for _, r := range rows {
			got = append(got, r["id"])
		}
		for _, c := range answered {
			want = append(want, string(c.ID))
		}
		if !slices.Equal(got, want) {
			t.Errorf("CSV has calls %v, want the answered ones %v", got, want)
		}
	})

	step("download selected", func(t *testing.T) {
		if n := eval[int](t, b, `document.querySelectorAll('#calls tbody input.sel-box').length`); n != len(answered) {
			t.Fatalf("%d checkboxes for %d rows", n, len(answered))
		}
		if !eval[bool](t, b, `document.getElementById('download-selected').disabled`) {
			t.Error("Download selected is enabled with nothing selected")
		}
		// Check the first two rows; the click must not open the call.
		b.do(t, "check two rows",
			chromedp.Click(chromedp.CSS(`#calls tbody tr:nth-child(1) input.sel-box`)),
			chromedp.Click(chromedp.CSS(`#calls tbody tr:nth-child(2) input.sel-box`)),
			chromedp.Click(chromedp.ID("sel-pcap")))
		if h := eval[string](t, b, `location.hash`); !strings.HasPrefix(h, "#/calls?") {
			t.Fatalf("checking a row navigated to %s", h)
		}
		if s := eval[string](t, b, `document.getElementById('sel-count').textContent`); s != "2 selected" {
			t.Errorf("selection count %q", s)
		}
		b.do(t, "click Download selected", chromedp.Click(chromedp.ID("download-selected")))
		name, body := waitFile(t, dir, ".zip")
		if !strings.HasPrefix(name, "calls_") {
			t.Errorf("ZIP saved as %q", name)
		}
		files := unzip(t, body)
		for _, c := range answered[:2] {
			want, err := os.ReadFile(filepath.Join(f.dir, c.Audio))
			if err != nil {
				t.Fatal(err)
			}
			if got := files[fileName(c, ".wav")]; !bytes.Equal(got, want) {
				t.Errorf("%s: %d bytes in the ZIP, %d on disk", fileName(c, ".wav"), len(got), len(want))
			}
			if _, ok := files[fileName(c, ".pcapng")]; !ok {
				t.Errorf("no capture of %s in the ZIP", c.ID)
			}
		}
		if len(files) != 4 {
			t.Errorf("ZIP has %d files, want 2 recordings and 2 captures", len(files))
		}
		// The page stayed where it was.
		if h := eval[string](t, b, `location.hash`); !strings.Contains(h, "status=answered") {
			t.Errorf("after the download the page is %s", h)
		}
		b.screenshot(t, "calls-selection.png")
		b.check(t)
	})

	step("search by IP address", func(t *testing.T) {
		// The demo's call from Erin (205) came from 203.0.113.50.
		b.do(t, "search for 203.0.113.50",
			chromedp.SendKeys(chromedp.ID("ip"), "203.0.113.50"),
			chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)))
		b.waitFor(t, "the one call", `location.hash.includes('ip=203.0.113.50') && document.querySelectorAll('#calls tbody tr[data-id]').length === 1`)
		if id := eval[string](t, b, `document.querySelector('#calls tbody tr[data-id]').dataset.id`); id != "39004915f88bacf87ef8" {
			t.Errorf("ip=203.0.113.50 lists call %s", id)
		}
		if href := eval[string](t, b, `document.getElementById('export-csv').getAttribute('href')`); !strings.Contains(href, "ip=203.0.113.50") {
			t.Errorf("Export CSV links to %s", href)
		}
		b.open(t, "back to the answered calls", f.srv.URL+"/#/calls?status=answered")
		b.waitFor(t, "the answered calls", fmt.Sprintf(`location.hash === '#/calls?status=answered' && document.querySelectorAll('#calls tbody tr[data-id]').length === %d && document.getElementById('ip').value === ''`, len(answered)))
	})

	step("save a search", func(t *testing.T) {
		b.waitFor(t, "the saved searches", `document.getElementById('saved-search').options.length === 1`)
		b.do(t, "name and save the search",
			chromedp.SendKeys(chromedp.ID("saved-name"), "Answered calls"),
			chromedp.Click(chromedp.ID("saved-save")))
		b.waitFor(t, "the saved search in the list", `[...document.getElementById('saved-search').options].some((o) => o.text === 'Answered calls' && o.selected)`)
		saved, err := f.db.SavedSearches(context.Background(), "sue")
		if err != nil || len(saved) != 1 || saved[0].Name != "Answered calls" || saved[0].Query != "status=answered" {
			t.Fatalf("the index has %+v, %v", saved, err)
		}
	})

	step("apply a saved search", func(t *testing.T) {
		b.open(t, "reset the filters", f.srv.URL+"/#/calls")
		b.waitFor(t, "every call", fmt.Sprintf(`location.hash === '#/calls' && document.querySelectorAll('#calls tbody tr[data-id]').length === %d`, len(f.calls)))
		b.waitFor(t, "the saved searches", `document.getElementById('saved-search').options.length === 2`)
		eval[chromedp.Void](t, b, `(() => { const s = document.getElementById('saved-search'); s.value = s.options[1].value; s.dispatchEvent(new Event('change')); })()`)
		b.waitFor(t, "the answered calls", fmt.Sprintf(`location.hash === '#/calls?status=answered' && document.querySelectorAll('#calls tbody tr[data-id]').length === %d`, len(answered)))
		if v := eval[string](t, b, `document.getElementById('status').value`); v != "answered" {
			t.Errorf("status filter shows %q", v)
		}
		b.screenshot(t, "calls-saved-search.png")
	})

	step("delete a saved search", func(t *testing.T) {
		b.waitFor(t, "the saved search chosen", `document.getElementById('saved-search').value !== '' && !document.getElementById('saved-delete').disabled`)
		b.do(t, "delete it", chromedp.Click(chromedp.ID("saved-delete")))
		b.waitFor(t, "no saved search", `document.getElementById('saved-search').options.length === 1`)
		if saved, err := f.db.SavedSearches(context.Background(), "sue"); err != nil || len(saved) != 0 {
			t.Errorf("the index still has %+v, %v", saved, err)
		}
		b.check(t)
	})
}
