package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/api"
	"github.com/spanrec/spanrec/auth"
)

func TestLoginLogout(t *testing.T) {
	f := readOnly(t)
	c := f.client(t)

	res, body := c.do("POST", "/api/login", map[string]string{"user": "sue", "password": "wrong password"})
	wantError(t, "wrong password", res, body, http.StatusUnauthorized)
	res, body = c.do("POST", "/api/login", map[string]string{"user": "nosuchuser", "password": password})
	wantError(t, "unknown user", res, body, http.StatusUnauthorized)
	res, body = c.do("POST", "/api/login", `{"user":"sue","password":"`+password+`"}`) // no Content-Type
	wantError(t, "form-encoded login", res, body, http.StatusBadRequest)
	res, body = c.do("POST", "/api/login", map[string]string{"user": "sue"})
	wantError(t, "no password", res, body, http.StatusBadRequest)

	res, body = c.do("POST", "/api/login", map[string]string{"user": "sue", "password": password})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", res.StatusCode, body)
	}
	var me struct {
		User, Role, CSRF string
		Extensions       []string
	}
	json.Unmarshal(body, &me)
	if me.User != "sue" || me.Role != "supervisor" || len(me.CSRF) < 40 || me.Extensions == nil {
		t.Errorf("login answer %s", body)
	}
	cookies := res.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v", cookies)
	}
	ck := cookies[0]
	if ck.Name != "spanrec_session" || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure {
		t.Errorf("session cookie %+v", ck)
	}
	c.csrf = me.CSRF

	var me2 struct{ User, Role, CSRF string }
	c.getJSON("/api/me", http.StatusOK, &me2)
	if me2.User != "sue" || me2.CSRF != me.CSRF {
		t.Errorf("/api/me = %+v", me2)
	}

	c.csrf = ""
	res, body = c.do("POST", "/api/logout", nil)
	wantError(t, "logout without CSRF token", res, body, http.StatusForbidden)
	c.csrf = "wrong"
	res, body = c.do("POST", "/api/logout", nil)
	wantError(t, "logout with a wrong CSRF token", res, body, http.StatusForbidden)
	c.csrf = me.CSRF
	if res, body := c.do("POST", "/api/logout", nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d %s", res.StatusCode, body)
	}
	res, body = c.do("GET", "/api/me", nil)
	wantError(t, "after logout", res, body, http.StatusUnauthorized)

	// The old cookie value is dead on the server, not only in the jar.
	c2 := f.client(t)
	c2.header.Set("Cookie", "spanrec_session="+ck.Value)
	res, body = c2.do("GET", "/api/me", nil)
	wantError(t, "replayed cookie after logout", res, body, http.StatusUnauthorized)
}

func TestSessionExpires(t *testing.T) {
	f := newFixture(t, false, func(c *api.Config) { c.SessionTTL = time.Hour })
	c := f.login(t, "sue")
	c.getJSON("/api/me", http.StatusOK, nil)
	f.clock.advance(time.Hour)
	res, body := c.do("GET", "/api/me", nil)
	wantError(t, "expired session", res, body, http.StatusUnauthorized)
}

func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t, false, nil)
	c := f.client(t)
	for i := range 5 {
		res, body := c.do("POST", "/api/login", map[string]string{"user": "sue", "password": "guess" + strconv.Itoa(i)})
		wantError(t, "failure "+strconv.Itoa(i), res, body, http.StatusUnauthorized)
	}
	// Blocked now, even with the right password.
	res, body := c.do("POST", "/api/login", map[string]string{"user": "sue", "password": password})
	wantError(t, "sixth attempt", res, body, http.StatusTooManyRequests)
	if ra, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 301 {
		t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	// Another user from the same address is not blocked by sue's failures.
	if res, _ := c.do("POST", "/api/login", map[string]string{"user": "ada", "password": password}); res.StatusCode != http.StatusOK {
		t.Errorf("ada blocked by sue's failures: %d", res.StatusCode)
	}
	f.clock.advance(5*time.Minute + time.Second)
	if res, body := c.do("POST", "/api/login", map[string]string{"user": "sue", "password": password}); res.StatusCode != http.StatusOK {
		t.Errorf("after the window: %d %s", res.StatusCode, body)
	}
	var audit struct{ Total int }
	f.login(t, "ada").getJSON("/api/audit?action=login_failed&user=sue", http.StatusOK, &audit)
	if audit.Total != 5 {
		t.Errorf("%d login_failed entries for sue, want 5", audit.Total)
	}
}

func TestUnauthenticated(t *testing.T) {
	f := readOnly(t)
	id := string(f.calls[0].ID)
	c := f.client(t)
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/me"}, {"POST", "/api/logout"}, {"GET", "/api/calls"}, {"GET", "/api/calls/" + id},
		{"DELETE", "/api/calls/" + id}, {"GET", "/api/calls/" + id + "/audio"}, {"GET", "/api/calls/" + id + "/pcap"},
		{"GET", "/api/calls/" + id + "/ladder"}, {"GET", "/api/calls/" + id + "/waveform"}, {"GET", "/api/live"},
		{"GET", "/api/audit"}, {"GET", "/api/users"}, {"POST", "/api/users"}, {"DELETE", "/api/users/sue"},
		{"GET", "/api/tokens"}, {"POST", "/api/tokens"}, {"DELETE", "/api/tokens/1"},
	} {
		res, body := c.do(r.method, r.path, nil)
		wantError(t, r.method+" "+r.path, res, body, http.StatusUnauthorized)
	}
	c.bearer = "spanrec_notatoken"
	res, body := c.do("GET", "/api/calls", nil)
	wantError(t, "unknown bearer token", res, body, http.StatusUnauthorized)
	c.bearer = ""
	c.header.Set("Authorization", "Basic c3VlOnB3")
	res, body = c.do("GET", "/api/calls", nil)
	wantError(t, "basic auth", res, body, http.StatusUnauthorized)
}

