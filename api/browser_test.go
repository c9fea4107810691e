package api_test

// Browser tests of the web UI in real headless Chromium, driven with
// chromedp over a server that serves the demo capture. They skip when
// Chromium is not installed (Debian: apt-get install chromium). Screenshots
// go to $SPANREC_ARTIFACTS, or test-output/screenshots/ at the repository
// root.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/auth"
)

// chromiumPath returns the Chromium binary, or "" if there is none.
func chromiumPath() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// needChromium returns Chromium's path or skips the test.
func needChromium(t *testing.T) string {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("browser tests skipped: no Chromium (/usr/bin/chromium or chromium on PATH); install it with: apt-get install chromium")
	}
	return path
}

// cspProbe runs before the UI's scripts in every document: it counts the
// Content-Security-Policy violations the page causes.
const cspProbe = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`

// browser is a headless Chromium tab and what it reported on its console.
type browser struct {
	ctx context.Context

	mu       sync.Mutex
	problems []string // uncaught exceptions and CSP reports
}

// newBrowser starts Chromium with a fresh profile; the test skips without
// Chromium. The browser ends with the test.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := needChromium(t)
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1366, 768),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	// Cleanups run last-in first-out: the browser is gone before the
	// profile directory is removed.
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	// The first action starts the browser and binds its life to the context
	// it gets, so that context has no time limit of its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	start, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(start, chromedp.EmulateViewport(1366, 768)); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	if _, err := chromedp.Run(start, func(ctx context.Context, tg *chromedp.Target) (page.AddScriptToEvaluateOnNewDocumentResult, error) {
		return chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe})
	}); err != nil {
		t.Fatal(err)
	}
	b := &browser{ctx: ctx}
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
				b.mu.Lock()
				b.problems = append(b.problems, fmt.Sprintf("%s:%d: %s", m.URL, m.Line+1, m.Text))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// do runs actions with a time limit, failing the test on error.
func (b *browser) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// open navigates to url and, when that is a move to another route of the
// app in the same document (a new #hash), waits until the app has routed:
// such a navigation returns before the page's hashchange handler runs, so
// the previous page's DOM would answer the next waitFor, and be replaced
// while the test reads it (a flake on a loaded machine). The app's router
// clears <main> synchronously in its hashchange listener, which runs
// before the one installed here.
func (b *browser) open(t *testing.T, what, url string) {
	t.Helper()
	n := eval[int](t, b, `(() => { if (window.__routes === undefined) { window.__routes = 0; addEventListener('hashchange', () => { window.__routes++; }); } return window.__routes; })()`)
	same := eval[bool](t, b, fmt.Sprintf(`location.href === %q`, url))
	b.do(t, what, chromedp.Navigate(url))
	if !same {
		// A new document (a first load, another path) has no counter:
		// chromedp waited for its load.
		b.waitFor(t, what+" (routed)", fmt.Sprintf(`window.__routes === undefined || window.__routes > %d`, n))
	}
}

// callPageSettled is true once the parts of the call page that load after
// it are in (the waveform with its quality charts, the notes): until then
// the panels below them move, and a click (at the point where an element
// was measured) may land on another one.
const callPageSettled = `(!document.querySelector('.wave-box') || document.querySelector('.wave-box').dataset.loaded === 'true') && !!document.querySelector('#user-notes li')`

// eval evaluates a JavaScript expression (awaiting a promise) into T.
func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it is true.
func (b *browser) waitFor(t *testing.T, what, js string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	// An element the predicate reads may not exist yet while the page
	// renders: such an exception means "not yet", not a failure.
	guarded := "(() => { try { return (" + js + "); } catch (e) { return false; } })()"
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](guarded, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		state, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.hash + ' | ' + document.title + ' | ' + (document.querySelector('main') || document.body).innerText.slice(0, 300)`))
		t.Fatalf("waiting for %s (%s): %v; page: %s", what, js, err, state)
	}
}

// check fails the test if the page threw or broke its CSP so far.
func (b *browser) check(t *testing.T) {
	t.Helper()
	if v := eval[[]string](t, b, `window.__csp || []`); len(v) > 0 {
		t.Errorf("Content-Security-Policy violations: %q", v)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Errorf("browser console: %s", p)
	}
	b.problems = nil
}

