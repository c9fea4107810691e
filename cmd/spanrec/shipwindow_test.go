package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spanrec/spanrec/pcaptest"
	"github.com/spanrec/spanrec/pgtest"
)

// TestRowsOnlyDeletionSeenCentrally: a sensor that ships rows only
// (import --index postgres://…, no store: the central rows name the
// sensor's files, which the central UI reads from the same directory)
// has a call deleted by an admin of its own `serve`, which has no
// Shipper: until the next shipping tells the central index, the central
// row still names the files, and the central UI answers 404 "missing from
// the data directory" for its audio and pcap (never an error, never other
// bytes); `spanrec ship --no-store` tells it, and the row then names no
// files and says why. Real PostgreSQL, a Wireshark sample.
func TestRowsOnlyDeletionSeenCentrally(t *testing.T) {
	u := pgtest.NewSchema(t)
	data := filepath.Join(t.TempDir(), "data")
	capPath := filepath.Join(pcaptest.CapturesDir(t), "wireshark-samples", "sip-rtp-g722.pcap")
	if code, out, errs := runCLI(t, nil, "import", capPath, "--data", data, "--no-progress", "--sensor", "nice-1", "--index", u); code != 0 || !strings.Contains(out, "Shipped 1 calls") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errs)
	}
	local := callsJSON(t, "--data", data)
	if len(local) != 1 || local[0]["audio"] == "" {
		t.Fatalf("the sensor's calls: %v", local)
	}
	id := local[0]["id"].(string)
	token := func(args ...string) string {
		t.Helper()
		if code, _, errs := runCLI(t, []byte("an admin password\n"), append([]string{"user", "add", "ada", "--role", "admin"}, args...)...); code != 0 {
			t.Fatal(errs)
		}
		code, tok, errs := runCLI(t, nil, append([]string{"token", "create", "ada"}, args...)...)
		if code != 0 {
			t.Fatal(errs)
		}
		return strings.TrimSpace(tok)
	}
	centralTok, sensorTok := token("--index", u), token("--data", data)
	central, _ := serve(t, "--index", u, "--data", data)
	sensor, _ := serve(t, "--data", data)
	do := func(method, base, tok, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		return res.StatusCode, string(b)
	}
	if code, _ := do("GET", central, centralTok, "/api/calls/"+id+"/audio"); code != http.StatusOK {
		t.Fatalf("central audio before the deletion: %d", code)
	}
	if code, body := do("DELETE", sensor, sensorTok, "/api/calls/"+id); code != http.StatusNoContent {
		t.Fatalf("DELETE on the sensor: %d %s", code, body)
	}
	// Not told yet: the central row names the files, which are gone.
	code, body := do("GET", central, centralTok, "/api/calls/"+id)
	var row map[string]any
	if code != http.StatusOK || json.Unmarshal([]byte(body), &row) != nil || row["audio"] != local[0]["audio"] {
		t.Fatalf("central call before the deletion is told: %d %s", code, body)
	}
	for _, sub := range []string{"/audio", "/pcap"} {
		code, body := do("GET", central, centralTok, "/api/calls/"+id+sub)
		t.Logf("central GET %s before the deletion is told: %d %s", sub, code, body)
		if code != http.StatusNotFound || !strings.Contains(body, "missing from the data directory") {
			t.Errorf("central GET %s of the deleted files: %d %s; want 404, missing from the data directory", sub, code, body)
		}
	}
	if code, out, errs := runCLI(t, nil, "ship", "--data", data, "--index", u, "--no-store"); code != 0 || !strings.Contains(out, "deletions told   1") {
		t.Fatalf("ship --no-store: exit %d\n%s\n%s", code, out, errs)
	}
	code, body = do("GET", central, centralTok, "/api/calls/"+id)
	row = nil
	if code != http.StatusOK || json.Unmarshal([]byte(body), &row) != nil || row["audio"] != nil && row["audio"] != "" || !strings.Contains(body, "deleted on sensor nice-1 by ada") {
		t.Errorf("central call once the deletion is told: %d %s", code, body)
	}
	for _, sub := range []string{"/audio", "/pcap"} {
		code, body := do("GET", central, centralTok, "/api/calls/"+id+sub)
		t.Logf("central GET %s once told: %d %s", sub, code, body)
		if code != http.StatusNotFound {
			t.Errorf("central GET %s once told: %d %s; want 404", sub, code, body)
		}
	}
}