type callsPage struct {
	Calls []struct {
		ID         string `json:"id"`
		Caller     string `json:"caller"`
		Callee     string `json:"callee"`
		Start      string `json:"start"`
		DurationMS int64  `json:"duration_ms"`
	} `json:"calls"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

func TestListCalls(t *testing.T) {
	f := readOnly(t)
	c := f.login(t, "sue")
	n := len(f.calls)
	var all callsPage
	c.getJSON("/api/calls", http.StatusOK, &all)
	if all.Total != n || len(all.Calls) != n || all.Limit != 50 || all.Offset != 0 || n < 7 {
		t.Fatalf("all calls: total %d, %d calls, limit %d; index has %d", all.Total, len(all.Calls), all.Limit, n)
	}
	for i := 1; i < len(all.Calls); i++ {
		if all.Calls[i].Start > all.Calls[i-1].Start {
			t.Errorf("default order is not newest first at %d", i)
		}
	}
	count := func(ok func(*spanrec.Call) bool) int {
		k := 0
		for _, c := range f.calls {
			if ok(c) {
				k++
			}
		}
		return k
	}
	has := func(c *spanrec.Call, codec string) bool {
		for _, x := range c.Codecs {
			if strings.EqualFold(x, codec) {
				return true
			}
		}
		return false
	}
	tests := []struct {
		query string
		want  int
	}{
		{"number=201", count(func(c *spanrec.Call) bool {
			return strings.Contains(c.Caller.Number, "201") || strings.Contains(c.Callee.Number, "201")
		})},
		{"number=%2B1555", count(func(c *spanrec.Call) bool {
			return strings.Contains(c.Caller.Number, "+1555") || strings.Contains(c.Callee.Number, "+1555")
		})},
		{"direction=inbound", count(func(c *spanrec.Call) bool { return c.Direction == spanrec.Inbound })},
		{"status=answered", count(func(c *spanrec.Call) bool { return c.Status == spanrec.Answered })},
		{"status=busy", count(func(c *spanrec.Call) bool { return c.Status == spanrec.Busy })},
		{"codec=pcmu", count(func(c *spanrec.Call) bool { return has(c, "PCMU") })},
		{"codec=G722", count(func(c *spanrec.Call) bool { return has(c, "G722") })},
		{"has_loss=false", count(func(c *spanrec.Call) bool { return !c.CaptureLoss })},
		{"has_loss=true", count(func(c *spanrec.Call) bool { return c.CaptureLoss })},
		{"min_duration=6", count(func(c *spanrec.Call) bool { return c.Duration >= 6*time.Second })},
		{"max_duration=0.5", count(func(c *spanrec.Call) bool { return c.Duration <= 500*time.Millisecond })},
		{"min_duration=1&max_duration=6.5", count(func(c *spanrec.Call) bool {
			return c.Duration >= time.Second && c.Duration <= 6500*time.Millisecond
		})},
		{"from=2026-11-01T09:00:05Z&to=2026-11-01T09:00:13Z", count(func(c *spanrec.Call) bool {
			t0, t1 := time.Date(2026, 11, 1, 9, 0, 5, 0, time.UTC), time.Date(2026, 11, 1, 9, 0, 13, 0, time.UTC)
			return !c.Start.Before(t0) && c.Start.Before(t1)
		})},
		{"direction=internal&status=answered", count(func(c *spanrec.Call) bool {
			return c.Direction == spanrec.Internal && c.Status == spanrec.Answered
		})}, {"signalling=sip", count(func(c *spanrec.Call) bool { return c.Signalling != spanrec.SignallingNone })},
		{"signalling=none", count(func(c *spanrec.Call) bool { return c.Signalling == spanrec.SignallingNone })},
		// The time formats the command line takes too (spanrec.ParseTime):
		// a date is midnight UTC, a date and time without a zone is UTC.
		{"from=2026-11-01&to=2026-11-02", count(func(c *spanrec.Call) bool {
			return c.Start.UTC().Format(time.DateOnly) == "2026-11-01"
		})},
		{"from=2026-11-01%2009:00:05&to=2026-11-01T09:00:13", count(func(c *spanrec.Call) bool {
			t0, t1 := time.Date(2026, 11, 1, 9, 0, 5, 0, time.UTC), time.Date(2026, 11, 1, 9, 0, 13, 0, time.UTC)
			return !c.Start.Before(t0) && c.Start.Before(t1)
		})},
		{"from=2026-11-01T10:00:05%2B01:00&to=2026-11-01T09:00:13Z", count(func(c *spanrec.Call) bool {
			t0, t1 := time.Date(2026, 11, 1, 9, 0, 5, 0, time.UTC), time.Date(2026, 11, 1, 9, 0, 13, 0, time.UTC)
			return !c.Start.Before(t0) && c.Start.Before(t1)
		})},
		{"to=2026-11-01", count(func(c *spanrec.Call) bool { return c.Start.Before(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) })},
	}
	for _, tt := range tests {
		var p callsPage
		c.getJSON("/api/calls?"+tt.query, http.StatusOK, &p)
		if p.Total != tt.want || len(p.Calls) != tt.want {
			t.Errorf("%s: total %d, %d calls; want %d", tt.query, p.Total, len(p.Calls), tt.want)
		}
	}
	if tests[0].want == 0 || tests[5].want == 0 || tests[9].want == 0 || tests[len(tests)-4].want == 0 || tests[len(tests)-3].want == 0 {
		t.Fatal("the fixture does not exercise the filters")
	}

	var page callsPage
	c.getJSON("/api/calls?limit=2&offset=1&sort=start", http.StatusOK, &page)
	if page.Total != n || len(page.Calls) != 2 || page.Limit != 2 || page.Offset != 1 ||
		page.Calls[0].ID != string(f.calls[n-2].ID) || page.Calls[1].ID != string(f.calls[n-3].ID) {
		t.Errorf("page 2 oldest first: %+v", page)
	}
	var longest callsPage
	c.getJSON("/api/calls?sort=-duration&limit=1", http.StatusOK, &longest)
	for _, x := range f.calls {
		if x.Duration.Milliseconds() > longest.Calls[0].DurationMS {
			t.Errorf("sort=-duration: %d ms first, but %s has %v", longest.Calls[0].DurationMS, x.ID, x.Duration)
		}
	}

	for _, q := range []string{
		"from=yesterday", "to=2026-11-31", "from=2026-11-01T25:00", "from=1.11.2026", "direction=sideways", "status=odd", "min_duration=-1", "max_duration=abc",
		"has_loss=maybe", "signalling=maybe", "sort=nope", "sort=caller%3BDROP%20TABLE%20calls", "sort=--start", "hangup_by=both", "status_code=99", "min_pdd=-1", "max_ring=x", "limit=0", "limit=501", "limit=x", "offset=-1", "frm=2026-11-01T00:00:00Z",
		"number=1&number=2", "from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "min_duration=10&max_duration=5",
	} {
		res, body := c.do("GET", "/api/calls?"+q, nil)
		wantError(t, q, res, body, http.StatusBadRequest)
	}
}

func TestGetCall(t *testing.T) {
	f := readOnly(t)
	c := f.login(t, "sue")
	want := f.callWith(t, func(c *spanrec.Call) bool { return c.Audio != "" && len(c.DTMF) > 0 })
	var got map[string]any
	c.getJSON("/api/calls/"+string(want.ID), http.StatusOK, &got)
	for _, k := range []string{"id", "call_id", "caller", "callee", "caller_addr", "direction", "status", "start",
		"answer", "end", "duration_ms", "codecs", "audio", "audio_sha256", "pcap", "pcap_sha256", "dtmf", "streams", "notes"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no %q in %v", k, got)
		}
	}
	if got["id"] != string(want.ID) || got["audio_sha256"] != want.AudioSHA256 || len(got["dtmf"].([]any)) != len(want.DTMF) {
		t.Errorf("call %v", got)
	}
	streams := got["streams"].([]any)
	if len(streams) == 0 || streams[0].(map[string]any)["mos"] == nil {
		t.Errorf("streams %v", streams)
	}
	// A unique prefix works too.
	var byPrefix map[string]any
	c.getJSON("/api/calls/"+string(want.ID[:8]), http.StatusOK, &byPrefix)
	if byPrefix["id"] != string(want.ID) {
		t.Errorf("prefix: %v", byPrefix["id"])
	}
	res, body := c.do("GET", "/api/calls/ffffffffffffffffffff", nil)
	wantError(t, "unknown call", res, body, http.StatusNotFound)
	for _, id := range []string{"abc", "ZZZZZZZZ", "0123456789abcdef0123%2F..", strings.Repeat("a", 65)} {
		res, body := c.do("GET", "/api/calls/"+id, nil)
		wantError(t, "id "+id, res, body, http.StatusBadRequest)
	}
}

func TestAgentScope(t *testing.T) {
	f := readOnly(t)
	agnes := f.login(t, "agnes")
	var page callsPage
	agnes.getJSON("/api/calls?limit=500", http.StatusOK, &page)
	want := 0
	for _, c := range f.calls {
		if c.Caller.Number == "201" || c.Callee.Number == "201" {
			want++
		}
	}
	if page.Total != want || len(page.Calls) != want || want == 0 || want == len(f.calls) {
		t.Fatalf("agent sees %d (total %d) calls, want %d of %d", len(page.Calls), page.Total, want, len(f.calls))
	}
	for _, c := range page.Calls {
		if c.Caller != "201" && c.Callee != "201" {
			t.Errorf("agent sees call %s between %s and %s", c.ID, c.Caller, c.Callee)
		}
	}
	// A filter cannot widen the scope.
	agnes.getJSON("/api/calls?number=555", http.StatusOK, &page)
	for _, c := range page.Calls {
		if c.Caller != "201" && c.Callee != "201" {
			t.Errorf("number filter widened the agent's scope: %s", c.ID)
		}
	}

	own, other := f.callWith(t, agnesCall), f.callWith(t, otherCall)
	for _, sub := range []string{"", "/audio", "/pcap", "/ladder", "/waveform"} {
		// Not found, as if the call did not exist: its existence does not
		// leak (TestNoExistenceLeak).
		res, body := agnes.do("GET", "/api/calls/"+string(other.ID)+sub, nil)
		wantError(t, "agent, other call"+sub, res, body, http.StatusNotFound)
		if res, body := agnes.do("GET", "/api/calls/"+string(own.ID)+sub, nil); res.StatusCode != http.StatusOK {
			t.Errorf("agent, own call%s: %d %s", sub, res.StatusCode, body)
		}
	}
	res, body := agnes.do("DELETE", "/api/calls/"+string(own.ID), nil)
	wantError(t, "agent deletes", res, body, http.StatusForbidden)
	for _, p := range []string{"/api/audit", "/api/users", "/api/tokens"} {
		res, body := agnes.do("GET", p, nil)
		wantError(t, "agent "+p, res, body, http.StatusForbidden)
	}

	// An agent without extensions sees nothing.
	var none callsPage
	f.login(t, "nobody").getJSON("/api/calls", http.StatusOK, &none)
	if none.Total != 0 || len(none.Calls) != 0 {
		t.Errorf("agent without extensions sees %d calls", none.Total)
	}

	// A supervisor sees every call, and the other call's files.
	sue := f.login(t, "sue")
	var all callsPage
	sue.getJSON("/api/calls?limit=500", http.StatusOK, &all)
	if all.Total != len(f.calls) {
		t.Errorf("supervisor sees %d of %d calls", all.Total, len(f.calls))
	}
	for _, sub := range []string{"", "/audio", "/ladder", "/waveform"} {
		if res, _ := sue.do("GET", "/api/calls/"+string(other.ID)+sub, nil); res.StatusCode != http.StatusOK {
			t.Errorf("supervisor%s: %d", sub, res.StatusCode)
		}
	}
	res, body = sue.do("DELETE", "/api/calls/"+string(other.ID), nil)
	wantError(t, "supervisor deletes", res, body, http.StatusForbidden)
}

// auditCount returns the number of audit entries of action on call id.
func auditCount(t *testing.T, f *fixture, action string, id spanrec.CallID) int {
	t.Helper()
	es, _, err := f.db.Events(context.Background(), auth.EventFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.CallID == string(id) {
			n++
			if e.User == "" || e.Remote != "127.0.0.1" || e.At.IsZero() {
				t.Errorf("audit entry %+v", e)
			}
		}
	}
	return n
}

func TestAudio(t *testing.T) {
	f := newFixture(t, false, nil)
	c := f.login(t, "sue")
	call := f.callWith(t, func(c *spanrec.Call) bool { return c.Audio != "" })
	file, err := os.ReadFile(filepath.Join(f.dir, call.Audio))
	if err != nil {
		t.Fatal(err)
	}
	path := "/api/calls/" + string(call.ID) + "/audio"

	res, body := c.do("GET", path, nil)
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, file) || res.Header.Get("Content-Type") != "audio/wav" ||
		res.Header.Get("Accept-Ranges") != "bytes" || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "inline") {
		t.Fatalf("audio: %d, %d bytes of %d, headers %v", res.StatusCode, len(body), len(file), res.Header)
	}
	if n := auditCount(t, f, auth.ActionPlay, call.ID); n != 1 {
		t.Errorf("%d play entries after one playback", n)
	}

	// Seeking: a Range request gets exactly those bytes and is no new
	// playback within the session (TestHostileRangeAudit has the rest).
	c.header.Set("Range", "bytes=100-1123")
	res, body = c.do("GET", path, nil)
	if res.StatusCode != http.StatusPartialContent || !bytes.Equal(body, file[100:1124]) ||
		res.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-1123/%d", len(file)) {
		t.Errorf("range: %d, %d bytes, Content-Range %q", res.StatusCode, len(body), res.Header.Get("Content-Range"))
	}
	c.header.Set("Range", fmt.Sprintf("bytes=%d-", len(file)+10))
	if res, _ = c.do("GET", path, nil); res.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("range past the end: %d", res.StatusCode)
	}
	c.header.Set("Range", "bytes=0-1")
	if res, body = c.do("GET", path, nil); res.StatusCode != http.StatusPartialContent || !bytes.Equal(body, file[:2]) {
		t.Errorf("range from 0: %d %q", res.StatusCode, body)
	}
	c.header.Del("Range")
	if n := auditCount(t, f, auth.ActionPlay, call.ID); n != 1 {
		t.Errorf("%d play entries, want 1 (one session's fetches within 30 min)", n)
	}

	// Conditional requests.
	etag := res.Header.Get("ETag")
	if etag != `"`+call.AudioSHA256+`"` {
		t.Errorf("ETag %q, want the SHA-256", etag)
	}
	c.header.Set("If-None-Match", etag)
	if res, _ = c.do("GET", path, nil); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", res.StatusCode)
	}
	c.header.Del("If-None-Match")

	res, body = c.do("GET", path+"?download=1", nil)
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, file) ||
		res.Header.Get("Content-Disposition") != `attachment; filename="`+fileName(call, ".wav")+`"` {
		t.Errorf("download: %d, %v", res.StatusCode, res.Header)
	}
	if n := auditCount(t, f, auth.ActionDownload, call.ID); n != 1 {
		t.Errorf("%d download entries", n)
	}
	res, body = c.do("GET", path+"?download=yes", nil)
	wantError(t, "download=yes", res, body, http.StatusBadRequest)

	// HEAD is answered but not audited.
	before := auditCount(t, f, auth.ActionPlay, call.ID)
	if res, _ = c.do("HEAD", path, nil); res.StatusCode != http.StatusOK || res.ContentLength != int64(len(file)) {
		t.Errorf("HEAD: %d, length %d", res.StatusCode, res.ContentLength)
	}
	if auditCount(t, f, auth.ActionPlay, call.ID) != before {
		t.Error("HEAD was audited as a playback")
	}

	noAudio := f.callWith(t, func(c *spanrec.Call) bool { return c.Audio == "" })
	res, body = c.do("GET", "/api/calls/"+string(noAudio.ID)+"/audio", nil)
	wantError(t, "call without audio", res, body, http.StatusNotFound)
	res, body = c.do("GET", "/api/calls/ffffffffffffffffffff/audio", nil)
	wantError(t, "unknown call's audio", res, body, http.StatusNotFound)

	// A file gone from disk is a 404, not a 500.
	os.Remove(filepath.Join(f.dir, call.Audio))
	res, body = c.do("GET", path, nil)
	wantError(t, "missing file", res, body, http.StatusNotFound)
}

func TestPCAP(t *testing.T) {
	f := newFixture(t, false, nil)
	c := f.login(t, "sue")
	call := f.calls[0]
	file, err := os.ReadFile(filepath.Join(f.dir, call.PCAP))
	if err != nil {
		t.Fatal(err)
	}
	res, body := c.do("GET", "/api/calls/"+string(call.ID)+"/pcap", nil)
	if res.StatusCode != http.StatusOK || !bytes.Equal(body, file) ||
		res.Header.Get("Content-Type") != "application/vnd.tcpdump.pcap" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="`+fileName(call, ".pcapng")+`"` {
		t.Fatalf("pcap: %d, %d bytes, %v", res.StatusCode, len(body), res.Header)
	}
	if n := auditCount(t, f, auth.ActionDownloadPCAP, call.ID); n != 1 {
		t.Errorf("%d download_pcap entries", n)
	}
	res, body = c.do("GET", "/api/calls/ffffffffffffffffffff/pcap", nil)
	wantError(t, "unknown call", res, body, http.StatusNotFound)
}

