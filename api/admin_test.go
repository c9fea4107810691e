package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
)

// TestAdminRoutesRefused checks that a supervisor and an agent get 403 from
// every admin route, and an agent from the dashboard, whatever they send.
func TestAdminRoutesRefused(t *testing.T) {
	f := newFixture(t, false, nil)
	admin := []struct{ method, path string }{
		{"GET", "/api/users"}, {"POST", "/api/users"}, {"PATCH", "/api/users/ada"},
		{"PUT", "/api/users/ada/password"}, {"DELETE", "/api/users/ada"},
		{"GET", "/api/tokens"}, {"POST", "/api/tokens"}, {"DELETE", "/api/tokens/1"},
		{"GET", "/api/audit"}, {"GET", "/api/audit.csv"},
	}
	for _, who := range []string{"sue", "agnes"} {
		c := f.login(t, who)
		for _, r := range admin {
			res, body := c.do(r.method, r.path, map[string]any{"disabled": true, "password": "0123456789ab", "name": "x", "role": "admin", "user": "ada"})
			wantError(t, who+" "+r.method+" "+r.path, res, body, http.StatusForbidden)
		}
	}
	res, body := f.login(t, "agnes").do("GET", "/api/dashboard", nil)
	wantError(t, "agent reads the dashboard", res, body, http.StatusForbidden)
	f.login(t, "sue").getJSON("/api/dashboard", http.StatusOK, nil)
	// Nothing changed.
	u, err := f.db.User(context.Background(), "ada")
	if err != nil || u.Disabled {
		t.Errorf("ada after the refused requests: %+v %v", u, err)
	}
}

func TestAgentNeedsExtension(t *testing.T) {
	f := newFixture(t, false, nil)
	ada := f.login(t, "ada")
	for _, ext := range [][]string{nil, {}} {
		res, body := ada.do("POST", "/api/users", map[string]any{"name": "erin", "role": "agent", "extensions": ext})
		wantError(t, fmt.Sprintf("agent with extensions %v", ext), res, body, http.StatusBadRequest)
		if !strings.Contains(string(body), "extension") {
			t.Errorf("refusal does not say why: %s", body)
		}
	}
	if _, err := f.db.User(context.Background(), "erin"); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("refused agent stored: %v", err)
	}
	// Supervisors and admins need none.
	res, body := ada.do("POST", "/api/users", map[string]any{"name": "erin", "role": "supervisor"})
	if res.StatusCode != http.StatusCreated {
		t.Errorf("supervisor without extension: %d %s", res.StatusCode, body)
	}
}

func TestSetPassword(t *testing.T) {
	f := newFixture(t, false, nil)
	ada := f.login(t, "ada")
	agnes := f.login(t, "agnes")
	res, body := ada.do("PUT", "/api/users/agnes/password", map[string]string{"password": "short"})
	wantError(t, "short password", res, body, http.StatusBadRequest)
	res, body = ada.do("PUT", "/api/users/nosuch/password", map[string]string{"password": "long enough password"})
	wantError(t, "no such user", res, body, http.StatusNotFound)

	res, body = ada.do("PUT", "/api/users/agnes/password", map[string]string{"password": "a new long password"})
	if res.StatusCode != http.StatusOK || strings.Contains(string(body), "a new long") {
		t.Fatalf("set password: %d %s", res.StatusCode, body)
	}
	res, body = agnes.do("GET", "/api/me", nil)
	wantError(t, "session after a new password", res, body, http.StatusUnauthorized)
	c := f.client(t)
	if res, _ := c.do("POST", "/api/login", map[string]string{"user": "agnes", "password": password}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password: %d", res.StatusCode)
	}
	if res, body := c.do("POST", "/api/login", map[string]string{"user": "agnes", "password": "a new long password"}); res.StatusCode != http.StatusOK {
		t.Errorf("new password: %d %s", res.StatusCode, body)
	}

	// An empty password generates one, shown once.
	var gen struct{ Password string }
	res, body = ada.do("PUT", "/api/users/sue/password", map[string]string{})
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &gen) != nil || len(gen.Password) < 16 {
		t.Fatalf("generate password: %d %s", res.StatusCode, body)
	}
	if res, body := f.client(t).do("POST", "/api/login", map[string]string{"user": "sue", "password": gen.Password}); res.StatusCode != http.StatusOK {
		t.Errorf("generated password: %d %s", res.StatusCode, body)
	}
	evs, _, err := f.db.Events(context.Background(), auth.EventFilter{Action: auth.ActionUserPassword})
	if err != nil || len(evs) != 2 || evs[0].Detail != "sue" || evs[1].Detail != "agnes" || evs[0].User != "ada" {
		t.Errorf("user_password entries %+v %v", evs, err)
	}
	for _, e := range evs {
		if strings.Contains(e.Detail, "password") {
			t.Errorf("audit detail %q", e.Detail)
		}
	}
}

