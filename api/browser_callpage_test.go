package api_test

// Browser tests of the call page: its layout at common screen sizes, the
// link to a moment of a call (#/calls/ID?t=SECONDS), and tags and notes.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/spanrec/spanrec"
)

// cutOff is a script that returns, for the elements matched by sel, a
// description of each one whose box leaves the box of its closest
// container ancestor (or the viewport), and of scroll containers in it
// that hide part of their content: what a person would see cut off.
const cutOff = `((sel, container) => {
	const out = [];
	const box = document.querySelector(container).getBoundingClientRect();
	for (const el of document.querySelectorAll(sel)) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 && r.height === 0) continue;
		if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.right > window.innerWidth + 0.5) {
			out.push(el.tagName + ' "' + el.innerText.slice(0, 40) + '" ' + Math.round(r.left) + '..' + Math.round(r.right) + ' outside ' + Math.round(box.left) + '..' + Math.round(box.right));
		}
	}
	for (const s of document.querySelectorAll(container + ' .table-scroll')) {
		if (s.scrollWidth > s.clientWidth + 1) out.push('table scrolls: ' + s.scrollWidth + ' > ' + s.clientWidth);
	}
	if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
	return out;
})`

// TestBrowserCallPage opens a call with packet loss (a Wireshark sample)
// at 1920×1080, 1280×800, 800×1000 and 390×844 and checks that nothing of
// the media quality table is cut off and that jitter is labelled; then it
// opens a call at a moment by link, and tags and notes a call.
func TestBrowserCallPage(t *testing.T) {
	needChromium(t)
	f := newFixture(t, true, nil)
	b := newBrowser(t)
	lossy := f.callWith(t, func(c *spanrec.Call) bool {
		for _, s := range c.Streams {
			if s.Lost > 0 {
				return true
			}
		}
		return false
	})
	step := func(name string, fn func(t *testing.T)) {
		if !t.Run(name, fn) {
			t.FailNow()
		}
	}
	step("login", func(t *testing.T) {
		b.open(t, "open the UI", f.srv.URL+"/")
		b.login(t, "ada", password)
		b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
	})

	step("quality table fits", func(t *testing.T) {
		b.open(t, "open the call with loss", f.srv.URL+"/#/calls/"+string(lossy.ID))
		b.waitFor(t, "the streams table", `document.querySelectorAll('#streams tbody tr').length > 0`)
		for _, vp := range []struct{ w, h int64 }{{1920, 1080}, {1280, 800}, {800, 1000}, {390, 844}} {
			b.do(t, "resize", chromedp.EmulateViewport(vp.w, vp.h))
			b.waitFor(t, "the new width", fmt.Sprintf(`window.innerWidth === %d`, vp.w))
			bad := eval[[]string](t, b, cutOff+`('#streams th, #streams td, #streams td > *', '#quality')`)
			if len(bad) > 0 {
				t.Errorf("%d×%d: cut off:\n%s", vp.w, vp.h, strings.Join(bad, "\n"))
			}
			// The loss cell says how many and what share; the MOS cell is
			// on screen with its figure.
			lost := eval[string](t, b, `[...document.querySelectorAll('#streams td[data-label="Lost"]')].map((td) => td.innerText.replace(/\s+/g, ' ')).join('|')`)
			if !strings.Contains(lost, "2 0.3 %") {
				t.Errorf("%d×%d: loss cells %q, want 2 lost with 0.3 %%", vp.w, vp.h, lost)
			}
			mos := eval[string](t, b, `document.querySelector('#streams td[data-label="MOS"]').innerText`)
			if !strings.HasPrefix(mos, "4.") {
				t.Errorf("%d×%d: MOS cell %q", vp.w, vp.h, mos)
			}
			// Jitter is labelled mean / max in ms: in the header, or beside
			// each value where the narrow layout has no header.
			label := eval[string](t, b, `(() => { const th = [...document.querySelectorAll('#streams th')].find((x) => x.offsetParent && x.innerText.includes('JITTER'));
				if (th) return th.innerText;
				const td = document.querySelector('#streams td[data-label^="Jitter"]');
				return getComputedStyle(td, '::before').content; })()`)
			if !strings.Contains(strings.ToLower(label), "mean / max") || !strings.Contains(strings.ToLower(label), "ms") {
				t.Errorf("%d×%d: jitter label %q, want mean / max ms", vp.w, vp.h, label)
			}
			b.screenshot(t, fmt.Sprintf("call-quality-%dx%d.png", vp.w, vp.h))
		}
		b.do(t, "back to the usual size", chromedp.EmulateViewport(1366, 768))
		b.check(t)
	})

	step("quality over time", func(t *testing.T) {
		b.open(t, "open the call with loss", f.srv.URL+"/#/calls/"+string(lossy.ID))
		b.waitFor(t, "the charts", `document.querySelectorAll('#quality-charts .qchart-row').length === 3`)
		// One line per stream that has packets (at most four).
		dirs := 0
		for _, st := range lossy.Streams {
			if st.Packets > 0 {
				dirs++
			}
		}
		n := eval[int](t, b, `document.querySelectorAll('#quality-charts svg[data-metric="mos"] path.qline:not([d="M0,0"])').length`)
		if n != min(dirs, 4) {
			t.Errorf("%d MOS lines, want one per stream (%d)", n, min(dirs, 4))
		}
		// The loss line rises above 0 where the 2 packets were lost: its
		// path has a point above the chart's floor.
		rises := eval[bool](t, b, `(() => { const p = [...document.querySelectorAll('#quality-charts svg[data-metric="loss"] path.qline')];
			return p.some((e) => (e.getAttribute('d').match(/,[0-9.]+/g) || []).some((y) => parseFloat(y.slice(1)) < 50)); })()`)
		if !rises {
			t.Error("the loss chart shows no loss")
		}
		// The charts share the waveform's time axis: same left and width
		// (the waveform comes with its own data: wait for it).
		b.waitFor(t, "the waveform", `document.querySelectorAll('.wave canvas').length === 2 && document.querySelector('.wave-lanes').getBoundingClientRect().width > 0`)
		align := eval[[]float64](t, b, `(() => { const a = document.querySelector('.wave-lanes').getBoundingClientRect(), c = document.querySelector('.qchart-plot').getBoundingClientRect(); return [a.left, a.width, c.left, c.width]; })()`)
		if len(align) == 4 && (align[0] != align[2] || align[1] != align[3]) {
			t.Errorf("waveform at %.0f+%.0f, charts at %.0f+%.0f", align[0], align[1], align[2], align[3])
		}
		// A click on a chart seeks.
		b.do(t, "click a chart", chromedp.Click(chromedp.CSS(`.qchart-plot`)))
		b.waitFor(t, "the seek", `parseFloat(document.querySelector('.wave-lanes').getAttribute('aria-valuenow')) > 1`)
		b.screenshot(t, "call-quality-charts.png")
		b.check(t)
	})

	// 205 → 201: 5 s of audio.
	target := f.callWith(t, func(c *spanrec.Call) bool { return c.Caller.Number == "205" && c.Audio != "" })
	step("link to a moment", func(t *testing.T) {
		b.open(t, "open the call at 3.5 s", f.srv.URL+"/#/calls/"+string(target.ID)+"?t=3.5")
		b.waitFor(t, "the waveform", `document.querySelectorAll('.wave canvas').length === 2`)
		b.waitFor(t, "the waveform at 3.5 s", `document.querySelector('.wave-lanes').getAttribute('aria-valuenow') === '3.5'`)
		dur := float64(target.AudioMS) / 1000
		left := eval[float64](t, b, `parseFloat(document.querySelector('.playhead').style.left)`)
		if want := 3.5 / dur * 100; left < want-0.5 || left > want+0.5 {
			t.Errorf("playhead at %.2f %%, want %.2f %%", left, want)
		}
		if clock := eval[string](t, b, `document.getElementById('clock').textContent`); !strings.HasPrefix(clock, "0:03") {
			t.Errorf("clock %q, want 0:03…", clock)
		}
		// Play starts there, not at 0.
		b.do(t, "play", chromedp.Click(chromedp.ID("play")))
		b.waitFor(t, "playback", `(() => { const a = document.getElementById('audio'); return a.readyState >= 2 && a.currentTime > 0; })()`)
		if at := eval[float64](t, b, `document.getElementById('audio').currentTime`); at < 3.4 {
			t.Errorf("playback at %.2f s, want from 3.5 s", at)
		}
		b.do(t, "pause", chromedp.Click(chromedp.ID("play")))
		b.waitFor(t, "pause", `document.getElementById('audio').paused`)
		// Seek to the middle by keyboard (Home, then 2 × →), share: the
		// address says ?t=2.
		eval[chromedp.Void](t, b, `(() => { const s = document.querySelector('.wave-lanes');
			for (const k of ['Home', 'ArrowRight', 'ArrowRight']) s.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true })); })()`)
		b.waitFor(t, "the seek to 2 s", `Math.abs(document.getElementById('audio').currentTime - 2) < 0.05`)
		b.do(t, "share", chromedp.Click(chromedp.ID("share-moment")))
		b.waitFor(t, "the link in the address", fmt.Sprintf(`location.hash === '#/calls/%s?t=2'`, target.ID))
		b.check(t)
	})

	step("spectrogram", func(t *testing.T) {
		b.open(t, "open the call", f.srv.URL+"/#/calls/"+string(target.ID))
		b.waitFor(t, "the waveform", `document.querySelectorAll('.wave canvas').length === 2`)
		// The peaks leave the lane's corner transparent; the spectrogram
		// fills the lane.
		corner := `(() => { const c = document.querySelector('.wave canvas'); return c.getContext('2d').getImageData(2, 2, 1, 1).data[3]; })()`
		b.waitFor(t, "the peaks drawn", `document.querySelector('.wave canvas').width > 10`)
		if a := eval[int](t, b, corner); a != 0 {
			t.Fatalf("peaks: corner alpha %d, want transparent", a)
		}
		b.do(t, "show the spectrogram", chromedp.Click(chromedp.ID("spectrogram")))
		b.waitFor(t, "the spectrogram", `document.getElementById('spectrogram').getAttribute('aria-pressed') === 'true' && `+corner+` === 255`)
		// Where the caller speaks (0.25–1.5 s of 5), the low bands (bottom
		// of the lane, 0–500 Hz) are louder, so brighter, than the top ones
		// (3.5–4 kHz).
		ratio := eval[float64](t, b, `(() => { const c = document.querySelector('.wave canvas'), g = c.getContext('2d');
			const x0 = Math.round(c.width * 0.05), x1 = Math.round(c.width * 0.3);
			const mean = (y0, y1) => { const d = g.getImageData(x0, y0, x1 - x0, y1 - y0).data; let s = 0; for (let i = 0; i < d.length; i += 4) s += d[i] + d[i + 1] + d[i + 2]; return s / (d.length / 4); };
			return mean(Math.round(c.height * 7 / 8), c.height) / Math.max(1, mean(0, Math.round(c.height / 8))); })()`)
		if ratio < 1.3 {
			t.Errorf("spectrogram: low bands only %.2f× as bright as high ones", ratio)
		}
		b.screenshot(t, "call-spectrogram.png")
		b.do(t, "back to the peaks", chromedp.Click(chromedp.ID("spectrogram")))
		b.waitFor(t, "the peaks", `document.getElementById('spectrogram').getAttribute('aria-pressed') === 'false' && `+corner+` === 0`)
		b.check(t)
	})

	step("tags and notes", func(t *testing.T) {
		b.open(t, "reload", f.srv.URL+"/#/calls/"+string(target.ID))
		b.waitFor(t, "the tags panel", `!!document.getElementById('tag-input') && !!document.querySelector('#user-notes .no-notes')`)
		b.waitFor(t, "the page settled", callPageSettled)
		b.do(t, "add a tag", chromedp.SendKeys(chromedp.ID("tag-input"), "Follow-up\n"))
		b.waitFor(t, "the tag", `!!document.querySelector('#tags .tag[data-tag="follow-up"]')`)
		b.do(t, "write a note", chromedp.SendKeys(chromedp.ID("note-input"), "Caller <b>wants</b> a callback"), chromedp.Click(chromedp.ID("note-add")))
		b.waitFor(t, "the note", `document.querySelectorAll('#user-notes .user-note').length === 1`)
		// Recorded text is text, never markup.
		if n := eval[int](t, b, `document.querySelectorAll('#user-notes b').length`); n != 0 {
			t.Errorf("the note's text became markup")
		}
		b.do(t, "reload", chromedp.Reload())
		b.waitFor(t, "the stored tag and note", `!!document.querySelector('#tags .tag[data-tag="follow-up"]') && document.querySelector('#user-notes .note-text')?.textContent === 'Caller <b>wants</b> a callback'`)
		meta := eval[string](t, b, `document.querySelector('#user-notes .note-meta').innerText`)
		if !strings.Contains(meta, "ada") {
			t.Errorf("note meta %q lacks its author", meta)
		}
		// The tag links to the calls with it.
		b.waitFor(t, "the page settled", callPageSettled)
		b.do(t, "follow the tag", chromedp.Click(chromedp.CSS(`#tags .tag a`)))
		b.waitFor(t, "the call list by tag", `location.hash === '#/calls?tag=follow-up'`)
		b.open(t, "back", f.srv.URL+"/#/calls/"+string(target.ID))
		b.waitFor(t, "the tag", `!!document.querySelector('#tags .tag[data-tag="follow-up"] .tag-remove')`)
		b.waitFor(t, "the page settled", callPageSettled)
		b.do(t, "remove the tag", chromedp.Click(chromedp.CSS(`#tags .tag[data-tag="follow-up"] .tag-remove`)))
		// Other tests of the package tag the demo calls too (the fixture is
		// shared): only this tag must be gone, here and once reloaded.
		b.waitFor(t, "the tag gone", `!document.querySelector('#tags .tag[data-tag="follow-up"]')`)
		b.do(t, "reload", chromedp.Reload())
		b.waitFor(t, "the tags panel", `!!document.getElementById('tag-input')`)
		b.waitFor(t, "the tag gone after a reload", `!document.querySelector('#tags .tag[data-tag="follow-up"]') && (!!document.querySelector('#tags .tag') || !!document.querySelector('#tags .no-tags'))`)
		b.screenshot(t, "call-notes.png")
		b.check(t)
	})
}
