package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeTimeZone: http.time_zone names the zone of the start time in a
// download's file name; an unknown zone is refused.
func TestServeTimeZone(t *testing.T) {
	data := importDemo(t)
	if code, _, errs := runCLI(t, nil, "user", "add", "sue", "--role", "supervisor", "--generate", "--data", data); code != 0 {
		t.Fatalf("user add: %d %s", code, errs)
	}
	code, out, errs := runCLI(t, nil, "token", "create", "sue", "--data", data)
	tok := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(tok, "spanrec_") {
		t.Fatalf("token create: %d %q %s", code, out, errs)
	}
	cfg := filepath.Join(t.TempDir(), "spanrec.yaml")
	os.WriteFile(cfg, []byte("http:\n  time_zone: Asia/Tokyo\n"), 0o600)
	base, _ := serve(t, "--data", data, "--config", cfg)
	// The demo's call from 205 to 201 started at 09:00:12 UTC: 18:00 in Tokyo.
	req, _ := http.NewRequest("GET", base+"/api/calls/39004915f88bacf87ef8/audio?download=1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got, want := res.Header.Get("Content-Disposition"), `attachment; filename="2026-11-01_1800_205-to-201_39004915f88bacf87ef8.wav"`; got != want {
		t.Errorf("Content-Disposition %q, want %q (status %d)", got, want, res.StatusCode)
	}

	os.WriteFile(cfg, []byte("http:\n  time_zone: Mars/Olympus\n"), 0o600)
	if code, _, errs := runCLI(t, nil, "serve", "--data", data, "--config", cfg); code == 0 || !strings.Contains(errs, "http.time_zone") {
		t.Errorf("unknown zone: exit %d, %q", code, errs)
	}
}