func TestLadder(t *testing.T) {
	f := readOnly(t)
	c := f.login(t, "sue")
	for _, call := range f.calls {
		var msgs []api.LadderMessage
		c.getJSON("/api/calls/"+string(call.ID)+"/ladder", http.StatusOK, &msgs)
		if len(msgs) < 2 {
			t.Errorf("call %s: %d SIP messages", call.ID, len(msgs))
			continue
		}
		first := msgs[0]
		if first.Label != "INVITE" || !first.Request || first.Method != "INVITE" || !strings.HasPrefix(first.Raw, "INVITE ") ||
			!strings.Contains(first.Raw, call.SIPCallID) || first.CallID != call.SIPCallID || !first.Src.IsValid() || first.Transport == "" {
			t.Errorf("call %s: first message %+v", call.ID, first)
		}
		final := false
		for i, m := range msgs {
			if i > 0 && m.Time.Before(msgs[i-1].Time) {
				t.Errorf("call %s: message %d out of time order", call.ID, i)
			}
			if !m.Request && m.Status == call.StatusCode && call.StatusCode != 0 {
				final = true
				if !strings.HasPrefix(m.Label, strconv.Itoa(m.Status)) || !strings.HasPrefix(m.Raw, "SIP/2.0 ") {
					t.Errorf("call %s: response %+v", call.ID, m)
				}
			}
		}
		if call.StatusCode != 0 && !final {
			t.Errorf("call %s: no %d answer in the ladder", call.ID, call.StatusCode)
		}
	}
}

