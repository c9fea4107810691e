package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
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

const demo = "../../testdata/demo.pcap"

// runCLI runs the command line in-process and returns its exit status,
// standard output and standard error.
func runCLI(t *testing.T, stdin []byte, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, bytes.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func importDemo(t *testing.T) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	code, out, errs := runCLI(t, nil, "import", demo, "--data", data)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errs)
	}
	return data
}

func callsJSON(t *testing.T, args ...string) []map[string]any {
	t.Helper()
	code, out, errs := runCLI(t, nil, append([]string{"calls", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("calls: exit %d: %s", code, errs)
	}
	var calls []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		calls = append(calls, m)
	}
	return calls
}

func TestImportAndList(t *testing.T) {
	data := importDemo(t)
	calls := callsJSON(t, "--data", data)
	if len(calls) != 7 {
		t.Fatalf("%d calls, want the demo's 7", len(calls))
	}
	for _, c := range calls {
		for _, k := range []string{"id", "call_id", "caller", "callee", "direction", "status", "start", "answer",
			"end", "duration_ms", "codecs", "audio", "pcap", "dtmf", "streams"} {
			if _, ok := c[k]; !ok {
				t.Errorf("call %v: no %q", c["id"], k)
			}
		}
		if c["status"] == "answered" {
			if c["audio"] == "" {
				t.Errorf("answered call %v has no audio", c["id"])
			}
			if _, err := os.Stat(filepath.Join(data, c["audio"].(string))); err != nil {
				t.Error(err)
			}
			streams := c["streams"].([]any)
			for _, s := range streams {
				for _, k := range []string{"ssrc", "src", "dst", "payload_type", "codec", "packets", "lost", "jitter_ms", "mos"} {
					if _, ok := s.(map[string]any)[k]; !ok {
						t.Errorf("stream of %v: no %q", c["id"], k)
					}
				}
			}
		} else if c["duration_ms"].(float64) != 0 {
			t.Errorf("unanswered call %v: duration_ms %v", c["id"], c["duration_ms"])
		}
	}
	// Newest first.
	for i := 1; i < len(calls); i++ {
		if calls[i-1]["start"].(string) < calls[i]["start"].(string) {
			t.Errorf("calls not newest first: %v before %v", calls[i-1]["start"], calls[i]["start"])
		}
	}

	// Filters.
	for _, tc := range []struct {
		args []string
		want func(map[string]any) bool
	}{
		{[]string{"--direction", "inbound"}, func(c map[string]any) bool { return c["direction"] == "inbound" }},
		{[]string{"--status", "busy"}, func(c map[string]any) bool { return c["status"] == "busy" }},
		{[]string{"--number", "201"}, func(c map[string]any) bool {
			return strings.Contains(c["caller"].(string), "201") || strings.Contains(c["callee"].(string), "201")
		}},
		{[]string{"--since", "2026-11-01T09:00:05Z"}, func(c map[string]any) bool { return c["start"].(string) >= "2026-11-01T09:00:05Z" }},
		{[]string{"--hangup-by", "caller"}, func(c map[string]any) bool { return c["hangup_by"] == "caller" }},
		{[]string{"--min-pdd", "10ms"}, func(c map[string]any) bool { v, ok := c["pdd_ms"].(float64); return ok && v >= 10 }},
	} {
		all := callsJSON(t, "--data", data)
		got := callsJSON(t, append([]string{"--data", data}, tc.args...)...)
		n := 0
		for _, c := range all {
			if tc.want(c) {
				n++
			}
		}
		if len(got) != n || n == 0 {
			t.Errorf("%v: %d calls, want %d (of %d)", tc.args, len(got), n, len(all))
		}
		for _, c := range got {
			if !tc.want(c) {
				t.Errorf("%v: call %v does not match", tc.args, c)
			}
		}
	}

	// --sort orders by a list column, ties by ID.
	byCaller := callsJSON(t, "--data", data, "--sort", "-caller")
	for i := 1; i < len(byCaller); i++ {
		if a, b := byCaller[i-1]["caller"].(string), byCaller[i]["caller"].(string); a < b || a == b && byCaller[i-1]["id"].(string) > byCaller[i]["id"].(string) {
			t.Errorf("--sort -caller: %s (%v) before %s (%v)", a, byCaller[i-1]["id"], b, byCaller[i]["id"])
		}
	}
	if len(byCaller) != len(calls) {
		t.Errorf("--sort -caller: %d calls, want %d", len(byCaller), len(calls))
	}

	// The table and show.
	code, out, _ := runCLI(t, nil, "calls", "--data", data)
	if code != 0 || strings.Count(out, "\n") != 8 {
		t.Errorf("calls table: exit %d, %d lines:\n%s", code, strings.Count(out, "\n"), out)
	}
	id := calls[0]["id"].(string)
	code, out, errs := runCLI(t, nil, "show", id[:8], "--data", data)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "RTP streams") && calls[0]["status"] == "answered" {
		t.Errorf("show: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCLI(t, nil, "show", "--json", id, "--data", data)
	var one map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &one) != nil || one["id"] != id {
		t.Errorf("show --json: exit %d\n%s", code, out)
	}

	// Importing again replaces, not duplicates.
	if code, out, errs := runCLI(t, nil, "import", "--data", data, demo); code != 0 {
		t.Fatalf("re-import: exit %d\n%s%s", code, out, errs)
	}
	if again := callsJSON(t, "--data", data); len(again) != len(calls) {
		t.Errorf("after re-import %d calls, want %d", len(again), len(calls))
	}
}

func TestImportStdinAndGzip(t *testing.T) {
	raw, err := os.ReadFile(demo)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	gzPath := filepath.Join(t.TempDir(), "demo.pcap.gz")
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, run := range map[string]func(data string) (int, string, string){
		"stdin": func(data string) (int, string, string) { return runCLI(t, raw, "import", "-", "--data", data) },
		"gzip":  func(data string) (int, string, string) { return runCLI(t, nil, "import", gzPath, "--data", data) },
	} {
		t.Run(name, func(t *testing.T) {
			data := t.TempDir()
			code, out, errs := run(data)
			if code != 0 || !strings.Contains(out, "calls recorded      7") {
				t.Fatalf("exit %d\n%s%s", code, out, errs)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "notes.txt")
	os.WriteFile(garbage, []byte("this is not a capture file\n"), 0o600)
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o600)
	badConfig := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badConfig, []byte("networks:\n  local: [10.0.0.0/33]\n"), 0o600)
	unknownKey := filepath.Join(dir, "typo.yaml")
	os.WriteFile(unknownKey, []byte("netwroks: {}\n"), 0o600)
	badShards := filepath.Join(dir, "shards.yaml")
	os.WriteFile(badShards, []byte("calls:\n  shards: -2\n"), 0o600)

	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"not a capture", []string{"import", garbage, "--data", dir}, 1, "not a pcap or pcapng file"},
		{"empty file", []string{"import", empty, "--data", dir}, 1, "holds no capture data"},
		{"missing file", []string{"import", filepath.Join(dir, "nope.pcap"), "--data", dir}, 1, "no such file"},
		{"no file", []string{"import", "--data", dir}, 2, "one capture file"},
		{"bad flag", []string{"calls", "--frobnicate"}, 2, "frobnicate"},
		{"bad direction", []string{"calls", "--direction", "sideways", "--data", dir}, 2, "sideways"},
		{"bad time", []string{"calls", "--since", "yesterday", "--data", dir}, 2, "yesterday"},
		{"bad sort", []string{"calls", "--sort", "caller;x", "--data", dir}, 2, "caller;x"},
		{"bad hangup", []string{"calls", "--hangup-by", "both", "--data", dir}, 2, "both"},
		{"bad config", []string{"import", demo, "--config", badConfig, "--data", dir}, 1, "10.0.0.0/33"},
		{"unknown config key", []string{"import", demo, "--config", unknownKey, "--data", dir}, 1, "netwroks"},
		{"bad shards config", []string{"import", demo, "--config", badShards, "--data", dir}, 1, "calls.shards must be 0"},
		{"bad shards flag", []string{"import", demo, "--shards", "-1", "--data", dir}, 2, "--shards must be 0"},
		{"no data dir", []string{"calls", "--data", filepath.Join(dir, "none")}, 1, "record something first"},
		{"unknown call", []string{"show", "ffffffffffff", "--data", dir}, 1, "no call"},
		{"unknown command", []string{"frob"}, 2, "unknown command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, nil, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.msg) {
				t.Errorf("exit %d (want %d), stderr %q (want %q), stdout %q", code, tc.code, errs, tc.msg, out)
			}
			if tc.code == 1 && strings.Count(strings.TrimSpace(errs), "\n") > 0 && tc.name == "not a capture" {
				t.Errorf("want one error line, got %q", errs)
			}
		})
	}
}

