package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestRetentionCommand: the demo's inbound calls are past a one-day rule
// (the demo was captured on 2026-11-01); the dry run only lists them,
// the real run deletes them but the one held, which goes once released.
func TestRetentionCommand(t *testing.T) {
	data := importDemo(t)
	cfg := filepath.Join(t.TempDir(), "spanrec.yaml")
	if err := os.WriteFile(cfg, []byte("retention:\n  max_age:\n    inbound: 1d\n  min_free: 1%\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var inbound []string
	for _, c := range callsJSON(t, "--data", data) {
		if c["direction"] == "inbound" {
			inbound = append(inbound, c["id"].(string))
		}
	}
	if len(inbound) < 2 {
		t.Fatalf("the demo has %d inbound calls, want 2 or more", len(inbound))
	}
	held := inbound[0]
	if code, out, errs := runCLI(t, nil, "hold", "--data", data, "--reason", "case 7", held[:8]); code != 0 || !strings.Contains(out, "under legal hold") {
		t.Fatalf("hold: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs := runCLI(t, nil, "retention", "--dry-run", "--data", data, "--config", cfg)
	if code != 0 {
		t.Fatalf("retention --dry-run: exit %d\n%s%s", code, out, errs)
	}
	for _, id := range inbound[1:] {
		if !strings.Contains(out, id+"  ") || !strings.Contains(out, "would delete  (retention rule max_age.inbound: older than 1d)") {
			t.Errorf("dry run does not list %s:\n%s", id, out)
		}
	}
	if strings.Contains(out, held) {
		t.Errorf("dry run lists the held call:\n%s", out)
	}
	if n := len(callsJSON(t, "--data", data)); n != 7 {
		t.Errorf("the dry run deleted calls: %d left", n)
	}
	code, out, errs = runCLI(t, nil, "retention", "--data", data, "--config", cfg)
	if code != 0 || !strings.Contains(out, "calls deleted") {
		t.Fatalf("retention: exit %d\n%s%s", code, out, errs)
	}
	left := map[string]bool{}
	for _, c := range callsJSON(t, "--data", data) {
		left[c["id"].(string)] = true
		if c["id"] == held {
			if h, _ := c["legal_hold"].(map[string]any); h == nil || h["reason"] != "case 7" {
				t.Errorf("held call's legal_hold: %v", c["legal_hold"])
			}
		}
	}
	if len(left) != 7-len(inbound)+1 || !left[held] {
		t.Errorf("after retention: %d calls, held kept %v", len(left), left[held])
	}
	if code, out, errs := runCLI(t, nil, "hold", "--release", "--data", data, held); code != 0 {
		t.Fatalf("hold --release: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ := runCLI(t, nil, "retention", "--data", data, "--config", cfg); code != 0 || !strings.Contains(out, held) {
		t.Errorf("released call not deleted:\n%s", out)
	}
	if left := callsJSON(t, "--data", data); len(left) != 7-len(inbound) {
		t.Errorf("%d calls left, want %d", len(left), 7-len(inbound))
	}
}

func TestRetentionConfigErrors(t *testing.T) {
	for conf, want := range map[string]string{
		"retention:\n  min_free: 150%\n":                                 "retention.min_free",
		"retention:\n  max_age:\n    inbound: 3x\n":                      "retention.max_age.inbound",
		"retention:\n  max_age:\n    sideways: 3d\n":                     "direction \"sideways\"",
		"retention:\n  rules:\n    - number: \"[\"\n      max_age: 1d\n": "is not a pattern",
		"retention:\n  rules:\n    - sensor: \"[\"\n      max_age: 1d\n": "sensor \"[\" is not a pattern",
	} {
		cfg := filepath.Join(t.TempDir(), "spanrec.yaml")
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errs := runCLI(t, nil, "retention", "--dry-run", "--data", t.TempDir(), "--config", cfg)
		if code != 1 || !strings.Contains(errs, want) {
			t.Errorf("%q: exit %d, %q; want %q", conf, code, errs, want)
		}
	}
}

// TestRetentionConfigSensor: a rule's sensor reaches retention.Rule.
func TestRetentionConfigSensor(t *testing.T) {
	var fc fileConfig
	if err := yaml.Unmarshal([]byte("retention:\n  rules:\n    - name: branches\n      sensor: branch-*\n      max_age: 30d\n"), &fc); err != nil {
		t.Fatal(err)
	}
	c, err := fc.Retention.config()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rules) != 1 || c.Rules[0].Sensor != "branch-*" || c.Rules[0].MaxAge != 30*24*time.Hour {
		t.Errorf("rules %+v", c.Rules)
	}
}