func TestWaveform(t *testing.T) {
	f := readOnly(t)
	c := f.login(t, "sue")
	call := f.callWith(t, func(c *spanrec.Call) bool { return c.Audio != "" && c.AudioMS > 1000 })
	var wf api.Waveform
	c.getJSON("/api/calls/"+string(call.ID)+"/waveform?points=200", http.StatusOK, &wf)
	if wf.Channels != 2 || len(wf.Peaks) != 2 || wf.Points != 200 || (wf.Rate != 8000 && wf.Rate != 16000) {
		t.Fatalf("waveform: %d channels, %d peak lists, %d points, rate %d", wf.Channels, len(wf.Peaks), wf.Points, wf.Rate)
	}
	if d := wf.DurationMS - call.AudioMS; d < -50 || d > 50 {
		t.Errorf("duration %d ms, call's audio %d ms", wf.DurationMS, call.AudioMS)
	}
	loud := 0
	for ch, ps := range wf.Peaks {
		if len(ps) != 200 {
			t.Errorf("channel %d: %d peaks", ch, len(ps))
		}
		for _, p := range ps {
			if p[0] < -1 || p[1] > 1 || p[0] > p[1] {
				t.Fatalf("channel %d: peak %v", ch, p)
			}
			if p[1]-p[0] > 0.05 {
				loud++
			}
		}
	}
	if loud < 50 {
		t.Errorf("only %d of 400 peaks carry sound; the demo calls have tones", loud)
	}
	var def api.Waveform
	c.getJSON("/api/calls/"+string(call.ID)+"/waveform", http.StatusOK, &def)
	if def.Points != 1000 || len(def.Peaks[0]) != 1000 {
		t.Errorf("default points %d", def.Points)
	}
	for _, q := range []string{"points=0", "points=10001", "points=x"} {
		res, body := c.do("GET", "/api/calls/"+string(call.ID)+"/waveform?"+q, nil)
		wantError(t, q, res, body, http.StatusBadRequest)
	}
	noAudio := f.callWith(t, func(c *spanrec.Call) bool { return c.Audio == "" })
	res, body := c.do("GET", "/api/calls/"+string(noAudio.ID)+"/waveform", nil)
	wantError(t, "no audio", res, body, http.StatusNotFound)
}