func TestConfigDirection(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "spanrec.yaml")
	// With 192.0.2.0/24 and friends declared local, nothing is outside.
	os.WriteFile(cfg, []byte("networks:\n  local: [10.0.0.0/8, 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24]\n"), 0o600)
	data := filepath.Join(dir, "data")
	// One shard: the worker assembles every call (the default is one per
	// CPU; recorder tests compare the two).
	if code, out, errs := runCLI(t, nil, "import", demo, "--data", data, "--config", cfg, "--shards", "1"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, c := range callsJSON(t, "--data", data) {
		if c["direction"] != "internal" {
			t.Errorf("call %v %v→%v: direction %v, want internal with every network local", c["id"], c["caller"], c["callee"], c["direction"])
		}
	}
}

// TestImportServe: the README's first command imports the demo capture,
// creates the first admin once and serves the UI until stopped.
func TestImportServe(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"import", demo, "--data", data, "--no-progress", "--serve", "127.0.0.1:0", "--first-admin", "admin"}, nil, out, errb)
	}()
	re := regexp.MustCompile(`Serving .* on (http://[0-9.:]+)/`)
	var url string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && url == ""; time.Sleep(50 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("no URL printed:\n%s\n%s", out.String(), errb.String())
	}
	text := out.String()
	pw := regexp.MustCompile(`user admin \(admin\), password (\S+)`).FindStringSubmatch(text)
	if pw == nil {
		t.Fatalf("no first-admin password printed:\n%s", text)
	}
	// Log in with it and list the calls.
	body := strings.NewReader(`{"user":"admin","password":"` + pw[1] + `"}`)
	req, _ := http.NewRequest("POST", url+"/api/login", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", url)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login: %s", resp.Status)
	}
	req, _ = http.NewRequest("GET", url+"/api/calls", nil)
	for _, c := range resp.Cookies() {
		req.AddCookie(c)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Total int }
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if page.Total != 7 {
		t.Errorf("total %d calls, want 7", page.Total)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, errb.String())
	}
	// A second start keeps the account and prints no new password, but
	// how to set one (in the form the user ran spanrec: see TestGoRun).
	ctx2, cancel2 := context.WithCancel(context.Background())
	out2, errb2 := &syncBuffer{}, &syncBuffer{}
	go func() {
		done <- run(ctx2, []string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--first-admin", "admin"}, nil, out2, errb2)
	}()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !strings.Contains(out2.String(), "Serving"); {
		time.Sleep(50 * time.Millisecond)
	}
	cancel2()
	if code := <-done; code != 0 {
		t.Errorf("second start: exit %d: %s", code, errb2.String())
	}
	if strings.Contains(out2.String(), pw[1]) || strings.Contains(out2.String(), "Created") {
		t.Errorf("second start printed a password:\n%s", out2.String())
	}
	if hint := "spanrec user password admin --data " + data + " --generate"; !strings.Contains(out2.String(), hint) {
		t.Errorf("second start does not say how to reset the password (%q):\n%s", hint, out2.String())
	}
}