// artifactsDir is where screenshots go: $SPANREC_ARTIFACTS, or
// test-output/screenshots at the repository root.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SPANREC_ARTIFACTS")
	if dir == "" {
		root, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				t.Fatal("no go.mod above the test's directory")
			}
			root = parent
		}
		dir = filepath.Join(root, "test-output", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot saves a full-page PNG of the tab as name.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifactsDir(t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// login signs in through the login form and waits for the call list.
func (b *browser) login(t *testing.T, user, pass string) {
	t.Helper()
	b.waitFor(t, "the login form", `!!document.getElementById('login-user')`)
	eval[chromedp.Void](t, b, `document.getElementById('login-user').value = ''; document.getElementById('login-password').value = ''; document.getElementById('login-error').textContent = ''`)
	b.do(t, "fill the login form",
		chromedp.SendKeys(chromedp.ID("login-user"), user),
		chromedp.SendKeys(chromedp.ID("login-password"), pass+"\n"))
	// The app answers by leaving the login page or by an error. It leaves
	// by replacing the history entry (no hashchange): an open of the same
	// route started before that would wait for a hashchange that never
	// comes (TestBrowserListen failed so on a loaded machine).
	b.waitFor(t, "the login's answer", `!document.getElementById('login-user') || document.getElementById('login-error').textContent !== ''`)
}

// TestBrowser walks through the UI as an admin and as an agent: log in,
// search for a number, open a call with the keyboard, play its audio, read
// the ladder's INVITE, check the audit log has the playback, and see that
// an agent cannot open another extension's call.
func TestBrowser(t *testing.T) {
	needChromium(t)
	// The server first: cleanups run last-in first-out, so the browser
	// (and its open /api/live stream) is gone before the server closes.
	// Live streams check their session every 300 ms (the last step).
	f := newFixture(t, false, func(c *api.Config) { c.LiveRecheck = 300 * time.Millisecond })
	b := newBrowser(t)
	// 205 → 201, answered with audio and two DTMF digits (see testdata/README.md).
	target := f.callWith(t, func(c *spanrec.Call) bool { return c.Caller.Number == "205" && c.Audio != "" })
	other := f.callWith(t, otherCall)
	// Each step needs the one before; stop at the first that fails.
	step := func(name string, fn func(t *testing.T)) {
		if !t.Run(name, fn) {
			t.FailNow()
		}
	}

	step("login", func(t *testing.T) {
		b.open(t, "open the UI", f.srv.URL+"/")
		b.waitFor(t, "the login page", `location.hash === '#/login' && !!document.getElementById('login-user')`)
		b.login(t, "ada", "wrong password")
		b.waitFor(t, "the login error", `document.getElementById('login-error').textContent.includes('Wrong user name or password')`)
		b.login(t, "ada", password)
		b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
		if got := eval[int](t, b, `document.querySelectorAll('#calls tbody tr[data-id]').length`); got != len(f.calls) {
			t.Errorf("call list shows %d rows, want the fixture's %d calls", got, len(f.calls))
		}
		if who := eval[string](t, b, `document.getElementById('who').textContent`); !strings.Contains(who, "ada") || !strings.Contains(who, "admin") {
			t.Errorf("top bar shows %q, want the user and role", who)
		}
		b.screenshot(t, "calls.png")
		b.check(t)
	})

	step("search", func(t *testing.T) {
		b.do(t, "search for 205",
			chromedp.SendKeys(chromedp.ID("number"), "205"),
			chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)))
		b.waitFor(t, "the search result", `location.hash.includes('number=205') && document.querySelectorAll('#calls tbody tr[data-id]').length === 1`)
		row := eval[string](t, b, `document.querySelector('#calls tbody tr[data-id]').innerText`)
		if !strings.Contains(row, "205") || !strings.Contains(row, "201") || !strings.Contains(row, "Answered") {
			t.Errorf("result row %q, want 205 → 201, answered", row)
		}
		if id := eval[string](t, b, `document.querySelector('#calls tbody tr[data-id]').dataset.id`); id != string(target.ID) {
			t.Errorf("result row is call %s, want %s", id, target.ID)
		}
		if v := eval[string](t, b, `document.getElementById('number').value`); v != "205" {
			t.Errorf("number filter shows %q after the search, want 205", v)
		}
	})

	step("open call with Enter", func(t *testing.T) {
		b.do(t, "focus the row and press Enter",
			chromedp.Focus(chromedp.CSS(`#calls tbody tr[data-id]`)),
			chromedp.KeyEvent("\r"))
		b.waitFor(t, "the call page", fmt.Sprintf(`location.hash === '#/calls/%s' && !!document.getElementById('call-title')`, target.ID))
		if title := eval[string](t, b, `document.getElementById('call-title').textContent`); title != "Erin (205) → Alice (201)" {
			t.Errorf("call title %q", title)
		}
		b.waitFor(t, "the waveform", `document.querySelectorAll('.wave canvas').length === 2`)
		// The marks follow the waveform's data: wait for them too.
		b.waitFor(t, fmt.Sprintf("%d DTMF marks on the waveform", len(target.DTMF)),
			fmt.Sprintf(`document.querySelectorAll('.wave .mark-dtmf').length === %d`, len(target.DTMF)))
		// The canvases are drawn: some pixels are not transparent.
		b.waitFor(t, "both waveform canvases drawn", `[...document.querySelectorAll('.wave canvas')].every((c) => {
			const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
			for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
			return false;
		})`)
		if href := eval[string](t, b, `document.getElementById('download-pcap').getAttribute('href')`); href != "/api/calls/"+string(target.ID)+"/pcap" {
			t.Errorf("pcap download link %q", href)
		}
	})

	step("ladder shows the INVITE", func(t *testing.T) {
		b.waitFor(t, "the ladder", `document.querySelectorAll('.ladder-svg .msg').length > 0`)
		b.waitFor(t, "the page settled", callPageSettled)
		first := eval[string](t, b, `document.querySelector('.ladder-svg .msg .msg-label').textContent`)
		if !strings.HasPrefix(first, "INVITE") {
			t.Errorf("first ladder message %q, want the INVITE", first)
		}
		// Select the last message, then click the INVITE: its raw text shows.
		b.do(t, "click the last message", chromedp.Click(chromedp.CSS(`.ladder-svg .msg:last-of-type .hit`)))
		b.waitFor(t, "the last message's text", `document.getElementById('raw').textContent.startsWith('SIP/2.0 200')`)
		b.do(t, "click the INVITE", chromedp.Click(chromedp.CSS(`.ladder-svg .msg .hit`)))
		b.waitFor(t, "the INVITE's text", `document.getElementById('raw').textContent.startsWith('INVITE sip:')`)
		raw := eval[string](t, b, `document.getElementById('raw').textContent`)
		if !strings.Contains(raw, "Call-ID: "+target.SIPCallID) {
			t.Errorf("raw INVITE lacks its Call-ID %s:\n%s", target.SIPCallID, raw)
		}
		if sel := eval[string](t, b, `document.querySelector('.ladder-svg .msg[aria-pressed="true"] .msg-label').textContent`); !strings.HasPrefix(sel, "INVITE") {
			t.Errorf("selected ladder message %q", sel)
		}
	})

	step("audio loads and plays with Space", func(t *testing.T) {
		b.do(t, "focus the page and press Space",
			chromedp.Focus(chromedp.ID("call-title")),
			chromedp.KeyEvent(" "))
		b.waitFor(t, "playback", `(() => { const a = document.getElementById('audio'); return a.readyState >= 2 && !a.paused && a.currentTime > 0.4; })()`)
		dur := eval[float64](t, b, `document.getElementById('audio').duration`)
		if want := float64(target.AudioMS) / 1000; dur < want-0.1 || dur > want+0.1 {
			t.Errorf("audio duration %.3f s, want %.3f", dur, want)
		}
		if l := eval[string](t, b, `document.getElementById('play').getAttribute('aria-label')`); l != "Pause" {
			t.Errorf("play button says %q while playing", l)
		}
		b.waitFor(t, "the playhead to move", `parseFloat(document.querySelector('.playhead').style.left) > 5`)
		b.do(t, "pause with Space", chromedp.KeyEvent(" "))
		b.waitFor(t, "pause", `document.getElementById('audio').paused`)
		// Seek by clicking the middle of the waveform.
		b.do(t, "click the waveform", chromedp.Click(chromedp.CSS(`.wave-lanes`)))
		b.waitFor(t, "the seek", `Math.abs(document.getElementById('audio').currentTime - document.getElementById('audio').duration / 2) < 0.3`)
		b.screenshot(t, "call.png")
		b.check(t)
	})

	step("hold is shaded on the waveform", func(t *testing.T) {
		// The demo's call put on hold (a=sendonly/recvonly): its hold span
		// gets a mark on the held side's lane and a shaded background.
		held := f.callWith(t, func(c *spanrec.Call) bool { return len(c.Holds) > 0 && c.Audio != "" })
		b.open(t, "open the held call", f.srv.URL+"/#/calls/"+string(held.ID))
		b.waitFor(t, "the waveform", `document.querySelectorAll('.wave canvas').length === 2`)
		b.waitFor(t, fmt.Sprintf("%d hold marks", len(held.Holds)),
			fmt.Sprintf(`document.querySelectorAll('.wave .mark-hold').length === %d`, len(held.Holds)))
		lane := 0
		if held.Holds[0].Side == spanrec.CalleeSide {
			lane = 1
		}
		// A pixel in the top row inside the span (above the waveform's
		// peaks) is shaded, one outside it is not.
		audioStart := held.AudioStart
		if audioStart.IsZero() {
			audioStart = held.Answer
		}
		mid := held.Holds[0].Start.Add(held.Holds[0].End.Sub(held.Holds[0].Start) / 2).Sub(audioStart).Seconds()
		dur := float64(held.AudioMS) / 1000
		alpha := func(sec float64) int {
			return eval[int](t, b, fmt.Sprintf(`(() => { const c = document.querySelectorAll('.wave canvas')[%d];
				const x = Math.min(c.width - 1, Math.max(0, Math.round(%f / %f * c.width)));
				return c.getContext('2d').getImageData(x, 0, 1, 1).data[3]; })()`, lane, sec, dur))
		}
		if in, out := alpha(mid), alpha(0.05); in == 0 || out != 0 {
			t.Errorf("hold shading: alpha %d inside the span at %.2f s, %d outside; want shaded inside only", in, mid, out)
		}
		b.screenshot(t, "hold.png")
	})

	step("audit log records the play", func(t *testing.T) {
		evs, _, err := f.db.Events(context.Background(), auth.EventFilter{Action: auth.ActionPlay})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range evs {
			found = found || (e.User == "ada" && e.CallID == string(target.ID))
		}
		if !found {
			t.Fatalf("no play event by ada for %s in %+v", target.ID, evs)
		}
		b.do(t, "open the audit log", chromedp.Click(chromedp.ID("nav-audit")))
		sel := fmt.Sprintf(`[...document.querySelectorAll('#audit tbody tr[data-action="play"]')].some((tr) => tr.innerText.includes('ada') && tr.innerText.includes('%s'))`, target.ID)
		b.waitFor(t, "the play entry in the audit table", sel)
		b.screenshot(t, "audit.png")
	})

	step("agent cannot open another agent's call", func(t *testing.T) {
		b.do(t, "sign out", chromedp.Click(chromedp.ID("logout")))
		b.waitFor(t, "the login page", `location.hash === '#/login' && !!document.getElementById('login-user')`)
		b.login(t, "agnes", password)
		b.waitFor(t, "the agent's call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
		rows := eval[[]string](t, b, `[...document.querySelectorAll('#calls tbody tr[data-id]')].map((tr) => tr.innerText)`)
		for _, r := range rows {
			if !strings.Contains(r, "201") {
				t.Errorf("agent with extension 201 sees a call without it: %q", r)
			}
		}
		b.open(t, "open another extension's call", f.srv.URL+"/#/calls/"+string(other.ID))
		// Another agent's call answers 404, as if it did not exist, so that
		// an agent cannot learn which calls exist (TestNoExistenceLeak).
		b.waitFor(t, "the not-found page", `!!document.querySelector('.error-page')`)
		if code := eval[string](t, b, `document.querySelector('.error-code').dataset.status`); code != "404" {
			t.Errorf("error page for another agent's call shows status %q, want 404", code)
		}
		if h := eval[string](t, b, `document.querySelector('.error-page h1').textContent`); h != "Not found" {
			t.Errorf("error page title %q", h)
		}
		if st := eval[int](t, b, fmt.Sprintf(`fetch('/api/calls/%s/audio').then((r) => r.status)`, other.ID)); st != 404 {
			t.Errorf("agent fetching another call's audio: status %d, want 404", st)
		}
		b.screenshot(t, "forbidden.png")
		b.check(t)
	})

	step("live view", func(t *testing.T) {
		b.do(t, "open the live view", chromedp.Click(chromedp.CSS(`a[data-nav="live"]`)))
		b.waitFor(t, "the live stream", `document.getElementById('live-conn').textContent === 'Connected'`)
		// A call of agnes's extension under an ID of its own, so that its
		// row cannot be one of the latest calls the page lists anyway.
		mine := *f.callWith(t, agnesCall)
		mine.ID = "abcdef0123456789abcd"
		live := mine
		live.Status, live.Answer, live.End, live.Duration = spanrec.Ongoing, time.Time{}, time.Time{}, 0
		f.api.Events().Publish(api.Event{Type: api.EventStart, Call: &live})
		b.waitFor(t, "the ringing call", fmt.Sprintf(`!!document.querySelector('#live-active tr[data-id="%s"] .st-ringing')`, mine.ID))
		answered := live
		answered.Answer = mine.Answer
		f.api.Events().Publish(api.Event{Type: api.EventAnswer, Call: &answered})
		b.waitFor(t, "the answered call", fmt.Sprintf(`!!document.querySelector('#live-active tr[data-id="%s"] .st-talking')`, mine.ID))
		b.screenshot(t, "live.png")
		f.api.Events().Publish(api.Event{Type: api.EventEnd, Call: &mine})
		b.waitFor(t, "the ended call", fmt.Sprintf(`!document.querySelector('#live-active tr[data-id="%s"]') && !!document.querySelector('#live-ended tbody tr:first-child a[href="#/calls/%s"]')`, mine.ID, mine.ID))
		b.check(t)
		b.do(t, "leave the live view", chromedp.Click(chromedp.CSS(`a[data-nav="calls"]`)))
	})

	step("admin deletes a call", func(t *testing.T) {
		victim := f.callWith(t, func(c *spanrec.Call) bool { return c.Status == spanrec.Busy })
		b.do(t, "sign out", chromedp.Click(chromedp.ID("logout")))
		b.login(t, "ada", password)
		b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
		b.open(t, "open the call", f.srv.URL+"/#/calls/"+string(victim.ID))
		b.waitFor(t, "the call page", `!!document.getElementById('call-title') && !!document.getElementById('no-audio')`)
		b.do(t, "ask to delete", chromedp.Click(chromedp.CSS(`.head-actions .btn-danger`)))
		b.waitFor(t, "the confirmation", `!!document.querySelector('dialog[open]')`)
		b.do(t, "confirm", chromedp.Click(chromedp.CSS(`dialog[open] button[value="delete"]`)))
		b.waitFor(t, "the list without the call", fmt.Sprintf(`location.hash === '#/calls' && document.querySelectorAll('#calls tbody tr[data-id]').length > 0 && !document.querySelector('#calls tr[data-id="%s"]')`, victim.ID))
		if _, err := f.db.Call(context.Background(), victim.ID); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			t.Errorf("deleted call still in the index: %v", err)
		}
		evs, _, err := f.db.Events(context.Background(), auth.EventFilter{Action: auth.ActionDelete})
		if err != nil || len(evs) != 1 || evs[0].CallID != string(victim.ID) || evs[0].User != "ada" {
			t.Errorf("audit delete events %+v (%v)", evs, err)
		}
		b.check(t)
	})

	step("the live view stops when the session ends", func(t *testing.T) {
		b.do(t, "open the live view", chromedp.Click(chromedp.CSS(`a[data-nav="live"]`)))
		b.waitFor(t, "the live stream", `document.getElementById('live-conn').textContent === 'Connected'`)
		// A new password ends every session of the user (as deleting
		// the user does): the browser's EventSource gets "unauthorized",
		// its reconnection 401, and it stays closed.
		h, err := auth.HashPassword("another password", cheap)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.db.SetPassword(context.Background(), "ada", h); err != nil {
			t.Fatal(err)
		}
		b.waitFor(t, "the closed stream", `document.getElementById('live-conn').textContent === 'Disconnected — reload the page'`)
		b.check(t)
	})
}
