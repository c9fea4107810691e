package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestImportServeLive: import --serve (the README's Quick start) watches
// the index as serve does: a second import into the same data directory,
// run while it serves, sends each of its calls to /api/live as an "end"
// event, once, and none of the first import's. Both captures are
// third-party (Wireshark samples).
func TestImportServeLive(t *testing.T) {
	caps := filepath.Join(capturesDirForTest(t), "wireshark-samples")
	first, second := filepath.Join(caps, "SIP_DTMF2.pcap"), filepath.Join(caps, "sip-rtp-g722.pcap")
	for _, p := range []string{first, second} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("third-party capture missing: %v", err)
		}
	}
	data := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"import", first, "--data", data, "--no-progress", "--serve", "127.0.0.1:0",
			"--first-admin", "admin", "--poll", "100ms"}, nil, out, errb)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("import --serve: exit %d: %s", code, errb.String())
		}
	}()
	re := regexp.MustCompile(`Serving .* on (http://[0-9.:]+)/`)
	var url string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && url == ""; time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatalf("no URL printed:\n%s\n%s", out.String(), errb.String())
	}
	before := map[string]bool{}
	for _, c := range callsJSON(t, "--data", data) {
		before[c["id"].(string)] = true
	}
	if len(before) == 0 {
		t.Fatal("the first import recorded no call")
	}
	pw := regexp.MustCompile(`user admin \(admin\), password (\S+)`).FindStringSubmatch(out.String())
	if pw == nil {
		t.Fatalf("no first-admin password printed:\n%s", out.String())
	}
	req, _ := http.NewRequest("POST", url+"/api/login", strings.NewReader(`{"user":"admin","password":"`+pw[1]+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", url)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login: %s", res.Status)
	}
	lctx, lcancel := context.WithCancel(context.Background())
	defer lcancel()
	req, _ = http.NewRequestWithContext(lctx, "GET", url+"/api/live", nil)
	for _, c := range res.Cookies() {
		req.AddCookie(c)
	}
	live, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Body.Close()
	type event struct{ typ, id string }
	events := make(chan event, 64)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(live.Body)
		sc.Buffer(nil, 1<<20)
		var typ string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				typ = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				var c struct{ ID string }
				json.Unmarshal([]byte(v), &c)
				events <- event{typ, c.ID}
			}
		}
	}()
	if ev := <-events; ev.typ != "snapshot" {
		t.Fatalf("first event %+v, want the snapshot", ev)
	}

	// The serving import released the data directory: a second import
	// may write it.
	if code, o, e := runCLI(t, nil, "import", second, "--data", data, "--no-progress"); code != 0 {
		t.Fatalf("second import: exit %d\n%s%s", code, o, e)
	}
	want := map[string]bool{}
	for _, c := range callsJSON(t, "--data", data) {
		if id := c["id"].(string); !before[id] {
			want[id] = true
		}
	}
	if len(want) == 0 {
		t.Fatal("the second import recorded no call")
	}
	got := map[string]int{}
	deadline := time.After(20 * time.Second)
	for len(got) < len(want) {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the live stream ended")
			}
			if ev.typ != "end" {
				t.Errorf("event %+v; serve sees calls only as they are indexed", ev)
				continue
			}
			if !want[ev.id] {
				t.Errorf("end event of call %s, not one of the second import's", ev.id)
			}
			got[ev.id]++
		case <-deadline:
			t.Fatalf("live events for %d of the second import's %d calls", len(got), len(want))
		}
	}
	// Any duplicate would come within a few polls.
	select {
	case ev := <-events:
		t.Errorf("event %+v after every call was told", ev)
	case <-time.After(500 * time.Millisecond):
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("call %s told %d times", id, n)
		}
	}
}