func TestDisableUser(t *testing.T) {
	f := newFixture(t, false, nil)
	ada := f.login(t, "ada")
	agnes := f.login(t, "agnes")
	var tok struct{ Token string }
	_, body := ada.do("POST", "/api/tokens", map[string]string{"user": "agnes", "name": "crm"})
	if err := json.Unmarshal(body, &tok); err != nil || tok.Token == "" {
		t.Fatalf("token: %s", body)
	}
	bearer := f.client(t)
	bearer.bearer = tok.Token
	bearer.getJSON("/api/me", http.StatusOK, nil)

	var u struct {
		Name     string
		Disabled bool
	}
	res, body := ada.do("PATCH", "/api/users/agnes", map[string]bool{"disabled": true})
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &u) != nil || !u.Disabled || u.Name != "agnes" {
		t.Fatalf("disable: %d %s", res.StatusCode, body)
	}
	res, body = agnes.do("GET", "/api/me", nil)
	wantError(t, "disabled user's session", res, body, http.StatusUnauthorized)
	res, body = bearer.do("GET", "/api/calls", nil)
	wantError(t, "disabled user's token", res, body, http.StatusUnauthorized)
	res, body = f.client(t).do("POST", "/api/login", map[string]string{"user": "agnes", "password": password})
	wantError(t, "disabled user's login", res, body, http.StatusUnauthorized)
	var list []struct {
		Name     string
		Disabled bool
	}
	ada.getJSON("/api/users", http.StatusOK, &list)
	for _, l := range list {
		if l.Disabled != (l.Name == "agnes") {
			t.Errorf("user list: %+v", l)
		}
	}

	res, body = ada.do("PATCH", "/api/users/agnes", map[string]bool{"disabled": false})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("enable: %d %s", res.StatusCode, body)
	}
	bearer.getJSON("/api/me", http.StatusOK, nil) // the token works again
	f.login(t, "agnes")

	res, body = ada.do("PATCH", "/api/users/ada", map[string]bool{"disabled": true})
	wantError(t, "disable yourself", res, body, http.StatusBadRequest)
	res, body = ada.do("PATCH", "/api/users/agnes", map[string]any{})
	wantError(t, "nothing to change", res, body, http.StatusBadRequest)
	res, body = ada.do("PATCH", "/api/users/nosuch", map[string]bool{"disabled": true})
	wantError(t, "no such user", res, body, http.StatusNotFound)

	// A second admin may disable ada; then it is the last enabled admin,
	// which can be neither disabled nor deleted.
	res, body = ada.do("POST", "/api/users", map[string]any{"name": "bob", "role": "admin", "password": "bob's long password"})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("add bob: %d %s", res.StatusCode, body)
	}
	bob := f.client(t)
	res, body = bob.do("POST", "/api/login", map[string]string{"user": "bob", "password": "bob's long password"})
	var me struct{ CSRF string }
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &me) != nil {
		t.Fatalf("bob login: %d %s", res.StatusCode, body)
	}
	bob.csrf = me.CSRF
	if res, body := bob.do("PATCH", "/api/users/ada", map[string]bool{"disabled": true}); res.StatusCode != http.StatusOK {
		t.Fatalf("bob disables ada: %d %s", res.StatusCode, body)
	}
	ctx := context.Background()
	if err := f.db.SetDisabled(ctx, "bob", true); spanrec.ErrorKind(err) != spanrec.ECONFLICT {
		t.Errorf("disable the last enabled admin: %v", err)
	}
	if err := f.db.DeleteUser(ctx, "bob"); spanrec.ErrorKind(err) != spanrec.ECONFLICT {
		t.Errorf("delete the last enabled admin: %v", err)
	}
	var audit struct {
		Entries []struct{ User, Action, Detail string }
	}
	bob.getJSON("/api/audit?action=user_disable", http.StatusOK, &audit)
	if len(audit.Entries) != 2 || audit.Entries[0].User != "bob" || audit.Entries[0].Detail != "ada" || audit.Entries[1].Detail != "agnes" {
		t.Errorf("user_disable entries %+v", audit.Entries)
	}
	bob.getJSON("/api/audit?action=user_enable", http.StatusOK, &audit)
	if len(audit.Entries) != 1 || audit.Entries[0].Detail != "agnes" {
		t.Errorf("user_enable entries %+v", audit.Entries)
	}
}

