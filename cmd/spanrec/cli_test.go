package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/sqlite"
)

// TestHelp: "spanrec help CMD", "spanrec CMD --help" and "CMD -h" print
// the command's usage line and then its flags, not the general help.
func TestHelp(t *testing.T) {
	code, general, _ := runCLI(t, nil, "help")
	if code != 0 || !strings.Contains(general, "Common flags") {
		t.Fatalf("help: exit %d\n%s", code, general)
	}
	for name, syn := range synopses {
		words := strings.Fields(name)
		for _, args := range [][]string{
			append([]string{"help"}, words...),
			append(slices.Clone(words), "--help"),
			append(slices.Clone(words), "-h"),
		} {
			code, out, errs := runCLI(t, nil, args...)
			first, _, _ := strings.Cut(out, "\n")
			if code != 0 || first != "usage: spanrec "+name+" "+syn || !strings.Contains(out, "\nflags:\n") || out == general {
				t.Errorf("%v: exit %d, first line %q\n%s%s", args, code, first, out, errs)
			}
			// Every flag the command has is listed.
			if !strings.Contains(out, "  --data string") || !strings.Contains(out, "  --config string") {
				t.Errorf("%v: the common flags are missing:\n%s", args, out)
			}
		}
	}
	code, out, _ := runCLI(t, nil, "help", "import")
	for _, want := range []string{"usage: spanrec import [flags] FILE|-\n", "--serve string", "--first-admin string", "--no-progress"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("help import: exit %d, no %q:\n%s", code, want, out)
		}
	}
	code, out, _ = runCLI(t, nil, "help", "calls")
	for _, p := range spanrec.FilterParams {
		flag := map[string]string{"from": "since", "to": "until"}[p]
		if flag == "" {
			flag = strings.ReplaceAll(p, "_", "-")
		}
		if code != 0 || !strings.Contains(out, "  --"+flag+" ") && !strings.Contains(out, "  --"+flag+"\n") {
			t.Errorf("help calls: no --%s (the API's %s):\n%s", flag, p, out)
		}
	}
	if code, out, _ := runCLI(t, nil, "help", "user"); code != 0 || !strings.Contains(out, "spanrec user add NAME") {
		t.Errorf("help user: exit %d\n%s", code, out)
	}
	if code, out, _ := runCLI(t, nil, "help", "version"); code != 0 || !strings.HasPrefix(out, "usage: spanrec version") {
		t.Errorf("help version: exit %d\n%s", code, out)
	}
	if code, _, errs := runCLI(t, nil, "help", "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("help frobnicate: exit %d, %q", code, errs)
	}
}

// TestVersion builds the binary as a user does and checks that "spanrec
// version" says what the go command stamped into it, as "go version -m"
// reads it: the module version, and in a git checkout the revision, its
// time and whether the tree was modified.
func TestVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildSpanrec(t)
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSpace(string(out))
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{runtime.Version()}
	stamped := false
	for line := range strings.Lines(string(info)) {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod" && f[2] != "(devel)":
			want = append(want, "spanrec "+f[2])
		case len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			want = append(want, "revision "+strings.TrimPrefix(f[1], "vcs.revision=")[:12])
			stamped = true
		case len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.time="):
			want = append(want, strings.TrimPrefix(f[1], "vcs.time="))
		case len(f) == 2 && f[0] == "build" && f[1] == "vcs.modified=true":
			want = append(want, "+dirty")
		}
	}
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("version %q lacks %q (go version -m says:\n%s)", got, w, info)
		}
	}
	if !stamped {
		t.Logf("the build has no VCS stamp (not a git checkout with .git a directory, or -buildvcs=false): %q", got)
	}
}

