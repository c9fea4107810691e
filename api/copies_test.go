package api_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/packet"
	"github.com/spanrec/spanrec/recorder"
)

// sensorView is a capture source as another sensor sees it: its clock
// shift ahead, without the packets sent from drop.
type sensorView struct {
	capture.Source
	dec   *packet.Decoder
	drop  netip.AddrPort
	shift time.Duration
}

func (v *sensorView) ReadFrame() (capture.Frame, error) {
	for {
		f, err := v.Source.ReadFrame()
		if err != nil {
			return f, err
		}
		f.Time = f.Time.Add(v.shift)
		if p, ok := v.dec.Decode(f.Data, packet.LinkType(f.Link), f.Time, f.Orig); !ok || !v.drop.IsValid() || p.Src != v.drop {
			return f, nil
		}
	}
}

// withTwoSensors imports the Wireshark sample nb6-telephone (one call,
// G.711 both ways) into the fixture as recorded by two sensors: switch-a
// sees all of it, switch-b (1.5 ms ahead) misses the callee's RTP. It
// returns switch-a's call and switch-b's.
func withTwoSensors(t *testing.T, f *fixture) (a, b *spanrec.Call) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(capturesDir(), "wireshark-samples", "nb6-telephone.pcap")
	record := func(sensor string, drop netip.AddrPort, shift time.Duration) {
		src, err := capture.OpenFile(path)
		if err != nil {
			t.Skipf("capture: %v", err)
		}
		v := &sensorView{Source: src, dec: packet.NewDecoder(packet.Config{}), drop: drop, shift: shift}
		defer v.Close()
		cfg := recorder.Config{Call: call.Config{DataDir: f.dir, Sensor: sensor}, Renderers: 1, Logger: slog.New(slog.DiscardHandler)}
		if sum, err := recorder.Import(ctx, cfg, v, f.db, nil); err != nil || sum.Errors > 0 {
			t.Fatalf("import as %s: %v (%d errors)", sensor, err, sum.Errors)
		}
	}
	byCallID := func(sensor string) *spanrec.Call {
		cs, err := f.db.Calls(ctx, spanrec.CallFilter{Sensor: sensor, Status: spanrec.Answered})
		if err != nil || len(cs) != 1 {
			t.Fatalf("%s: %d answered calls, %v", sensor, len(cs), err)
		}
		return cs[0]
	}
	record("switch-a", netip.AddrPort{}, 0)
	a = byCallID("switch-a")
	var calleeRTP netip.AddrPort
	for _, st := range a.Streams {
		if st.Side == spanrec.CalleeSide {
			calleeRTP = st.Src
		}
	}
	record("switch-b", calleeRTP, 1500*time.Microsecond)
	return a, byCallID("switch-b")
}

// TestCallCopies: GET /api/calls/{id} of either sensor's copy names both
// copies, switch-a's (both directions) first, and takes both directions'
// audio from it.
func TestCallCopies(t *testing.T) {
	f := newFixture(t, false, nil)
	a, b := withTwoSensors(t, f)
	c := f.login(t, "sue")
	type view struct {
		ID     string `json:"id"`
		Sensor string `json:"sensor"`
		Copies []struct {
			ID     string   `json:"id"`
			Sensor string   `json:"sensor"`
			Sides  []string `json:"sides"`
		} `json:"copies"`
		AudioFrom   map[string]string `json:"audio_from"`
		Interaction string            `json:"interaction"`
	}
	for _, id := range []spanrec.CallID{a.ID, b.ID} {
		var v view
		c.getJSON("/api/calls/"+string(id), http.StatusOK, &v)
		if len(v.Copies) != 2 || v.Copies[0].ID != string(a.ID) || v.Copies[0].Sensor != "switch-a" ||
			strings.Join(v.Copies[0].Sides, ",") != "caller,callee" ||
			v.Copies[1].ID != string(b.ID) || strings.Join(v.Copies[1].Sides, ",") != "caller" ||
			v.AudioFrom["caller"] != string(a.ID) || v.AudioFrom["callee"] != string(a.ID) {
			t.Errorf("%s (%s): copies %+v, audio from %v", id, v.Sensor, v.Copies, v.AudioFrom)
		}
		if v.Interaction != string(a.ID) {
			t.Errorf("%s: interaction %s, want %s", id, v.Interaction, a.ID)
		}
	}
}

// TestBrowserCallCopies: the call page of switch-b's copy names the
// sensors that recorded the call and points to switch-a's, which holds
// both directions; switch-a's page plays its own.
func TestBrowserCallCopies(t *testing.T) {
	needChromium(t)
	f := newFixture(t, false, nil)
	a, b := withTwoSensors(t, f)
	br := newBrowser(t)
	br.do(t, "open the UI", chromedp.Navigate(f.srv.URL+"/"))
	br.login(t, "sue", password)
	br.waitFor(t, "the call list", `document.querySelectorAll('#calls tbody tr[data-id]').length > 0`)
	br.do(t, "open switch-b's copy", chromedp.Navigate(f.srv.URL+"/#/calls/"+string(b.ID)))
	br.waitFor(t, "the copies", `!!document.getElementById('copies')`)
	if got := eval[string](t, br, `document.getElementById('copies').innerText.replace(/\s+/g, ' ')`); !strings.Contains(got, "Recorded by 2 sensors") ||
		!strings.Contains(got, "switch-a (both directions, played)") || !strings.Contains(got, "switch-b (caller only)") {
		t.Errorf("copies: %q", got)
	}
	note := eval[string](t, br, `(document.getElementById('better-copy') || {}).innerText || ''`)
	if !strings.Contains(note, "sensor switch-a recorded both directions") {
		t.Errorf("switch-b's page: note %q", note)
	}
	if got := eval[string](t, br, `document.querySelector('.head-actions').innerText`); strings.Contains(got, "null") {
		t.Errorf("the call's actions read %q", got)
	}
	br.screenshot(t, "call-copies.png")
	br.do(t, "follow the link", chromedp.Click(chromedp.CSS(`#better-copy a`)))
	br.waitFor(t, "switch-a's copy", `location.hash === '#/calls/`+string(a.ID)+`' && !!document.getElementById('copies') && !document.getElementById('better-copy')`)
	br.check(t)
}
