package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spanrec/spanrec"
	"github.com/spanrec/spanrec/auth"
	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/pgtest"
	"github.com/spanrec/spanrec/postgres"
	"github.com/spanrec/spanrec/s3/s3test"
)

// TestShipCommand: a sensor records the demo capture into its own data
// directory, then `spanrec ship` sends it to a real PostgreSQL index and a
// real SeaweedFS store; a second run ships nothing; the password and the
// secret key show in no output.
func TestShipCommand(t *testing.T) {
	srv := s3test.Start(t)
	u := pgtest.NewSchema(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	data := t.TempDir() + "/data"
	if code, _, errs := runCLI(t, nil, "import", demo, "--data", data, "--no-progress"); code != 0 {
		t.Fatal(errs)
	}
	local := callsJSON(t, "--data", data)
	code, out, errs := runCLI(t, nil, "ship", "--data", data, "--index", u, "--store", srv.URL("site-a"))
	if code != 0 {
		t.Fatalf("ship: exit %d\n%s\n%s", code, out, errs)
	}
	t.Logf("%s", out)
	if !strings.Contains(out, "calls shipped    7") || !strings.Contains(out, "calls waiting    0") {
		t.Errorf("ship output:\n%s", out)
	}
	pg, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	central, err := pg.Calls(context.Background(), spanrec.CallFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(central) != len(local) || len(local) != 7 {
		t.Errorf("central index: %d calls, sensor %d", len(central), len(local))
	}
	code, out2, errs2 := runCLI(t, nil, "ship", "--data", data, "--index", u, "--store", srv.URL("site-a"))
	if code != 0 || !strings.Contains(out2, "Shipping 0 calls") || !strings.Contains(out2, "calls shipped    0") {
		t.Errorf("second ship: exit %d\n%s\n%s", code, out2, errs2)
	}
	pw := u[strings.Index(u, ":")+3:]
	pw = pw[strings.Index(pw, ":")+1 : strings.Index(pw, "@")]
	for _, s := range []string{out, errs, out2, errs2} {
		if strings.Contains(s, pw) || strings.Contains(s, srv.SecretKey) {
			t.Errorf("a secret shows in the output:\n%s", s)
		}
	}
	// Without the central side named: a usage error, nothing shipped.
	if code, _, errs := runCLI(t, nil, "ship", "--data", data, "--store", srv.URL("x")); code != 2 || !strings.Contains(errs, "central index") {
		t.Errorf("ship without --index: exit %d, %s", code, errs)
	}
}

// TestImportShips: `import --index postgres://… --store s3://…` records
// into the data directory as always and ships at the end: the central
// index has the calls the local one has, each once, with the same files;
// with the central side down it says how many calls wait, and `spanrec
// ship` sends them later, none twice. No secret shows.
func TestImportShips(t *testing.T) {
	srv := s3test.Start(t)
	u := pgtest.NewSchema(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	data := t.TempDir() + "/data"
	code, out, errs := runCLI(t, nil, "import", demo, "--data", data, "--no-progress", "--index", u, "--store", srv.URL("site-i"))
	if code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "Shipped 7 calls to ") || strings.Contains(out, "wait in the outbox") {
		t.Errorf("import output:\n%s", out)
	}
	local := byCallID(t, callsJSON(t, "--data", data))
	central := byCallID(t, callsJSON(t, "--data", data, "--index", u))
	if len(local) != 7 {
		t.Fatalf("local index: %d calls, want 7", len(local))
	}
	sameCalls(t, central, local)

	// The central side down (a closed port, a store that is not there):
	// the import succeeds, its calls wait.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	pu.Host = l.Addr().String()
	l.Close()
	data2 := t.TempDir() + "/data2"
	code, out2, errs2 := runCLI(t, nil, "import", demo, "--data", data2, "--no-progress", "--index", pu.String(), "--store", srv.URL("site-j"), "--ship-timeout", "5s")
	if code != 0 {
		t.Fatalf("import with the central side down: exit %d\n%s\n%s", code, out2, errs2)
	}
	if !strings.Contains(out2, "Shipped 0 calls") || !strings.Contains(out2, "7 calls wait in the outbox") || !strings.Contains(out2, "ship --data "+data2) {
		t.Errorf("import output with the central side down:\n%s", out2)
	}
	code, out3, errs3 := runCLI(t, nil, "ship", "--data", data2, "--index", u, "--store", srv.URL("site-j"))
	if code != 0 || !strings.Contains(out3, "calls shipped    7") || !strings.Contains(out3, "calls waiting    0") {
		t.Fatalf("ship after the outage: exit %d\n%s\n%s", code, out3, errs3)
	}
	// The same calls (the demo's IDs are its SIP Call-IDs' hashes) shipped
	// from a second data directory are the same rows: still 7.
	central = byCallID(t, callsJSON(t, "--data", data, "--index", u))
	sameCalls(t, central, byCallID(t, callsJSON(t, "--data", data2)))
	pw, _ := pu.User.Password()
	for _, s := range []string{out, errs, out2, errs2, out3, errs3} {
		if strings.Contains(s, pw) || strings.Contains(s, srv.SecretKey) {
			t.Errorf("a secret shows in the output:\n%s", s)
		}
	}
	// --store without a central index is a usage error.
	if code, _, errs := runCLI(t, nil, "import", demo, "--data", data2, "--store", srv.URL("x")); code != 2 || !strings.Contains(errs, "central index") {
		t.Errorf("import --store without --index: exit %d, %s", code, errs)
	}
}

// sameCalls checks that the central index lists the sensor's calls, each
// once, with the same parties, status and files.
func sameCalls(t *testing.T, central, local map[string]map[string]any) {
	t.Helper()
	if len(central) != len(local) {
		t.Errorf("central index: %d calls, sensor %d", len(central), len(local))
	}
	for id, w := range local {
		g := central[id]
		if g == nil {
			t.Errorf("call %s not in the central index", id)
			continue
		}
		for _, k := range []string{"id", "caller", "callee", "status", "duration_ms", "sensor", "audio", "pcap", "pcap_sha256"} {
			if fmt.Sprint(g[k]) != fmt.Sprint(w[k]) {
				t.Errorf("call %s: %s = %v centrally, %v on the sensor", id, k, g[k], w[k])
			}
		}
	}
}

// TestShipAfterSensorDelete: on a sensor that ships (the demo capture
// shipped with `spanrec ship` to a real PostgreSQL and SeaweedFS), an
// admin deletes through the sensor's own API (DELETE /api/calls/{id},
// `serve` over its data directory) a shipped call and one recorded since
// and not shipped; the next `spanrec ship` tells the central index: the
// unshipped call never arrives and the central audit trail says it was
// deleted on the sensor before it was shipped; the shipped call's central
// copy stays whole, with a note.
func TestShipAfterSensorDelete(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	u := pgtest.NewSchema(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	data := t.TempDir() + "/data"
	if code, _, errs := runCLI(t, nil, "import", demo, "--data", data, "--no-progress", "--sensor", "lyon-1"); code != 0 {
		t.Fatal(errs)
	}
	shipArgs := []string{"ship", "--data", data, "--index", u, "--store", srv.URL("site-d")}
	if code, out, errs := runCLI(t, nil, shipArgs...); code != 0 || !strings.Contains(out, "calls shipped    7") {
		t.Fatalf("ship: exit %d\n%s\n%s", code, out, errs)
	}
	shipped := callsJSON(t, "--data", data)
	if code, _, errs := runCLI(t, nil, "import", filepath.Join(pcaptest.CapturesDir(t), "wireshark-samples", "sip-rtp-g722.pcap"), "--data", data, "--no-progress", "--sensor", "lyon-1"); code != 0 {
		t.Fatal(errs)
	}
	var unshipped string
	for _, c := range callsJSON(t, "--data", data) {
		if !slices.ContainsFunc(shipped, func(s map[string]any) bool { return s["id"] == c["id"] }) {
			unshipped = c["id"].(string)
		}
	}
	if unshipped == "" {
		t.Fatal("no call recorded after the shipping")
	}
	gone := shipped[0]["id"].(string)
	if code, _, errs := runCLI(t, []byte("an admin password\n"), "user", "add", "ada", "--role", "admin", "--data", data); code != 0 {
		t.Fatal(errs)
	}
	_, tok, _ := runCLI(t, nil, "token", "create", "ada", "--data", data)
	base, _ := serve(t, "--data", data)
	for _, id := range []string{gone, unshipped} {
		req, _ := http.NewRequest(http.MethodDelete, base+"/api/calls/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok))
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE /api/calls/%s: %v %v", id, res, err)
		}
		res.Body.Close()
	}
	code, out, errs := runCLI(t, nil, shipArgs...)
	t.Logf("%s", out)
	if code != 0 || !strings.Contains(out, "deletions told   2") {
		t.Fatalf("ship after the deletions: exit %d\n%s\n%s", code, out, errs)
	}
	pg, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if _, err := pg.Call(ctx, spanrec.CallID(unshipped)); spanrec.ErrorKind(err) != spanrec.ENOTFOUND {
		t.Errorf("the call deleted before it was shipped is in the central index: %v", err)
	}
	c, err := pg.Call(ctx, spanrec.CallID(gone))
	if err != nil || c.PCAP == "" || !strings.Contains(c.Notes[len(c.Notes)-1], "deleted on sensor lyon-1 by ada") {
		t.Fatalf("the central copy of the call deleted on the sensor: %+v, %v", c, err)
	}
	es, _, err := pg.Events(ctx, auth.EventFilter{Action: auth.ActionSensorDelete})
	if err != nil || len(es) != 2 {
		t.Fatalf("central sensor_delete events: %+v, %v", es, err)
	}
	for _, e := range es {
		if e.User != "ada@lyon-1" || e.Remote != "127.0.0.1" || e.CallID == unshipped && !strings.Contains(e.Detail, "before it was shipped") {
			t.Errorf("central audit event %+v", e)
		}
	}
}