// TestVersionStamped: what a build from a git checkout prints. The build
// information is that of a binary built from a clone of this repository
// (go version -m), parsed as the binary reads its own.
func TestVersionStamped(t *testing.T) {
	bi, err := debug.ParseBuildInfo("path\tgithub.com/spanrec/spanrec/cmd/spanrec\n" +
		"mod\tgithub.com/spanrec/spanrec\tv0.0.0-20261206234253-f8a8c67b9f1b+dirty\t\n" +
		"build\tvcs=git\nbuild\tvcs.revision=f8a8c67b9f1b653ac318f46e54c3b8f2a1b90573\n" +
		"build\tvcs.time=2026-12-06T23:42:53Z\nbuild\tvcs.modified=true\n")
	if err != nil {
		t.Fatal(err)
	}
	bi.GoVersion = "go1.26.8" // the first line of go version -m, which ParseBuildInfo leaves
	got := versionText(bi, true)
	want := "spanrec v0.0.0-20261206234253-f8a8c67b9f1b+dirty (revision f8a8c67b9f1b+dirty, 2026-12-06T23:42:53Z), go1.26.8"
	if got != want {
		t.Errorf("version\n%s\nwant\n%s", got, want)
	}
	if got := versionText(nil, false); got != "spanrec dev" {
		t.Errorf("without build information: %q", got)
	}
}

// buildSpanrec builds cmd/spanrec as "go build" does by default (VCS
// stamping on whatever GOFLAGS the machine has) into a temporary directory.
func buildSpanrec(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "spanrec")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=auto", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestHintsName: the commands that spanrec suggests are spelt the way the
// user ran it: "go run ./cmd/spanrec" under go run, the path typed for a
// binary run by path.
func TestHintsName(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	none := filepath.Join(t.TempDir(), "none")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// go run from the repository root, as the README says.
	cmd := exec.CommandContext(ctx, "go", "run", "./cmd/spanrec", "calls", "--data", none)
	cmd.Dir = "../.."
	out, _ := cmd.CombinedOutput()
	if want := "record something first with 'go run ./cmd/spanrec import'"; !strings.Contains(string(out), want) {
		t.Errorf("go run: no %q in\n%s", want, out)
	}
	bin := buildSpanrec(t)
	cmd = exec.CommandContext(ctx, "./spanrec", "calls", "--data", none)
	cmd.Dir = filepath.Dir(bin)
	out, _ = cmd.CombinedOutput()
	if want := "record something first with './spanrec import'"; !strings.Contains(string(out), want) {
		t.Errorf("./spanrec: no %q in\n%s", want, out)
	}
	for arg0, want := range map[string]string{
		"spanrec":                "spanrec",
		"./spanrec":              "./spanrec",
		"/usr/local/bin/spanrec": "/usr/local/bin/spanrec",
		"":                       "spanrec",
		// go run's executable: in the build cache (Go 1.24 and later) or
		// in a temporary work directory.
		"/root/.cache/go-build/71/71f26cc6e3a5-d/spanrec": "go run ./cmd/spanrec",
		"/tmp/go-build2195061239/b001/exe/spanrec":        "go run ./cmd/spanrec",
		// A build cache elsewhere (GOCACHE=/tmp/qs-gocache).
		"/tmp/qs-gocache/6c/6c060e1990da4f69199b1668093ba051e194faddd64df86f343f9abd88378c1f-d/spanrec": "go run ./cmd/spanrec",
		// Not the cache's layout.
		"/opt/6c/6d-d/spanrec":  "/opt/6c/6d-d/spanrec",
		"/opt/ab/abx-d/spanrec": "/opt/ab/abx-d/spanrec",
	} {
		if got := invocation(arg0); got != want {
			t.Errorf("invocation(%q) = %q, want %q", arg0, got, want)
		}
	}
}