func TestDelete(t *testing.T) {
	f := newFixture(t, false, nil)
	call := f.callWith(t, func(c *spanrec.Call) bool { return c.Audio != "" })
	path := "/api/calls/" + string(call.ID)
	files := []string{filepath.Join(f.dir, call.Audio), filepath.Join(f.dir, call.PCAP)}

	ada := f.login(t, "ada")
	csrf := ada.csrf
	ada.csrf = ""
	res, body := ada.do("DELETE", path, nil)
	wantError(t, "delete without CSRF token", res, body, http.StatusForbidden)
	ada.csrf = csrf
	ada.header.Set("Origin", "https://evil.example")
	res, body = ada.do("DELETE", path, nil)
	wantError(t, "cross-origin delete", res, body, http.StatusForbidden)
	ada.header.Del("Origin")
	for _, p := range files {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("refused deletes removed a file: %v", err)
		}
	}

	if res, body := ada.do("DELETE", path, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", res.StatusCode, body)
	}
	for _, p := range files {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	if _, err := f.db.Call(context.Background(), call.ID); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("index row still there: %v", err)
	}
	res, body = ada.do("GET", path, nil)
	wantError(t, "get deleted call", res, body, http.StatusNotFound)
	res, body = ada.do("DELETE", path, nil)
	wantError(t, "delete twice", res, body, http.StatusNotFound)
	if n := auditCount(t, f, auth.ActionDelete, call.ID); n != 1 {
		t.Errorf("%d delete entries", n)
	}
	var page callsPage
	ada.getJSON("/api/calls", http.StatusOK, &page)
	if page.Total != len(f.calls)-1 {
		t.Errorf("%d calls left of %d", page.Total, len(f.calls))
	}
}