// TestAuditRangeAndCSV checks the audit log's time filters and its CSV
// export: every entry once, newest first, across pages, with the cells a
// spreadsheet would run defused.
func TestAuditRangeAndCSV(t *testing.T) {
	f := newFixture(t, false, nil)
	ctx := context.Background()
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	// More entries than one page of the export, an hour apart.
	const n = 2500
	for i := range n {
		e := auth.Event{At: t0.Add(time.Duration(i) * time.Hour), User: "sue", Action: auth.ActionPlay, CallID: "c" + strconv.Itoa(i), Remote: "10.0.0.1"}
		if err := f.db.AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// Failed logins keep the name tried: a hostile one is a formula.
	hostile := []string{"=HYPERLINK(\"http://x\")", "+1+2", "-3+4", "@SUM(A1)", "\tx", "\rx"}
	for _, name := range hostile {
		f.client(t).do("POST", "/api/login", map[string]string{"user": name, "password": "wrong password"})
	}
	ada := f.login(t, "ada")

	var page struct {
		Entries []struct {
			At     time.Time
			CallID string `json:"call_id"`
		}
		Total int
	}
	from, to := t0.Add(10*time.Hour), t0.Add(20*time.Hour)
	ada.getJSON("/api/audit?"+url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}.Encode(), http.StatusOK, &page)
	if page.Total != 10 || len(page.Entries) != 10 || page.Entries[0].CallID != "c19" || page.Entries[9].CallID != "c10" {
		t.Errorf("entries in [%v, %v): %d %+v", from, to, page.Total, page.Entries)
	}
	for _, q := range []string{"from=yesterday", "from=2026-10-02T00:00:00Z&to=2026-10-01T00:00:00Z", "to=2026-10-01T00:00:00Z&to=2026-10-02T00:00:00Z"} {
		res, body := ada.do("GET", "/api/audit?"+q, nil)
		wantError(t, q, res, body, http.StatusBadRequest)
		res, body = ada.do("GET", "/api/audit.csv?"+q, nil)
		wantError(t, "csv "+q, res, body, http.StatusBadRequest)
	}
	res, body := ada.do("GET", "/api/audit.csv?limit=5", nil)
	wantError(t, "csv with a limit", res, body, http.StatusBadRequest)

	var all struct{ Total int }
	ada.getJSON("/api/audit?limit=1", http.StatusOK, &all)
	res, body = ada.do("GET", "/api/audit.csv", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), `attachment; filename="spanrec-audit-`) {
		t.Fatalf("export: %d %v", res.StatusCode, res.Header)
	}
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "id,time_utc,user,action,call_id,remote,detail" {
		t.Errorf("header %q", rows[0])
	}
	rows = rows[1:]
	// Every entry before the export, not the export's own.
	if len(rows) != all.Total {
		t.Fatalf("export has %d rows, the trail %d entries", len(rows), all.Total)
	}
	seen := map[string]bool{}
	prev := int64(1 << 62)
	for _, r := range rows {
		id, err := strconv.ParseInt(r[0], 10, 64)
		if err != nil || id >= prev || seen[r[0]] {
			t.Fatalf("row %q after id %d", r, prev)
		}
		seen[r[0]], prev = true, id
		if r[3] == auth.ActionAuditExport {
			t.Errorf("the export lists itself: %q", r)
		}
	}
	users := map[string]bool{}
	for _, r := range rows {
		if r[3] == auth.ActionLoginFailed {
			users[r[2]] = true
		}
	}
	for _, name := range hostile {
		if !users["'"+name] {
			t.Errorf("failed login as %q: not exported as %q (users %v)", name, "'"+name, users)
		}
	}
	// The filters apply to the export too.
	res, body = ada.do("GET", "/api/audit.csv?"+url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}, "action": {"play"}}.Encode(), nil)
	rows, err = csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || res.StatusCode != http.StatusOK || len(rows) != 11 || rows[1][4] != "c19" || rows[1][1] != t0.Add(19*time.Hour).Format(time.RFC3339Nano) {
		t.Errorf("filtered export: %d %v %q", res.StatusCode, err, rows)
	}
	evs, _, err := f.db.Events(ctx, auth.EventFilter{Action: auth.ActionAuditExport})
	if err != nil || len(evs) != 2 || evs[0].User != "ada" || !strings.Contains(evs[0].Detail, "action=play") || evs[1].Detail != "all entries" {
		t.Errorf("audit_export entries %+v %v", evs, err)
	}
}