// TestShowPrefix: show takes a call ID or a unique prefix of at least
// spanrec.MinIDPrefix characters, says so when given fewer, and lists the
// calls an ambiguous prefix names; no message names a Go package.
func TestShowPrefix(t *testing.T) {
	data := importDemo(t)
	calls := callsJSON(t, "--data", data)
	id := calls[0]["id"].(string)
	// Two more copies of a demo call whose IDs share 7 characters.
	ctx := context.Background()
	db, err := sqlite.Open(ctx, indexPath(data))
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Call(ctx, spanrec.CallID(id))
	if err != nil {
		t.Fatal(err)
	}
	twins := []spanrec.CallID{"abcdef0000000000aaaa", "abcdef0000000000bbbb"}
	for _, twin := range twins {
		cc := *c
		cc.ID, cc.Interaction = twin, twin
		if err := db.PutCall(ctx, &cc); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"show", id[:3]}, 2, []string{"too short", "at least its first 6 characters", "spanrec calls"}},
		{[]string{"show", id[:6]}, 0, []string{"Call " + id}},
		{[]string{"show", strings.ToUpper(id[:8])}, 0, []string{"Call " + id}},
		{[]string{"show", "abcdef0"}, 1, []string{"names 2 calls", string(twins[0]), string(twins[1]), "give more of the ID"}},
		{[]string{"show", "abcdef0000000000b"}, 0, []string{"Call " + string(twins[1])}},
		{[]string{"show", "ffffffffff"}, 1, []string{"no call ffffffffff"}},
		{[]string{"user", "delete", "nobody"}, 1, []string{"no user nobody"}},
		{[]string{"token", "revoke", "99"}, 1, []string{"no token 99"}},
	} {
		code, out, errs := runCLI(t, nil, append(tc.args, "--data", data)...)
		for _, w := range tc.want {
			if code != tc.code || !strings.Contains(out+errs, w) {
				t.Errorf("%v: exit %d (want %d), no %q in\n%s%s", tc.args, code, tc.code, w, out, errs)
			}
		}
		if strings.Contains(errs, "sqlite") {
			t.Errorf("%v: a package name in the message: %s", tc.args, errs)
		}
	}
}

// TestCallsFilters: spanrec calls has every search term of GET /api/calls,
// parsed by the same code, with the same meaning.
func TestCallsFilters(t *testing.T) {
	data := importDemo(t)
	all := callsJSON(t, "--data", data)
	one := all[len(all)-1]["id"].(string)
	ms := func(c map[string]any) float64 { return c["duration_ms"].(float64) }
	hasCodec := func(c map[string]any, name string) bool {
		for _, x := range c["codecs"].([]any) {
			if strings.EqualFold(x.(string), name) {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		args     []string
		want     func(map[string]any) bool
		nonEmpty bool
	}{
		{[]string{"--codec", "pcmu"}, func(c map[string]any) bool { return hasCodec(c, "PCMU") }, true},
		{[]string{"--codec", "G722"}, func(c map[string]any) bool { return hasCodec(c, "G722") }, true},
		{[]string{"--has-loss"}, func(c map[string]any) bool { return c["capture_loss"] == true }, false},
		{[]string{"--has-loss=false"}, func(c map[string]any) bool { return c["capture_loss"] == false }, true},
		{[]string{"--min-duration", "6"}, func(c map[string]any) bool { return ms(c) >= 6000 }, true},
		{[]string{"--max-duration", "5.5"}, func(c map[string]any) bool { return ms(c) <= 5500 }, true},
		{[]string{"--min-duration", "1", "--max-duration", "6"}, func(c map[string]any) bool { return ms(c) >= 1000 && ms(c) <= 6000 }, true},
		{[]string{"--status", "busy"}, func(c map[string]any) bool { return c["status"] == "busy" }, true},
		{[]string{"--signalling", "sip"}, func(c map[string]any) bool { return c["signalling"] != "none" }, true},
		{[]string{"--signalling", "none"}, func(c map[string]any) bool { return c["signalling"] == "none" }, false},
		{[]string{"--interaction", one}, func(c map[string]any) bool { return c["interaction"] == one }, true},
		{[]string{"--group", "interaction"}, func(c map[string]any) bool { return c["interaction"] == c["id"] }, true},
		{[]string{"--since", "2026-11-01", "--until", "2026-11-02"}, func(c map[string]any) bool { return strings.HasPrefix(c["start"].(string), "2026-11-01T") }, true},
		{[]string{"--since", "2026-11-01 09:00:05", "--until", "2026-11-01T09:00:13"}, func(c map[string]any) bool {
			s := c["start"].(string)
			return s >= "2026-11-01T09:00:05Z" && s < "2026-11-01T09:00:13Z"
		}, true},
		{[]string{"--status-code", "486"}, func(c map[string]any) bool { return c["status_code"] == 486.0 }, true},
		{[]string{"--hangup-by", "caller"}, func(c map[string]any) bool { return c["hangup_by"] == "caller" }, true},
		{[]string{"--max-duration", "1m"}, func(c map[string]any) bool { return ms(c) <= 60000 }, true},
		{[]string{"--min-ring", "1000ms", "--max-ring", "2"}, func(c map[string]any) bool {
			r, ok := c["ring_ms"].(float64)
			return ok && r >= 1000 && r <= 2000
		}, true},
		{[]string{"--since", "2026-11-01T10:00:05+01:00"}, func(c map[string]any) bool { return c["start"].(string) >= "2026-11-01T09:00:05Z" }, true},
	} {
		got := callsJSON(t, append([]string{"--data", data}, tc.args...)...)
		n := 0
		for _, c := range all {
			if tc.want(c) {
				n++
			}
		}
		if len(got) != n || tc.nonEmpty && n == 0 {
			t.Errorf("%v: %d calls, want %d (of %d)", tc.args, len(got), n, len(all))
		}
		for _, c := range got {
			if !tc.want(c) {
				t.Errorf("%v: call %v does not match", tc.args, c["id"])
			}
		}
	}
	byDuration := callsJSON(t, "--data", data, "--sort", "duration")
	for i := 1; i < len(byDuration); i++ {
		if ms(byDuration[i-1]) > ms(byDuration[i]) {
			t.Errorf("--sort duration: %v ms before %v ms", ms(byDuration[i-1]), ms(byDuration[i]))
		}
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--codec", strings.Repeat("x", 40)}, "longer than 32"},
		{[]string{"--has-loss=maybe"}, "maybe"},
		{[]string{"--min-duration", "-1"}, "want seconds"},
		{[]string{"--min-pdd", "soon"}, "or a duration (1m30s, 500ms)"},
		{[]string{"--max-duration", "-2s"}, "want seconds"},
		{[]string{"--min-duration", "10", "--max-duration", "5"}, "maximum duration is less than the minimum"},
		{[]string{"--since", "2026-11-02", "--until", "2026-11-01"}, "end of the time range is before its start"},
		{[]string{"--since", "2026-11-31"}, "want an RFC 3339 time"},
		{[]string{"--group", "caller"}, "want interaction"},
		{[]string{"--sort", "nope"}, "want one of start, caller"},
		{[]string{"--status-code", "99"}, "from 100 to 699"},
		{[]string{"--min-ring", "5", "--max-ring", "1"}, "maximum ring time is less than the minimum"},
		{[]string{"--signalling", "h323"}, "want sip or none"},
	} {
		code, _, errs := runCLI(t, nil, append([]string{"calls", "--data", data}, tc.args...)...)
		if code != 2 || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errs, tc.msg)
		}
	}
}