func TestTokens(t *testing.T) {
	f := newFixture(t, false, nil)
	ada := f.login(t, "ada")
	var tok struct {
		ID    int64
		User  string
		Token string
	}
	res, body := ada.do("POST", "/api/tokens", map[string]string{"user": "agnes", "name": "crm"})
	if res.StatusCode != http.StatusCreated || json.Unmarshal(body, &tok) != nil || !strings.HasPrefix(tok.Token, auth.TokenPrefix) {
		t.Fatalf("create token: %d %s", res.StatusCode, body)
	}
	res, body = ada.do("POST", "/api/tokens", map[string]string{"user": "nosuchuser"})
	wantError(t, "token for nobody", res, body, http.StatusNotFound)

	m := f.client(t)
	m.bearer = tok.Token
	var page callsPage
	m.getJSON("/api/calls", http.StatusOK, &page)
	for _, c := range page.Calls {
		if c.Caller != "201" && c.Callee != "201" {
			t.Errorf("agent's token sees call %s", c.ID)
		}
	}
	var me struct{ User, CSRF string }
	m.getJSON("/api/me", http.StatusOK, &me)
	if me.User != "agnes" || me.CSRF != "" {
		t.Errorf("me by token: %+v", me)
	}

	// Bearer requests need no CSRF token.
	admTok := struct{ Token string }{}
	_, body = ada.do("POST", "/api/tokens", map[string]string{"user": "ada"})
	json.Unmarshal(body, &admTok)
	am := f.client(t)
	am.bearer = admTok.Token
	if res, body := am.do("POST", "/api/tokens", map[string]string{"user": "sue"}); res.StatusCode != http.StatusCreated {
		t.Errorf("POST with a bearer token and no CSRF token: %d %s", res.StatusCode, body)
	}

	var list []struct {
		ID       int64
		User     string
		Name     string
		Token    string
		LastUsed *time.Time `json:"last_used"`
	}
	ada.getJSON("/api/tokens", http.StatusOK, &list)
	if len(list) != 3 || list[0].User != "agnes" || list[0].Name != "crm" || list[0].Token != "" || list[0].LastUsed == nil {
		t.Errorf("tokens %+v", list)
	}
	if !strings.Contains(string(body), "token") {
		t.Error("no token in the create answer")
	}

	if res, body := ada.do("DELETE", "/api/tokens/"+strconv.FormatInt(tok.ID, 10), nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", res.StatusCode, body)
	}
	res, body = m.do("GET", "/api/calls", nil)
	wantError(t, "revoked token", res, body, http.StatusUnauthorized)
	res, body = ada.do("DELETE", "/api/tokens/"+strconv.FormatInt(tok.ID, 10), nil)
	wantError(t, "revoke twice", res, body, http.StatusNotFound)
	res, body = ada.do("DELETE", "/api/tokens/abc", nil)
	wantError(t, "revoke abc", res, body, http.StatusBadRequest)
}

