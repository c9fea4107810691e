package api_test

// Browser tests of the admin pages, the dashboard, the shortcuts, the UTC
// option and the layout of every main page at three screen sizes in both
// themes.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// emulate sets the viewport and the colour scheme the page sees.
func (b *browser) emulate(t *testing.T, w, h int64, scheme string) {
	t.Helper()
	opts := []chromedp.EmulateViewportOption{}
	if w < 600 {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(1))
	}
	b.do(t, "set the viewport", chromedp.EmulateViewport(w, h, opts...))
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (struct{}, error) {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return struct{}{}, err
	}); err != nil {
		t.Fatalf("emulate %s: %v", scheme, err)
	}
}

// timezone makes the browser's time zone tz.
func (b *browser) timezone(t *testing.T, tz string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (struct{}, error) {
		_, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: tz})
		return struct{}{}, err
	}); err != nil {
		t.Fatalf("time zone %s: %v", tz, err)
	}
}

// accept clicks the open dialog's button of the given value.
// click clicks the element sel matches once its box has stayed put for
// 200 ms: a click lands at the point where the element was measured, and
// a panel above it that is still loading (the users table reloads after a
// token is made) moves it away under a loaded machine.
func (b *browser) click(t *testing.T, what, sel string) {
	t.Helper()
	eval[bool](t, b, fmt.Sprintf(`new Promise((resolve) => { let last = '', same = 0;
		const tick = () => { const el = document.querySelector(%q); const r = el ? el.getBoundingClientRect() : null;
			const k = r ? [r.x, r.y, r.width, r.height].join(',') : '';
			same = k !== '' && k === last ? same + 1 : 0; last = k;
			if (same >= 4) resolve(true); else setTimeout(tick, 50); };
		tick(); })`, sel))
	b.do(t, what, chromedp.Click(chromedp.CSS(sel)))
}

func (b *browser) accept(t *testing.T, value string) {
	t.Helper()
	b.waitFor(t, "a dialog", `!!document.querySelector('dialog[open]')`)
	b.do(t, "press "+value, chromedp.Click(chromedp.CSS(fmt.Sprintf(`dialog[open] button[value="%s"]`, value))))
	b.waitFor(t, "the dialog to close", `!document.querySelector('dialog[open]')`)
}

