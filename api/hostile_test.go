package api_test

// The hostile suite of the web side: what an unauthenticated attacker, a
// curious agent or a misbehaving client can send, and the bounds the server
// must keep while it does. Every test runs on loopback, against the real
// SQLite store, and ends in seconds.

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/auth"
)

// heapPeak samples the bytes of live and not yet swept heap objects every
// millisecond until stop is called, and returns the highest sample.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// metricValue returns the value of the sample line of /metrics that starts
// with name (including its labels), or -1 if there is none.
func metricValue(t *testing.T, f *fixture, name string) float64 {
	t.Helper()
	_, body := f.client(t).do("GET", "/metrics", nil)
	for line := range strings.Lines(string(body)) {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("metric %s: %q", name, line)
			}
			return v
		}
	}
	return -1
}

// storm sends n logins at once, each built by req(i), and returns the
// count of each status.
func storm(t *testing.T, f *fixture, n int, req func(i int) *http.Request) map[int]int {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: n, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	var (
		mu     sync.Mutex
		counts = map[int]int{}
		wg     sync.WaitGroup
		start  = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			r := req(i)
			<-start
			res, err := hc.Do(r)
			if err != nil {
				t.Errorf("login %d: %v", i, err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable {
				if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 {
					t.Errorf("status %d without a Retry-After (%q)", res.StatusCode, res.Header.Get("Retry-After"))
				}
			}
			mu.Lock()
			counts[res.StatusCode]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return counts
}

func loginRequest(t *testing.T, base, user, pw string) *http.Request {
	b, _ := json.Marshal(map[string]string{"user": user, "password": pw})
	r, err := http.NewRequest("POST", base+"/api/login", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	return r
}

// TestHostileLoginStorm: 500 concurrent wrong passwords for one name, then
// 300 concurrent logins of 300 names from 300 addresses (through a trusted
// proxy), with the default Argon2id costs (19 MiB a check). The server
// checks at most PasswordChecks passwords at once, blocks the rest of the
// first storm with 429, sheds the second with 503, audits every failed
// check, and its heap stays within a bound of the slots' memory.
func TestHostileLoginStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes at the default Argon2id cost")
	}
	const slots = 2
	f := newFixture(t, false, func(c *api.Config) {
		c.PasswordParams = auth.Params{} // the default: 19 MiB, t=2
		c.PasswordChecks = slots
		c.PasswordWait = 2 * time.Second
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	ctx := context.Background()
	h, err := auth.HashPassword(password, auth.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetPassword(ctx, "sue", h); err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	base := heapPeak()()
	stop := heapPeak()
	counts := storm(t, f, 500, func(i int) *http.Request {
		return loginRequest(t, f.srv.URL, "sue", "guess"+strconv.Itoa(i))
	})
	peak := stop()
	t.Logf("one name, 500 wrong passwords: %v; heap %d MiB before, peak %d MiB", counts, base>>20, peak>>20)
	if counts[http.StatusUnauthorized] > 5 || counts[http.StatusTooManyRequests] < 480 ||
		counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests]+counts[http.StatusServiceUnavailable] != 500 {
		t.Errorf("statuses %v: want at most 5 × 401 and (nearly) all the rest 429", counts)
	}
	if n := metricValue(t, f, "spanrec_login_password_checks_total"); n > 5 || n < 1 {
		t.Errorf("%v password checks for one name, want 1 to 5", n)
	}
	// Each check holds 19 MiB while it runs. The heap holds the slots'
	// checks, the garbage of finished ones until the collector's goal
	// (twice the live heap at GOGC=100) is reached, and a margin for a
	// collector that lags on a loaded machine: 3 × slots × 19 MiB, plus
	// 64 MiB for the 500 requests of both sides (client and server are
	// this process). Unbounded, the storm took 9.8 GB.
	bound := uint64(3*slots*19<<20 + 64<<20)
	if peak > base+bound {
		t.Errorf("heap peaked at %d MiB, %d MiB above the %d MiB before; bound %d MiB", peak>>20, (peak-base)>>20, base>>20, bound>>20)
	}
	if n := metricValue(t, f, `spanrec_login_throttled_total{scope="name_address"}`); n < 480 {
		t.Errorf("login_throttled{name_address} = %v", n)
	}

	// Spraying: one attempt for each of 300 names, from 300 addresses.
	runtime.GC()
	base = heapPeak()()
	stop = heapPeak()
	counts = storm(t, f, 300, func(i int) *http.Request {
		r := loginRequest(t, f.srv.URL, "user"+strconv.Itoa(i), "guess")
		r.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d, 203.0.%d.%d", i%250, i/250, i%250))
		return r
	})
	peak = stop()
	t.Logf("300 names from 300 addresses: %v; heap %d MiB before, peak %d MiB", counts, base>>20, peak>>20)
	if counts[http.StatusUnauthorized] < slots || counts[http.StatusUnauthorized]+counts[http.StatusServiceUnavailable] != 300 {
		t.Errorf("statuses %v: want 401 for those checked, 503 for the rest", counts)
	}
	if n := metricValue(t, f, "spanrec_login_password_checks_in_flight_max"); n < 1 || n > slots {
		t.Errorf("%v password checks ran at once, want 1 to %d", n, slots)
	}
	if counts[http.StatusServiceUnavailable] > 0 && metricValue(t, f, "spanrec_login_overloaded_total") < 1 {
		t.Error("logins shed without spanrec_login_overloaded_total")
	}
	if peak > base+bound {
		t.Errorf("heap peaked at %d MiB, %d MiB above the %d MiB before; bound %d MiB", peak>>20, (peak-base)>>20, base>>20, bound>>20)
	}

	// Every failed check is in the audit trail, none dropped.
	_, failed, err := f.db.Events(ctx, auth.EventFilter{Action: auth.ActionLoginFailed, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if checks := metricValue(t, f, "spanrec_login_password_checks_total"); float64(failed) != checks {
		t.Errorf("%d login_failed entries for %v failed password checks", failed, checks)
	}

	// The right password is refused while the name is blocked, and works
	// once the window has passed. (Attempts shed with 503 were given
	// back: fill the name's allowance first.)
	c := f.client(t)
	for range 5 {
		if res, _ := c.do("POST", "/api/login", map[string]string{"user": "sue", "password": "guess"}); res.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	res, body := c.do("POST", "/api/login", map[string]string{"user": "sue", "password": password})
	wantError(t, "right password while blocked", res, body, http.StatusTooManyRequests)
	f.clock.advance(5*time.Minute + time.Second)
	if res, body := c.do("POST", "/api/login", map[string]string{"user": "sue", "password": password}); res.StatusCode != http.StatusOK {
		t.Errorf("right password after the block: %d %s", res.StatusCode, body)
	}
}

// TestLoginLimitsHoldUnderConcurrency: the per-address and the per-name
// limits count attempts before checking them, so parallel attempts cannot
// pass a limit.
func TestLoginLimitsHoldUnderConcurrency(t *testing.T) {
	f := newFixture(t, false, func(c *api.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	// One address, 100 names at once: the address limit (6 × 5) holds.
	counts := storm(t, f, 100, func(i int) *http.Request {
		r := loginRequest(t, f.srv.URL, "n"+strconv.Itoa(i), "guess")
		r.Header.Set("X-Forwarded-For", "192.0.2.1")
		return r
	})
	if counts[http.StatusUnauthorized] != 30 || counts[http.StatusTooManyRequests] != 70 {
		t.Errorf("one address, 100 names: %v; want 30 × 401, 70 × 429", counts)
	}
	// One name, 100 addresses at once: the name limit (4 × 5) holds.
	counts = storm(t, f, 100, func(i int) *http.Request {
		r := loginRequest(t, f.srv.URL, "agnes", "guess")
		r.Header.Set("X-Forwarded-For", "192.0.2."+strconv.Itoa(i+10))
		return r
	})
	if counts[http.StatusUnauthorized] != 20 || counts[http.StatusTooManyRequests] != 80 {
		t.Errorf("one name, 100 addresses: %v; want 20 × 401, 80 × 429", counts)
	}
	// Each block began with one login_blocked entry: the address's, then
	// the name's; the refused attempts are not in the trail.
	es, _, err := f.db.Events(context.Background(), auth.EventFilter{Action: auth.ActionLoginBlocked})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || !strings.Contains(es[1].Detail, "every name from 192.0.2.1") || es[1].Remote != "192.0.2.1" ||
		es[0].User != "agnes" || !strings.Contains(es[0].Detail, "user name agnes from addresses") {
		t.Errorf("login_blocked entries %+v", es)
	}
	// An address agnes logged in from before is not locked out by the
	// others' failures on her name.
	f.clock.advance(5*time.Minute + time.Second)
	c := f.client(t)
	c.header.Set("X-Forwarded-For", "192.0.2.250")
	if res, body := c.do("POST", "/api/login", map[string]string{"user": "agnes", "password": password}); res.StatusCode != http.StatusOK {
		t.Fatalf("agnes: %d %s", res.StatusCode, body)
	}
	storm(t, f, 30, func(i int) *http.Request {
		r := loginRequest(t, f.srv.URL, "agnes", "guess")
		r.Header.Set("X-Forwarded-For", "192.0.2."+strconv.Itoa(i+10))
		return r
	})
	if res, body := c.do("POST", "/api/login", map[string]string{"user": "agnes", "password": password}); res.StatusCode != http.StatusOK {
		t.Errorf("agnes from her usual address while her name is attacked: %d %s", res.StatusCode, body)
	}
	other := f.client(t)
	other.header.Set("X-Forwarded-For", "192.0.2.251")
	res, body := other.do("POST", "/api/login", map[string]string{"user": "agnes", "password": password})
	wantError(t, "agnes's name from a new address while attacked", res, body, http.StatusTooManyRequests)
	// Successful logins do not use up the address's allowance.
	for i := range 40 {
		if res, body := c.do("POST", "/api/login", map[string]string{"user": "agnes", "password": password}); res.StatusCode != http.StatusOK {
			t.Fatalf("successful login %d from one address: %d %s", i, res.StatusCode, body)
		}
	}
}

// rangeCase is a Range header and what it may be answered with.
type rangeCase struct {
	rng    string
	status int // 0: 200 or 206
}

var rangeCases = []rangeCase{
	{"", http.StatusOK},
	{"bytes=0-", http.StatusPartialContent},
	{"bytes=00-", http.StatusPartialContent},
	{"bytes=000-", http.StatusPartialContent},
	{"bytes=0000000000000000000000-", http.StatusPartialContent},
	{"bytes=-999999", http.StatusPartialContent},
	{"bytes=-99999999999999999999999", http.StatusPartialContent},
	{"bytes=1-1,0-", 0},
	{"bytes=1-", http.StatusPartialContent},
	{"bytes=100-200", http.StatusPartialContent},
	{"bytes=-1", http.StatusPartialContent},
	{"bytes=0-0,-1", http.StatusPartialContent},
	{"bytes= 0-", 0},
	{"BYTES=0-", 0},
	{"bytes=0-,0-,0-", 0},
	{"bytes=-0", http.StatusRequestedRangeNotSatisfiable},
	{"bytes=-0,-0", http.StatusRequestedRangeNotSatisfiable},
	{"bytes=99999999-", http.StatusRequestedRangeNotSatisfiable},
	{"bytes=99999999999999999999999-", http.StatusRequestedRangeNotSatisfiable},
	{"bytes=-0,5-9", http.StatusPartialContent},
	{"bytes=5-4", 0},
	{"bytes=x-y", 0},
	{"items=0-", 0},
	{"bytes=", 0},
	{"bytes=,", 0},
	{"bytes=" + strings.Repeat("0-0,", 100) + "0-0", 0},
}

// TestHostileRangeAudit: whatever the Range header says, a response that
// carries bytes of a recording is audited once per session, call and
// action within 30 minutes, and one that carries none is not.
func TestHostileRangeAudit(t *testing.T) {
	f := newFixture(t, false, nil)
	call := f.callWith(t, func(c *spanrec.Call) bool { return c.Audio != "" && c.PCAP != "" })
	for _, target := range []struct {
		sub, action, file string
	}{{"/audio", auth.ActionPlay, call.Audio}, {"/audio?download=1", auth.ActionDownload, call.Audio}, {"/pcap", auth.ActionDownloadPCAP, call.PCAP}} {
		file, err := os.ReadFile(filepath.Join(f.dir, target.file))
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range rangeCases {
			c := f.login(t, "sue") // a new session each time
			before := auditCount(t, f, target.action, call.ID)
			if tc.rng != "" {
				c.header.Set("Range", tc.rng)
			}
			res, body := c.do("GET", "/api/calls/"+string(call.ID)+target.sub, nil)
			after := auditCount(t, f, target.action, call.ID)
			what := fmt.Sprintf("%s Range %q", target.sub, tc.rng)
			if tc.status != 0 && res.StatusCode != tc.status {
				t.Errorf("%s: status %d, want %d", what, res.StatusCode, tc.status)
			}
			served := (res.StatusCode == http.StatusOK || res.StatusCode == http.StatusPartialContent) && len(body) > 0
			switch {
			case served && after != before+1:
				t.Errorf("%s: %d bytes served (%d) with %d audit entries", what, len(body), res.StatusCode, after-before)
			case !served && after != before:
				t.Errorf("%s: nothing served (%d) but %d audit entries", what, res.StatusCode, after-before)
			}
			if res.StatusCode == http.StatusRequestedRangeNotSatisfiable {
				if cr := res.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes */%d", len(file)) {
					t.Errorf("%s: 416 with Content-Range %q", what, cr)
				}
			}
			if res.StatusCode == http.StatusPartialContent {
				if cr := res.Header.Get("Content-Range"); cr != "" && !strings.HasSuffix(cr, "/"+strconv.Itoa(len(file))) {
					t.Errorf("%s: Content-Range %q", what, cr)
				}
			}
			if res.StatusCode == http.StatusOK && string(body) != string(file) {
				t.Errorf("%s: 200 with %d bytes of %d", what, len(body), len(file))
			}
		}
	}

	// Seeking within a session is one playback; a new one after 30 min.
	c := f.login(t, "sue")
	path := "/api/calls/" + string(call.ID) + "/audio"
	before := auditCount(t, f, auth.ActionPlay, call.ID)
	for _, rng := range []string{"bytes=0-", "bytes=100-", "bytes=-500", "bytes=0-"} {
		c.header.Set("Range", rng)
		c.do("GET", path, nil)
	}
	if n := auditCount(t, f, auth.ActionPlay, call.ID) - before; n != 1 {
		t.Errorf("%d play entries for one session's seeks, want 1", n)
	}
	f.clock.advance(31 * time.Minute)
	c.do("GET", path, nil)
	if n := auditCount(t, f, auth.ActionPlay, call.ID) - before; n != 2 {
		t.Errorf("%d play entries after 31 min, want 2", n)
	}
	// HEAD and a 304 deliver nothing.
	c2 := f.login(t, "sue")
	c2.do("HEAD", path, nil)
	c2.header.Set("If-None-Match", `"`+call.AudioSHA256+`"`)
	if res, _ := c2.do("GET", path, nil); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", res.StatusCode)
	}
	if n := auditCount(t, f, auth.ActionPlay, call.ID) - before; n != 2 {
		t.Errorf("HEAD or 304 audited: %d play entries, want 2", n)
	}
	// If-Range with another validator gets the whole file: audited.
	c2.header.Del("If-None-Match")
	c2.header.Set("If-Range", `"stale"`)
	c2.header.Set("Range", "bytes=-0")
	if res, body := c2.do("GET", path, nil); res.StatusCode != http.StatusOK || len(body) == 0 {
		t.Errorf("If-Range mismatch: %d, %d bytes", res.StatusCode, len(body))
	}
	if n := auditCount(t, f, auth.ActionPlay, call.ID) - before; n != 3 {
		t.Errorf("If-Range mismatch: %d play entries, want 3", n)
	}

	// The waveform is derived from the audio: audited too.
	c3 := f.login(t, "sue")
	c3.getJSON("/api/calls/"+string(call.ID)+"/waveform", http.StatusOK, nil)
	c3.getJSON("/api/calls/"+string(call.ID)+"/waveform?points=10", http.StatusOK, nil)
	if n := auditCount(t, f, auth.ActionWaveform, call.ID); n != 1 {
		t.Errorf("%d waveform entries, want 1", n)
	}
}

// TestContentDenialsAudited: an agent's attempts at a call not theirs, and
// anyone's at a call that does not exist, are 404 and audited.
func TestContentDenialsAudited(t *testing.T) {
	f := newFixture(t, false, nil)
	agnes := f.login(t, "agnes")
	other := f.callWith(t, otherCall)
	for _, sub := range []string{"/audio", "/pcap", "/waveform"} {
		res, body := agnes.do("GET", "/api/calls/"+string(other.ID)+sub, nil)
		wantError(t, "agnes, other call"+sub, res, body, http.StatusNotFound)
	}
	es, _, err := f.db.Events(context.Background(), auth.EventFilter{Action: auth.ActionDenied})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 {
		t.Fatalf("%d access_denied entries, want 3: %+v", len(es), es)
	}
	for _, e := range es {
		if e.User != "agnes" || e.CallID != string(other.ID) || e.Remote != "127.0.0.1" {
			t.Errorf("denied entry %+v", e)
		}
	}
	sue := f.login(t, "sue")
	res, body := sue.do("GET", "/api/calls/ffffffffffffffffffff/audio", nil)
	wantError(t, "unknown call", res, body, http.StatusNotFound)
	if _, n, _ := f.db.Events(context.Background(), auth.EventFilter{Action: auth.ActionDenied, User: "sue"}); n != 1 {
		t.Errorf("%d denied entries for sue's unknown call, want 1", n)
	}
}

// failAudit makes every insert into the audit table of f's database fail
// (a trigger, as a full disk or a broken table would), until the returned
// function is called.
func failAudit(t *testing.T, f *fixture) (restore func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(f.dir, "index.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TRIGGER audit_fails BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit disabled by the test'); END`); err != nil {
		t.Fatal(err)
	}
	return func() {
		if _, err := db.Exec(`DROP TRIGGER audit_fails`); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
}

// TestAuditFailClosed: when the audit trail cannot be written, recordings
// are not served and logins do not succeed.
func TestAuditFailClosed(t *testing.T) {
	f := newFixture(t, false, func(c *api.Config) { c.AuditTimeout = 300 * time.Millisecond })
	call := f.callWith(t, func(c *spanrec.Call) bool { return c.Audio != "" && c.PCAP != "" })
	file, err := os.ReadFile(filepath.Join(f.dir, call.Audio))
	if err != nil {
		t.Fatal(err)
	}
	sue := f.login(t, "sue")
	restore := failAudit(t, f)
	for _, sub := range []string{"/audio", "/audio?download=1", "/pcap", "/waveform"} {
		res, body := sue.do("GET", "/api/calls/"+string(call.ID)+sub, nil)
		wantError(t, "unaudited "+sub, res, body, http.StatusServiceUnavailable)
		if strings.Contains(string(body), string(file[44:100])) {
			t.Errorf("%s: recording bytes in the 503", sub)
		}
	}
	c := f.client(t)
	res, body := c.do("POST", "/api/login", map[string]string{"user": "ada", "password": password})
	wantError(t, "login without audit", res, body, http.StatusServiceUnavailable)
	res, body = c.do("GET", "/api/me", nil)
	wantError(t, "session of an unaudited login", res, body, http.StatusUnauthorized)
	res, body = c.do("POST", "/api/login", map[string]string{"user": "ada", "password": "wrong"})
	wantError(t, "failed login without audit", res, body, http.StatusServiceUnavailable)
	if n := metricValue(t, f, `spanrec_audit_failures_total{action="play"}`); n < 1 {
		t.Errorf("audit failures of play: %v", n)
	}
	restore()
	// Accounts and tokens are not made without their entry.
	ada := f.login(t, "ada")
	restore = failAudit(t, f)
	res, body = ada.do("POST", "/api/users", map[string]any{"name": "ghost", "role": "admin"})
	wantError(t, "unaudited user", res, body, http.StatusServiceUnavailable)
	if _, err := f.db.User(context.Background(), "ghost"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("the unaudited user exists: %v", err)
	}
	res, body = ada.do("POST", "/api/tokens", map[string]string{"user": "sue"})
	wantError(t, "unaudited token", res, body, http.StatusServiceUnavailable)
	if ts, err := f.db.Tokens(context.Background(), ""); err != nil || len(ts) != 0 {
		t.Errorf("tokens after an unaudited creation: %v %v", ts, err)
	}
	restore()
	if res, body := sue.do("GET", "/api/calls/"+string(call.ID)+"/audio", nil); res.StatusCode != http.StatusOK || string(body) != string(file) {
		t.Errorf("after the audit works again: %d, %d bytes", res.StatusCode, len(body))
	}
}

// TestLiveEndsWithAccess: a live stream ends when its session is deleted
// (the user deleted, logged out) or its token revoked.
func TestLiveEndsWithAccess(t *testing.T) {
	f := newFixture(t, false, func(c *api.Config) { c.LiveRecheck = 50 * time.Millisecond })
	ada := f.login(t, "ada")
	open := func(c *client) (*bufio.Reader, func()) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/api/live", nil)
		req.Header.Set("Accept", "text/event-stream")
		if c.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		res, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("live: %d", res.StatusCode)
		}
		return bufio.NewReader(res.Body), func() { cancel(); res.Body.Close() }
	}
	// ends waits until the stream ends, and returns the event types it
	// carried.
	ends := func(what string, r *bufio.Reader) []string {
		t.Helper()
		got := make(chan []string, 1)
		go func() {
			var types []string
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					got <- types
					return
				}
				if typ, ok := strings.CutPrefix(line, "event: "); ok && typ != "snapshot\n" {
					types = append(types, strings.TrimSpace(typ))
				}
			}
		}()
		select {
		case types := <-got:
			return types
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the live stream goes on", what)
			return nil
		}
	}

	// Deleted user.
	agnes := f.login(t, "agnes")
	r, closeA := open(agnes)
	defer closeA()
	waitSubscribers(t, f, 1)
	f.api.Events().Publish(api.Event{Type: api.EventEnd, Call: f.callWith(t, agnesCall)})
	if res, body := ada.do("DELETE", "/api/users/agnes", nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete agnes: %d %s", res.StatusCode, body)
	}
	if types := ends("deleted user", r); len(types) < 2 || types[0] != "end" || types[len(types)-1] != "unauthorized" {
		t.Errorf("deleted user's stream carried %v; want end ... unauthorized", types)
	}

	// Revoked token.
	var tok struct {
		ID    int64
		Token string
	}
	_, body := ada.do("POST", "/api/tokens", map[string]string{"user": "sue"})
	json.Unmarshal(body, &tok)
	m := f.client(t)
	m.bearer = tok.Token
	r, closeM := open(m)
	defer closeM()
	waitSubscribers(t, f, 1)
	ada.do("DELETE", "/api/tokens/"+strconv.FormatInt(tok.ID, 10), nil)
	ends("revoked token", r)

	// Logged out elsewhere (the session is gone).
	sue := f.login(t, "sue")
	r, closeS := open(sue)
	defer closeS()
	waitSubscribers(t, f, 1)
	sue.do("POST", "/api/logout", nil)
	ends("logged out", r)
	if n := metricValue(t, f, `spanrec_live_closed_total{reason="unauthorized"}`); n != 3 {
		t.Errorf("live streams closed for access: %v, want 3", n)
	}
}

// TestHostileParams: long or repeated query parameters, JSON with trailing
// data, and oversized bodies are refused with 4xx, never 500.
func TestHostileParams(t *testing.T) {
	f := readOnly(t)
	sue := f.login(t, "sue")
	ada := f.login(t, "ada")
	long := strings.Repeat("1", 50000)
	for _, tc := range []struct {
		c    *client
		path string
	}{
		{sue, "/api/calls?number=" + long},
		{sue, "/api/calls?number=" + strings.Repeat("%", 300)},
		{sue, "/api/calls?codec=" + strings.Repeat("x", 5000)},
		{sue, "/api/calls?" + strings.Repeat("limit=1&", 200)},
		{sue, "/api/calls?from=" + long},
		{sue, "/api/calls?number=%zz"},
		{sue, "/api/calls/" + string(f.calls[0].ID) + "/waveform?points=" + long},
		{sue, "/api/me?x=" + long},
		{ada, "/api/audit?user=" + long},
		{ada, "/api/tokens?user=" + long},
	} {
		res, body := tc.c.do("GET", tc.path, nil)
		wantError(t, tc.path[:min(len(tc.path), 40)], res, body, http.StatusBadRequest)
	}
	for _, body := range []string{
		`{"user":"sue","password":"x"} {"user":"ada"}`,
		`{"user":"sue","password":"x"}garbage`,
		`{"user":"sue","password":"x"}]`,
	} {
		c := f.client(t)
		req, _ := http.NewRequest("POST", c.base+"/api/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		wantError(t, "trailing data "+body, res, b, http.StatusBadRequest)
	}
	res, body := f.client(t).do("POST", "/api/login", map[string]string{"user": "sue", "password": strings.Repeat("p", 60000)})
	wantError(t, "60 kB password", res, body, http.StatusBadRequest)
	big := `{"user":"sue","password":"` + strings.Repeat("p", 100000) + `"}`
	c := f.client(t)
	req, _ := http.NewRequest("POST", c.base+"/api/login", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	res, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	wantError(t, "100 kB body", res, b, http.StatusRequestEntityTooLarge)
}

// TestNoExistenceLeak: an agent learns nothing of a call that is not
// theirs, by full ID or by prefix, on any endpoint.
func TestNoExistenceLeak(t *testing.T) {
	f := readOnly(t)
	agnes := f.login(t, "agnes")
	other := f.callWith(t, otherCall)
	for _, id := range []string{string(other.ID), string(other.ID[:8]), string(other.ID[:6])} {
		for _, sub := range []string{"", "/audio", "/pcap", "/ladder", "/waveform"} {
			res, body := agnes.do("GET", "/api/calls/"+id+sub, nil)
			wantError(t, "agent, other call "+id+sub, res, body, http.StatusNotFound)
			if strings.Contains(string(body), string(other.ID)) && id != string(other.ID) {
				t.Errorf("%s%s: the answer names the full ID: %s", id, sub, body)
			}
			// The answer is the same as for a call that does not exist.
			_, none := agnes.do("GET", "/api/calls/"+strings.Repeat("f", len(id))+sub, nil)
			var a, b struct{ Kind, Status any }
			json.Unmarshal(body, &a)
			json.Unmarshal(none, &b)
			if a != b {
				t.Errorf("%s%s: %s; for no call: %s", id, sub, body, none)
			}
		}
	}
}

// TestTrustedProxies: X-Forwarded-For and X-Real-IP name the client only
// when the direct peer is a trusted proxy, and then the right-most address
// that is not a trusted proxy is the client.
func TestTrustedProxies(t *testing.T) {
	lastRemote := func(f *fixture) string {
		es, _, err := f.db.Events(context.Background(), auth.EventFilter{Action: auth.ActionLogin, Limit: 1})
		if err != nil || len(es) == 0 {
			t.Fatalf("no login entry: %v", err)
		}
		return es[0].Remote
	}
	loginWith := func(f *fixture, h map[string]string) string {
		c := f.client(t)
		for k, v := range h {
			c.header.Set(k, v)
		}
		if res, body := c.do("POST", "/api/login", map[string]string{"user": "sue", "password": password}); res.StatusCode != http.StatusOK {
			t.Fatalf("login with %v: %d %s", h, res.StatusCode, body)
		}
		return lastRemote(f)
	}
	untrusting := newFixture(t, false, nil)
	if got := loginWith(untrusting, map[string]string{"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.8"}); got != "127.0.0.1" {
		t.Errorf("without trusted proxies, the client is %q", got)
	}
	f := newFixture(t, false, func(c *api.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	})
	for _, tc := range []struct {
		h    map[string]string
		want string
	}{
		{map[string]string{"X-Forwarded-For": "203.0.113.7"}, "203.0.113.7"},
		{map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}, "203.0.113.7"},
		{map[string]string{"X-Forwarded-For": "203.0.113.7, 10.1.2.3"}, "203.0.113.7"},
		{map[string]string{"X-Forwarded-For": "garbage, 203.0.113.7"}, "203.0.113.7"},
		{map[string]string{"X-Forwarded-For": "203.0.113.7, garbage"}, "127.0.0.1"},
		{map[string]string{"X-Forwarded-For": "10.0.0.1, 10.0.0.2"}, "10.0.0.1"},
		{map[string]string{"X-Real-IP": "203.0.113.9"}, "203.0.113.9"},
		{map[string]string{"X-Forwarded-For": "2001:db8::1"}, "2001:db8::1"},
		{map[string]string{}, "127.0.0.1"},
	} {
		if got := loginWith(f, tc.h); got != tc.want {
			t.Errorf("%v: client %q, want %q", tc.h, got, tc.want)
		}
	}
	// One client's failures behind the proxy do not lock out another.
	bad := f.client(t)
	bad.header.Set("X-Forwarded-For", "203.0.113.66")
	for range 40 {
		bad.do("POST", "/api/login", map[string]string{"user": "sue", "password": "wrong"})
	}
	if got := loginWith(f, map[string]string{"X-Forwarded-For": "203.0.113.7"}); got != "203.0.113.7" {
		t.Errorf("after another client's failures: %q", got)
	}
}

// TestConnectionLimit: past the connection bound, a new client waits until
// a connection closes; the wait is counted.
func TestConnectionLimit(t *testing.T) {
	f := newFixture(t, false, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: f.api.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(f.api.LimitListener(ln, 2))
	defer hs.Close()
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	third, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	fmt.Fprintf(third, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 12)
	if n, err := third.Read(buf); err == nil {
		t.Fatalf("third connection answered while two are open: %q", buf[:n])
	}
	idle[0].Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(third, buf); err != nil || string(buf) != "HTTP/1.1 200" {
		t.Fatalf("third connection after one closed: %q %v", buf, err)
	}
	if n := metricValue(t, f, `spanrec_http_limit_hits_total{limit="connections"}`); n < 1 {
		t.Errorf("connection waits: %v", n)
	}
	if n := metricValue(t, f, "spanrec_http_connections_max"); n != 2 {
		t.Errorf("spanrec_http_connections_max %v", n)
	}
}

// TestLiveOutlivesReadTimeout: the HTTP server's ReadTimeout (slow-loris
// bound on reading requests) does not end live streams, which read nothing
// after their request.
func TestLiveOutlivesReadTimeout(t *testing.T) {
	f := newFixture(t, false, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: f.api.Handler(), ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 300 * time.Millisecond}
	go hs.Serve(ln)
	defer hs.Close()
	c := f.login(t, "sue")
	c.base = "http://" + ln.Addr().String()
	jar := c.hc.Jar
	for _, ck := range jar.Cookies(mustURL(t, f.srv.URL)) {
		jar.SetCookies(mustURL(t, c.base), []*http.Cookie{ck})
	}
	req, _ := http.NewRequest("GET", c.base+"/api/live", nil)
	res, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("live: %d", res.StatusCode)
	}
	r := bufio.NewReader(res.Body)
	time.Sleep(time.Second)
	waitSubscribers(t, f, 1)
	f.api.Events().Publish(api.Event{Type: api.EventEnd, Call: f.calls[0]})
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("the live stream ended after the read timeout: %v", err)
		}
		if strings.HasPrefix(line, "event: end") {
			return
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestSlowReader: a client that stops reading a large download loses the
// connection once a write has been blocked for WriteIdle, instead of
// holding the server's goroutine and file forever.
func TestSlowReader(t *testing.T) {
	f := newFixture(t, false, func(c *api.Config) { c.WriteIdle = 200 * time.Millisecond })
	call := f.callWith(t, func(c *spanrec.Call) bool { return c.PCAP != "" })
	// A capture far larger than the socket buffers of loopback.
	const size = 64 << 20
	if err := os.WriteFile(filepath.Join(f.dir, call.PCAP), make([]byte, size), 0o600); err != nil {
		t.Fatal(err)
	}
	c := f.login(t, "sue")
	req, _ := http.NewRequest("GET", c.base+"/api/calls/"+string(call.ID)+"/pcap", nil)
	res, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("pcap: %d", res.StatusCode)
	}
	time.Sleep(1500 * time.Millisecond) // read nothing
	n, err := io.Copy(io.Discard, res.Body)
	if err == nil || n >= size {
		t.Errorf("a reader that stalled got %d of %d bytes, err %v; want the connection cut", n, size, err)
	}
}