func TestUsers(t *testing.T) {
	f := newFixture(t, false, nil)
	ada := f.login(t, "ada")
	var list []struct {
		Name       string
		Role       string
		Extensions []string
	}
	ada.getJSON("/api/users", http.StatusOK, &list)
	if len(list) != len(users) || list[0].Name != "ada" || list[0].Extensions == nil {
		t.Errorf("users %+v", list)
	}
	var added struct{ Name, Role, Password string }
	res, body := ada.do("POST", "/api/users", map[string]any{"name": "carl", "role": "agent", "extensions": []string{"202"}})
	if res.StatusCode != http.StatusCreated || json.Unmarshal(body, &added) != nil || len(added.Password) < 16 {
		t.Fatalf("add user: %d %s", res.StatusCode, body)
	}
	carl := f.client(t)
	if res, body := carl.do("POST", "/api/login", map[string]string{"user": "carl", "password": added.Password}); res.StatusCode != http.StatusOK {
		t.Errorf("login with the generated password: %d %s", res.StatusCode, body)
	}
	res, body = ada.do("POST", "/api/users", map[string]any{"name": "dora", "role": "supervisor", "password": "long enough password"})
	if res.StatusCode != http.StatusCreated || strings.Contains(string(body), "long enough") {
		t.Errorf("add user with a password: %d %s", res.StatusCode, body)
	}
	for name, req := range map[string]map[string]any{
		"duplicate":     {"name": "carl", "role": "agent", "extensions": []string{"202"}},
		"agent, no ext": {"name": "erin", "role": "agent"},
		"bad role":      {"name": "erin", "role": "root"},
		"bad name":      {"name": "../erin", "role": "agent"},
		"short pw":      {"name": "erin", "role": "agent", "extensions": []string{"202"}, "password": "short"},
		"bad extension": {"name": "erin", "role": "agent", "extensions": []string{"20 1"}},
		"unknown field": {"name": "erin", "role": "agent", "admin": true},
	} {
		res, body := ada.do("POST", "/api/users", req)
		want := http.StatusBadRequest
		if name == "duplicate" {
			want = http.StatusConflict
		}
		wantError(t, name, res, body, want)
	}
	sue := f.login(t, "sue")
	res, body = sue.do("POST", "/api/users", map[string]any{"name": "mallory", "role": "admin"})
	wantError(t, "supervisor adds a user", res, body, http.StatusForbidden)

	if res, body := ada.do("DELETE", "/api/users/carl", nil); res.StatusCode != http.StatusNoContent {
		t.Errorf("delete carl: %d %s", res.StatusCode, body)
	}
	res, body = carl.do("GET", "/api/me", nil)
	wantError(t, "deleted user's session", res, body, http.StatusUnauthorized)
	res, body = ada.do("DELETE", "/api/users/carl", nil)
	wantError(t, "delete twice", res, body, http.StatusNotFound)
	res, body = ada.do("DELETE", "/api/users/ada", nil)
	wantError(t, "delete the last admin", res, body, http.StatusConflict)

	var audit struct {
		Entries []struct{ User, Action, Detail string }
		Total   int
	}
	ada.getJSON("/api/audit?action=user_add", http.StatusOK, &audit)
	if audit.Total != 2 || audit.Entries[0].User != "ada" || !strings.HasPrefix(audit.Entries[0].Detail, "dora") {
		t.Errorf("user_add audit %+v", audit)
	}
}

func TestAuditAPI(t *testing.T) {
	f := newFixture(t, false, nil)
	sue := f.login(t, "sue")
	call := f.callWith(t, func(c *spanrec.Call) bool { return c.Audio != "" })
	sue.do("GET", "/api/calls/"+string(call.ID)+"/audio", nil)
	sue.do("GET", "/api/calls/"+string(call.ID)+"/pcap", nil)
	ada := f.login(t, "ada")
	var a struct {
		Entries []struct {
			ID                                   int64
			At                                   time.Time
			User, Action, CallID, Remote, Detail string
		}
		Total, Limit, Offset int
	}
	ada.getJSON("/api/audit?user=sue&limit=10", http.StatusOK, &a)
	if a.Total != 3 || len(a.Entries) != 3 || a.Limit != 10 {
		t.Fatalf("sue's audit: %+v", a)
	}
	// Newest first: pcap, play, login.
	if e := a.Entries[0]; e.Action != "download_pcap" || e.User != "sue" || e.Remote != "127.0.0.1" || e.At.IsZero() || e.Detail != call.PCAP {
		t.Errorf("entry %+v", e)
	}
	if e := a.Entries[1]; e.Action != "play" {
		t.Errorf("entry %+v", e)
	}
	var raw map[string]any
	ada.getJSON("/api/audit?action=play", http.StatusOK, &raw)
	if e := raw["entries"].([]any)[0].(map[string]any); e["call_id"] != string(call.ID) {
		t.Errorf("play entry %v", e)
	}
	for _, q := range []string{"limit=0", "offset=x", "who=sue"} {
		res, body := ada.do("GET", "/api/audit?"+q, nil)
		wantError(t, q, res, body, http.StatusBadRequest)
	}
	res, body := sue.do("GET", "/api/audit", nil)
	wantError(t, "supervisor reads the audit", res, body, http.StatusForbidden)
}

func TestSecurityHeaders(t *testing.T) {
	f := readOnly(t)
	c := f.login(t, "sue")
	const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; " +
		"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
	for _, p := range []string{"/", "/api/calls", "/api/calls/ffffffffffff", "/healthz", "/metrics", "/api/openapi.json", "/api/nope"} {
		res, _ := c.do("GET", p, nil)
		h := res.Header
		if h.Get("Content-Security-Policy") != csp || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS without TLS", p)
		}
		if strings.HasPrefix(p, "/api/") && h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", p, h.Get("Cache-Control"))
		}
	}
}

func TestSecure(t *testing.T) {
	f := newFixture(t, false, func(c *api.Config) { c.Secure = true })
	c := f.client(t)
	res, body := c.do("POST", "/api/login", map[string]string{"user": "sue", "password": password})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", res.StatusCode, body)
	}
	if !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("no HSTS: %v", res.Header)
	}
	ck := res.Cookies()[0]
	if ck.Name != "__Host-spanrec_session" || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Domain != "" {
		t.Errorf("cookie %+v", ck)
	}
}