// TestBrowserAdmin manages users and tokens through the UI as an admin,
// and checks that a supervisor and an agent cannot reach the page.
func TestBrowserAdmin(t *testing.T) {
	needChromium(t)
	f := newFixture(t, false, nil)
	b := newBrowser(t)
	ctx := context.Background()
	step := func(name string, fn func(t *testing.T)) {
		if !t.Run(name, fn) {
			t.FailNow()
		}
	}
	apiLogin := func(user, pass string) int {
		c := f.client(t)
		res, _ := c.do("POST", "/api/login", map[string]string{"user": user, "password": pass})
		return res.StatusCode
	}

	step("open the admin page", func(t *testing.T) {
		b.open(t, "open the UI", f.srv.URL+"/")
		b.login(t, "ada", password)
		b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
		b.do(t, "click Users", chromedp.Click(chromedp.ID("nav-admin")))
		b.waitFor(t, "the users", fmt.Sprintf(`document.querySelectorAll('#users tbody tr[data-user]').length === %d`, len(users)))
		if cur := eval[string](t, b, `document.getElementById('nav-admin').getAttribute('aria-current')`); cur != "page" {
			t.Errorf("nav aria-current %q", cur)
		}
		b.check(t)
	})

	step("an agent without extension is refused", func(t *testing.T) {
		b.do(t, "fill the form",
			chromedp.SendKeys(chromedp.ID("new-name"), "carl"),
			chromedp.SetValue(chromedp.ID("new-role"), "agent"),
			chromedp.Click(chromedp.CSS(`.admin-form button[type="submit"]`)))
		b.waitFor(t, "the refusal", `document.getElementById('add-error').textContent.includes('extension')`)
		if focused := eval[string](t, b, `document.activeElement.id`); focused != "new-ext" {
			t.Errorf("focus on %q after the refusal, want the extensions field", focused)
		}
		if _, err := f.db.User(ctx, "carl"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			t.Errorf("carl stored: %v", err)
		}
	})

	var carlPass string
	step("add an agent with a generated password", func(t *testing.T) {
		b.do(t, "give an extension", chromedp.SendKeys(chromedp.ID("new-ext"), "202, 203"),
			chromedp.Click(chromedp.CSS(`.admin-form button[type="submit"]`)))
		b.waitFor(t, "the password, shown once", `!!document.querySelector('dialog[open] #secret-value')`)
		carlPass = eval[string](t, b, `document.getElementById('secret-value').value`)
		b.screenshot(t, "admin-secret.png")
		b.accept(t, "ok")
		b.waitFor(t, "carl's row", `!!document.querySelector('#users tr[data-user="carl"]')`)
		u, err := f.db.User(ctx, "carl")
		if err != nil || u.Role != auth.Agent || strings.Join(u.Extensions, ",") != "202,203" {
			t.Fatalf("carl: %+v %v", u, err)
		}
		if st := apiLogin("carl", carlPass); st != http.StatusOK {
			t.Errorf("login with the shown password %q: %d", carlPass, st)
		}
		// The dialog and the password leave the page when it closes.
		b.waitFor(t, "the password gone from the page", `document.querySelectorAll('#secret-value, dialog').length === 0`)
	})

	step("set a password", func(t *testing.T) {
		b.click(t, "open the password dialog", `#users tr[data-user="sue"] button[aria-label^="Set the password"]`)
		b.waitFor(t, "the dialog", `!!document.querySelector('dialog[open] #new-password')`)
		b.do(t, "type a password", chromedp.SendKeys(chromedp.ID("new-password"), "sue's new password"))
		b.accept(t, "ok")
		b.waitFor(t, "the toast", `document.getElementById('toasts').textContent.includes('password of sue was changed')`)
		if st := apiLogin("sue", "sue's new password"); st != http.StatusOK {
			t.Errorf("login with the new password: %d", st)
		}
		if st := apiLogin("sue", password); st != http.StatusUnauthorized {
			t.Errorf("login with the old password: %d", st)
		}
	})

	step("disable and enable", func(t *testing.T) {
		b.click(t, "disable agnes", `#users tr[data-user="agnes"] button[aria-label="Disable agnes"]`)
		b.waitFor(t, "the disabled row", `document.querySelector('#users tr[data-user="agnes"]').classList.contains('is-disabled')`)
		if st := apiLogin("agnes", password); st != http.StatusUnauthorized {
			t.Errorf("disabled agnes logs in: %d", st)
		}
		if dis := eval[bool](t, b, `document.querySelector('#users tr[data-user="ada"] button[aria-label="Disable ada"]').disabled`); !dis {
			t.Error("an admin may click to disable itself")
		}
		b.click(t, "enable agnes", `#users tr[data-user="agnes"] button[aria-label="Enable agnes"]`)
		b.waitFor(t, "the enabled row", `!document.querySelector('#users tr[data-user="agnes"]').classList.contains('is-disabled')`)
		if st := apiLogin("agnes", password); st != http.StatusOK {
			t.Errorf("enabled agnes cannot log in: %d", st)
		}
	})

	step("create and revoke a token", func(t *testing.T) {
		b.do(t, "create a token for agnes",
			chromedp.SetValue(chromedp.ID("token-user"), "agnes"),
			chromedp.SendKeys(chromedp.ID("token-name"), "crm"),
			chromedp.Click(chromedp.CSS(`#token-name ~ button, form[aria-labelledby="token-title"] button[type="submit"]`)))
		b.waitFor(t, "the token, shown once", `!!document.querySelector('dialog[open] #secret-value')`)
		tok := eval[string](t, b, `document.getElementById('secret-value').value`)
		b.accept(t, "ok")
		b.waitFor(t, "the token's row", `document.querySelectorAll('#tokens tr[data-token]').length === 1`)
		if row := eval[string](t, b, `document.querySelector('#tokens tr[data-token]').innerText`); !strings.Contains(row, "agnes") || !strings.Contains(row, "crm") || strings.Contains(row, tok) {
			t.Errorf("token row %q", row)
		}
		c := f.client(t)
		c.bearer = tok
		var me struct{ User string }
		c.getJSON("/api/me", http.StatusOK, &me)
		if me.User != "agnes" {
			t.Errorf("token is %q's", me.User)
		}
		b.click(t, "revoke", `#tokens tr[data-token] button`)
		b.accept(t, "ok")
		b.waitFor(t, "no token", `document.querySelectorAll('#tokens tr[data-token]').length === 0`)
		if res, _ := c.do("GET", "/api/me", nil); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("revoked token: %d", res.StatusCode)
		}
	})

	step("delete a user", func(t *testing.T) {
		b.click(t, "delete carl", `#users tr[data-user="carl"] button[aria-label="Delete carl"]`)
		b.accept(t, "ok")
		b.waitFor(t, "carl gone", `!document.querySelector('#users tr[data-user="carl"]')`)
		if _, err := f.db.User(ctx, "carl"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
			t.Errorf("carl still stored: %v", err)
		}
		evs, _, err := f.db.Events(ctx, auth.EventFilter{User: "ada"})
		if err != nil {
			t.Fatal(err)
		}
		var acts []string
		for _, e := range evs {
			acts = append(acts, e.Action)
		}
		want := "user_delete token_revoke token_create user_enable user_disable user_password user_add login"
		if got := strings.Join(acts, " "); got != want {
			t.Errorf("ada's audit trail: %s\nwant %s", got, want)
		}
		b.screenshot(t, "admin.png")
		b.check(t)
	})

	for _, who := range []string{"sue", "agnes"} {
		step(who+" cannot reach the admin page", func(t *testing.T) {
			pass := password
			if who == "sue" {
				pass = "sue's new password"
			}
			b.do(t, "sign out", chromedp.Click(chromedp.ID("logout")))
			b.login(t, who, pass)
			b.waitFor(t, "the call list", `location.hash.startsWith('#/calls') && !!document.getElementById('calls')`)
			if hidden := eval[bool](t, b, `document.getElementById('nav-admin').hidden && document.getElementById('nav-audit').hidden`); !hidden {
				t.Error("the admin links are shown")
			}
			if hidden := eval[bool](t, b, `document.getElementById('nav-dashboard').hidden`); hidden != (who == "agnes") {
				t.Errorf("dashboard link hidden %v for %s", hidden, who)
			}
			b.open(t, "open #/admin", f.srv.URL+"/#/admin")
			b.waitFor(t, "the error page", `!!document.querySelector('.error-page')`)
			if code := eval[string](t, b, `document.querySelector('.error-code').dataset.status`); code != "403" {
				t.Errorf("#/admin as %s: status %q, want 403", who, code)
			}
			if n := eval[int](t, b, `document.querySelectorAll('#users, #tokens').length`); n != 0 {
				t.Errorf("#/admin as %s shows the tables", who)
			}
			b.check(t)
		})
	}
}

