package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/spanrec/spanrec/pgtest"
)

// TestIndexPostgres: with --index postgres://… every command works on the
// PostgreSQL index — import, calls, user add — and two serve processes on
// it are stateless: a login on one is a login on the other, a logout on
// one ends it on both. The URL's password shows in no output or log.
func TestIndexPostgres(t *testing.T) {
	u := pgtest.NewSchema(t)
	pu, _ := url.Parse(u)
	pw, _ := pu.User.Password()
	data := t.TempDir() + "/data"
	var outputs []string
	cli := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errs := runCLI(t, []byte(stdin), append(args, "--data", data, "--index", u, "--log-level", "debug")...)
		outputs = append(outputs, out, errs)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", args[0], code, out, errs)
		}
		return out
	}
	cli("", "import", demo, "--no-progress", "--sensor", "lab-sensor-1")
	calls := callsJSON(t, "--data", data, "--index", u)
	if len(calls) != 7 {
		t.Fatalf("calls --index postgres: %d calls, want 7", len(calls))
	}
	for _, c := range calls {
		if c["sensor"] != "lab-sensor-1" {
			t.Errorf("call %v: sensor %v, want lab-sensor-1", c["id"], c["sensor"])
		}
	}
	if n := len(callsJSON(t, "--data", data, "--index", u, "--sensor", "lab-sensor-1")); n != 7 {
		t.Errorf("calls --sensor lab-sensor-1: %d, want 7", n)
	}
	if n := len(callsJSON(t, "--data", data, "--index", u, "--sensor", "lab-sensor")); n != 0 {
		t.Errorf("calls --sensor lab-sensor: %d, want 0 (exact match)", n)
	}
	// import named the central index: the calls went to the data
	// directory's own SQLite index first (the outbox), then were shipped.
	if n := len(callsJSON(t, "--data", data)); n != 7 {
		t.Errorf("the data directory's index has %d calls, want the 7 shipped from it", n)
	}
	if n := len(callsJSON(t, "--data", data, "--index", "sqlite:"+t.TempDir()+"/other.db")); n != 0 {
		t.Errorf("another index has %d calls", n)
	}
	cli("sup3rvisor password\n", "user", "add", "sue", "--role", "supervisor")

	baseA, outA := serve(t, "--data", data, "--index", u, "--log-level", "debug")
	baseB, outB := serve(t, "--data", data, "--index", u, "--log-level", "debug")
	res, err := http.Post(baseA+"/api/login", "application/json", strings.NewReader(`{"user":"sue","password":"sup3rvisor password"}`))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login on A: %v %v", res, err)
	}
	var login struct{ CSRF string }
	json.NewDecoder(res.Body).Decode(&login)
	res.Body.Close()
	cookies := res.Cookies()
	if len(cookies) == 0 {
		t.Fatal("login set no cookie")
	}
	get := func(base string, query ...string) (int, int) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/api/calls"+strings.Join(query, ""), nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var page struct{ Total int }
		json.NewDecoder(res.Body).Decode(&page)
		return res.StatusCode, page.Total
	}
	if code, total := get(baseB); code != http.StatusOK || total != 7 {
		t.Errorf("A's session on B: %d, %d calls; want 200, 7", code, total)
	}
	for q, want := range map[string]int{"?sensor=lab-sensor-1": 7, "?sensor=other": 0} {
		if code, total := get(baseB, q); code != http.StatusOK || total != want {
			t.Errorf("GET /api/calls%s: %d, %d calls; want 200, %d", q, code, total, want)
		}
	}
	if code, _ := get(baseB, "?sensor="+strings.Repeat("x", 65)); code != http.StatusBadRequest {
		t.Errorf("a 65-character sensor: %d, want 400", code)
	}
	req, _ := http.NewRequest("POST", baseB+"/api/logout", nil)
	req.Header.Set("X-CSRF-Token", login.CSRF)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("logout on B: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if code, _ := get(baseA); code != http.StatusUnauthorized {
		t.Errorf("A after a logout on B: %d, want 401", code)
	}
	outputs = append(outputs, outA.String(), outB.String())
	for _, o := range outputs {
		if strings.Contains(o, pw) {
			t.Errorf("output shows the index password: %s", o)
		}
	}
}

// TestIndexErrors: a bad --index fails with a message that shows no
// password.
func TestIndexErrors(t *testing.T) {
	u := pgtest.NewSchema(t)
	pu, _ := url.Parse(u)
	wrong := *pu
	wrong.User = url.UserPassword("spanrec", "Wr0ng-s3cret")
	data := importDemo(t)
	for _, tc := range []struct {
		index, secret, want string
	}{
		{wrong.String(), "Wr0ng-s3cret", "open index"},
		{"mysql://root:Hunter2@db/x", "Hunter2", "sqlite:PATH or postgres://"},
		{"sqlite:", "", "needs a path"},
	} {
		code, out, errs := runCLI(t, nil, "calls", "--data", data, "--index", tc.index)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("--index %s: exit %d, %q; want an error saying %q", tc.want, code, errs, tc.want)
		}
		if tc.secret != "" && strings.Contains(out+errs, tc.secret) {
			t.Errorf("error shows the password: %s", errs)
		}
	}
	// Without --sensor a call carries the host name.
	host, _ := os.Hostname()
	for _, c := range callsJSON(t, "--data", data, "--limit", "2") {
		if c["sensor"] != host {
			t.Errorf("call %v: sensor %v, want the host name %q", c["id"], c["sensor"], host)
		}
	}
	if code, _, errs := runCLI(t, nil, "import", demo, "--data", data, "--sensor", "a\nb"); code != 2 || !strings.Contains(errs, "sensor") {
		t.Errorf("a sensor name with a control character: exit %d, %q", code, errs)
	}
	// SPANREC_INDEX and the config file's index name it too.
	t.Setenv("SPANREC_INDEX", "sqlite:"+t.TempDir()+"/env.db")
	if n := len(callsJSON(t, "--data", data)); n != 0 {
		t.Errorf("SPANREC_INDEX: %d calls from the data directory's index, want 0 from the empty one", n)
	}
}