// TestDashboardAPI checks the dashboard's range choice and that its
// figures are those of the calls in the range.
func TestDashboardAPI(t *testing.T) {
	f := readOnly(t)
	sue := f.login(t, "sue")
	var d struct {
		From, To      time.Time
		Range         string
		BucketSeconds int64 `json:"bucket_seconds"`
		Calls         int
		Answered      int
		AnsweredRatio float64 `json:"answered_ratio"`
		Buckets       []struct {
			Start           time.Time
			Calls, Answered int
		}
		MOS []struct {
			Low, High float64
			Streams   int
		}
		Talkers []struct {
			Number string
			Calls  int
		} `json:"top_talkers"`
		First *time.Time `json:"first_call"`
		Last  *time.Time `json:"last_call"`
	}
	// count returns the calls and answered calls that started in [from, to).
	count := func(calls []*spanrec.Call, from, to time.Time) (n, answered int) {
		for _, c := range calls {
			if !c.Start.Before(from) && c.Start.Before(to) {
				n++
				if c.Status == spanrec.Answered {
					answered++
				}
			}
		}
		return n, answered
	}
	check := func(what string) {
		t.Helper()
		n, answered := count(f.calls, d.From, d.To)
		sum := 0
		for i, b := range d.Buckets {
			sum += b.Calls
			bn, ba := count(f.calls, b.Start, b.Start.Add(time.Duration(d.BucketSeconds)*time.Second))
			if b.Calls != bn || b.Answered != ba || !b.Start.Equal(d.From.Add(time.Duration(i*int(d.BucketSeconds))*time.Second)) {
				t.Errorf("%s: bucket %v: %d calls, %d answered; want %d, %d", what, b.Start, b.Calls, b.Answered, bn, ba)
			}
		}
		if d.Calls != n || d.Answered != answered || sum != n || len(d.MOS) != spanrec.MOSBins {
			t.Errorf("%s: %d calls (want %d), %d answered (want %d), buckets sum %d, %d MOS bins", what, d.Calls, n, d.Answered, answered, sum, len(d.MOS))
		}
		if n > 0 && d.AnsweredRatio != float64(answered)/float64(n) {
			t.Errorf("%s: answered ratio %v, want %d/%d", what, d.AnsweredRatio, answered, n)
		}
	}
	// The fixture's clock is an hour after the demo's calls: the last 24 h.
	sue.getJSON("/api/dashboard", http.StatusOK, &d)
	first, last := f.calls[len(f.calls)-1].Start, f.calls[0].Start
	now := f.clock.now()
	if d.Range != "last-24h" || d.BucketSeconds != 3600 || len(d.Buckets) != 24 || !d.To.After(now) || d.To.Sub(now) > time.Hour ||
		d.First == nil || !d.First.Equal(first) || !d.Last.Equal(last) || d.Calls == 0 {
		t.Errorf("default range: %s %v..%v, %d buckets, %d calls, first %v", d.Range, d.From, d.To, len(d.Buckets), d.Calls, d.First)
	}
	check("last 24 h")

	// A day later the last 24 h have no call: the span of the data
	// (here more than 366 days: its last 366 days, per day).
	g := newFixture(t, true, nil)
	g.clock.advance(48 * time.Hour)
	g.login(t, "sue").getJSON("/api/dashboard", http.StatusOK, &d)
	if d.Range != "data" || d.BucketSeconds != 86400 || !d.To.After(last) || d.To.Sub(d.From) != 366*24*time.Hour {
		t.Errorf("data range: %s %v..%v per %d s", d.Range, d.From, d.To, d.BucketSeconds)
	}
	check("the data's span")

	// The demo's calls: an asked range of one day, per hour.
	demo := f.callWith(t, func(c *spanrec.Call) bool { return c.Caller.Number == "205" })
	day := demo.Start.Truncate(24 * time.Hour)
	q := url.Values{"from": {day.Format(time.RFC3339)}, "to": {day.Add(24 * time.Hour).Format(time.RFC3339)}}
	sue.getJSON("/api/dashboard?"+q.Encode(), http.StatusOK, &d)
	want, _ := count(f.calls, day, day.Add(24*time.Hour))
	if d.Range != "asked" || d.BucketSeconds != 3600 || len(d.Buckets) != 24 || d.Calls != want || want == 0 {
		t.Errorf("one day: %s, %d s buckets, %d buckets, %d calls; want 24 hourly, %d calls", d.Range, d.BucketSeconds, len(d.Buckets), d.Calls, want)
	}
	check("one day")
	q.Set("to", day.Add(30*24*time.Hour).Format(time.RFC3339))
	sue.getJSON("/api/dashboard?"+q.Encode(), http.StatusOK, &d)
	if d.BucketSeconds != 86400 || len(d.Buckets) != 30 {
		t.Errorf("30 days: %d s buckets, %d buckets", d.BucketSeconds, len(d.Buckets))
	}
	for _, bad := range []string{"from=2026-01-01T00:00:00Z", "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
		"from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from=x&to=y", "top=5"} {
		res, body := sue.do("GET", "/api/dashboard?"+bad, nil)
		wantError(t, bad, res, body, http.StatusBadRequest)
	}
}
