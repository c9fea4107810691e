package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/call"
	"github.com/spanrec/spanrec/capture"
	"github.com/spanrec/spanrec/recorder"
	"github.com/spanrec/spanrec/sqlite"
)

// cheap keeps password hashing fast in tests; the parameters travel in the
// hash, so verification is as cheap.
var cheap = auth.Params{Time: 1, MemoryKiB: 64, Threads: 1}

// The test users. agnes is an agent with the demo's extension 201.
var users = []struct {
	name string
	role auth.Role
	ext  []string
}{
	{"ada", auth.Admin, nil},
	{"sue", auth.Supervisor, nil},
	{"agnes", auth.Agent, []string{"201"}},
	{"nobody", auth.Agent, nil},
}

const password = "correct horse battery"

// fixture is a server over a data directory filled by importing real
// captures.
type fixture struct {
	dir   string
	db    *sqlite.DB
	api   *api.Server
	srv   *httptest.Server
	clock *clock
	calls []*spanrec.Call // every call, newest first
}

// clock is a settable time source, safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// capturesDir returns the shared third-party captures folder:
// $SPANREC_CAPTURES, or ../shared/captures beside the directory holding
// go.mod; "" if absent.
func capturesDir() string {
	if d := os.Getenv("SPANREC_CAPTURES"); d != "" {
		return d
	}
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "captures")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// importInto records the capture at path into dir's index.
func importInto(t testing.TB, db *sqlite.DB, dir, path string) {
	t.Helper()
	importAs(t, db, dir, path, "")
}

// importAs records the capture at path into dir's index as the sensor
// named sensor ("": none).
func importAs(t testing.TB, db *sqlite.DB, dir, path, sensor string) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cfg := recorder.Config{Call: call.Config{DataDir: dir, Sensor: sensor}, Renderers: 2, Logger: slog.New(slog.DiscardHandler)}
	sum, err := recorder.Import(context.Background(), cfg, src, db, nil)
	if err != nil || sum.Errors > 0 {
		t.Fatalf("import %s: %v (%d errors)", path, err, sum.Errors)
	}
}

// newFixture imports the demo capture (and, with extra, two of the shared
// Wireshark samples when present) into a new data directory and serves it.
func newFixture(t testing.TB, extra bool, mod func(*api.Config)) *fixture {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	importInto(t, db, dir, "../testdata/demo.pcap")
	if extra {
		caps := capturesDir()
		for _, name := range []string{"SIP_DTMF2.pcap", "sip-rtp-g722.pcap"} {
			p := filepath.Join(caps, "wireshark-samples", name)
			if _, err := os.Stat(p); err != nil {
				t.Logf("skipping %s: %v", name, err)
				continue
			}
			importInto(t, db, dir, p)
		}
	}
	ctx := context.Background()
	for _, u := range users {
		h, err := auth.HashPassword(password, cheap)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AddUser(ctx, auth.User{Name: u.name, Role: u.role, Extensions: u.ext, PasswordHash: h, Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{dir: dir, db: db, clock: &clock{}}
	f.clock.ns.Store(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC).UnixNano())
	cfg := api.Config{
		DataDir: dir, Index: db, Accounts: db, PasswordParams: cheap,
		Logger: slog.New(slog.DiscardHandler), Now: f.clock.now, Heartbeat: 50 * time.Millisecond,
		Zone: time.UTC,
	}
	if mod != nil {
		mod(&cfg)
	}
	f.api, err = api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.api.Handler())
	t.Cleanup(f.srv.Close)
	f.calls, err = db.Calls(ctx, spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var (
	sharedOnce sync.Once
	shared     *fixture
)

// readOnly returns the fixture the tests that change nothing share.
func readOnly(t *testing.T) *fixture {
	t.Helper()
	sharedOnce.Do(func() { shared = newFixture(sharedTB{t}, true, nil) })
	if shared == nil {
		t.Fatal("shared fixture failed")
	}
	return shared
}

// sharedTB lets the shared fixture outlive the test that built it: its
// cleanups run at the end of the package's tests (TestMain), not the test's.
type sharedTB struct{ *testing.T }

var sharedCleanups []func()

func (sharedTB) Cleanup(f func()) { sharedCleanups = append(sharedCleanups, f) }
func (s sharedTB) TempDir() string {
	d, err := os.MkdirTemp("", "spanrec-api-test-")
	if err != nil {
		s.Fatal(err)
	}
	sharedCleanups = append(sharedCleanups, func() { os.RemoveAll(d) })
	return d
}

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(sharedCleanups) - 1; i >= 0; i-- {
		sharedCleanups[i]()
	}
	os.Exit(code)
}

// client talks to a fixture's server as one user (or nobody).
type client struct {
	t      *testing.T
	base   string
	hc     *http.Client
	csrf   string
	bearer string
	header http.Header // extra headers for every request
}

func (f *fixture) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: f.srv.URL, hc: &http.Client{Jar: jar}, header: http.Header{}}
}

// login returns a client logged in as name.
func (f *fixture) login(t *testing.T, name string) *client {
	t.Helper()
	c := f.client(t)
	res, body := c.do("POST", "/api/login", map[string]string{"user": name, "password": password})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %d %s", name, res.StatusCode, body)
	}
	var me struct{ CSRF string }
	if err := json.Unmarshal(body, &me); err != nil || me.CSRF == "" {
		t.Fatalf("login %s: %s", name, body)
	}
	c.csrf = me.CSRF
	return c
}

// do sends a request (body as JSON unless it is a string or nil) and
// returns the response with its body read.
func (c *client) do(method, path string, body any) (*http.Response, []byte) {
	c.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(js), "application/json"
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if c.csrf != "" && method != "GET" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return res, b
}

// getJSON GETs path, wants status want and decodes the body into v.
func (c *client) getJSON(path string, want int, v any) {
	c.t.Helper()
	res, body := c.do("GET", path, nil)
	if res.StatusCode != want {
		c.t.Fatalf("GET %s: %d %s; want %d", path, res.StatusCode, body, want)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			c.t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
}

// wantError checks that res is a JSON error with the given status.
func wantError(t *testing.T, what string, res *http.Response, body []byte, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("%s: status %d (%s), want %d", what, res.StatusCode, body, status)
		return
	}
	var e struct {
		Error  string
		Kind   string
		Status int
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == "" || e.Status != status || e.Kind == "" {
		t.Errorf("%s: error body %s (%v)", what, body, err)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: error Content-Type %q", what, ct)
	}
}

// callWith returns a call of the fixture that satisfies ok.
func (f *fixture) callWith(t *testing.T, ok func(*spanrec.Call) bool) *spanrec.Call {
	t.Helper()
	for _, c := range f.calls {
		if ok(c) {
			return c
		}
	}
	t.Fatal("no call of the fixture fits")
	return nil
}

// agnesCall is a call with audio where extension 201 is a party;
// otherCall one with audio where it is not.
func agnesCall(c *spanrec.Call) bool {
	return c.Audio != "" && (c.Caller.Number == "201" || c.Callee.Number == "201")
}

func otherCall(c *spanrec.Call) bool {
	return c.Audio != "" && c.Caller.Number != "201" && c.Callee.Number != "201"
}

// fileName is the name a fixture call's file downloads as (the fixture's
// zone is UTC; the demo's numbers need no replacing).
func fileName(c *spanrec.Call, ext string) string {
	return c.Start.UTC().Format("2006-01-02_1504") + "_" + c.Caller.Number + "-to-" + c.Callee.Number + "_" + string(c.ID) + ext
}