// TestBrowserDashboardAndKeys reads the dashboard, and uses the keyboard
// shortcuts, the help overlay and the UTC option.
func TestBrowserDashboardAndKeys(t *testing.T) {
	needChromium(t)
	f := newFixture(t, false, nil)
	b := newBrowser(t)
	b.timezone(t, "Europe/Berlin")
	step := func(name string, fn func(t *testing.T)) {
		if !t.Run(name, fn) {
			t.FailNow()
		}
	}
	step("dashboard", func(t *testing.T) {
		b.open(t, "open the UI", f.srv.URL+"/")
		b.login(t, "sue", password)
		b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
		b.do(t, "open the dashboard", chromedp.Click(chromedp.ID("nav-dashboard")))
		b.waitFor(t, "the charts", `!!document.getElementById('chart-calls') && !!document.getElementById('chart-mos')`)
		var d struct {
			Calls    int
			Answered int
			Loss     []struct{ Host string } `json:"loss_by_host"`
			Talkers  []struct {
				Number string
				Calls  int
			} `json:"top_talkers"`
		}
		f.login(t, "sue").getJSON("/api/dashboard", http.StatusOK, &d)
		if got := eval[string](t, b, `document.getElementById('stat-calls').textContent`); got != fmt.Sprint(d.Calls) || d.Calls == 0 {
			t.Errorf("calls shown %q, API %d", got, d.Calls)
		}
		// The bars of the calls chart add up to the calls (each bar's title
		// says how many).
		sum := eval[int](t, b, `[...document.querySelectorAll('#chart-calls rect.bar')].reduce((n, r) => n + parseInt(r.querySelector('title').textContent.split(': ')[1]), 0)`)
		if sum != d.Calls {
			t.Errorf("bars add up to %d, want %d", sum, d.Calls)
		}
		if n := eval[int](t, b, `document.querySelectorAll('#loss tbody tr:not(.empty)').length`); n != len(d.Loss) {
			t.Errorf("%d loss rows, want %d", n, len(d.Loss))
		}
		if n := eval[int](t, b, `document.querySelectorAll('#talkers tbody tr:not(.empty)').length`); n != len(d.Talkers) || n == 0 {
			t.Errorf("%d talker rows, want %d", n, len(d.Talkers))
		}
		b.screenshot(t, "dashboard.png")
		b.check(t)
	})

	step("shortcuts", func(t *testing.T) {
		b.click(t, "open the calls", `a[data-nav="calls"]`)
		b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 2`)
		b.do(t, "press /", chromedp.Focus(chromedp.CSS("main h1")), chromedp.KeyEvent("/"))
		if id := eval[string](t, b, `document.activeElement.id`); id != "number" {
			t.Errorf("/ focused %q, want the number search", id)
		}
		b.do(t, "press j j k", chromedp.Focus(chromedp.CSS("main h1")), chromedp.KeyEvent("j"), chromedp.KeyEvent("j"), chromedp.KeyEvent("j"), chromedp.KeyEvent("k"))
		ids := eval[[]string](t, b, `[...document.querySelectorAll('#calls tbody tr[data-id]')].map((tr) => tr.dataset.id)`)
		if got := eval[string](t, b, `document.activeElement.dataset.id || ''`); got != ids[1] {
			t.Errorf("after j j j k the focus is on %q, want the second row %q", got, ids[1])
		}
		// Open it with Enter; j on the call page goes to the next call.
		b.do(t, "press Enter", chromedp.KeyEvent("\r"))
		b.waitFor(t, "the call page", fmt.Sprintf(`location.hash === '#/calls/%s' && !!document.getElementById('call-title')`, ids[1]))
		b.do(t, "press j", chromedp.Focus(chromedp.ID("call-title")), chromedp.KeyEvent("j"))
		b.waitFor(t, "the next call", fmt.Sprintf(`location.hash === '#/calls/%s' && !!document.getElementById('call-title')`, ids[2]))
		b.do(t, "press k", chromedp.Focus(chromedp.ID("call-title")), chromedp.KeyEvent("k"))
		b.waitFor(t, "the previous call", fmt.Sprintf(`location.hash === '#/calls/%s' && !!document.getElementById('call-title')`, ids[1]))
		b.do(t, "press ?", chromedp.KeyEvent("?"))
		b.waitFor(t, "the help", `!!document.querySelector('#help-dialog[open]')`)
		help := eval[string](t, b, `document.getElementById('help-dialog').innerText`)
		for _, k := range []string{"/", "j", "k", "Space", "?"} {
			if !strings.Contains(help, k) {
				t.Errorf("help lacks %q: %s", k, help)
			}
		}
		b.screenshot(t, "help.png")
		b.do(t, "press Escape", chromedp.KeyEvent("\x1b"))
		b.waitFor(t, "the help closed", `!document.querySelector('#help-dialog[open]')`)
		// Typing in a field is not a shortcut.
		b.open(t, "back to the list", f.srv.URL+"/#/calls")
		b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 2`)
		b.do(t, "type j?", chromedp.SendKeys(chromedp.ID("number"), "j?"))
		if v := eval[string](t, b, `document.getElementById('number').value + (document.querySelector('dialog[open]') ? ' help' : '')`); v != "j?" {
			t.Errorf("typing j? in the search field: %q", v)
		}
		b.check(t)
	})

	step("UTC option", func(t *testing.T) {
		b.do(t, "open the audit log as ada", chromedp.Click(chromedp.ID("logout")))
		b.login(t, "ada", password)
		b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
		b.do(t, "open the audit log", chromedp.Click(chromedp.ID("nav-audit")))
		b.waitFor(t, "the audit log", `document.querySelectorAll('#audit tbody tr').length > 0`)
		// Berlin in November is UTC+1: the zone and the offset are shown.
		if head := eval[string](t, b, `document.querySelector('.page-head .muted').textContent`); head != "Times in UTC+01:00" {
			t.Errorf("page head %q", head)
		}
		local := eval[string](t, b, `document.querySelector('#audit tbody td.time').textContent`)
		iso := eval[string](t, b, `document.querySelector('#audit tbody td.time').title`)
		at, err := time.Parse(time.RFC3339Nano, iso)
		if err != nil {
			t.Fatal(err)
		}
		if want := at.In(time.FixedZone("", 3600)).Format(time.DateTime); local != want {
			t.Errorf("local time %q, want %q", local, want)
		}
		b.do(t, "tick UTC", chromedp.Click(chromedp.ID("utc")))
		b.waitFor(t, "UTC times", fmt.Sprintf(`document.querySelector('.page-head .muted').textContent === 'Times in UTC' && document.querySelector('#audit tbody td.time').textContent === '%s'`, at.UTC().Format(time.DateTime)))
		b.do(t, "reload", chromedp.Reload())
		b.waitFor(t, "the audit log", `document.querySelectorAll('#audit tbody tr').length > 0`)
		if on := eval[bool](t, b, `document.getElementById('utc').checked && document.querySelector('.page-head .muted').textContent === 'Times in UTC'`); !on {
			t.Error("the UTC choice did not survive a reload")
		}
		// The time filter is read in the zone shown: 09:00 is 09:00 UTC.
		b.do(t, "filter from 09:00:10", chromedp.SetValue(chromedp.ID("audit-from"), "2026-11-02T07:59"),
			chromedp.Click(chromedp.CSS(`.audit-filters button[type="submit"]`)))
		// The address changes first; the page (and its CSV link) follows
		// when the filtered log has loaded.
		b.waitFor(t, "the filtered URL", `location.hash.includes('from=2026-11-02T07%3A59%3A00Z')`)
		b.waitFor(t, "the filtered CSV link", `(document.getElementById('audit-csv')?.getAttribute('href') || '').includes('from=2026-11-02T07%3A59%3A00Z')`)
		if href := eval[string](t, b, `document.getElementById('audit-csv').getAttribute('href')`); !strings.HasPrefix(href, "/api/audit.csv?") {
			t.Errorf("CSV link %q", href)
		}
		b.check(t)
	})
}

