package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spanrec/spanrec/pcaptest"
)

// TestImportSRTPKeys: an SRTP call whose keys are not in its SDP is
// recorded without audio and flagged, and with --keys (a key file of
// SDES lines) decrypted with audio; the summary says which.
func TestImportSRTPKeys(t *testing.T) {
	o := pcaptest.Options{Seed: 2, Calls: []pcaptest.Call{{
		CallID: "srtp-keyfile@test", Talk: 2 * time.Second,
		SRTP: &pcaptest.SRTP{OutOfBand: true, Suite: "AEAD_AES_128_GCM"},
	}}}
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := pcaptest.Write(&buf, o); err != nil {
		t.Fatal(err)
	}
	capPath := filepath.Join(dir, "srtp.pcap")
	if err := os.WriteFile(capPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	kf, err := pcaptest.KeyFile(o)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "keys.txt")
	if err := os.WriteFile(keyPath, []byte("# SDES keys\n"+kf), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		args    []string
		summary string
		audio   bool
		enc     string
		show    string
	}{
		{"without keys", nil, "encrypted streams   2 in 1 calls: 0 decrypted, 2 not decryptable", false, "srtp", "srtp, not decrypted"},
		{"with --keys", []string{"--keys", keyPath}, "encrypted streams   2 in 1 calls: 2 decrypted, 0 not decryptable", true, "srtp", "srtp, decrypted"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			code, out, errs := runCLI(t, nil, append([]string{"import", capPath, "--data", data, "--no-progress"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("import: exit %d\n%s\n%s", code, out, errs)
			}
			if !strings.Contains(out, tt.summary) {
				t.Errorf("summary lacks %q:\n%s", tt.summary, out)
			}
			calls := callsJSON(t, "--data", data)
			if len(calls) != 1 {
				t.Fatalf("%d calls", len(calls))
			}
			c := calls[0]
			if got := c["audio"] != ""; got != tt.audio {
				t.Errorf("audio %q, want audio: %v", c["audio"], tt.audio)
			}
			if code, out, errs := runCLI(t, nil, "show", c["id"].(string), "--data", data); code != 0 || strings.Count(out, tt.show) != 2 {
				t.Errorf("show: exit %d, want both streams %q:\n%s%s", code, tt.show, out, errs)
			}
			for _, s := range c["streams"].([]any) {
				st := s.(map[string]any)
				if st["encryption"] != tt.enc || st["decoded"] != tt.audio {
					t.Errorf("stream %v: encryption %v decoded %v", st["side"], st["encryption"], st["decoded"])
				}
			}
		})
	}
}