// TestMessagesNameNoPackage: what a user gets wrong (a file that is not a
// capture, a missing file, a bad key file or configuration, an unknown
// call) is said in the user's terms, without the Go package or type that
// noticed it.
func TestMessagesNameNoPackage(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	notes := write("notes.txt", "this is not a capture file\n")
	typo := write("typo.yaml", "netwroks: {}\n")
	kind := write("kind.yaml", "calls:\n  shards: many\n")
	data := importDemo(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"import", notes, "--data", dir}, notes + " is not a pcap or pcapng file"},
		{[]string{"doctor", notes}, notes + " is not a pcap or pcapng file"},
		{[]string{"import", filepath.Join(dir, "nope.pcap"), "--data", dir}, "open " + filepath.Join(dir, "nope.pcap") + ": no such file"},
		{[]string{"import", demo, "--keys", notes, "--data", dir}, "key file: " + notes + ": line 1: not a key log line"},
		{[]string{"calls", "--config", typo, "--data", data}, "line 1: unknown key netwroks"},
		{[]string{"calls", "--config", kind, "--data", data}, "line 2: `many` is not the kind of value expected here"},
		{[]string{"calls", "--config", notes, "--data", data}, "is not the kind of value expected here"},
		{[]string{"show", "0123456789", "--data", data}, "no call 0123456789"},
		{[]string{"show", "abc", "--data", data}, "at least its first 6 characters"},
	} {
		code, _, errs := runCLI(t, nil, tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q; want %q", tc.args, code, errs, tc.want)
		}
		for _, pkg := range []string{"capture:", "keys:", "sqlite", "postgres", "index:", "main.", " yaml:", "!!"} {
			if strings.Contains(errs, pkg) {
				t.Errorf("%v: %q names %q", tc.args, errs, pkg)
			}
		}
	}
}