// layoutJS returns the layout and accessibility problems of the page: a
// page wider than the viewport, key elements (selectors; tables may scroll
// inside their panel) missing, hidden or off screen, overlapping controls
// or top bar items, unlabelled fields, nameless buttons and links, a
// positive tabindex (focus order not the document's), landmarks missing.
const layoutJS = `((keys) => {
  const p = [];
  const W = window.innerWidth;
  const de = document.documentElement;
  if (de.scrollWidth > W + 1) p.push('the page scrolls sideways: ' + de.scrollWidth + ' > ' + W);
  const shown = (el) => {
    if (!el || el.closest('[hidden], dialog:not([open])')) return false;
    // The content of a closed <details> is laid out but not rendered.
    const d = el.closest('details:not([open])');
    if (d && !el.closest('summary')) return false;
    if (el.checkVisibility && !el.checkVisibility({ visibilityProperty: true, opacityProperty: false })) return false;
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none' && !el.closest('.sr-only');
  };
  for (const sel of keys) {
    const el = document.querySelector(sel);
    if (!shown(el)) { p.push(sel + ' is not shown'); continue; }
    const r = el.getBoundingClientRect();
    const scrolls = !!el.closest('.table-scroll, .ladder');
    if (r.left < -1 || r.left >= W || (!scrolls && r.right > W + 1)) p.push(sel + ' lies outside the viewport: ' + Math.round(r.left) + '..' + Math.round(r.right) + ' of ' + W);
  }
  const overlap = (a, b) => {
    const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
    return Math.min(r.right, s.right) - Math.max(r.left, s.left) > 1 && Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top) > 1;
  };
  const name = (el) => el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + [...el.classList].join('.') + '(' + (el.textContent || '').trim().slice(0, 20) + ')';
  const pairs = (els, what) => {
    els = els.filter(shown);
    for (let i = 0; i < els.length; i++) for (let j = i + 1; j < els.length; j++) {
      if (els[i].contains(els[j]) || els[j].contains(els[i])) continue;
      if (overlap(els[i], els[j])) p.push(what + ': ' + name(els[i]) + ' overlaps ' + name(els[j]));
    }
  };
  pairs([...document.querySelectorAll('.topbar .brand, .topbar .nav a, .utc-toggle, #help, #who, #logout')], 'top bar');
  pairs([...document.querySelectorAll('main input, main select, main button, main a.btn, main h1')].filter((el) => !el.closest('.table-scroll, .wave, .ladder, .pager')), 'controls');
  const bar = document.getElementById('topbar');
  const h1 = document.querySelector('main h1');
  if (shown(bar) && shown(h1) && scrollY === 0 && h1.getBoundingClientRect().top < bar.getBoundingClientRect().bottom - 1) p.push('the top bar covers the heading');
  for (const el of document.querySelectorAll('input:not([type="hidden"]), select, textarea')) {
    if (!el.labels?.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) p.push('unlabelled field ' + name(el));
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (shown(el) && !(el.textContent.trim() || el.getAttribute('aria-label') || el.getAttribute('title'))) p.push('nameless control ' + name(el));
  }
  const pos = [...document.querySelectorAll('[tabindex]')].filter((el) => el.tabIndex > 0);
  if (pos.length) p.push('positive tabindex on ' + pos.map(name).join(', '));
  if (document.querySelectorAll('main').length !== 1) p.push('not one main landmark');
  if (shown(bar) && (bar.tagName !== 'HEADER' || !bar.querySelector('nav[aria-label]'))) p.push('no banner with a labelled nav');
  if (!document.documentElement.lang) p.push('no lang on html');
  return p;
})`