func TestLive(t *testing.T) {
	f := readOnly(t)
	sue, agnes := f.login(t, "sue"), f.login(t, "agnes")
	open := func(c *client) (*bufio.Reader, func()) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", c.base+"/api/live", nil)
		res, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("live: %d %v", res.StatusCode, res.Header)
		}
		return bufio.NewReader(res.Body), func() { cancel(); res.Body.Close() }
	}
	// next returns the next event's type and data, skipping comments.
	next := func(r *bufio.Reader) (string, string) {
		t.Helper()
		var typ, data string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("live stream: %v", err)
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "" && typ != "":
				return typ, data
			case strings.HasPrefix(line, "event: "):
				typ = line[7:]
			case strings.HasPrefix(line, "data: "):
				data = line[6:]
			}
		}
	}
	sr, closeS := open(sue)
	defer closeS()
	ar, closeA := open(agnes)
	defer closeA()
	// Both streams have said ": connected"; wait until they are subscribed.
	for _, r := range []*bufio.Reader{sr, ar} {
		if line, _ := r.ReadString('\n'); line != "retry: 5000\n" {
			t.Fatalf("first line %q", line)
		}
	}
	waitSubscribers(t, f, 2)
	for _, r := range []*bufio.Reader{sr, ar} {
		if typ, data := next(r); typ != api.EventSnapshot || data != `{"now":"2026-11-02T08:00:00Z","calls":[]}` {
			t.Errorf("first event %s %s, want an empty snapshot", typ, data)
		}
	}

	other, own := f.callWith(t, otherCall), f.callWith(t, agnesCall)
	f.api.Events().Publish(api.Event{Type: api.EventStart, Call: other})
	f.api.Events().Publish(api.Event{Type: api.EventEnd, Call: own})
	for _, want := range []struct {
		r   *bufio.Reader
		typ string
		id  spanrec.CallID
	}{{sr, "start", other.ID}, {sr, "end", own.ID}, {ar, "end", own.ID}} {
		typ, data := next(want.r)
		var c struct{ ID string }
		if err := json.Unmarshal([]byte(data), &c); err != nil || typ != want.typ || c.ID != string(want.id) {
			t.Errorf("event %s %s; want %s of %s", typ, data, want.typ, want.id)
		}
	}
	// Heartbeats keep coming (every 50 ms in the fixture).
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		line, err := ar.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == ": heartbeat\n" {
			return
		}
	}
	t.Error("no heartbeat")
}

// waitSubscribers waits until the live broker has n subscribers, reading
// the count from /metrics.
func waitSubscribers(t *testing.T, f *fixture, n int) {
	t.Helper()
	c := f.client(t)
	for range 200 {
		_, body := c.do("GET", "/metrics", nil)
		if strings.Contains(string(body), "spanrec_live_subscribers "+strconv.Itoa(n)+"\n") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("never %d live subscribers", n)
}

func TestWatchIndex(t *testing.T) {
	f := newFixture(t, false, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- api.WatchIndex(ctx, f.db, f.api.Events(), 20*time.Millisecond, func(err error) { t.Error(err) })
	}()
	sue := f.login(t, "sue")
	req, _ := http.NewRequestWithContext(ctx, "GET", sue.base+"/api/live", nil)
	res, err := sue.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	waitSubscribers(t, f, 1)
	// Calls already indexed are not news; a new one is.
	c := *f.calls[0]
	c.ID = "0123456789abcdef0123"
	if err := f.db.PutCall(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(res.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "event: snapshot\n" {
			continue // the calls in progress: none
		}
		if strings.HasPrefix(line, "event: ") {
			if line != "event: end\n" {
				t.Errorf("event %q", line)
			}
			data, _ := r.ReadString('\n')
			if !strings.Contains(data, `"id":"0123456789abcdef0123"`) {
				t.Errorf("data %q", data)
			}
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	f := readOnly(t)
	c := f.client(t)
	var h struct{ Status string }
	c.getJSON("/healthz", http.StatusOK, &h)
	if h.Status != "ok" {
		t.Errorf("healthz %+v", h)
	}
	c.do("GET", "/api/calls", nil) // a 401
	res, body := c.do("GET", "/metrics", nil)
	text := string(body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics: %d %v", res.StatusCode, res.Header)
	}
	for _, want := range []string{
		fmt.Sprintf("spanrec_calls_indexed %d\n", len(f.calls)),
		`spanrec_http_requests_total{code="401"} `,
		`spanrec_http_requests_total{code="200"} `,
		"# TYPE spanrec_audit_events_total counter\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
}

func TestNotRouted(t *testing.T) {
	f := readOnly(t)
	c := f.login(t, "sue")
	res, body := c.do("GET", "/api/nope", nil)
	wantError(t, "unknown API path", res, body, http.StatusNotFound)
	res, body = c.do("PUT", "/api/calls", "x")
	wantError(t, "PUT /api/calls", res, body, http.StatusMethodNotAllowed)
	if res.Header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
}

func TestUI(t *testing.T) {
	f := readOnly(t)
	c := f.client(t)
	for _, p := range []string{"/", "/calls/abc"} {
		res, body := c.do("GET", p, nil)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
			!bytes.Contains(bytes.ToLower(body), []byte("<!doctype html")) {
			t.Errorf("GET %s: %d %s", p, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	if res, _ := c.do("GET", "/nosuchfile.js", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("missing UI file: %d", res.StatusCode)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := api.New(api.Config{}); err == nil || !strings.Contains(err.Error(), "data directory") || !strings.Contains(err.Error(), "index") {
		t.Errorf("New(zero config) = %v", err)
	}
}
