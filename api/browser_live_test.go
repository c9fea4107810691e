package api_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/pcaptest"
)

// TestBrowserLiveInProgress: the live page opened (and reloaded) while
// calls are in progress shows them, talking, with their codec and how
// long they have lasted; when they end they move to "Recently ended".
// The calls come from a real recorder fed a generated capture.
func TestBrowserLiveInProgress(t *testing.T) {
	needChromium(t)
	f := newFixture(t, false, func(c *api.Config) { c.Now = time.Now })
	run := recordLive(t, f, pcaptest.Options{Seed: 11, Calls: pcaptest.Concurrent(8, 2*time.Second, 8*time.Second)}, 0)
	run.feed.release(run.start.Add(5 * time.Second))
	active := waitActive(t, f, 8)

	b := newBrowser(t)
	b.open(t, "open the UI", f.srv.URL+"/")
	b.login(t, "sue", password)
	b.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
	shown := func(what string) {
		t.Helper()
		b.waitFor(t, what, `document.getElementById('live-count').textContent === '8' && document.querySelectorAll('#live-active tr[data-id] .st-talking').length === 8`)
		for _, c := range active {
			row := fmt.Sprintf(`document.querySelector('#live-active tr[data-id="%s"]')`, c.ID)
			text := eval[string](t, b, row+`.innerText`)
			if !strings.Contains(text, c.Caller.Number) || !strings.Contains(text, c.Callee.Number) || !strings.Contains(text, "PCMU") {
				t.Errorf("%s: row %q lacks the parties or the codec", what, text)
			}
			// The capture stopped 2-4 s after these calls were
			// answered, a moment ago: they have lasted a few seconds.
			// (The clock ticks each second: on a loaded machine the first
			// tick may still show 0:00, so wait for it.)
			b.waitFor(t, what+": "+string(c.ID)+" has lasted a while", row+`.querySelector('td.elapsed').textContent !== '0:00'`)
		}
	}
	b.do(t, "open the live view", chromedp.Click(chromedp.CSS(`a[data-nav="live"]`)))
	shown("the calls in progress")
	b.screenshot(t, "live-in-progress.png")
	b.do(t, "reload the live view", chromedp.Reload())
	shown("the calls in progress after a reload")

	run.feed.releaseAll()
	b.waitFor(t, "every call ended", `document.getElementById('live-count').textContent === '0'`)
	for _, c := range active {
		b.waitFor(t, "the ended call "+string(c.ID), fmt.Sprintf(`!!document.querySelector('#live-ended a[href="#/calls/%s"]')`, c.ID))
	}
	b.check(t)
}

// TestBrowserListen: a supervisor clicks Listen on a call in progress
// (a real recorder records it) and the page receives its audio, both
// parties' levels moving; Listen on an SRTP call whose keys are unknown
// says the media is encrypted instead of playing anything.
func TestBrowserListen(t *testing.T) {
	needChromium(t)
	var dir string
	f := newFixture(t, false, func(c *api.Config) {
		c.Now = time.Now
		dir = c.DataDir
		c.LiveAudio = recorderAudio{c.DataDir}
	})
	// The page first: the calls are fed in real time and must still be
	// going on when Listen is clicked, however slow Chromium starts.
	b := newBrowser(t)
	b.open(t, "open the UI", f.srv.URL+"/#/live")
	b.login(t, "sue", password)
	b.open(t, "open the live view", f.srv.URL+"/#/live")
	b.waitFor(t, "the live stream", `document.getElementById('live-conn').textContent === 'Connected'`)

	calls := pcaptest.Concurrent(2, time.Second, 20*time.Second)
	calls[1].SRTP = &pcaptest.SRTP{OutOfBand: true}
	run := recordLive(t, f, pcaptest.Options{Seed: 9, Calls: calls}, 1)
	run.feed.releaseAll()
	active := waitAnswered(t, f, 2)
	plain, srtp := active[0], active[1]
	// Wait for the plain call's first audio on disk (the recorder's flush).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		l, err := recorderAudio{dir}.Listen(plain.ID)
		if err == nil {
			l.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audio to listen to: %v", err)
		}
	}

	b.waitFor(t, "the calls in progress", `document.querySelectorAll('#live-active button.listen').length === 2`)
	b.do(t, "listen", chromedp.Click(chromedp.CSS(fmt.Sprintf(`button.listen[data-id="%s"]`, plain.ID))))
	b.waitFor(t, "the audio", `Number(document.getElementById('live-listen').dataset.seconds) >= 2`)
	b.waitFor(t, "both parties' levels", `[...document.querySelectorAll('#live-listen .level')].every((e) => Number(e.dataset.peak) > 5)`)
	if st := eval[string](t, b, `document.getElementById('listen-state').textContent`); !strings.Contains(st, "Listening") {
		t.Errorf("player state %q", st)
	}
	if p := eval[string](t, b, fmt.Sprintf(`document.querySelector('button.listen[data-id="%s"]').getAttribute('aria-pressed')`, plain.ID)); p != "true" {
		t.Errorf("the call's Listen button: aria-pressed %q", p)
	}
	b.screenshot(t, "live-listen.png")

	b.do(t, "listen to the SRTP call", chromedp.Click(chromedp.CSS(fmt.Sprintf(`button.listen[data-id="%s"]`, srtp.ID))))
	b.waitFor(t, "the reason", `document.getElementById('listen-state').textContent.includes('encrypted')`)
	if s := eval[string](t, b, `document.getElementById('live-listen').dataset.seconds`); s != "0" {
		t.Errorf("%s s of audio played for the encrypted call", s)
	}
	b.check(t)
}
