package main

import (
	"context"
	"strings"
	"testing"

	"github.com/spanrec/spanrec"
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