// TestBrowserLayout loads every main page at 1920×1080, 1280×800 and
// 390×844 in the light and the dark theme, screenshots it, and checks the
// layout (layoutJS), the theme's colours, and at 1280×800 that keyboard
// focus is visible on every control Tab reaches and that every text shown
// has enough contrast with the background it is drawn on (contrastJS).
func TestBrowserLayout(t *testing.T) {
	needChromium(t)
	f := newFixture(t, false, nil)
	b := newBrowser(t)
	call := f.callWith(t, func(c *spanrec.Call) bool { return c.Audio != "" })
	pages := []struct {
		name, hash, ready string
		keys              []string
	}{
		{"login", "#/login", `!!document.getElementById('login-user')`, []string{"#login-user", "#login-password", `.login-form button[type="submit"]`}},
		{"calls", "#/calls", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`, []string{"#topbar", "main h1", "form.filters", "#number", "#calls"}},
		{"call", "#/calls/" + string(call.ID), `document.querySelectorAll('.wave canvas').length === 2`, []string{"#call-title", "#play", ".wave-lanes", "#download-pcap"}},
		{"live", "#/live", `document.getElementById('live-conn')?.textContent === 'Connected'`, []string{"main h1", "#live-conn"}},
		{"dashboard", "#/dashboard", `!!document.getElementById('talkers')`, []string{"main h1", "#stat-calls", "#chart-calls", "#chart-mos", "#loss", "#talkers"}},
		{"audit", "#/audit", `document.querySelectorAll('#audit tbody tr').length > 0`, []string{"main h1", "#audit-from", "#audit-user", "#audit-csv", "#audit"}},
		{"admin", "#/admin", `document.querySelectorAll('#users tbody tr').length > 0`, []string{"main h1", "#users", "#new-name", "#tokens", "#token-user"}},
	}
	sizes := []struct{ w, h int64 }{{1920, 1080}, {1280, 800}, {390, 844}}
	themes := []struct{ scheme, bg, text string }{
		{"light", "rgb(243, 245, 248)", "rgb(27, 35, 48)"},
		{"dark", "rgb(15, 20, 27)", "rgb(228, 233, 240)"},
	}
	b.open(t, "open the UI", f.srv.URL+"/")
	signedIn := false
	for _, pg := range pages {
		if pg.name != "login" && !signedIn {
			b.open(t, "open the login page", f.srv.URL+"/#/login")
			b.login(t, "ada", password)
			b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
			signedIn = true
		}
		for _, sz := range sizes {
			for _, th := range themes {
				name := fmt.Sprintf("%s-%dx%d-%s", pg.name, sz.w, sz.h, th.scheme)
				t.Run(name, func(t *testing.T) {
					b.emulate(t, sz.w, sz.h, th.scheme)
					b.do(t, "load "+pg.hash, chromedp.Navigate(f.srv.URL+"/"+pg.hash), chromedp.Reload())
					b.waitFor(t, pg.name, pg.ready)
					b.screenshot(t, "layout-"+name+".png")
					keys, _ := json.Marshal(pg.keys)
					for _, p := range eval[[]string](t, b, layoutJS+"("+string(keys)+")") {
						t.Error(p)
					}
					if got := eval[string](t, b, `getComputedStyle(document.body).backgroundColor + ' / ' + getComputedStyle(document.body).color`); got != th.bg+" / "+th.text {
						t.Errorf("%s theme: body colours %s, want %s / %s", th.scheme, got, th.bg, th.text)
					}
					if sz.w == 1280 {
						b.focusVisible(t, 15)
						for _, p := range eval[[]string](t, b, contrastJS) {
							t.Errorf("%s theme: %s", th.scheme, p)
						}
					}
					b.check(t)
				})
			}
		}
	}
}

// focusVisible presses Tab n times from the top of the page and checks
// that each control reached shows a focus indicator, and that the first
// stop is the skip link.
func (b *browser) focusVisible(t *testing.T, n int) {
	t.Helper()
	// Move the sequential focus starting point to the top of the body.
	eval[chromedp.Void](t, b, `(() => { window.scrollTo(0, 0); const m = document.createElement('span'); m.tabIndex = -1;
		document.body.prepend(m); m.focus(); m.remove(); })()`)
	for i := range n {
		b.do(t, "press Tab", chromedp.KeyEvent("\t"))
		got := eval[[]string](t, b, `(() => {
			const el = document.activeElement;
			if (!el || el === document.body) return ['body', 'none', '0px', 'none'];
			const cs = getComputedStyle(el);
			return [el.id || el.getAttribute('class') || el.tagName, cs.outlineStyle, cs.outlineWidth, cs.boxShadow];
		})()`)
		if i == 0 && got[0] != "skip" {
			t.Errorf("the first Tab stop is %q, want the skip link", got[0])
		}
		if got[0] == "body" {
			break
		}
		if (got[1] == "none" || got[2] == "0px") && got[3] == "none" {
			t.Errorf("Tab stop %d (%s) shows no focus indicator: outline %s %s", i+1, got[0], got[1], got[2])
		}
	}
}

// contrastJS returns the visible text whose colour has less than 4.5:1
// contrast (3:1 for large text: 24 px, or 18.66 px bold) against the
// background it is drawn on: the first opaque background colour of it or
// an ancestor (WCAG 2.2 SC 1.4.3). Text over images or canvases is not
// judged; disabled controls are exempt, as WCAG exempts them.
const contrastJS = `(() => {
  const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const v = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return { r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1 }; };
  const lum = (c) => { const f = (x) => { x /= 255; return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const mix = (fg, bg) => ({ r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a), a: 1 });
  const bgOf = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (getComputedStyle(e).backgroundImage !== 'none') return null;
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    if (matchMedia('(prefers-color-scheme: dark)').matches) bg = { r: 0, g: 0, b: 0, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) bg = mix(layers[i], bg);
    return bg;
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || seen.has(el) || !n.textContent.trim()) continue;
    seen.add(el);
    if (el.closest('svg, canvas, [hidden], dialog:not([open]), .sr-only, option, script, style, noscript') || el.closest('details:not([open])') && !el.closest('summary')) continue;
    if (el.closest(':disabled, [aria-disabled="true"], .disabled')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || (el.checkVisibility && !el.checkVisibility({ visibilityProperty: true }))) continue;
    const cs = getComputedStyle(el);
    const fg = parse(cs.color), bg = bgOf(el);
    if (!fg || !bg) continue;
    const c = mix(fg, bg);
    const l1 = lum(c), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const px = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
    const min = px >= 24 || (bold && px >= 18.66) ? 3 : 4.5;
    if (ratio < min) out.push(ratio.toFixed(2) + ':1 ' + cs.color + ' on ' + 'rgb(' + [bg.r, bg.g, bg.b].map(Math.round).join(', ') + ') ' + el.tagName.toLowerCase() + '.' + [...el.classList].join('.') + ' "' + n.textContent.trim().slice(0, 30) + '"');
  }
  return out.slice(0, 40);
})()`