// TestShowText: the text form of show names what the JSON form has beyond
// the call's figures: the sensor, the hold the SDP asked for, and the copy
// of the same call another sensor recorded.
func TestShowText(t *testing.T) {
	o := pcaptest.Options{Seed: 3, Calls: []pcaptest.Call{{
		CallID: "show-hold@test", Talk: 5 * time.Second,
		Hold: &pcaptest.Hold{At: time.Second, Length: 2 * time.Second},
	}}}
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	capPath := filepath.Join(dir, "hold.pcap")
	if err := os.WriteFile(capPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if code, out, errs := runCLI(t, nil, "import", capPath, "--data", data, "--sensor", "floor-1"); code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errs)
	}
	id := callsJSON(t, "--data", data)[0]["id"].(string)

	// The same call as a second sensor recorded it.
	ctx := context.Background()
	db, err := sqlite.Open(ctx, indexPath(data))
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.Call(ctx, spanrec.CallID(id))
	if err != nil {
		t.Fatal(err)
	}
	twin := *c
	twin.ID, twin.Interaction, twin.Sensor = "0123456789abcdef0123", "0123456789abcdef0123", "floor-2"
	if err := db.PutCall(ctx, &twin); err != nil {
		t.Fatal(err)
	}
	db.Close()

	code, out, errs := runCLI(t, nil, "show", id, "--data", data)
	if code != 0 {
		t.Fatalf("show: exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"sensor       floor-1",
		"on hold      callee sends nothing from 2026-11-01 09:00:0",
		"copy         " + id + " from sensor floor-1: audio of caller and callee",
		"copy         0123456789abcdef0123 from sensor floor-2: audio of caller and callee",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
}

// TestCallsSearchStopped: spanrec calls with a search no index serves (a
// number of one character) examines only the newest calls and says so on
// stderr, its calls those of the newest; --scan-all examines every call.
func TestCallsSearchStopped(t *testing.T) {
	data := importDemo(t)
	all := callsJSON(t, "--data", data)
	if len(all) < 4 {
		t.Fatalf("%d demo calls, want 4 or more", len(all))
	}
	defer func(n int) { unindexedScan = n }(unindexedScan)
	unindexedScan = 3
	has0 := func(c map[string]any) bool {
		return strings.Contains(c["caller"].(string)+c["callee"].(string), "0")
	}
	var want, wantAll []any
	for i, c := range all { // newest first
		if has0(c) {
			wantAll = append(wantAll, c["id"])
			if i < 3 {
				want = append(want, c["id"])
			}
		}
	}
	code, _, errs := runCLI(t, nil, "calls", "--data", data, "--number", "0")
	if code != 0 || !strings.Contains(errs, "searched only the newest 3 calls") || !strings.Contains(errs, `the number "0": a text of fewer than 3 characters`) {
		t.Fatalf("exit %d, stderr %q; want the stop said", code, errs)
	}
	idsOf := func(calls []map[string]any) []any {
		var out []any
		for _, c := range calls {
			out = append(out, c["id"])
		}
		return out
	}
	if got := idsOf(callsJSON(t, "--data", data, "--number", "0")); !slices.Equal(got, want) {
		t.Errorf("stopped search: %v, want %v (the newest 3 calls' with a 0)", got, want)
	}
	// Every call examined: no stop.
	code, _, errs = runCLI(t, nil, "calls", "--data", data, "--number", "0", "--scan-all")
	if code != 0 || strings.Contains(errs, "searched only") {
		t.Errorf("--scan-all: exit %d, stderr %q", code, errs)
	}
	if got := idsOf(callsJSON(t, "--data", data, "--number", "0", "--scan-all")); !slices.Equal(got, wantAll) || len(wantAll) <= len(want) {
		t.Errorf("--scan-all: %v, want %v", got, wantAll)
	}
	// An index serves three characters: no stop.
	code, _, errs = runCLI(t, nil, "calls", "--data", data, "--number", "000")
	if code != 0 || strings.Contains(errs, "searched only") {
		t.Errorf("three characters: exit %d, stderr %q", code, errs)
	}
}
